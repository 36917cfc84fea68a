-- MoltNet emotion, contagion and dialogic engagement tables (ANALYTICS_SPEC.md §5.4), written by
-- assets/metrics/moltnet_emotion.py. Each holds one society's rows; a rerun replaces them.

-- One row per measure; `measure` equals its society_metric name. `variant` says which labels
-- defined conflict ('conflict=emotion|toxicity') or which reply pairs a reciprocity kept
-- ('all', 'nonneutral'). `null_value`: the shuffled-parent match rate for reciprocity, the
-- within-community placebo odds ratio for conflict_contagion_or.
CREATE TABLE moltnet_emotion (
    society_id   VARCHAR NOT NULL,
    measure      VARCHAR NOT NULL,
    variant      VARCHAR,
    value        DOUBLE,
    null_value   DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    n            BIGINT,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, measure)
);

-- One row per society, over uncapped, orphan-free threads untouched by a time_flags window.
CREATE TABLE moltnet_dialogic (
    society_id              VARCHAR NOT NULL,
    n_threads               BIGINT,
    reply_to_comment_share  DOUBLE,
    author_return_rate      DOUBLE,
    exchange_rate           DOUBLE,
    argument_none_share     DOUBLE,
    computed_at             TIMESTAMPTZ,
    params_hash             VARCHAR,
    PRIMARY KEY (society_id)
);
