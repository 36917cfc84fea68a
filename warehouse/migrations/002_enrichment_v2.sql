-- Enrichment at scale (issue 4).
-- Topic models fitted across societies (ANALYTICS_SPEC.md §1.2, scope = 'joint') have no single
-- society: society_id is NULL there and society_ids lists the members. `variant` separates the
-- base fit (topic -1 kept) from its outlier-reduced variant.
ALTER TABLE topic_models ALTER COLUMN society_id DROP NOT NULL;
ALTER TABLE topic_models ADD COLUMN scope VARCHAR DEFAULT 'society';
ALTER TABLE topic_models ADD COLUMN variant VARCHAR DEFAULT 'base';
ALTER TABLE topic_models ADD COLUMN society_ids VARCHAR[];

-- The language of each text (§1.1), from an offline detector; NULL when too short to tell.
CREATE TABLE text_languages (
    society_id  VARCHAR NOT NULL,
    text_id     VARCHAR NOT NULL,
    language    VARCHAR,
    method      VARCHAR NOT NULL,
    PRIMARY KEY (society_id, text_id)
);
