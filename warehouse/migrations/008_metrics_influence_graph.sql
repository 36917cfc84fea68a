-- Influence graph family tables (ANALYTICS_SPEC.md §4.1, §4.2, §4.5), written by
-- assets/metrics/influence_graph.py. The `all` window has window_start NULL (as in
-- influence_concentration), so the two per-window tables declare no primary key: DuckDB
-- keys cannot hold NULL. The writer replaces a society's rows as a whole.

-- §4.1 directed agent pairs per edge type (post_author | parent_author | upvote) and window (all | day).
CREATE TABLE influence_edges (
    society_id     VARCHAR NOT NULL,
    edge_type      VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    window_start   TIMESTAMPTZ,
    src_agent_id   VARCHAR NOT NULL,
    dst_agent_id   VARCHAR NOT NULL,
    weight         BIGINT NOT NULL,
    first_at       TIMESTAMPTZ,
    last_at        TIMESTAMPTZ,
    computed_at    TIMESTAMPTZ,
    params_hash    VARCHAR
);

-- §4.2 agent scores on the post_author graph; hub and authority on the `all` window only.
CREATE TABLE influence_agent_scores (
    society_id     VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    window_start   TIMESTAMPTZ,
    agent_id       VARCHAR NOT NULL,
    in_strength    BIGINT,
    in_degree      BIGINT,
    out_strength   BIGINT,
    pagerank       DOUBLE,
    pagerank_rank  BIGINT,
    hub            DOUBLE,
    authority      DOUBLE,
    computed_at    TIMESTAMPTZ,
    params_hash    VARCHAR
);

-- §4.5 reciprocity and shape of each edge type's unweighted `all` graph.
CREATE TABLE influence_graph_summary (
    society_id          VARCHAR NOT NULL,
    edge_type           VARCHAR NOT NULL,
    n_nodes             BIGINT,
    n_edges             BIGINT,
    density             DOUBLE,
    dyad_reciprocity    DOUBLE,
    reciprocity_rho     DOUBLE,
    reply_back_rate     DOUBLE,
    lcc_share           DOUBLE,
    mean_shortest_path  DOUBLE,
    computed_at         TIMESTAMPTZ,
    params_hash         VARCHAR,
    PRIMARY KEY (society_id, edge_type)
);
