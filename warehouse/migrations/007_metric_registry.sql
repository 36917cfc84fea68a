-- What each society_metric row means (ANALYTICS_SPEC §8.1.2), copied from the code's registry
-- (assets/metrics/registry.py) by every metrics run, and how each society was processed (§8.1.3).
CREATE TABLE metric_registry (
    family                 VARCHAR NOT NULL,
    metric                 VARCHAR NOT NULL,
    unit                   VARCHAR NOT NULL,
    definition_provenance  VARCHAR NOT NULL CHECK (definition_provenance IN ('paper-defined', 'paper-named', 'proposed')),
    ci_method              VARCHAR NOT NULL,
    expected_direction     VARCHAR NOT NULL,
    moltbook_value         VARCHAR,
    moltbook_evidence      VARCHAR NOT NULL CHECK (moltbook_evidence IN ('P', 'S', 'none')),
    moltbook_source        VARCHAR,
    pipeline_version       VARCHAR NOT NULL,
    PRIMARY KEY (family, metric)
);

CREATE TABLE society_analysis (
    society_id        VARCHAR NOT NULL PRIMARY KEY,
    pipeline_version  VARCHAR NOT NULL,
    model_id          VARCHAR,   -- embedding model(s) behind the society's vectors, comma-separated
    category_method   VARCHAR,
    toxicity_method   VARCHAR,
    emotion_method    VARCHAR,
    seed              BIGINT,
    computed_at       TIMESTAMPTZ NOT NULL
);
