-- Socialization day series (ANALYTICS_SPEC.md §3.1–§3.3), written by
-- assets/metrics/socialization_semantic.py. `day` is the start of a bin of assets/metrics/bins.py:
-- a UTC day, or one of the 8 equal-width bins of a short run; `bin_seconds` records its width.
-- Every bin is listed; bins below the minimum sample have NULL values.

-- §3.1 semantic stabilization and §3.2 semantic diversity, one row per bin.
CREATE TABLE socialization_daily (
    society_id          VARCHAR NOT NULL,
    day                 TIMESTAMPTZ NOT NULL,
    bin_seconds         DOUBLE NOT NULL,
    n_posts             BIGINT,
    n_sampled           BIGINT,
    centroid_cos_prev   DOUBLE,
    centroid_cos_final  DOUBLE,
    split_half_cos      DOUBLE,
    drift_ratio         DOUBLE,
    pairwise_diversity  DOUBLE,
    dispersion          DOUBLE,
    local_density       DOUBLE,
    is_flagged          BOOLEAN,
    computed_at         TIMESTAMPTZ,
    params_hash         VARCHAR,
    PRIMARY KEY (society_id, day)
);

-- §3.3 lexical turnover, one row per bin and n-gram order (1, 2, 3).
CREATE TABLE socialization_lexical_daily (
    society_id    VARCHAR NOT NULL,
    day           TIMESTAMPTZ NOT NULL,
    bin_seconds   DOUBLE NOT NULL,
    ngram_n       INTEGER NOT NULL,
    vocab_size    BIGINT,
    token_budget  BIGINT,
    birth_rate    DOUBLE,
    death_rate    DOUBLE,
    jaccard_prev  DOUBLE,
    is_flagged    BOOLEAN,
    computed_at   TIMESTAMPTZ,
    params_hash   VARCHAR,
    PRIMARY KEY (society_id, day, ngram_n)
);
