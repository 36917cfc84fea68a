"""Agent-level socialization (ANALYTICS_SPEC.md §3.2 agent variant, §3.4–§3.6) on hand-built
societies whose vectors are unit axes, so every cosine is 0 or 1 and each value can be worked
out on paper; then the direction the spec expects on two simulated societies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.metrics.socialization_agents import (
    AGENT_COLUMNS,
    REGISTRY,
    agent_socialization_metrics,
    scores_at,
    self_diversity,
    self_drift,
)

T0 = pd.Timestamp("2026-02-01T00:00:00Z")
DIM = 5


def axis(k: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[k] = 1.0
    return v


X, Y, Z, W, V = (axis(k) for k in range(DIM))


def society(post_rows: list[tuple], comment_rows: list[tuple] = ()) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """posts from (post_id, author, community, seconds, score, vector); comments from
    (comment_id, post_id, author, seconds); embeddings keyed post:<post_id>."""
    posts = pd.DataFrame(
        {
            "post_id": [r[0] for r in post_rows],
            "author_id": [r[1] for r in post_rows],
            "community_id": [r[2] for r in post_rows],
            "created_at": [T0 + pd.Timedelta(seconds=r[3]) for r in post_rows],
            "score": [r[4] for r in post_rows],
        }
    )
    comments = pd.DataFrame(
        {
            "comment_id": [r[0] for r in comment_rows],
            "post_id": [r[1] for r in comment_rows],
            "author_id": [r[2] for r in comment_rows],
            "created_at": [T0 + pd.Timedelta(seconds=r[3]) for r in comment_rows],
        }
    )
    embeddings = pd.DataFrame({"text_id": ["post:" + r[0] for r in post_rows], "vector": [r[5] for r in post_rows]})
    return posts, comments, embeddings


def by_metric(rows):
    return {r.metric: r for r in rows}


# --------------------------------------------------------------------------- building blocks


def test_self_diversity_is_one_minus_the_mean_pairwise_cosine():
    # Pairs: (X, Y) 0, (X, X) 1, (Y, X) 0 → mean cosine 1/3.
    assert self_diversity(np.vstack([X, Y, X])) == pytest.approx(2 / 3)
    assert self_diversity(np.vstack([X, X, X, X, X])) == pytest.approx(0.0)


def test_self_drift_compares_the_first_and_last_thirds_of_each_order():
    e = np.vstack([X, X, Y, Y, Z, Z])  # thirds of 2 posts: {X, X} and {Z, Z}
    orders = np.array([[0, 1, 2, 3, 4, 5], [0, 4, 2, 3, 1, 5]])  # second order: {X, Z} and {X, Z}
    assert self_drift(e, orders) == pytest.approx([1.0, 0.0], abs=1e-6)


def test_scores_at_reads_the_last_snapshot_strictly_before_the_time():
    origin = T0
    snapshots = pd.DataFrame(
        {
            "post_id": ["p", "p", "q"],
            "observed_at": [T0 + pd.Timedelta(seconds=s) for s in (10, 20, 10)],
            "score": [1, 5, "7"],  # a count sent as a string is still read
        }
    )
    final = pd.Series({"p": 9.0, "q": 9.0, "r": 3.0})
    got = scores_at(np.array(["p", "p", "p", "q", "r"]), np.array([5.0, 15.0, 20.0, 11.0, 30.0]), snapshots, final, origin)
    # p at 5 s: not observed yet; at 15 s: 1; at 20 s: still 1 (20 s is not before 20 s); r: never observed.
    np.testing.assert_array_equal(got, [np.nan, 1.0, 1.0, 7.0, np.nan])
    without = scores_at(np.array(["p", "r"]), np.array([5.0, 5.0]), None, final, origin)
    np.testing.assert_array_equal(without, [9.0, 3.0])


# --------------------------------------------------------------------------- §3.4 inertia


def inertia_society():
    """Over 1,111 s (8 bins of ~139 s): `mover` writes X then Y then Z, four posts each; `steady`
    writes W twelve times; `lazy` has 12 posts but all in one bin; `few` has 5 posts."""
    rows = []
    for i in range(12):
        t = i * 100.0
        rows.append((f"m{i}", "mover", "c", t, 0, (X, Y, Z)[i // 4]))
        rows.append((f"s{i}", "steady", "c", t + 1, 0, W))
        rows.append((f"l{i}", "lazy", "c", 1100 + i, 0, V))
    rows += [(f"f{i}", "few", "c", 200.0 * i, 0, (X, Y)[i % 2]) for i in range(5)]
    return society(rows)


def test_inertia_per_agent_and_society_rows():
    posts, comments, embeddings = inertia_society()
    tables, rows = agent_socialization_metrics(posts, comments, None, embeddings, society_seed=7, B=200)
    agent = tables["socialization_agent"].set_index("agent_id")
    assert list(tables["socialization_agent"].columns) == AGENT_COLUMNS
    assert agent.loc["mover", "n_days"] >= 3 and agent.loc["lazy", "n_days"] == 1
    assert agent.loc["mover", "bin_seconds"] == pytest.approx(1_111 / 8)  # first post 0 s, last 1,111 s
    # Thirds of 4: {X×4} and {Z×4} → drift 1; a shuffled order mixes the thirds, so its null is lower.
    assert agent.loc["mover", "self_drift"] == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < agent.loc["mover", "self_drift_null"] < 0.9
    assert agent.loc["steady", "self_drift"] == pytest.approx(0.0, abs=1e-6)
    assert agent.loc["steady", "excess_drift"] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(agent.loc["lazy", "self_drift"])  # 12 posts but one bin: below the minimum
    # Self-diversity from 5 posts: `few` alternates X, Y → pairs: 4 of 10 are equal → 1 − 0.4.
    assert agent.loc["few", "self_diversity"] == pytest.approx(0.6)
    assert np.isnan(agent.loc["few", "self_drift"])
    # The two inertia agents' centroids (mean of X, Y, Z vs W) are orthogonal → between distance 1.
    assert agent.loc["mover", "drift_ratio"] == pytest.approx(1.0, abs=1e-6)
    assert agent.loc["steady", "drift_ratio"] == pytest.approx(0.0, abs=1e-6)

    got = by_metric(rows)
    assert got["inertia_index"].value == pytest.approx(0.5, abs=1e-6) and got["inertia_index"].n == 2
    assert got["excess_drift_median"].value == pytest.approx(agent.loc[["mover", "steady"], "excess_drift"].median())
    assert got["excess_drift_median"].n == 2
    assert got["agent_self_diversity_median"].n == 4
    assert got["agent_self_diversity_median"].value == pytest.approx(agent["self_diversity"].median())
    # Spearman needs three agents: value NULL with the achieved n.
    assert got["inertia_activity_spearman"].value is None and got["inertia_activity_spearman"].n == 2


# --------------------------------------------------------------------------- §3.5 feedback


def feedback_society():
    """`voter` writes 10 posts, 100 s apart: p0 = X (final score 10), p1 = Y (−5), p2…p8 = Z (0),
    p9 = X. For every pair (i, i+1) with i ≥ 2 the best earlier post is p0 and the worst p1, so
    g_best − g_worst = (e_{i+1} − e_i)·(X − Y): 0 for each pair but the last, (X − Z)·(X − Y) = 1.
    Its mean over the 7 pairs is 1/7."""
    vectors = [X, Y] + [Z] * 7 + [X]
    scores = [10, -5] + [0] * 7 + [0]
    return society([(f"p{i}", "voter", "c", 100.0 * i, scores[i], vectors[i]) for i in range(10)])


def test_feedback_gap_and_repeat_slope_from_final_scores():
    posts, comments, embeddings = feedback_society()
    tables, rows = agent_socialization_metrics(posts, comments, None, embeddings, society_seed=1, B=200)
    voter = tables["socialization_agent"].set_index("agent_id").loc["voter"]
    assert voter["feedback_gap"] == pytest.approx(1 / 7)
    assert voter["score_timing"] == "final"
    # Repeat slope: y = cos(e_{i+1}, e_i) = [0, 0, 1, 1, 1, 1, 1, 1, 0]; x = log1p(max(score_i, 0)).
    x = np.log1p(np.maximum(np.array([10, -5, 0, 0, 0, 0, 0, 0, 0], dtype=float), 0))
    y = np.array([0, 0, 1, 1, 1, 1, 1, 1, 0], dtype=float)
    expected = np.polyfit((x - x.mean()) / x.std(), y, 1)[0]
    assert voter["repeat_slope"] == pytest.approx(expected)
    got = by_metric(rows)
    assert got["feedback_gap_mean"].value == pytest.approx(1 / 7) and got["feedback_gap_mean"].n == 1
    assert got["reward_repeat_slope"].value == pytest.approx(expected) and got["reward_repeat_slope"].n == 9


def test_feedback_reads_scores_as_they_were_before_the_next_post():
    posts, comments, embeddings = feedback_society()
    # Snapshots taken at 150 s, before p2, show the opposite ranking: p0 worst, p1 best.
    snapshots = pd.DataFrame(
        {"post_id": ["p0", "p1"], "observed_at": [T0 + pd.Timedelta(seconds=150)] * 2, "score": [-5, 10]}
    )
    tables, rows = agent_socialization_metrics(posts, comments, snapshots, embeddings, society_seed=1, B=200)
    voter = tables["socialization_agent"].set_index("agent_id").loc["voter"]
    assert voter["score_timing"] == "snapshot"
    assert voter["feedback_gap"] == pytest.approx(-1 / 7)


# --------------------------------------------------------------------------- §3.6 interaction influence


def influence_society():
    """8 bins of 1,000 s (window: 2,000 s). Agent a writes X at 1,000 s, comments at 1,100 s on q
    (by b, vector Y, community k) and writes Y at 1,200 s. The only possible control is r (by d,
    vector Z, same community and bin). b's posts are all Y and d's all Z (3 each).
    Δ_q = cos(Y, Y) − cos(X, Y) = 1 and Δ_r = 0 → effect 1; partner: centroid Y vs Z → 1."""
    posts = [
        ("a1", "a", "home", 1_000, 0, X),
        ("a2", "a", "home", 1_200, 0, Y),
        ("q", "b", "k", 900, 0, Y),
        ("r", "d", "k", 950, 0, Z),
        ("b2", "b", "far", 5_000, 0, Y),
        ("b3", "b", "far", 8_000, 0, Y),
        ("d2", "d", "far", 6_000, 0, Z),
        ("d3", "d", "far", 7_000, 0, Z),
        ("t0", "e", "far", 0, 0, V),
    ]
    comments = [
        ("c1", "q", "a", 1_100),  # the event
        ("c2", "a1", "a", 1_150),  # on a's own post: not an event
        ("c3", "b3", "a", 7_900),  # a has no post in the 2,000 s before: no before set
        ("c4", "missing", "a", 1_100),  # on a post outside the corpus
        ("c5", "q", None, 1_100),  # no author
    ]
    return society(posts, comments)


def test_interaction_and_partner_effects():
    posts, comments, embeddings = influence_society()
    tables, rows = agent_socialization_metrics(posts, comments, None, embeddings, society_seed=3, B=200)
    a = tables["socialization_agent"].set_index("agent_id").loc["a"]
    assert a["n_interaction_events"] == 1 and a["interaction_effect"] == pytest.approx(1.0, abs=1e-6)
    assert a["n_partner_events"] == 1 and a["partner_effect"] == pytest.approx(1.0, abs=1e-6)
    got = by_metric(rows)
    assert got["interaction_influence_effect"].value == pytest.approx(1.0, abs=1e-6)
    assert got["interaction_influence_effect"].n == 1
    assert got["partner_influence_effect"].value == pytest.approx(1.0, abs=1e-6)


# --------------------------------------------------------------------------- not available, robustness


@pytest.mark.parametrize("case", ["no_embeddings", "no_authors", "no_posts"])
def test_every_metric_is_written_when_an_input_is_missing(case):
    posts, comments, embeddings = inertia_society()
    if case == "no_embeddings":
        embeddings = None
    elif case == "no_authors":
        posts["author_id"] = None
    else:
        posts = posts.iloc[:0]
    tables, rows = agent_socialization_metrics(posts, comments, None, embeddings, society_seed=1, B=50)
    assert [r.metric for r in rows] == [s.metric for s in REGISTRY]
    assert all(r.value is None and r.n == 0 for r in rows)
    assert list(tables["socialization_agent"].columns) == AGENT_COLUMNS and tables["socialization_agent"].empty


def test_adversarial_rows_do_not_crash():
    posts, comments, embeddings = inertia_society()
    extra_posts = pd.DataFrame(
        {
            "post_id": ["bad1", "bad2", "bad3"],
            "author_id": ["mover", None, "ghost"],
            # Ids come from DuckDB VARCHAR (valid UTF-8: ingest replaces lone surrogates), so no surrogate here.
            "community_id": [None, "c'; DROP TABLE posts; --", "c"],
            "created_at": [None, "not a time", T0],
            "score": ["12", "NaN", None],
        }
    )
    posts = pd.concat([posts, extra_posts], ignore_index=True)
    comments = pd.DataFrame(
        {"post_id": ["m1", "nope", None], "author_id": ["steady", "x", "y"], "created_at": [T0, "garbage", None]}
    )
    # bad1 has a vector but no time; ghost's post has no vector.
    embeddings = pd.concat([embeddings, pd.DataFrame({"text_id": ["post:bad1"], "vector": [X]})], ignore_index=True)
    tables, rows = agent_socialization_metrics(posts, comments, None, embeddings, society_seed=1, B=50)
    assert by_metric(rows)["inertia_index"].value == pytest.approx(0.5, abs=1e-6)
    assert "ghost" not in set(tables["socialization_agent"]["agent_id"])


def test_registry_matches_the_rows_emitted():
    posts, comments, embeddings = inertia_society()
    _, rows = agent_socialization_metrics(posts, comments, None, embeddings, society_seed=1, B=50)
    emitted = {(r.family, r.metric) for r in rows}
    registered = {(s.family, s.metric) for s in REGISTRY}
    assert emitted == registered and len(rows) == len(REGISTRY)
    assert all(s.family == "socialization" and s.ci_method == "bootstrap" for s in REGISTRY)


# --------------------------------------------------------------------------- simulated societies


def simulated_rows(preset: str, B: int = 200, **size: int) -> dict:
    """The agent-level rows of a simulated society, posts embedded with the fast static model."""
    from assets.enrich.embedders import make_embedder
    from simulators import simulate

    tables = simulate(preset, seed=1, **size).tables
    posts = tables["posts"]
    texts = (posts["title"].fillna("") + "\n\n" + posts["content"].fillna("")).tolist()
    embeddings = pd.DataFrame(
        {"text_id": "post:" + posts["post_id"].astype(str), "vector": list(make_embedder("static").embed(texts))}
    )
    _, rows = agent_socialization_metrics(
        posts, tables["comments"], tables["post_snapshots"], embeddings, society_seed=1, B=B
    )
    return by_metric(rows)


ADAPTATION = ("excess_drift_median", "interaction_influence_effect", "partner_influence_effect")


def test_small_high_socialization_society_drifts_toward_its_partners():
    """SIMULATORS §5.3 plants drift and partner adaptation; the two strongest signals already
    show at a quarter of the default size."""
    got = simulated_rows("high-socialization", n_agents=150, n_steps=360)
    for metric in ("excess_drift_median", "interaction_influence_effect"):
        assert got[metric].ci_low > 0, (metric, got[metric])
    assert got["inertia_index"].value < 0.8  # drift_ratio is not near 0: agents move


def test_moltbook_like_agents_keep_their_course():
    """SIMULATORS §5.1: zero adaptation, so every CI covers 0 (default size)."""
    got = simulated_rows("moltbook-like")
    for metric in (*ADAPTATION, "feedback_gap_mean"):
        assert got[metric].ci_low <= 0 <= got[metric].ci_high, (metric, got[metric])


@pytest.mark.slow
def test_high_socialization_gate_at_default_size():
    """The blind validation gate (SIMULATORS §5.3) at the default size with B = 1000: drift and
    both partner effects exclude 0. The feedback gap is positive but, with static embeddings, its
    CI reaches just below 0 (≈ +0.004, about 1.6 standard errors), so only its sign is held here."""
    got = simulated_rows("high-socialization", B=1000)
    for metric in ADAPTATION:
        assert got[metric].ci_low > 0, (metric, got[metric])
    assert got["feedback_gap_mean"].value > 0
