-- MoltNet norms and templates (ANALYTICS_SPEC.md §5.2), written by assets/metrics/moltnet_norms.py.
-- Columns beyond the spec: the community-level protocol fraction and its calibrated variant on each
-- template row, and in moltnet_norms the threshold tau, the comment counts and the enforcement method
-- (pattern pre-filter version, plus the judge's method when ':enforcement' labels were used).

-- One row per template cluster of an in-scope community.
CREATE TABLE moltnet_templates (
    society_id                    VARCHAR NOT NULL,
    community_id                  VARCHAR NOT NULL,
    cluster_id                    INTEGER NOT NULL,
    size                          BIGINT,
    medoid_post_id                VARCHAR,
    silhouette                    DOUBLE,   -- the community's cosine silhouette at the chosen k
    feature_consistency           DOUBLE,
    protocol_fraction             DOUBLE,   -- community share of posts with adherence >= tau
    tau_calibrated                DOUBLE,
    protocol_fraction_calibrated  DOUBLE,
    computed_at                   TIMESTAMPTZ,
    params_hash                   VARCHAR,
    PRIMARY KEY (society_id, community_id, cluster_id)
);

-- One row per embedded post of an in-scope community.
CREATE TABLE moltnet_post_template (
    society_id    VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    community_id  VARCHAR NOT NULL,
    cluster_id    INTEGER NOT NULL,
    adherence     DOUBLE,
    computed_at   TIMESTAMPTZ,
    params_hash   VARCHAR,
    PRIMARY KEY (society_id, post_id)
);

-- One row per society.
CREATE TABLE moltnet_norms (
    society_id                  VARCHAR NOT NULL,
    n_communities               BIGINT,
    norm_specificity            DOUBLE,
    norm_specificity_null       DOUBLE,
    p_perm                      DOUBLE,
    template_convergence_slope  DOUBLE,
    enforcement_rate            DOUBLE,   -- per 1,000 comments
    enforcement_cross_share     DOUBLE,
    tau                         DOUBLE,
    n_comments                  BIGINT,
    n_enforcement               BIGINT,
    enforcement_method          VARCHAR,
    computed_at                 TIMESTAMPTZ,
    params_hash                 VARCHAR,
    PRIMARY KEY (society_id)
);
