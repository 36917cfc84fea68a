-- Topic metrics (ANALYTICS_SPEC.md §1.4; assets/metrics/topics.py).

-- Category shares per bin. `n` is the category's count; a bin's total is the sum over its nine
-- categories. The `all` bin's bin_start is the day of the society's first timed post (1970-01-01
-- when no post has a time), so the key has no NULL. Share and CI are NULL below the §0.4 minimum.
CREATE TABLE topics_category_share (
    society_id   VARCHAR NOT NULL,
    variant      VARCHAR NOT NULL,   -- all | no_floods
    "bin"        VARCHAR NOT NULL,   -- all | day | hour
    bin_start    TIMESTAMPTZ NOT NULL,
    category     VARCHAR NOT NULL,   -- A … I
    n            BIGINT,
    share        DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, variant, "bin", bin_start, category)
);

CREATE TABLE topics_time_series (
    society_id            VARCHAR NOT NULL,
    "bin"                 VARCHAR NOT NULL,   -- day | hour
    bin_start             TIMESTAMPTZ NOT NULL,
    n_posts               BIGINT,
    n_active_communities  BIGINT,
    n_new_communities     BIGINT,
    category_entropy      DOUBLE,             -- bits, max log2 9
    bertopic_entropy      DOUBLE,             -- normalised by log2 of the topic count, topic -1 excluded
    is_flagged            BOOLEAN,
    computed_at           TIMESTAMPTZ,
    params_hash           VARCHAR,
    PRIMARY KEY (society_id, "bin", bin_start)
);

CREATE TABLE topics_community_profile (
    society_id         VARCHAR NOT NULL,
    community_id       VARCHAR NOT NULL,
    n_posts            BIGINT,               -- labelled posts
    specialization     DOUBLE,
    jsd_to_society     DOUBLE,               -- bits
    jsd_null_p95       DOUBLE,
    is_generalist      BOOLEAN,
    dominant_category  VARCHAR,
    computed_at        TIMESTAMPTZ,
    params_hash        VARCHAR,
    PRIMARY KEY (society_id, community_id)
);

CREATE TABLE topics_community_clusters (
    society_id     VARCHAR NOT NULL,
    k              INTEGER NOT NULL,
    cluster_id     INTEGER NOT NULL,
    size           BIGINT,
    share          DOUBLE,
    top_terms      VARCHAR[],
    label          VARCHAR,
    meta_category  VARCHAR,                  -- human_mimetic | silicon_centric | hybrid_economic | NULL
    computed_at    TIMESTAMPTZ,
    params_hash    VARCHAR,
    PRIMARY KEY (society_id, k, cluster_id)
);

-- Not a spec table: the description count left after each §1.4 filter step ("logging the count
-- after each step"), then after keeping those with a stored vector.
CREATE TABLE topics_community_desc_filter (
    society_id   VARCHAR NOT NULL,
    step_no      INTEGER NOT NULL,
    step         VARCHAR NOT NULL,
    n_after      BIGINT,
    computed_at  TIMESTAMPTZ,
    params_hash  VARCHAR,
    PRIMARY KEY (society_id, step_no)
);
