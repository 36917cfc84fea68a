-- MoltNet intent and incentives (ANALYTICS_SPEC.md §5.1, §5.3), written by
-- assets/metrics/moltnet_persona.py. One row per scored agent (per karma rank for the curve);
-- the writer replaces a society's rows as a whole.

-- §5.1 persona alignment and its drift over time (agents with a valid persona and ≥ 5 embedded posts).
CREATE TABLE moltnet_persona (
    society_id       VARCHAR NOT NULL,
    agent_id         VARCHAR NOT NULL,
    n_posts          BIGINT,
    alignment        DOUBLE,
    alignment_null   DOUBLE,
    alignment_gap    DOUBLE,
    alignment_pct    DOUBLE,
    alignment_early  DOUBLE,
    alignment_late   DOUBLE,
    drift_time       DOUBLE,
    n_interactions   BIGINT,
    computed_at      TIMESTAMPTZ,
    params_hash      VARCHAR,
    PRIMARY KEY (society_id, agent_id)
);

-- §5.1 whether an agent posts in one of the 3 communities its bio is most similar to.
CREATE TABLE moltnet_bio_community (
    society_id      VARCHAR NOT NULL,
    agent_id        VARCHAR NOT NULL,
    n_posts         BIGINT,
    matched         BOOLEAN,
    best_match_cos  DOUBLE,
    computed_at     TIMESTAMPTZ,
    params_hash     VARCHAR,
    PRIMARY KEY (society_id, agent_id)
);

-- §5.3 output shift after the most-upvoted post (agents with karma > 0 and ≥ 2 posts).
-- rate_before / rate_after count posts within bin_seconds (one spec "day") of the peak;
-- persona_drift_null is the mean after − before persona similarity over random pivots.
CREATE TABLE moltnet_incentive (
    society_id             VARCHAR NOT NULL,
    agent_id               VARCHAR NOT NULL,
    karma                  DOUBLE,
    n_posts                BIGINT,
    peak_post_id           VARCHAR,
    shift_ratio            DOUBLE,
    shift_ratio_null       DOUBLE,
    shift_excess           DOUBLE,
    shift_ratio_rate_peak  DOUBLE,
    rate_before            BIGINT,
    rate_after             BIGINT,
    bin_seconds            DOUBLE,
    persona_before         DOUBLE,
    persona_after          DOUBLE,
    persona_drift_null     DOUBLE,
    computed_at            TIMESTAMPTZ,
    params_hash            VARCHAR,
    PRIMARY KEY (society_id, agent_id)
);

-- §5.3 shift ratio along the karma ranking (1 = highest karma), centred 51-agent moving average.
CREATE TABLE moltnet_incentive_curve (
    society_id        VARCHAR NOT NULL,
    karma_rank        BIGINT NOT NULL,
    karma             DOUBLE,
    shift_ratio_ma51  DOUBLE,
    computed_at       TIMESTAMPTZ,
    params_hash       VARCHAR,
    PRIMARY KEY (society_id, karma_rank)
);
