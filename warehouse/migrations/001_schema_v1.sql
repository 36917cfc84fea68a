-- Canonical warehouse schema v1 (DESIGN.md §4).
-- Every table carries society_id and is keyed within it; ids are strings, times are UTC TIMESTAMPTZ.

CREATE TABLE societies (
    society_id   VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL CHECK (kind IN ('live', 'dump', 'trace', 'sim')),
    platform     VARCHAR,
    preset       VARCHAR,
    seed         BIGINT,
    config_json  JSON,
    source_uri   VARCHAR,
    created_at   TIMESTAMPTZ,
    ingested_at  TIMESTAMPTZ
);

CREATE TABLE agents (
    society_id       VARCHAR NOT NULL,
    agent_id         VARCHAR NOT NULL,
    name             VARCHAR,
    description      VARCHAR,
    karma            BIGINT,
    follower_count   BIGINT,
    following_count  BIGINT,
    is_claimed       BOOLEAN,
    created_at       TIMESTAMPTZ,
    owner_json       JSON,
    first_seen_at    TIMESTAMPTZ,
    last_seen_at     TIMESTAMPTZ,
    PRIMARY KEY (society_id, agent_id)
);

CREATE TABLE communities (
    society_id        VARCHAR NOT NULL,
    community_id      VARCHAR NOT NULL,
    name              VARCHAR,
    display_name      VARCHAR,
    description       VARCHAR,
    subscriber_count  BIGINT,
    created_at        TIMESTAMPTZ,
    created_by        VARCHAR,
    PRIMARY KEY (society_id, community_id)
);

CREATE TABLE posts (
    society_id     VARCHAR NOT NULL,
    post_id        VARCHAR NOT NULL,
    community_id   VARCHAR,
    author_id      VARCHAR,
    title          VARCHAR,
    content        VARCHAR,
    url            VARCHAR,
    upvotes        BIGINT,
    downvotes      BIGINT,
    score          BIGINT,
    comment_count  BIGINT,
    created_at     TIMESTAMPTZ,
    is_deleted     BOOLEAN NOT NULL DEFAULT false,
    first_seen_at  TIMESTAMPTZ,
    last_seen_at   TIMESTAMPTZ,
    PRIMARY KEY (society_id, post_id)
);

CREATE TABLE comments (
    society_id  VARCHAR NOT NULL,
    comment_id  VARCHAR NOT NULL,
    post_id     VARCHAR NOT NULL,
    parent_id   VARCHAR,
    root_id     VARCHAR,
    depth       INTEGER,
    author_id   VARCHAR,
    content     VARCHAR,
    upvotes     BIGINT,
    downvotes   BIGINT,
    score       BIGINT,
    created_at  TIMESTAMPTZ,
    PRIMARY KEY (society_id, comment_id)
);

CREATE TABLE post_snapshots (
    society_id     VARCHAR NOT NULL,
    post_id        VARCHAR NOT NULL,
    observed_at    TIMESTAMPTZ NOT NULL,
    upvotes        BIGINT,
    downvotes      BIGINT,
    score          BIGINT,
    comment_count  BIGINT,
    PRIMARY KEY (society_id, post_id, observed_at)
);

CREATE TABLE agent_snapshots (
    society_id       VARCHAR NOT NULL,
    agent_id         VARCHAR NOT NULL,
    observed_at      TIMESTAMPTZ NOT NULL,
    karma            BIGINT,
    follower_count   BIGINT,
    following_count  BIGINT,
    PRIMARY KEY (society_id, agent_id, observed_at)
);

CREATE TABLE votes (
    society_id   VARCHAR NOT NULL,
    vote_id      VARCHAR NOT NULL,
    voter_id     VARCHAR,
    target_type  VARCHAR,
    target_id    VARCHAR,
    value        INTEGER,
    created_at   TIMESTAMPTZ,
    PRIMARY KEY (society_id, vote_id)
);

CREATE TABLE follows (
    society_id   VARCHAR NOT NULL,
    follower_id  VARCHAR NOT NULL,
    followee_id  VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    action       VARCHAR NOT NULL CHECK (action IN ('follow', 'unfollow')),
    PRIMARY KEY (society_id, follower_id, followee_id, created_at)
);

CREATE TABLE exposures (
    society_id  VARCHAR NOT NULL,
    agent_id    VARCHAR NOT NULL,
    step        INTEGER NOT NULL,
    item_id     VARCHAR NOT NULL,
    feed        VARCHAR,
    rank        INTEGER,
    PRIMARY KEY (society_id, agent_id, step, item_id)
);

CREATE TABLE actions (
    society_id   VARCHAR NOT NULL,
    seq          BIGINT NOT NULL,
    agent_id     VARCHAR,
    step         INTEGER,
    created_at   TIMESTAMPTZ,
    action_type  VARCHAR,
    target_id    VARCHAR,
    info_json    JSON,
    source       VARCHAR CHECK (source IN ('rule', 'llm')),
    PRIMARY KEY (society_id, seq)
);

CREATE TABLE ground_truth (
    society_id  VARCHAR NOT NULL,
    phenomenon  VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,
    expected    VARCHAR,
    tolerance   VARCHAR,
    reference   VARCHAR,
    PRIMARY KEY (society_id, phenomenon, metric)
);

CREATE TABLE sim_labels (
    society_id  VARCHAR NOT NULL,
    item_type   VARCHAR NOT NULL,
    item_id     VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    value       VARCHAR,
    PRIMARY KEY (society_id, item_type, item_id, key)
);

CREATE TABLE sim_states (
    society_id  VARCHAR NOT NULL,
    agent_id    VARCHAR NOT NULL,
    step        INTEGER NOT NULL,
    dimension   VARCHAR NOT NULL,
    value       DOUBLE,
    PRIMARY KEY (society_id, agent_id, step, dimension)
);

-- run_id of a file import is derived from its input fingerprint, so importing the same input
-- again updates its run row instead of adding one.
CREATE TABLE ingest_runs (
    society_id   VARCHAR NOT NULL,
    run_id       VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    cursor_json  JSON,
    requested    BIGINT,
    fetched      BIGINT,
    inserted     BIGINT,
    updated      BIGINT,
    quarantined  BIGINT,
    error        VARCHAR,
    PRIMARY KEY (society_id, run_id)
);

CREATE TABLE quarantine (
    society_id  VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,
    row_no      BIGINT NOT NULL,
    source      VARCHAR NOT NULL,
    raw         VARCHAR,
    reason      VARCHAR NOT NULL,
    PRIMARY KEY (society_id, run_id, row_no)
);

-- Enrichments. text_id is '<kind>:<source_id>' (see the texts view); embeddings are cached by
-- (content_hash, model_id) across the whole warehouse.
CREATE TABLE text_embeddings (
    society_id    VARCHAR NOT NULL,
    text_id       VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    vector        FLOAT[] NOT NULL,
    PRIMARY KEY (society_id, text_id, model_id)
);
CREATE INDEX text_embeddings_hash ON text_embeddings (content_hash, model_id);

CREATE TABLE topic_models (
    model_id     VARCHAR PRIMARY KEY,
    society_id   VARCHAR NOT NULL,
    params_json  JSON,
    created_at   TIMESTAMPTZ
);

CREATE TABLE topic_assignments (
    society_id  VARCHAR NOT NULL,
    text_id     VARCHAR NOT NULL,
    model_id    VARCHAR NOT NULL,
    topic       INTEGER NOT NULL,
    prob        DOUBLE,
    PRIMARY KEY (society_id, text_id, model_id)
);

CREATE TABLE topic_info (
    model_id   VARCHAR NOT NULL,
    topic      INTEGER NOT NULL,
    size       BIGINT,
    label      VARCHAR,
    top_terms  VARCHAR[],
    PRIMARY KEY (model_id, topic)
);

CREATE TABLE content_category (
    society_id  VARCHAR NOT NULL,
    text_id     VARCHAR NOT NULL,
    category    VARCHAR,
    score       DOUBLE,
    method      VARCHAR NOT NULL,
    PRIMARY KEY (society_id, text_id, method)
);

CREATE TABLE toxicity_labels (
    society_id   VARCHAR NOT NULL,
    text_id      VARCHAR NOT NULL,
    level        INTEGER CHECK (level BETWEEN 0 AND 4),
    scores_json  JSON,
    method       VARCHAR NOT NULL,
    PRIMARY KEY (society_id, text_id, method)
);

CREATE TABLE emotion_labels (
    society_id  VARCHAR NOT NULL,
    text_id     VARCHAR NOT NULL,
    emotion     VARCHAR,
    valence     DOUBLE,
    method      VARCHAR NOT NULL,
    PRIMARY KEY (society_id, text_id, method)
);

-- Metrics (ANALYTICS_SPEC.md §7.1, §4.4, §8.1).
CREATE TABLE threads_thread_stats (
    society_id              VARCHAR NOT NULL,
    post_id                 VARCHAR NOT NULL,
    community_id            VARCHAR,
    comment_count_reported  BIGINT,
    n_comments_observed     BIGINT,
    is_capped               BOOLEAN,
    n_orphans               BIGINT,
    max_depth               INTEGER,
    max_width               INTEGER,
    n_top_level             BIGINT,
    share_depth1            DOUBLE,
    unanswered_share        DOUBLE,
    n_unique_commenters     BIGINT,
    author_returned         BOOLEAN,
    first_comment_delay_s   DOUBLE,
    lifespan_s              DOUBLE,
    half_life_s             DOUBLE,
    computed_at             TIMESTAMPTZ,
    params_hash             VARCHAR,
    PRIMARY KEY (society_id, post_id)
);

CREATE TABLE influence_concentration (
    society_id     VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    window_start   TIMESTAMPTZ,
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
    params_hash    VARCHAR,
    PRIMARY KEY (society_id, "window", object, quantity, excl_default)
);

CREATE TABLE society_metric (
    society_id   VARCHAR NOT NULL,
    family       VARCHAR NOT NULL,
    metric       VARCHAR NOT NULL,
    value        DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    n            BIGINT,
    computed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (society_id, family, metric)
);

-- Posts and comments as one stream of texts (ANALYTICS_SPEC.md §0.3).
CREATE VIEW texts AS
SELECT society_id,
       'post:' || post_id AS text_id,
       'post' AS kind,
       post_id AS source_id,
       post_id,
       author_id,
       community_id,
       created_at,
       coalesce(title, '') || chr(10) || chr(10) || coalesce(content, '') AS text
FROM posts
UNION ALL
SELECT c.society_id,
       'comment:' || c.comment_id AS text_id,
       'comment' AS kind,
       c.comment_id AS source_id,
       c.post_id,
       c.author_id,
       p.community_id,
       c.created_at,
       coalesce(c.content, '') AS text
FROM comments c
LEFT JOIN posts p ON p.society_id = c.society_id AND p.post_id = c.post_id;
