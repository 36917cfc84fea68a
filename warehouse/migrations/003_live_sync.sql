-- Live platform sync (issue 5, MOLTBOOK_API.md §7).
-- Crawler bookkeeping, written in the same transaction as the rows a fetch produced, so a sync
-- killed at any point resumes with nothing lost and nothing fetched twice into the tables.

-- Per post: what the last comment fetch saw (the comment-count-delta queue of §7.3) and the
-- deletion audit (§7.5: a first 404, then a confirming one at least an hour later).
CREATE TABLE crawl_posts (
    society_id              VARCHAR NOT NULL,
    post_id                 VARCHAR NOT NULL,
    comments_fetched_at     TIMESTAMPTZ,
    reported_at_fetch       BIGINT,     -- the post's reported comment_count at that fetch
    stored_at_fetch         BIGINT,     -- comments stored for it after that fetch
    unreachable_since       TIMESTAMPTZ, -- the deficit outlived every comment sort
    first_404_at            TIMESTAMPTZ,
    deleted_confirmed_at    TIMESTAMPTZ,
    last_listed_run         VARCHAR,    -- the last run whose listing walk showed the post
    PRIMARY KEY (society_id, post_id)
);

-- Per agent name: when its profile was last read (refreshed when stale) or found missing.
CREATE TABLE crawl_agents (
    society_id          VARCHAR NOT NULL,
    name                VARCHAR NOT NULL,
    profile_fetched_at  TIMESTAMPTZ,
    missing_since       TIMESTAMPTZ,
    PRIMARY KEY (society_id, name)
);

-- Platform totals as the platform reports them (/stats); coverage ratios use them as denominators.
CREATE TABLE platform_stats (
    society_id   VARCHAR NOT NULL,
    observed_at  TIMESTAMPTZ NOT NULL,
    agents       BIGINT,
    submolts     BIGINT,
    posts        BIGINT,
    comments     BIGINT,
    PRIMARY KEY (society_id, observed_at)
);

-- Per-post comment coverage (§7.6): stored comments over the reported comment_count (above 1
-- when the reported count is older than the stored comments).
CREATE VIEW post_coverage AS
SELECT
    p.society_id,
    p.post_id,
    p.community_id,
    CAST(p.created_at AS DATE) AS day,
    p.comment_count AS reported_comments,
    count(c.comment_id) AS stored_comments,
    CASE WHEN p.comment_count > 0
         THEN count(c.comment_id) / p.comment_count::DOUBLE END AS coverage
FROM posts p
LEFT JOIN comments c ON c.society_id = p.society_id AND c.post_id = p.post_id
GROUP BY p.society_id, p.post_id, p.community_id, p.created_at, p.comment_count;
