-- influence_concentration gains the `day` window (ANALYTICS_SPEC.md §4.4), written by
-- assets/metrics/concentration.py. Day rows share window/object/quantity/excl_default and differ
-- in window_start, which is NULL for window `all`; DuckDB keys cannot hold NULL, so the table is
-- rebuilt without a primary key (as the per-window tables of 008) and the writer replaces a
-- society's rows as a whole. `bin_seconds` is the day's width (86400, or one short-run bin of
-- bins.plan_bins) and `is_flagged` marks a day overlapping a `time_flags` window (§0.4); both are
-- NULL for window `all`.
CREATE TABLE influence_concentration_days (
    society_id     VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    window_start   TIMESTAMPTZ,
    bin_seconds    DOUBLE,
    is_flagged     BOOLEAN,
    object         VARCHAR NOT NULL,
    quantity       VARCHAR NOT NULL,
    excl_default   BOOLEAN NOT NULL,
    n              BIGINT,
    gini           DOUBLE,
    hhi            DOUBLE,
    hhi_norm       DOUBLE,
    top1_share     DOUBLE,
    top5_share     DOUBLE,
    top10_share    DOUBLE,
    top1pct_share  DOUBLE,
    computed_at    TIMESTAMPTZ,
    params_hash    VARCHAR
);

INSERT INTO influence_concentration_days
    (society_id, "window", window_start, object, quantity, excl_default, n, gini, hhi, hhi_norm,
     top1_share, top5_share, top10_share, top1pct_share, computed_at, params_hash)
SELECT society_id, "window", window_start, object, quantity, excl_default, n, gini, hhi, hhi_norm,
       top1_share, top5_share, top10_share, top1pct_share, computed_at, params_hash
FROM influence_concentration;

DROP TABLE influence_concentration;
ALTER TABLE influence_concentration_days RENAME TO influence_concentration;
