-- The two near-duplicate drill-down tables of §6.1 are rebuilt without a primary key. They are
-- written whole per society (the writer deletes the society's rows and inserts the new ones in one
-- transaction), and on 100,000 posts + 500,000 comments they hold about 2.2 million member rows:
-- DuckDB's key index made that delete-and-rewrite take about 80 s, against about 5 s unkeyed.
-- Uniqueness of (kind, scope, threshold, text_id) per society holds by construction (each text
-- joins one cluster per pass) and is tested in tests/metrics/test_metrics_automation.py.
CREATE TABLE automation_dup_clusters_unkeyed (
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
    params_hash     VARCHAR
);
INSERT INTO automation_dup_clusters_unkeyed SELECT * FROM automation_dup_clusters;
DROP TABLE automation_dup_clusters;
ALTER TABLE automation_dup_clusters_unkeyed RENAME TO automation_dup_clusters;

CREATE TABLE automation_dup_members_unkeyed (
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
    params_hash     VARCHAR
);
INSERT INTO automation_dup_members_unkeyed SELECT * FROM automation_dup_members;
DROP TABLE automation_dup_members;
ALTER TABLE automation_dup_members_unkeyed RENAME TO automation_dup_members;
