-- Toxicity family tables (ANALYTICS_SPEC.md §2.2), written by assets/metrics/toxicity.py.
-- Each holds one society's rows for one label method; a rerun replaces them.

-- Share of each level (variant 'exact') and of each level or above (variant 'at_least',
-- levels 1..4; 'at_least' 2 is the harmful share) among labelled posts or comments.
CREATE TABLE toxicity_level_share (
    society_id   VARCHAR NOT NULL,
    variant      VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    level        INTEGER NOT NULL,
    n            BIGINT,
    share        DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, variant, kind, level)
);

CREATE TABLE toxicity_risk_by_category (
    society_id       VARCHAR NOT NULL,
    category         VARCHAR NOT NULL,
    n                BIGINT,
    p_level_0        DOUBLE,
    p_level_1        DOUBLE,
    p_level_2        DOUBLE,
    p_level_3        DOUBLE,
    p_level_4        DOUBLE,
    harmful_rate     DOUBLE,
    harmful_ci_low   DOUBLE,
    harmful_ci_high  DOUBLE,
    level3_rate      DOUBLE,
    level4_rate      DOUBLE,
    contrib_ratio    DOUBLE,
    contrib_ci_low   DOUBLE,
    contrib_ci_high  DOUBLE,
    computed_at      TIMESTAMPTZ,
    params_hash      VARCHAR,
    PRIMARY KEY (society_id, category)
);

CREATE TABLE toxicity_risk_by_topic (
    society_id       VARCHAR NOT NULL,
    topic            INTEGER NOT NULL,
    n                BIGINT,
    p_level_0        DOUBLE,
    p_level_1        DOUBLE,
    p_level_2        DOUBLE,
    p_level_3        DOUBLE,
    p_level_4        DOUBLE,
    harmful_rate     DOUBLE,
    harmful_ci_low   DOUBLE,
    harmful_ci_high  DOUBLE,
    level3_rate      DOUBLE,
    level4_rate      DOUBLE,
    contrib_ratio    DOUBLE,
    contrib_ci_low   DOUBLE,
    contrib_ci_high  DOUBLE,
    computed_at      TIMESTAMPTZ,
    params_hash      VARCHAR,
    PRIMARY KEY (society_id, topic)
);

CREATE TABLE toxicity_risk_by_community (
    society_id       VARCHAR NOT NULL,
    community_id     VARCHAR NOT NULL,
    n                BIGINT,
    p_level_0        DOUBLE,
    p_level_1        DOUBLE,
    p_level_2        DOUBLE,
    p_level_3        DOUBLE,
    p_level_4        DOUBLE,
    harmful_rate     DOUBLE,
    harmful_ci_low   DOUBLE,
    harmful_ci_high  DOUBLE,
    level3_rate      DOUBLE,
    level4_rate      DOUBLE,
    contrib_ratio    DOUBLE,
    contrib_ci_low   DOUBLE,
    contrib_ci_high  DOUBLE,
    computed_at      TIMESTAMPTZ,
    params_hash      VARCHAR,
    PRIMARY KEY (society_id, community_id)
);

-- Hourly and daily bins holding at least one labelled post; shares NULL below 20 posts an
-- hour or 200 a day (§0.4).
CREATE TABLE toxicity_time_series (
    society_id     VARCHAR NOT NULL,
    "bin"          VARCHAR NOT NULL,
    bin_start      TIMESTAMPTZ NOT NULL,
    n_posts        BIGINT,
    n_harmful      BIGINT,
    harmful_share  DOUBLE,
    level3_share   DOUBLE,
    level4_share   DOUBLE,
    is_flagged     BOOLEAN,
    computed_at    TIMESTAMPTZ,
    params_hash    VARCHAR,
    PRIMARY KEY (society_id, "bin", bin_start)
);

CREATE TABLE toxicity_volume_corr (
    society_id   VARCHAR NOT NULL,
    "bin"        VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,
    differenced  BOOLEAN NOT NULL,
    r            DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    n_bins       BIGINT,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, "bin", method, differenced)
);

CREATE TABLE toxicity_engagement (
    society_id   VARCHAR NOT NULL,
    outcome      VARCHAR NOT NULL,
    n_harmful    BIGINT,
    n_safe       BIGINT,
    ratio        DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, outcome)
);
