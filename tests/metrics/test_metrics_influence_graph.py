"""Influence graph (ANALYTICS_SPEC.md §4.1, §4.2, §4.5).

    post  author          comment  post  parent  author  day
    p1    alice           c1       p1    –       bob     1
    p2    bob             c2       p1    c1      alice   1   (alice answers bob's c1)
    p3    NULL            c3       p2    –       alice   2
                          c4       p2    –       carol   2
                          c5       p1    –       alice   1   (self-loop on her own post)
                          c6       p3    –       carol   NULL (post author unknown)
                          c7       p2    c3      carol   2   (carol answers alice's c3)

post_author edges:   bob→alice 1, alice→bob 1, carol→bob 2       (c2, c5 are self-loops; c6 has no target)
parent_author edges: bob→alice 1, alice→bob 2, carol→bob 1, carol→alice 1
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from assets.metrics.influence_graph import (
    EDGE_COLUMNS,
    INFLUENCE_GRAPH_METRIC_NAMES,
    REGISTRY,
    SCORE_COLUMNS,
    SUMMARY_COLUMNS,
    influence_graph_metrics,
)
from assets.metrics.stats import wilson_interval

DAY1 = pd.Timestamp("2026-02-01T10:00:00Z")
DAY2 = pd.Timestamp("2026-02-02T10:00:00Z")


@pytest.fixture()
def posts() -> pd.DataFrame:
    return pd.DataFrame({"post_id": ["p1", "p2", "p3"], "author_id": ["alice", "bob", None]})


@pytest.fixture()
def comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comment_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
            "post_id": ["p1", "p1", "p2", "p2", "p1", "p3", "p2"],
            "parent_id": [None, "c1", None, None, None, None, "c3"],
            "author_id": ["bob", "alice", "alice", "carol", "alice", "carol", "carol"],
            "created_at": [DAY1, DAY1 + pd.Timedelta(minutes=5), DAY2, DAY2 + pd.Timedelta(hours=1), DAY1,
                           pd.NaT, DAY2 + pd.Timedelta(hours=2)],
        }
    )  # fmt: skip


@pytest.fixture()
def votes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vote_id": ["v1", "v2", "v3", "v4"],
            "voter_id": ["dave", "alice", "bob", "alice"],
            "target_type": ["post", "comment", "post", "post"],
            "target_id": ["p1", "c4", "p2", "p1"],
            "value": [1, 1, -1, 1],  # v3 is a downvote, v4 a self-vote: neither is an edge
            "created_at": [DAY1, DAY2, DAY2, DAY2],
        }
    )


def run(posts, comments, votes=None, seed=3):
    tables, rows = influence_graph_metrics(posts, comments, votes, society_seed=seed, B=200)
    return tables, {r.metric: r for r in rows}


def edge_weights(edges: pd.DataFrame, edge_type: str, window: str = "all") -> dict[tuple[str, str], int]:
    sel = edges[(edges["edge_type"] == edge_type) & (edges["window"] == window)]
    return {(s, d): int(w) for s, d, w in zip(sel["src_agent_id"], sel["dst_agent_id"], sel["weight"])}


class TestEdges:
    def test_columns_and_tables(self, posts, comments):
        tables, _ = run(posts, comments)
        assert list(tables) == ["influence_edges", "influence_agent_scores", "influence_graph_summary"]
        assert list(tables["influence_edges"].columns) == EDGE_COLUMNS
        assert list(tables["influence_agent_scores"].columns) == SCORE_COLUMNS
        assert list(tables["influence_graph_summary"].columns) == SUMMARY_COLUMNS

    def test_post_author_edges_drop_self_loops_and_null_authors(self, posts, comments):
        edges = run(posts, comments)[0]["influence_edges"]
        assert edge_weights(edges, "post_author") == {("bob", "alice"): 1, ("alice", "bob"): 1, ("carol", "bob"): 2}

    def test_parent_author_edges_point_at_the_answered_author(self, posts, comments):
        edges = run(posts, comments)[0]["influence_edges"]
        assert edge_weights(edges, "parent_author") == {
            ("bob", "alice"): 1, ("alice", "bob"): 2, ("carol", "bob"): 1, ("carol", "alice"): 1}  # fmt: skip

    def test_day_windows_and_first_last(self, posts, comments):
        edges = run(posts, comments)[0]["influence_edges"]
        day = edges[(edges["edge_type"] == "post_author") & (edges["window"] == "day")]
        by_day = {(str(s.date()), a, b): w for s, a, b, w in
                  zip(day["window_start"], day["src_agent_id"], day["dst_agent_id"], day["weight"])}  # fmt: skip
        assert by_day == {("2026-02-01", "bob", "alice"): 1, ("2026-02-02", "alice", "bob"): 1,
                          ("2026-02-02", "carol", "bob"): 2}  # fmt: skip
        whole = edges[(edges["edge_type"] == "post_author") & (edges["window"] == "all")]
        carol = whole[whole["src_agent_id"] == "carol"].iloc[0]
        assert carol["first_at"] == DAY2 + pd.Timedelta(hours=1)
        assert carol["last_at"] == DAY2 + pd.Timedelta(hours=2)
        assert whole["window_start"].isna().all()

    def test_upvote_edges_only_with_votes(self, posts, comments, votes):
        edges = run(posts, comments)[0]["influence_edges"]
        assert "upvote" not in set(edges["edge_type"])
        tables, _ = run(posts, comments, votes)
        assert edge_weights(tables["influence_edges"], "upvote") == {("dave", "alice"): 1, ("alice", "carol"): 1}
        upvote = tables["influence_graph_summary"].set_index("edge_type").loc["upvote"]
        assert (upvote["n_nodes"], upvote["n_edges"], upvote["dyad_reciprocity"]) == (3, 2, 0.0)
        assert math.isnan(upvote["reply_back_rate"])


class TestAgentScores:
    def test_strengths_pagerank_and_hits_on_the_all_window(self, posts, comments):
        scores = run(posts, comments)[0]["influence_agent_scores"]
        whole = scores[scores["window"] == "all"].set_index("agent_id")
        assert whole["in_strength"].to_dict() == {"alice": 1, "bob": 3, "carol": 0}
        assert whole["in_degree"].to_dict() == {"alice": 1, "bob": 2, "carol": 0}
        assert whole["out_strength"].to_dict() == {"alice": 1, "bob": 1, "carol": 2}
        # carol has no in-edge: (1−α)/3; bob = 0.05 + 0.85·(alice + carol); they sum to 1.
        assert whole.loc["carol", "pagerank"] == pytest.approx(0.05, abs=1e-9)
        assert whole.loc["bob", "pagerank"] == pytest.approx(0.9 / 1.85, abs=1e-9)
        assert whole["pagerank_rank"].to_dict() == {"bob": 1, "alice": 2, "carol": 3}
        # AᵀA = diag(1, 5, 0): bob is the only authority; hubs ∝ their weight into bob.
        assert whole["authority"].to_dict() == pytest.approx({"alice": 0, "bob": 1, "carol": 0}, abs=1e-9)
        assert whole["hub"].to_dict() == pytest.approx({"alice": 1 / 3, "bob": 0, "carol": 2 / 3}, abs=1e-9)

    def test_daily_scores_have_no_hits(self, posts, comments):
        scores = run(posts, comments)[0]["influence_agent_scores"]
        day2 = scores[(scores["window"] == "day") & (scores["window_start"] == pd.Timestamp("2026-02-02", tz="UTC"))]
        assert set(day2["agent_id"]) == {"alice", "bob", "carol"}
        assert day2.set_index("agent_id")["in_strength"].to_dict() == {"alice": 0, "bob": 3, "carol": 0}
        assert day2["pagerank"].sum() == pytest.approx(1.0)
        assert day2["hub"].isna().all() and day2["authority"].isna().all()


class TestSummaryAndMetrics:
    def test_graph_summary_by_hand(self, posts, comments):
        summary = run(posts, comments)[0]["influence_graph_summary"].set_index("edge_type")
        pa, par = summary.loc["post_author"], summary.loc["parent_author"]
        assert (pa["n_nodes"], pa["n_edges"], par["n_edges"]) == (3, 3, 4)
        assert pa["dyad_reciprocity"] == pytest.approx(2 / 3)
        assert pa["reciprocity_rho"] == pytest.approx((2 / 3 - 0.5) / 0.5)
        assert par["dyad_reciprocity"] == pytest.approx(0.5)
        assert par["reciprocity_rho"] == pytest.approx((0.5 - 2 / 3) / (1 / 3))
        # c1 (bob answering alice) is answered by alice in c2; no other comment is answered back.
        assert par["reply_back_rate"] == pytest.approx(1 / 5)
        assert pa["reply_back_rate"] == pytest.approx(1 / 4)
        # post_author undirected is the path alice–bob–carol; parent_author a triangle.
        assert pa["mean_shortest_path"] == pytest.approx(4 / 3)
        assert par["mean_shortest_path"] == pytest.approx(1.0)
        assert pa["lcc_share"] == par["lcc_share"] == 1.0

    def test_society_metrics_by_hand(self, posts, comments):
        m = run(posts, comments)[1]
        assert set(m) == set(INFLUENCE_GRAPH_METRIC_NAMES)
        assert all(r.family == "influence" for r in m.values())
        assert m["in_strength_gini"].value == pytest.approx(0.5) and m["in_strength_gini"].n == 3
        assert m["hub_authority_spearman"].value == pytest.approx(-math.sqrt(3) / 2)
        assert m["dyad_reciprocity"].value == pytest.approx(0.5)
        assert (m["dyad_reciprocity"].ci_low, m["dyad_reciprocity"].ci_high) == pytest.approx(wilson_interval(2, 4))
        assert m["dyad_reciprocity_post_author"].value == pytest.approx(2 / 3)
        assert m["reciprocity_rho"].value == pytest.approx(-0.5)
        assert m["reciprocity_rho"].ci_low <= -0.5 <= m["reciprocity_rho"].ci_high
        assert m["reply_back_rate"].value == pytest.approx(0.2) and m["reply_back_rate"].n == 5
        assert m["mean_shortest_path"].value == pytest.approx(1.0) and m["mean_shortest_path"].n == 3

    def test_seeded_cis_are_reproducible(self, posts, comments):
        assert run(posts, comments, seed=7)[1] == run(posts, comments, seed=7)[1]

    def test_without_author_ids_every_metric_is_null_with_n_zero(self, posts, comments):
        tables, m = run(posts.assign(author_id=None), comments.assign(author_id=None))
        assert set(m) == set(INFLUENCE_GRAPH_METRIC_NAMES)
        assert all(r.value is None and r.n == 0 for r in m.values())
        assert tables["influence_edges"].empty and tables["influence_agent_scores"].empty

    def test_registry_matches_the_emitted_metrics(self, posts, comments, votes):
        emitted = set(run(posts, comments, votes)[1])
        assert emitted == {spec.metric for spec in REGISTRY}
        assert all(spec.family == "influence" for spec in REGISTRY)
        assert len(REGISTRY) == len(emitted)


def test_simulated_reciprocity_is_low_on_moltbook_like_and_human_like_with_socialization():
    """SIMULATORS.md ground truth: moltbook-like 0.01–0.20; high-socialization 0.22–0.60."""
    from simulators import simulate

    values = {}
    for preset in ["moltbook-like", "high-socialization"]:
        t = simulate(preset, seed=1, n_agents=200, n_steps=300).tables
        values[preset] = {r.metric: r for r in influence_graph_metrics(t["posts"], t["comments"], t["votes"],
                                                                        society_seed=1, B=50)[1]}  # fmt: skip
    low, high = values["moltbook-like"], values["high-socialization"]
    assert 0.01 <= low["dyad_reciprocity"].value <= 0.20
    assert 0.22 <= high["dyad_reciprocity"].value <= 0.60
    assert high["reply_back_rate"].ci_low > low["reply_back_rate"].ci_high
