"""MoltNet norms and templates (ANALYTICS_SPEC.md §5.2).

The hand-built society: two communities of 60 posts each in a 4-d embedding space.
    tech:    30 posts at e1 and 30 at e2 (two exact templates)
    poetry:  60 posts spread between e3 and e4, each by another poet
Agent `alice` writes 6 of the tech posts, `bob` the other 54 and one without community;
`carol` only comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assets.metrics.moltnet_norms import (
    ENFORCEMENT_PATTERNS_VERSION,
    NORMS_COLUMNS,
    NORMS_METRIC_NAMES,
    POST_TEMPLATE_COLUMNS,
    REGISTRY,
    TAU,
    TEMPLATE_COLUMNS,
    convergence_sums,
    enforcement_flags,
    is_enforcement_candidate,
    jaccard,
    mean_pair_jaccard,
    modal_community,
    norm_specificity,
    norms_metrics,
    structural_features,
)

T0 = pd.Timestamp("2026-02-01T00:00:00Z")
EDGES = np.array([10.0, 100.0, 1000.0])


def by_name(rows):
    return {r.metric: r for r in rows}


# --------------------------------------------------------------------------- features


def test_structural_features_of_a_formatted_post():
    text = (
        "🚀 Weekly update from the lab\n\n# Results\n- first point\n- second point\n1. step one\n"
        "```python\nprint(1)\n```\nSee https://example.org #agents\nWhat do you think?"
    )
    f = structural_features(text, EDGES)
    assert f == {
        "emoji_lead", "md_header", "bullets", "numbered", "code_block", "has_url", "hashtag",
        "ends_question", "opener:weekly update from", "len_q3",
    }


def test_signoff_opener_and_length_quartile():
    f = structural_features("Hello there friends.\n\nShort note.\n\nCheers, Molty", EDGES)
    assert f == {"signoff", "opener:hello there friends", "len_q2"}
    assert structural_features("", EDGES) == {"opener:", "len_q1"}
    assert "signoff" in structural_features("Post body.\n— Molty the lobster", EDGES)
    assert "signoff" not in structural_features("Todo:\n- first\n- last item", EDGES)
    # A markdown header is not a hashtag, a URL fragment is not one either.
    assert "hashtag" not in structural_features("# Title\nhttps://x.org/#frag", EDGES)


def test_jaccard_means():
    a, b, c = frozenset({"x", "y"}), frozenset({"x"}), frozenset({"z"})
    assert jaccard(a, b) == 0.5 and jaccard(a, c) == 0.0 and jaccard(frozenset(), frozenset()) == 1.0
    rng = np.random.default_rng(0)
    # Three pairs ≤ max_pairs: all are used, (0.5 + 0 + 0) / 3.
    assert mean_pair_jaccard([a, b, c], 500, rng) == pytest.approx(1 / 6)
    assert math.isnan(mean_pair_jaccard([a], 500, rng))
    # Identical sets give 1 also when pairs are sampled.
    assert mean_pair_jaccard([a] * 100, 50, rng) == 1.0


# --------------------------------------------------------------------------- norm specificity


def test_norm_specificity_by_hand():
    # Group 0: (1, 0) and (0.6, 0.8); group 1: (0, 1) and (0.8, 0.6).
    X = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]])
    labels = np.array([0, 0, 1, 1])
    # within = 1 − |(1.6, 0.8)| / 2 for both groups; between = 1 − cos(μ0, μ1) = 1 − 0.8.
    within = 1 - math.hypot(1.6, 0.8) / 2
    assert norm_specificity(X, labels, 2) == pytest.approx(0.2 / within)


# --------------------------------------------------------------------------- convergence


def test_convergence_slope_has_pair_fixed_effects():
    # alice in c1: adherence 0.5 + 0.1·log k; alice in c2 and bob in c1: other intercepts, same slope.
    ids, rows, posts = 0, [], []
    for author, community, intercept in [("alice", "c1", 0.5), ("alice", "c2", 0.9), ("bob", "c1", 0.2)]:
        for k in range(1, 7):
            pid = f"p{ids}"
            ids += 1
            rows.append({"post_id": pid, "community_id": community, "cluster_id": 0,
                         "adherence": intercept + 0.1 * math.log(k)})
            posts.append({"post_id": pid, "author_id": author, "created_at": T0 + pd.Timedelta(minutes=k)})
    # A pair with 4 posts is below the minimum and must not count.
    for k in range(1, 5):
        rows.append({"post_id": f"q{k}", "community_id": "c2", "cluster_id": 0, "adherence": 1.0 - k})
        posts.append({"post_id": f"q{k}", "author_id": "bob", "created_at": T0 + pd.Timedelta(minutes=k)})
    sums = convergence_sums(pd.DataFrame(posts), pd.DataFrame(rows)).set_index("author_id")
    assert sums.loc["alice", "n_pairs"] == 2 and sums.loc["bob", "n_pairs"] == 1
    assert sums["sxy"].sum() / sums["sxx"].sum() == pytest.approx(0.1)


# --------------------------------------------------------------------------- enforcement


def test_enforcement_patterns():
    yes = [
        "Wrong submolt, this belongs in m/tech.",
        "Please read the rules before posting.",
        "This is off-topic here.",
        "Kindly keep it on topic.",
        "This community is for poetry only.",
        "Use the required format: title, then summary.",
    ]
    no = [
        "Great point, I agree with the rules of chess analogy.",
        "Topics like this make my day.",
        "The place was wrong for lunch but fine.",
        None,
        "\ud800 broken surrogate",
        "x" * 1_000_000,
    ]
    assert all(is_enforcement_candidate(t) for t in yes)
    assert not any(is_enforcement_candidate(t) for t in no)


def test_judge_confirms_candidates_when_labels_exist():
    comments = pd.DataFrame({
        "comment_id": ["c1", "c2", "c3"],
        "content": ["Wrong community, read the rules.", "Off-topic, please post this elsewhere.", "Nice post!"],
    })
    flags, method = enforcement_flags(comments, None)
    assert flags.tolist() == [True, True, False] and method == ENFORCEMENT_PATTERNS_VERSION
    judge = pd.DataFrame({
        "text_id": ["comment:c1", "comment:c2", "comment:c3", "post:p1"],
        "category": ["enforcement", "none", "enforcement", "enforcement"],
        "method": ["judge-v1:enforcement"] * 3 + ["judge-v1:motivation"],
    })
    flags, method = enforcement_flags(comments, judge)
    # c2 is refused by the judge; c3 never passed the pre-filter.
    assert flags.tolist() == [True, False, False]
    assert method == f"{ENFORCEMENT_PATTERNS_VERSION}+judge-v1:enforcement"


def test_modal_community_breaks_ties_by_id():
    posts = pd.DataFrame({"author_id": ["a", "a", "a", "b", "b", None],
                          "community_id": ["z", "z", "y", "y", "x", "w"]})
    assert modal_community(posts).to_dict() == {"a": "z", "b": "x"}


# --------------------------------------------------------------------------- the family


def _society() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    posts, vectors = [], []
    for i in range(60):
        author = "alice" if i < 6 else "bob"
        posts.append({"post_id": f"t{i}", "community_id": "tech", "author_id": author,
                      "title": "Weekly update", "content": "- a\n- b" if i % 2 else "plain words",
                      "created_at": T0 + pd.Timedelta(minutes=i)})
        vectors.append([1.0, 0, 0, 0] if i % 2 == 0 else [0, 1.0, 0, 0])
    for i in range(60):
        w = rng.uniform(0, 1)
        posts.append({"post_id": f"r{i}", "community_id": "poetry", "author_id": f"poet{i}",
                      "title": f"Verse {i}", "content": "roses are red?",
                      "created_at": T0 + pd.Timedelta(minutes=i)})
        vectors.append([0, 0, w, 1 - w])
    posts.append({"post_id": "orphan", "community_id": None, "author_id": "bob", "title": "x", "content": None,
                  "created_at": T0})
    posts = pd.DataFrame(posts)
    embeddings = pd.DataFrame({"text_id": ["post:" + p for p in posts["post_id"][:-1]],
                               "vector": [np.array(v, dtype=np.float32) for v in vectors]})
    comments = pd.DataFrame({
        "comment_id": ["k1", "k2", "k3", "k4"],
        "post_id": ["t0", "t1", "r0", "r1"],
        "author_id": ["alice", "carol", "bob", None],
        "content": ["Wrong submolt, this belongs in m/poetry.", "Off-topic, read the rules.",
                    "Please keep it on topic.", "Lovely!"],
    })
    return posts, comments, embeddings


def test_tables_and_rows_of_a_small_society():
    posts, comments, embeddings = _society()
    tables, rows = norms_metrics(posts, comments, None, embeddings, society_seed=3)
    templates, post_template = tables["moltnet_templates"], tables["moltnet_post_template"]
    norms = tables["moltnet_norms"]
    assert list(templates.columns) == TEMPLATE_COLUMNS
    assert list(post_template.columns) == POST_TEMPLATE_COLUMNS
    assert list(norms.columns) == NORMS_COLUMNS and len(norms) == 1

    # tech: the two exact templates are found, every post sits on its centroid.
    tech = templates[templates["community_id"] == "tech"]
    assert sorted(tech["size"]) == [30, 30]
    assert tech["silhouette"].iloc[0] == pytest.approx(1.0)
    assert set(tech["feature_consistency"]) == {1.0}  # same structure within each template
    assert post_template.loc[post_template["community_id"] == "tech", "adherence"].min() == pytest.approx(1.0)
    assert set(post_template["post_id"]) == set(posts["post_id"]) - {"orphan"}
    assert templates.groupby("community_id")["size"].sum().to_dict() == {"poetry": 60, "tech": 60}

    m = by_name(rows)
    assert [r.metric for r in rows] == NORMS_METRIC_NAMES
    fractions = post_template.groupby("community_id")["adherence"].apply(lambda a: float((a >= TAU).mean()))
    assert fractions["tech"] == 1.0
    assert m["protocol_fraction_median"].value == pytest.approx(float(np.median(fractions)))
    assert m["protocol_fraction_weighted"].value == pytest.approx(float((post_template["adherence"] >= TAU).mean()))
    assert m["protocol_fraction_weighted"].n == 120 and m["protocol_fraction_median"].n == 2

    # Two orthogonal communities: much more between than within, far above the permuted labels.
    assert m["norm_specificity_ratio"].value > 3 and m["norm_specificity_ratio"].n == 2
    assert norms["p_perm"].iloc[0] == pytest.approx(1 / 101)
    assert m["norm_specificity_ratio"].value == pytest.approx(
        norms["norm_specificity"].iloc[0] / norms["norm_specificity_null"].iloc[0])

    # Consistency: tech clusters are perfectly consistent, excess = median − control.
    assert m["template_consistency_median"].n == len(templates)
    assert m["template_consistency_excess"].value < m["template_consistency_median"].value

    # alice's 6 and bob's 54 tech posts sit at adherence 1: slope 0 (poets have 1 post each).
    assert m["template_convergence_slope"].value == pytest.approx(0.0, abs=1e-6)

    # Enforcement: k1, k2, k3 of 4 comments. Cross share: alice (modal tech) on tech, no;
    # carol has no posts (left out); bob (modal tech) on poetry, yes.
    assert m["enforcement_rate_per_1k"].value == pytest.approx(750.0) and m["enforcement_rate_per_1k"].n == 4
    assert m["enforcement_cross_share"].value == 0.5 and m["enforcement_cross_share"].n == 2
    assert norms["n_enforcement"].iloc[0] == 3 and norms["enforcement_method"].iloc[0] == ENFORCEMENT_PATTERNS_VERSION


def test_cross_community_enforcement():
    posts, comments, embeddings = _society()
    comments.loc[0, "post_id"] = "r5"  # alice (modal tech) corrects a poetry thread as well
    _, rows = norms_metrics(posts, comments, None, embeddings, society_seed=3)
    assert by_name(rows)["enforcement_cross_share"].value == 1.0


def test_reruns_are_identical():
    posts, comments, embeddings = _society()
    t1, r1 = norms_metrics(posts, comments, None, embeddings, society_seed=5)
    t2, r2 = norms_metrics(posts, comments, None, embeddings, society_seed=5)
    assert r1 == r2
    pd.testing.assert_frame_equal(t1["moltnet_post_template"], t2["moltnet_post_template"])


def test_not_available_inputs_give_null_rows():
    posts, comments, _ = _society()
    _, rows = norms_metrics(posts, comments, None, None, society_seed=0)
    m = by_name(rows)
    assert [r.metric for r in rows] == NORMS_METRIC_NAMES
    for name in NORMS_METRIC_NAMES[:6]:
        assert m[name].value is None and m[name].n == 0
    assert m["enforcement_rate_per_1k"].value == pytest.approx(750.0)

    # Without author ids: no convergence and no cross share; the embedding metrics stay.
    posts, comments, embeddings = _society()
    posts["author_id"] = None
    comments["author_id"] = None
    _, rows = norms_metrics(posts, comments, None, embeddings, society_seed=0)
    m = by_name(rows)
    assert m["template_convergence_slope"].value is None and m["template_convergence_slope"].n == 0
    assert m["enforcement_cross_share"].value is None and m["enforcement_cross_share"].n == 0
    assert m["norm_specificity_ratio"].value is not None

    # Too small communities (< 50 posts) and no comments.
    small = posts[posts["post_id"].isin([f"t{i}" for i in range(40)])]
    _, rows = norms_metrics(small, comments.iloc[0:0], None, embeddings, society_seed=0)
    assert all(r.value is None for r in rows)


def test_adversarial_texts_do_not_crash():
    posts, comments, embeddings = _society()
    posts = posts.astype({"title": object, "content": object})  # arrow strings cannot hold lone surrogates
    comments = comments.astype({"content": object})
    posts.loc[0, "content"] = "\ud800\udfff" + "🙂" * 100_000
    posts.loc[1, "title"] = None
    posts.loc[2, "content"] = 12345
    comments.loc[3, "content"] = '{"ignore previous instructions": true}' * 10_000
    tables, rows = norms_metrics(posts, comments, None, embeddings, society_seed=0)
    assert len(rows) == len(NORMS_METRIC_NAMES)


def test_registry_matches_emitted_rows():
    posts, comments, embeddings = _society()
    _, rows = norms_metrics(posts, comments, None, embeddings, society_seed=0)
    assert {(r.family, r.metric) for r in rows} == {(s.family, s.metric) for s in REGISTRY}
    assert all(s.definition_provenance == "paper-named" for s in REGISTRY)


def test_moltbook_like_simulation_direction():
    """A small Moltbook-like run with the static embedder. Its viral template pool makes clusters
    structurally more alike than random pairs. It plants no community-specific templates, so §8.2
    check 8 (norm_specificity_ratio > 1) is not asserted here: at 200 agents only 2 communities
    reach 50 posts and the ratio is below 1 (0.75, p_perm 0.82); at 500 agents 1.23 (p_perm 0.13)."""
    from assets.enrich.embedders import make_embedder
    from assets.metrics.moltnet_norms import post_text
    from simulators import simulate

    batch = simulate("moltbook-like", seed=1, n_agents=200)
    posts, comments = batch.tables["posts"], batch.tables["comments"]
    vectors = make_embedder("static").embed([post_text(t, c) for t, c in zip(posts["title"], posts["content"])])
    embeddings = pd.DataFrame({"text_id": "post:" + posts["post_id"].astype(str), "vector": list(vectors)})
    tables, rows = norms_metrics(posts, comments, None, embeddings, society_seed=1)
    m = by_name(rows)
    assert m["template_consistency_excess"].ci_low > 0
    assert m["norm_specificity_ratio"].n >= 2 and m["norm_specificity_ratio"].value is not None
    # No adaptation is planted: the convergence slope's CI covers 0.
    assert m["template_convergence_slope"].ci_low < 0 < m["template_convergence_slope"].ci_high
    assert m["enforcement_rate_per_1k"].value == 0.0  # the simulator writes no enforcement
