-- Heavy tails, scaling, decay (ANALYTICS_SPEC.md §7.2–§7.4), written by
-- assets/metrics/threads_tails.py. §7.5 (zipf_exponent) has no family table.

-- §7.2 one discrete power-law fit per variable; alpha NULL when n_tail < 50.
CREATE TABLE threads_tail_fits (
    society_id       VARCHAR NOT NULL,
    variable         VARCHAR NOT NULL,
    n                BIGINT,
    xmin             DOUBLE,
    n_tail           BIGINT,
    alpha            DOUBLE,
    alpha_ci_low     DOUBLE,
    alpha_ci_high    DOUBLE,
    ks_d             DOUBLE,
    llr_lognormal    DOUBLE,
    p_lognormal      DOUBLE,
    llr_exponential  DOUBLE,
    p_exponential    DOUBLE,
    computed_at      TIMESTAMPTZ,
    params_hash      VARCHAR,
    PRIMARY KEY (society_id, variable)
);

-- §7.2 CCDF points P(X >= x) of each variable's values >= 1, for plots.
CREATE TABLE threads_tail_ccdf (
    society_id   VARCHAR NOT NULL,
    variable     VARCHAR NOT NULL,
    x            DOUBLE NOT NULL,
    ccdf         DOUBLE,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, variable, x)
);

-- §7.3 upvotes vs comments: method 'log2_bin_median_ols' (the society metric) and
-- 'post_median_regression' (the variant, no CI).
CREATE TABLE threads_scaling (
    society_id   VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,
    beta         DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    intercept    DOUBLE,
    n_posts      BIGINT,
    n_bins       BIGINT,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, method)
);

-- §7.4 comment arrival rate after the post, rate ∝ t^-theta.
CREATE TABLE threads_decay (
    society_id   VARCHAR NOT NULL,
    theta        DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    fit_t_min_s  DOUBLE,
    fit_t_max_s  DOUBLE,
    n_comments   BIGINT,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id)
);

-- §7.4 the log-binned lag histogram (10 bins per decade, 1 s to 7 days); in_fit marks the fitted bins.
CREATE TABLE threads_decay_bins (
    society_id   VARCHAR NOT NULL,
    bin_low_s    DOUBLE NOT NULL,
    bin_high_s   DOUBLE,
    center_s     DOUBLE,
    n_comments   BIGINT,
    rate         DOUBLE,
    in_fit       BOOLEAN,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, bin_low_s)
);
