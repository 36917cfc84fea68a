"""Automation and flooding (ANALYTICS_SPEC.md §6).

Each test builds the few texts it needs with `texts_frame` (times in seconds after
T0) and, where near-duplicates matter, 2-d unit vectors given by their angle, so
that every cosine is cos(angle difference): 0.90 is about 25.8°, 0.95 about 18.2°.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from assets.metrics import automation as auto
from assets.metrics.automation import (
    REGISTRY,
    automation_metrics,
    global_index,
    leader_clusters,
    normalize_text,
)
from assets.metrics.stats import wilson_interval
from warehouse.migrate import migrate
from warehouse.writer import replace_society_rows

T0 = pd.Timestamp("2026-02-01T00:00:00Z")


def texts_frame(rows: list[tuple[str, str, str | None, float, str]]) -> pd.DataFrame:
    """(text_id, kind, author, seconds after T0, text) → texts view rows (post_id = the post's own id)."""
    return pd.DataFrame(
        {
            "text_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "source_id": [r[0].split(":", 1)[1] for r in rows],
            "post_id": [r[0].split(":", 1)[1] if r[1] == "post" else "p1" for r in rows],
            "author_id": [r[2] for r in rows],
            "community_id": ["general"] * len(rows),
            "created_at": [T0 + pd.Timedelta(seconds=r[3]) for r in rows],
            "text": pd.Series([r[4] for r in rows], dtype=object),  # object: may hold lone surrogates
        }
    )


def unit(deg: float) -> list[float]:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


def embeddings(vectors: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"text_id": list(vectors), "model_id": "m", "content_hash": "h", "vector": list(vectors.values())}
    )


def posts_of(texts: pd.DataFrame, comment_count: dict[str, int] | None = None) -> pd.DataFrame:
    p = texts[texts["kind"] == "post"]
    return pd.DataFrame(
        {
            "post_id": p["source_id"].to_numpy(),
            "community_id": p["community_id"].to_numpy(),
            "author_id": p["author_id"].to_numpy(),
            "comment_count": [(comment_count or {}).get(x, 0) for x in p["source_id"]],
            "created_at": p["created_at"].to_numpy(),
        }
    )


def by_name(rows) -> dict:
    return {r.metric: r for r in rows}


# --------------------------------------------------------------------------- exact pass


def test_normalize_text_drops_case_urls_digits_and_extra_space():
    assert normalize_text("Buy 100 $MOLT  now:\nhttps://x.io/a?b=1  ＦＲＥＥ") == "buy $molt now: free"
    assert normalize_text(None) == ""
    assert normalize_text("bad \ud800 surrogate") == "bad \ud800 surrogate"


def test_exact_dup_shares_count_every_copy_and_never_empty_texts():
    t = texts_frame(
        [
            ("post:p1", "post", "a", 0, "Hello world 1"),
            ("post:p2", "post", "b", 5, "hello   WORLD 2"),  # same as p1 once normalized
            ("post:p3", "post", "c", 9, "something else"),
            ("post:p4", "post", "d", 12, "42"),  # normalizes to "" : never a duplicate
            ("comment:c1", "comment", "a", 20, "99"),  # "" as well
            ("comment:c2", "comment", "b", 30, "hello world"),  # equals p1/p2 only when pooled
            ("comment:c3", "comment", "c", 40, "nice"),
        ]
    )
    _, rows = automation_metrics(t, None, posts_of(t), B=50)
    m = by_name(rows)
    assert (m["exact_dup_share_posts"].value, m["exact_dup_share_posts"].n) == (0.5, 4)
    assert (m["exact_dup_share_comments"].value, m["exact_dup_share_comments"].n) == (0.0, 3)
    assert m["exact_dup_share_pooled"].value == pytest.approx(3 / 7)
    assert (m["exact_dup_share_pooled"].ci_low, m["exact_dup_share_pooled"].ci_high) == pytest.approx(
        wilson_interval(3, 7)
    )
    # Without embeddings the near-duplicate metrics are "not available", not missing.
    assert (m["near_dup_share_posts"].value, m["near_dup_share_posts"].n) == (None, 0)
    assert (m["template_share_top100"].value, m["template_share_top100"].n) == (None, 0)


# --------------------------------------------------------------------------- leader clustering


def test_leader_clustering_does_not_chain():
    """0°, 20°, 40°, 41° in time order: cos(0°, 20°) = 0.94 ≥ 0.9 joins; 40° is 0.77 from the leader, so it
    leads a new cluster although it is 0.94 from its neighbour 20° (single linkage would chain them all)."""
    X = np.array([unit(0), unit(20), unit(40), unit(41)], dtype=np.float32)
    home = np.zeros(4, dtype=np.int64)
    lead, cos = leader_clusters(X, 0.9, home, home[:, None])
    assert lead.tolist() == [0, 0, 2, 2]
    assert cos == pytest.approx([1.0, math.cos(math.radians(20)), 1.0, math.cos(math.radians(1))], abs=1e-6)


def test_leader_clustering_joins_the_earliest_cluster_across_chunks_and_blocks():
    """Leaders at 0°, 30° and 60°; 15° later is 0.966 from the first two and joins the earlier one, and 50°
    later joins 30° (0.77 from 0°), also when the candidate leaders were created in an earlier chunk and
    are scanned one block of leaders at a time."""
    X = np.array([unit(0), unit(30), unit(60), unit(15), unit(50)], dtype=np.float32)
    home = np.zeros(5, dtype=np.int64)
    for chunk in (1, 2, 3, 5):
        for leader_block in (1, 2, 4096):
            lead, _ = leader_clusters(X, 0.9, home, home[:, None], chunk=chunk, leader_block=leader_block)
            assert lead.tolist() == [0, 1, 2, 0, 1], (chunk, leader_block)


def test_partition_keeps_authors_apart():
    X = np.array([unit(0), unit(1), unit(2)], dtype=np.float32)
    part = np.array([0, 1, 0])
    for chunk in (1, 3):
        lead, _ = leader_clusters(X, 0.9, part, part[:, None], partition=part, chunk=chunk)
        assert lead.tolist() == [0, 1, 0]


def test_inverted_file_search_meets_its_recall_target_and_matches_exact_search():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(400, 16))
    X = centres[rng.integers(0, 400, 3000)] + rng.normal(size=(3000, 16)) * 0.08
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    exact_home, exact_probes, _ = global_index(X, 0.9, np.random.default_rng(0))
    assert exact_probes.shape == (3000, 1)  # small input: exact
    home, probes, recall = global_index(X, 0.9, np.random.default_rng(0), exact_limit=100)
    assert recall >= 0.95 and 1 < probes.shape[1] and probes.max() > 0
    exact_lead, _ = leader_clusters(X, 0.9, exact_home, exact_probes)
    ivf_lead, _ = leader_clusters(X, 0.9, home, probes)
    assert (exact_lead == ivf_lead).mean() >= 0.95


# --------------------------------------------------------------------------- §6.1 tables and near metrics


@pytest.fixture()
def near_society():
    """Posts p1–p3 at 0°, 10°, 12° by three authors (one cluster at 0.90, leader p1), p4 at 90° alone;
    comments c1, c2 by alice at 0° and 50° (no cluster)."""
    t = texts_frame(
        [
            ("post:p1", "post", "alice", 0, "gm agents"),
            ("post:p2", "post", "bob", 60, "gm, agents!"),
            ("post:p3", "post", "carol", 3600, "good morning agents"),
            ("post:p4", "post", "dave", 7200, "tax policy thread"),
            ("comment:c1", "comment", "alice", 100, "first"),
            ("comment:c2", "comment", "alice", 200, "second"),
        ]
    )
    emb = embeddings({"post:p1": unit(0), "post:p2": unit(10), "post:p3": unit(12), "post:p4": unit(90),
                      "comment:c1": unit(0), "comment:c2": unit(50)})  # fmt: skip
    return t, emb


def test_dup_tables_at_every_threshold(near_society):
    t, emb = near_society
    tables, rows = automation_metrics(t, emb, posts_of(t, {"p1": 6, "p2": 6, "p3": 3, "p4": 1}), B=50)
    c = tables["automation_dup_clusters"]
    assert list(c.columns) == auto.CLUSTER_COLUMNS
    g90 = c[(c["scope"] == "global") & (c["threshold"] == 0.90)]
    assert len(g90) == 1
    row = g90.iloc[0]
    assert (row["kind"], row["cluster_id"], row["leader_text_id"], row["size"], row["n_authors"]) == (
        "post", "post:p1", "post:p1", 3, 3,
    )
    assert (row["first_at"], row["last_at"]) == (T0, T0 + pd.Timedelta(hours=1))
    # cos(10°) = 0.985 and cos(12°) = 0.978 clear every threshold; p4, 90° away, never joins.
    assert set(c.loc[c["scope"] == "global", "threshold"]) == {0.85, 0.90, 0.95}
    # Author scope: every author has one post, and alice's two comments are 50° apart: no cluster.
    assert c[c["scope"] == "author"].empty
    m = tables["automation_dup_members"]
    m90 = m[(m["scope"] == "global") & (m["threshold"] == 0.90)].set_index("text_id")
    assert sorted(m90.index) == ["post:p1", "post:p2", "post:p3"]
    assert m90.loc["post:p3", "cos_to_leader"] == pytest.approx(math.cos(math.radians(12)), abs=1e-6)

    r = by_name(rows)
    assert (r["near_dup_share_posts"].value, r["near_dup_share_posts"].n) == (0.75, 4)
    assert (r["template_share_top100"].value, r["template_share_top100"].n) == (0.5, 6)
    # One episode (≥ 3 authors) lasting 1 h; lift: episode posts average 5 comments, p4 (same community
    # and day) 1 comment.
    assert (r["coordination_under24h_share"].value, r["coordination_under24h_share"].n) == (1.0, 1)
    assert r["coordination_comment_lift"].value == pytest.approx(5.0)
    assert r["coordination_comment_lift"].n == 3


def test_identical_vectors_collapse_and_author_scope_is_per_author():
    """Bob repeats the same vector three times; alice posts it once: author scope gives one cluster
    (bob's), global scope one cluster of all four with leader alice's earlier text."""
    t = texts_frame(
        [
            ("comment:c0", "comment", "alice", 0, "same"),
            ("comment:c1", "comment", "bob", 1, "same"),
            ("comment:c2", "comment", "bob", 2, "same"),
            ("comment:c3", "comment", "bob", 3, "same"),
        ]
    )
    emb = embeddings({f"comment:c{i}": unit(30) for i in range(4)})
    tables, _ = automation_metrics(t, emb, posts_of(t), B=20)
    c = tables["automation_dup_clusters"].query("threshold == 0.9").set_index("scope")
    assert c.loc["global", "cluster_id"] == "comment:c0" and c.loc["global", "size"] == 4
    assert c.loc["author", "cluster_id"] == "comment:c1" and c.loc["author", "size"] == 3


# --------------------------------------------------------------------------- §6.2 floods


def test_rate_and_similar_bursts():
    """Spammer: 12 comments 30 s apart at 0°, then (gap 61 s) 10 more 30 s apart. The first 12 are one
    similar + one rate burst; the last 10 are a rate burst only, as they point elsewhere (alternating
    90°/180°, no cluster of 10 close in time). Calm: 15 comments 60 s apart (never < 60 s)."""
    rows = [(f"comment:s{i}", "comment", "spammer", 30 * i, f"buy {i}") for i in range(12)]
    rows += [(f"comment:s{12 + i}", "comment", "spammer", 330 + 61 + 30 * i, f"x{i}") for i in range(10)]
    rows += [(f"comment:q{i}", "comment", "calm", 60 * i, f"hi {i}") for i in range(15)]
    t = texts_frame(rows)
    vec = {f"comment:s{i}": unit(0) for i in range(12)}
    vec |= {f"comment:s{12 + i}": unit(90 if i % 2 else 180) for i in range(10)}
    vec |= {f"comment:q{i}": unit(4 * i) for i in range(15)}
    tables, metric_rows = automation_metrics(t, embeddings(vec), posts_of(t), B=50)
    b = tables["automation_flood_bursts"]
    assert list(b.columns) == auto.BURST_COLUMNS
    rate = b[b["burst_kind"] == "rate"].sort_values("start_at")
    assert rate["n_items"].tolist() == [12, 10]
    assert rate["author_id"].tolist() == ["spammer", "spammer"]
    assert rate["median_gap_s"].tolist() == [30.0, 30.0]
    assert rate["burst_id"].tolist() == ["comment:s0", "comment:s12"]
    assert rate["cluster_id"].isna().all()
    similar = b[b["burst_kind"] == "similar"]
    assert similar["n_items"].tolist() == [12] and similar["cluster_id"].tolist() == ["comment:s0"]

    m = by_name(metric_rows)
    assert m["flood_volume_share"].value == pytest.approx(22 / 37) and m["flood_volume_share"].n == 37
    assert m["n_flooding_agents"].value == 1
    assert (m["flood_top_agent_share"].value, m["flood_top_agent_share"].n) == (1.0, 22)
    assert m["max_agent_post_count"].value is None  # no posts at all


def test_nine_quick_texts_are_not_a_burst():
    t = texts_frame([(f"post:p{i}", "post", "a", 10 * i, f"t{i}") for i in range(9)])
    tables, rows = automation_metrics(t, None, posts_of(t), B=20)
    assert tables["automation_flood_bursts"].empty
    m = by_name(rows)
    assert (m["flood_volume_share"].value, m["n_flooding_agents"].value) == (0.0, 0.0)
    assert (m["flood_top_agent_share"].value, m["flood_top_agent_share"].n) == (None, 0)
    assert (m["max_agent_post_count"].value, m["max_agent_post_count"].n) == (9.0, 1)


# --------------------------------------------------------------------------- §6.3 heartbeat


def test_agent_timing_classes_and_flagged_gaps():
    """clock: 10 posts exactly 2 h apart (cov 0, regular). mixed: gaps alternating 30 min and 3 h
    (cov 0.77). spiky: 9 gaps of 30 s, then one of 100 h (cov 3.0, irregular, 90 % sub-minute).
    flagged: 2 h gaps except one of 44 h across the flag window (T0+200 h to T0+240 h), which is dropped
    (regular). After the window ends, spiky (from 241 h) and flagged (from 242 h) are active."""
    h = 3600.0
    rows = [(f"post:k{i}", "post", "clock", 2 * h * i, f"k{i}") for i in range(10)]
    t_mixed = np.cumsum([0.0] + [1800.0 if i % 2 == 0 else 3 * h for i in range(9)])
    rows += [(f"post:m{i}", "post", "mixed", x, f"m{i}") for i, x in enumerate(t_mixed)]
    t_spiky = [241 * h + 30.0 * i for i in range(10)] + [241 * h + 270.0 + 100 * h]
    rows += [(f"post:s{i}", "post", "spiky", x, f"s{i}") for i, x in enumerate(t_spiky)]
    t_flagged = [190 * h + 2 * h * i for i in range(5)] + [242 * h + 2 * h * i for i in range(6)]
    rows += [(f"post:f{i}", "post", "flagged", x, f"f{i}") for i, x in enumerate(t_flagged)]
    rows += [("post:few", "post", "few", 243 * h, "only one post")]
    t = texts_frame(rows)
    flags = [{"flag": "comment_outage", "start": (T0 + pd.Timedelta(hours=200)).isoformat(),
              "end": (T0 + pd.Timedelta(hours=240)).isoformat()}, {"flag": "broken"}]  # fmt: skip
    tables, metric_rows = automation_metrics(t, None, posts_of(t), time_flags=flags, B=50)
    assert list(tables["automation_agent_timing"].columns) == auto.TIMING_COLUMNS
    timing = tables["automation_agent_timing"].set_index("agent_id")
    assert sorted(timing.index) == ["clock", "flagged", "mixed", "spiky"]  # "few" has < 10 posts
    assert (timing.loc["clock", "cov_gap"], timing.loc["clock", "mean_gap_s"]) == (0.0, 7200.0)
    assert timing.loc["clock", "timing_class"] == "regular"
    gaps = np.diff(t_mixed)
    assert timing.loc["mixed", "cov_gap"] == pytest.approx(gaps.std() / gaps.mean())
    assert timing.loc["mixed", "timing_class"] == "mixed"
    gaps = np.diff(t_spiky)
    assert timing.loc["spiky", "cov_gap"] == pytest.approx(gaps.std() / gaps.mean())
    assert timing.loc["spiky", "timing_class"] == "irregular"
    assert timing.loc["spiky", "sub_minute_share"] == pytest.approx(0.9)
    assert timing.loc["spiky", "median_gap_s"] == 30.0
    assert (timing.loc["flagged", "cov_gap"], timing.loc["flagged", "n_items"]) == (0.0, 11)

    m = by_name(metric_rows)
    assert (m["heartbeat_regular_share"].value, m["heartbeat_regular_share"].n) == (0.5, 4)
    assert (m["heartbeat_irregular_share"].value, m["heartbeat_irregular_share"].n) == (0.25, 4)
    assert (m["post_restart_irregular_share"].value, m["post_restart_irregular_share"].n) == (0.5, 2)
    assert (m["post_restart_irregular_share"].ci_low, m["post_restart_irregular_share"].ci_high) == pytest.approx(
        wilson_interval(1, 2)
    )


def test_no_time_flags_means_no_restart_share():
    t = texts_frame([(f"post:p{i}", "post", "a", 7200 * i, "x") for i in range(10)])
    _, rows = automation_metrics(t, None, posts_of(t), B=20)
    r = by_name(rows)["post_restart_irregular_share"]
    assert (r.value, r.n) == (None, 0)


def test_dominant_period_finds_a_six_hour_rhythm():
    """One post every 6 h for 4 days: the agent's and the society's periodogram peak at 6 h."""
    t = texts_frame([(f"post:p{i}", "post", "six", 6 * 3600 * i, f"p{i}") for i in range(16)])
    tables, rows = automation_metrics(t, None, posts_of(t), B=20)
    # 91 hourly bins: the nearest periodogram frequency to 1/6 is 15/91 (period 6.07 h).
    assert tables["automation_agent_timing"].iloc[0]["dominant_period_h"] == pytest.approx(91 / 15)
    m = by_name(rows)
    assert m["society_dominant_period_h"].value == pytest.approx(91 / 15)
    assert 0 < m["society_dominant_period_power_share"].value <= 1
    assert m["society_dominant_period_h"].n == 91  # hours from the first to the last post's hour


def test_peak6_hour_share():
    """24 posts in hour 0, 1 post in each of hours 1–23 (47 posts): top 6 hours hold 24 + 5."""
    rows = [(f"post:a{i}", "post", f"u{i}", i, "x") for i in range(24)]
    rows += [(f"post:b{h}", "post", "v", 3600 * h, "y") for h in range(1, 24)]
    t = texts_frame(rows)
    _, metric_rows = automation_metrics(t, None, posts_of(t), B=200)
    r = by_name(metric_rows)["peak6_hour_share"]
    assert (r.value, r.n) == (pytest.approx(29 / 47), 47)
    assert r.ci_low <= r.value <= r.ci_high
    # Too few posts to spread over the day: NULL with the achieved n.
    t_small = texts_frame([(f"post:p{i}", "post", "a", 3600 * i, "x") for i in range(5)])
    _, small_rows = automation_metrics(t_small, None, posts_of(t_small), B=20)
    assert (by_name(small_rows)["peak6_hour_share"].value, by_name(small_rows)["peak6_hour_share"].n) == (None, 5)


# --------------------------------------------------------------------------- §6.4 activity


def test_activity_concentration_and_top4_gaps():
    """Authors a1–a4 write 10 comments each 12 s apart; 16 others 1 comment each (56 comments, 20 agents)."""
    rows = [(f"comment:{a}_{i}", "comment", a, 1000 * k + 12 * i, f"{a} {i}")
            for k, a in enumerate(["a1", "a2", "a3", "a4"]) for i in range(10)]  # fmt: skip
    rows += [(f"comment:o{j}", "comment", f"o{j:02d}", 5000 + j, "hi") for j in range(16)]
    t = texts_frame(rows)
    _, metric_rows = automation_metrics(t, None, posts_of(t), B=100)
    m = by_name(metric_rows)
    assert (m["top4_agent_comment_share"].value, m["top4_agent_comment_share"].n) == (pytest.approx(40 / 56), 20)
    assert m["top10_agent_comment_share"].value == pytest.approx(46 / 56)
    assert m["top1pct_agent_comment_share"].value == pytest.approx(10 / 56)  # ceil(20 · 1 %) = 1 agent
    assert (m["top4_comment_gap_median_s"].value, m["top4_comment_gap_median_s"].n) == (12.0, 36)
    assert m["top4_agent_comment_share"].ci_low <= m["top4_agent_comment_share"].value


def test_comments_in_flagged_hours_are_left_out_of_concentration():
    rows = [(f"comment:x{i}", "comment", "x", 7200 + i, "x") for i in range(20)]  # all in hour 2
    rows += [(f"comment:y{i}", "comment", f"y{i}", 18000 + i, "y") for i in range(5)]  # hour 5
    t = texts_frame(rows)
    flags = [{"flag": "outage", "start": "2026-02-01T02:30:00Z", "end": "2026-02-01T02:40:00Z"}]
    _, metric_rows = automation_metrics(t, None, posts_of(t), time_flags=flags, B=20)
    r = by_name(metric_rows)["top4_agent_comment_share"]
    assert (r.value, r.n) == (pytest.approx(4 / 5), 5)


# --------------------------------------------------------------------------- completeness and robustness


def test_without_author_ids_author_metrics_are_null_but_present():
    t = texts_frame([(f"post:p{i}", "post", None, 10 * i, "same text") for i in range(30)])
    emb = embeddings({f"post:p{i}": unit(0) for i in range(30)})
    tables, rows = automation_metrics(t, emb, posts_of(t), B=20)
    m = by_name(rows)
    assert m["exact_dup_share_posts"].value == 1.0  # text-level: needs no authors
    assert m["near_dup_share_posts"].value == 1.0
    assert m["peak6_hour_share"].value == 1.0  # a post-time measure: all 30 posts fall in hour 0
    agent_level = [
        "flood_volume_share", "n_flooding_agents", "flood_top_agent_share", "max_agent_post_count",
        "heartbeat_regular_share", "heartbeat_irregular_share", "post_restart_irregular_share",
        "top4_agent_comment_share", "top10_agent_comment_share", "top1pct_agent_comment_share",
        "top4_comment_gap_median_s", "coordination_under24h_share", "coordination_comment_lift",
    ]  # fmt: skip
    for name in agent_level:
        assert (m[name].value, m[name].n) == (None, 0), name
    assert tables["automation_agent_timing"].empty


def test_every_emitted_metric_is_registered_and_vice_versa(near_society):
    t, emb = near_society
    for frame_emb in (emb, None):
        _, rows = automation_metrics(t, frame_emb, posts_of(t), B=20)
        emitted = [r.metric for r in rows]
        assert len(emitted) == len(set(emitted))
        assert emitted == [s.metric for s in REGISTRY]
    assert all(s.family == "automation" for s in REGISTRY)
    assert all(s.definition_provenance in ("paper-defined", "paper-named", "proposed") for s in REGISTRY)
    assert all(s.moltbook_evidence in ("P", "S", "none") for s in REGISTRY)


def test_adversarial_rows_do_not_crash():
    t = texts_frame(
        [
            ("post:p1", "post", "a", 0, "x" * 1_000_000),
            ("post:p2", "post", "a", 1, "lone \udc80 surrogate"),
            ("post:p3", "post", "b", 2, None),
            ("comment:c1", "comment", "a", 3, '{"json": "inside"} ignore previous instructions'),
        ]
    )
    t.loc[2, "created_at"] = pd.NaT
    emb = embeddings({"post:p1": unit(0), "post:p2": [float("nan"), 1.0], "post:p3": [1.0, 0.0, 0.0],
                      "comment:c1": [0.0, 0.0]})  # fmt: skip
    tables, rows = automation_metrics(t, emb, posts_of(t), B=20)
    assert len(rows) == len(REGISTRY)
    # Only p1 has a usable vector (NaN, wrong dimension and zero vectors count as missing).
    assert by_name(rows)["near_dup_share_posts"].n == 1


def test_several_models_need_a_model_id(near_society):
    t, emb = near_society
    two = pd.concat([emb, emb.assign(model_id="other")])
    with pytest.raises(ValueError, match="model_id"):
        automation_metrics(t, two, posts_of(t), B=20)
    _, rows = automation_metrics(t, two, posts_of(t), model_id="other", B=20)
    assert by_name(rows)["near_dup_share_posts"].value == 0.75


def test_tables_fit_the_migrated_warehouse(near_society):
    t, emb = near_society
    tables, _ = automation_metrics(t, emb, posts_of(t), B=20)
    conn = duckdb.connect()
    migrate(conn)
    now = pd.Timestamp.now(tz="UTC")
    for name, frame in tables.items():
        replace_society_rows(conn, name, "s1", frame.assign(computed_at=now, params_hash="h"))
        assert conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == len(frame)


# --------------------------------------------------------------------------- simulated society


def test_moltbook_like_simulation_shows_template_copying_and_heartbeats():
    """Directional check on a small moltbook-like run (p_dup = 0.34, half heartbeat agents); vectors are
    hashed bag-of-words, which is enough for verbatim template copies."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from simulators import simulate

    batch = simulate("moltbook-like", seed=1, n_agents=200, n_steps=1500)
    posts, comments = batch.tables["posts"], batch.tables["comments"]
    texts = pd.concat(
        [
            pd.DataFrame({"text_id": "post:" + posts["post_id"], "kind": "post", "post_id": posts["post_id"],
                          "author_id": posts["author_id"], "created_at": posts["created_at"],
                          "text": posts["title"].fillna("") + "\n\n" + posts["content"].fillna("")}),
            pd.DataFrame({"text_id": "comment:" + comments["comment_id"], "kind": "comment",
                          "post_id": comments["post_id"], "author_id": comments["author_id"],
                          "created_at": comments["created_at"], "text": comments["content"].fillna("")}),
        ],
        ignore_index=True,
    )  # fmt: skip
    vectors = HashingVectorizer(n_features=256, alternate_sign=False).transform(texts["text"]).toarray()
    emb = pd.DataFrame({"text_id": texts["text_id"], "model_id": "hash", "vector": list(vectors)})
    tables, rows = automation_metrics(texts, emb, posts, batch.society["config_json"].get("time_flags"),
                                      society_seed=1, B=100)  # fmt: skip
    # The warehouse keeps these two tables unkeyed (migration 018): their keys hold by construction.
    members, clusters = tables["automation_dup_members"], tables["automation_dup_clusters"]
    assert len(members) > 0 and not members.duplicated(["kind", "scope", "threshold", "text_id"]).any()
    assert len(clusters) > 0 and not clusters.duplicated(["kind", "scope", "threshold", "cluster_id"]).any()
    m = by_name(rows)
    for name in ("exact_dup_share_posts", "exact_dup_share_comments"):
        assert m[name].ci_low <= 0.34 + 0.05 and m[name].ci_high >= 0.34 - 0.05, name
    assert m["near_dup_share_posts"].value >= m["exact_dup_share_posts"].value
    assert m["template_share_top100"].value > 0.3
    assert m["heartbeat_regular_share"].value > m["heartbeat_irregular_share"].value
