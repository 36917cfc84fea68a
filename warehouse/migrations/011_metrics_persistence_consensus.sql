-- Influence persistence (ANALYTICS_SPEC.md §4.3, written by assets/metrics/influence_persistence.py)
-- and collective consensus (§3.8, assets/metrics/consensus.py). A "day" is a bin of
-- assets/metrics/bins.py: a UTC day, or one of 8 equal bins for a short run; bin_seconds says which,
-- and every *_days column counts such bins.

-- §4.3 one row per bin and k ∈ {10, 50, 100}; values are NULL where the bin (or the previous one)
-- has fewer than 10·k agents with in_strength > 0. n_nodes counts those agents.
CREATE TABLE influence_topk_daily (
    society_id          VARCHAR NOT NULL,
    day                 TIMESTAMPTZ NOT NULL,
    bin_seconds         DOUBLE NOT NULL,
    k                   INTEGER NOT NULL,
    n_nodes             BIGINT,
    topk_jaccard_prev   DOUBLE,
    split_half_jaccard  DOUBLE,
    rank_tau_prev       DOUBLE,
    is_flagged          BOOLEAN,
    computed_at         TIMESTAMPTZ,
    params_hash         VARCHAR,
    PRIMARY KEY (society_id, day, k)
);

-- §4.3 mean top-k overlap between usable bins lag_days apart (lags 1…7).
CREATE TABLE influence_topk_lag (
    society_id    VARCHAR NOT NULL,
    k             INTEGER NOT NULL,
    lag_days      INTEGER NOT NULL,
    bin_seconds   DOUBLE NOT NULL,
    overlap_mean  DOUBLE,
    n_pairs       BIGINT,
    computed_at   TIMESTAMPTZ,
    params_hash   VARCHAR,
    PRIMARY KEY (society_id, k, lag_days)
);

-- §4.3 every agent that was in a usable bin's top k; a run ends at an unusable (invalid or flagged) bin.
CREATE TABLE influence_supernodes (
    society_id        VARCHAR NOT NULL,
    k                 INTEGER NOT NULL,
    agent_id          VARCHAR NOT NULL,
    bin_seconds       DOUBLE NOT NULL,
    days_in_topk      BIGINT,
    longest_run_days  BIGINT,
    first_day         TIMESTAMPTZ,
    last_day          TIMESTAMPTZ,
    computed_at       TIMESTAMPTZ,
    params_hash       VARCHAR,
    PRIMARY KEY (society_id, k, agent_id)
);

-- §3.8 one row per society; values NULL below 50 responses with a mention. probe_pattern_version
-- is the version of the pattern list that found the probe threads.
CREATE TABLE socialization_consensus (
    society_id             VARCHAR NOT NULL,
    n_probe_threads        BIGINT,
    n_responses            BIGINT,
    n_mentions             BIGINT,
    n_entities             BIGINT,
    consensus_entropy      DOUBLE,
    top1_share             DOUBLE,
    grounding_rate         DOUBLE,
    structure_alignment    DOUBLE,
    probe_pattern_version  INTEGER,
    computed_at            TIMESTAMPTZ,
    params_hash            VARCHAR,
    PRIMARY KEY (society_id)
);
