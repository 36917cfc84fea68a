-- Agent-level socialization table (ANALYTICS_SPEC.md §3.2 agent variant, §3.4–§3.6), written by
-- assets/metrics/socialization_agents.py. One row per agent that entered at least one diagnostic;
-- a column is NULL where the agent is below that diagnostic's minimum sample.
-- Added to the spec's columns: bin_seconds (n_days counts bins of this width: a UTC day, or a
-- short-run bin for simulated societies), score_timing ('snapshot' when scores come from
-- post_snapshots before the next post, 'final' when only final scores exist and leak the future;
-- NULL for agents outside feedback adaptation), and the partner variant of §3.6.
CREATE TABLE socialization_agent (
    society_id            VARCHAR NOT NULL,
    agent_id              VARCHAR NOT NULL,
    n_posts               BIGINT,
    n_days                BIGINT,
    bin_seconds           DOUBLE,
    self_drift            DOUBLE,
    self_drift_null       DOUBLE,
    excess_drift          DOUBLE,
    drift_ratio           DOUBLE,
    self_diversity        DOUBLE,
    feedback_gap          DOUBLE,
    repeat_slope          DOUBLE,
    score_timing          VARCHAR,
    n_interaction_events  BIGINT,
    interaction_effect    DOUBLE,
    n_partner_events      BIGINT,
    partner_effect        DOUBLE,
    computed_at           TIMESTAMPTZ,
    params_hash           VARCHAR,
    PRIMARY KEY (society_id, agent_id)
);
