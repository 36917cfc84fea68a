-- Automation and flooding family tables (ANALYTICS_SPEC.md §6), written by assets/metrics/automation.py.
-- A cluster's id is its leader's text_id; a burst's id is the text_id of its first text.

-- §6.1 near-duplicate clusters (size ≥ 2) per kind, scope (author | global) and cosine threshold.
CREATE TABLE automation_dup_clusters (
    society_id      VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    scope           VARCHAR NOT NULL,
    threshold       DOUBLE NOT NULL,
    cluster_id      VARCHAR NOT NULL,
    leader_text_id  VARCHAR NOT NULL,
    size            BIGINT NOT NULL,
    n_authors       BIGINT,
    first_at        TIMESTAMPTZ,
    last_at         TIMESTAMPTZ,
    computed_at     TIMESTAMPTZ,
    params_hash     VARCHAR,
    PRIMARY KEY (society_id, kind, scope, threshold, cluster_id)
);

CREATE TABLE automation_dup_members (
    society_id      VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    scope           VARCHAR NOT NULL,
    threshold       DOUBLE NOT NULL,
    cluster_id      VARCHAR NOT NULL,
    text_id         VARCHAR NOT NULL,
    author_id       VARCHAR,
    created_at      TIMESTAMPTZ,
    cos_to_leader   DOUBLE,
    computed_at     TIMESTAMPTZ,
    params_hash     VARCHAR,
    PRIMARY KEY (society_id, kind, scope, threshold, text_id)
);

-- §6.2 runs of ≥ 10 texts less than 60 s apart: burst_kind 'similar' (inside one author-scope
-- cluster at 0.90, cluster_id set) or 'rate' (all of an author's texts, cluster_id NULL).
CREATE TABLE automation_flood_bursts (
    society_id      VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    burst_kind      VARCHAR NOT NULL,
    burst_id        VARCHAR NOT NULL,
    author_id       VARCHAR,
    cluster_id      VARCHAR,
    n_items         BIGINT NOT NULL,
    start_at        TIMESTAMPTZ,
    end_at          TIMESTAMPTZ,
    median_gap_s    DOUBLE,
    computed_at     TIMESTAMPTZ,
    params_hash     VARCHAR,
    PRIMARY KEY (society_id, kind, burst_kind, burst_id)
);

-- §6.3 posting rhythm of each agent with ≥ 10 posts; timing_class NULL when the gaps are all zero.
CREATE TABLE automation_agent_timing (
    society_id         VARCHAR NOT NULL,
    agent_id           VARCHAR NOT NULL,
    n_items            BIGINT NOT NULL,
    mean_gap_s         DOUBLE,
    median_gap_s       DOUBLE,
    cov_gap            DOUBLE,
    timing_class       VARCHAR,
    sub_minute_share   DOUBLE,
    dominant_period_h  DOUBLE,
    computed_at        TIMESTAMPTZ,
    params_hash        VARCHAR,
    PRIMARY KEY (society_id, agent_id)
);
