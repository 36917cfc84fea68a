-- Texts the enrichment stage embeds besides posts and comments (ANALYTICS_SPEC.md §0.3, §5):
-- agent descriptions (the persona vector d_a, text id `agent:<agent_id>`) and community
-- descriptions (`community:<community_id>`, matched against personas in §5.1). Empty or
-- missing descriptions are left out: there is nothing to embed.
CREATE VIEW profile_texts AS
SELECT society_id,
       'agent:' || agent_id AS text_id,
       'agent' AS kind,
       description AS text
FROM agents
WHERE description IS NOT NULL AND trim(description) <> ''
UNION ALL
SELECT society_id,
       'community:' || community_id AS text_id,
       'community' AS kind,
       description AS text
FROM communities
WHERE description IS NOT NULL AND trim(description) <> '';

-- Everything `text_embeddings` holds vectors for.
CREATE VIEW embedded_texts AS
SELECT society_id, text_id, kind, text FROM texts
UNION ALL
SELECT society_id, text_id, kind, text FROM profile_texts;
