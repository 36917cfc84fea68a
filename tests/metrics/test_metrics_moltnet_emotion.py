"""MoltNet emotion, conflict contagion and dialogic engagement (ANALYTICS_SPEC.md §5.4).

The dialogic measures run on a hand-drawn forest (comment_cap = 100):

    p1 (alice, general)           p2 (bob, general)       p3 (carol, reports 5, 1 seen: capped)
    ├── c1 bob        d1          └── c5 carol  d1        └── c7 dave d1
    │   └── c2 alice  d2              └── c6 dave d2
    │       └── c3 bob d3                                 p5 (frank): c9 gina → parent "ghost"
    └── c4 carol      d1          p4 (erin)                  (orphan: thread excluded)
                                  └── c8 erin d1 (only the author)

Eligible threads: p1, p2, p4. Comments there: 7, of which c2, c3, c6 at depth ≥ 2.
Author return: p1 (alice comes back), p2 (bob does not); p4 has no comment by others.
Reply pairs between different authors: bob→alice, alice→bob, bob→alice, carol→alice in p1
(the first three answered in kind), carol→bob and dave→carol in p2 (not): 3 of 6.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from assets.metrics.moltnet_emotion import (
    EMOTION_COLUMNS,
    METRIC_NAMES,
    REGISTRY,
    contagion_design,
    emotion_dialogic_metrics,
    fractional_logit,
    reciprocity_components,
    text_labels,
)
from assets.metrics.stats import wilson_interval

T0 = pd.Timestamp("2026-01-10T00:00:00Z")


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


def run(posts, comments, emotion=None, toxicity=None, category=None, *, comment_cap=None, time_flags=None, **kw):
    tables, rows = emotion_dialogic_metrics(
        posts, comments, emotion, toxicity, category,
        comment_cap=comment_cap, time_flags=time_flags, society_seed=7, B=200, **kw,
    )  # fmt: skip
    return tables, {r.metric: r for r in rows}


@pytest.fixture()
def forest() -> tuple[pd.DataFrame, pd.DataFrame]:
    posts = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "p4", "p5"],
            "community_id": ["general", "general", "tech", "tech", "art"],
            "author_id": ["alice", "bob", "carol", "erin", "frank"],
            "title": ["t"] * 5,
            "content": ["body"] * 5,
            "comment_count": [4, 2, 5, 1, 1],
            "created_at": [T0] * 5,
        }
    )
    rows = [
        ("c1", "p1", None, "bob", 10),
        ("c2", "p1", "c1", "alice", 20),
        ("c3", "p1", "c2", "bob", 30),
        ("c4", "p1", None, "carol", 40),
        ("c5", "p2", None, "carol", 10),
        ("c6", "p2", "c5", "dave", 20),
        ("c7", "p3", None, "dave", 10),
        ("c8", "p4", None, "erin", 10),
        ("c9", "p5", "ghost", "gina", 10),
    ]
    comments = pd.DataFrame(rows, columns=["comment_id", "post_id", "parent_id", "author_id", "t"])
    comments["created_at"] = comments.pop("t").map(at)
    return posts, comments


# --------------------------------------------------------------------------- dialogic engagement


def test_dialogic_measures_on_the_hand_drawn_forest(forest):
    posts, comments = forest
    tables, rows = run(posts, comments, comment_cap=100)

    assert rows["reply_to_comment_share"].value == pytest.approx(3 / 7)
    assert rows["reply_to_comment_share"].n == 7
    assert rows["author_return_rate"].value == pytest.approx(0.5)
    assert rows["author_return_rate"].n == 2
    assert (rows["author_return_rate"].ci_low, rows["author_return_rate"].ci_high) == pytest.approx(
        wilson_interval(1, 2)
    )
    assert rows["exchange_rate"].value == pytest.approx(0.5)
    assert rows["exchange_rate"].n == 6
    assert rows["exchange_rate"].ci_low <= 0.5 <= rows["exchange_rate"].ci_high

    dialogic = tables["moltnet_dialogic"]
    assert dialogic.iloc[0]["n_threads"] == 3
    assert dialogic.iloc[0]["author_return_rate"] == pytest.approx(0.5)
    assert math.isnan(dialogic.iloc[0]["argument_none_share"])


def test_without_a_cap_the_short_thread_counts(forest):
    posts, comments = forest
    _, rows = run(posts, comments, comment_cap=None)
    # p3 joins: one more depth-1 comment by dave on carol's post, carol never returns.
    assert rows["reply_to_comment_share"].value == pytest.approx(3 / 8)
    assert rows["author_return_rate"].value == pytest.approx(1 / 3)


def test_a_flagged_window_removes_the_threads_it_touches(forest):
    posts, comments = forest
    flags = [{"flag": "comment_outage", "start": at(15).isoformat(), "end": at(25).isoformat()}]
    tables, rows = run(posts, comments, comment_cap=100, time_flags=flags)
    # c2 (p1) and c6 (p2) fall in the window: only p4 is left.
    assert tables["moltnet_dialogic"].iloc[0]["n_threads"] == 1
    assert rows["reply_to_comment_share"].value == 0.0
    assert rows["author_return_rate"].value is None and rows["author_return_rate"].n == 0


def test_author_return_needs_author_ids(forest):
    posts, comments = forest
    _, rows = run(posts.assign(author_id=None), comments.assign(author_id=None), comment_cap=100)
    assert rows["author_return_rate"].value is None and rows["author_return_rate"].n == 0
    assert rows["exchange_rate"].value is None and rows["exchange_rate"].n == 0
    assert rows["reply_to_comment_share"].value == pytest.approx(3 / 7)


def test_argument_none_share_reads_only_argument_labels(forest):
    posts, comments = forest
    category = pd.DataFrame(
        {
            "text_id": ["comment:c1", "comment:c2", "comment:c4", "comment:c5", "comment:c6", "post:p1"],
            "category": ["none", "None ", "agree", "bogus", "question", "A"],
            "score": [1.0] * 6,
            "method": ["judge:argument"] * 5 + ["zeroshot-v1"],
        }
    )
    _, rows = run(posts, comments, category=category, comment_cap=100)
    # c5's label is not in the label set; the category row of p1 is not an argument label.
    assert rows["argument_none_share"].value == pytest.approx(2 / 4)
    assert rows["argument_none_share"].n == 4


def test_every_name_is_emitted_and_unlabelled_measures_are_null(forest):
    posts, comments = forest
    tables, rows = run(posts, comments, comment_cap=100)
    assert list(rows) == METRIC_NAMES
    for name in METRIC_NAMES[:7] + ["argument_none_share"]:
        assert rows[name].value is None and rows[name].n == 0, name
    emotion = tables["moltnet_emotion"]
    assert list(emotion.columns) == EMOTION_COLUMNS
    assert list(emotion["measure"]) == METRIC_NAMES[:7]
    assert emotion["value"].isna().all()


def test_registry_matches_what_the_family_emits(forest):
    posts, comments = forest
    _, rows = run(posts, comments, comment_cap=100)
    registered = [(s.family, s.metric) for s in REGISTRY]
    assert sorted(registered) == sorted(("moltnet", name) for name in rows)
    assert len(set(registered)) == len(registered)
    published = [s for s in REGISTRY if s.moltbook_evidence != "none"]
    assert all(s.moltbook_source for s in published)


# --------------------------------------------------------------------------- labels and conflict


def test_conflict_is_anger_disgust_or_toxicity_level_two_and_above():
    emotion = pd.DataFrame(
        {
            "text_id": ["a", "b", "c", "d", "e", "f"],
            "emotion": ["anger", "neutral", "joy", " Disgust", "rage", None],
            "method": "nrc",
        }
    )
    toxicity = pd.DataFrame({"text_id": ["b", "c", "e", "g", "h"], "level": [3, 1, "2", 7, None], "method": "tox"})
    labels = text_labels(emotion, toxicity)
    assert labels.loc["a", "conflict"] == 1.0
    assert labels.loc["b", "conflict"] == 1.0  # neutral words, hostile level
    assert labels.loc["c", "conflict"] == 0.0
    assert labels.loc["d", "emotion"] == "disgust" and labels.loc["d", "conflict"] == 1.0
    assert pd.isna(labels.loc["e", "emotion"]) and labels.loc["e", "conflict"] == 1.0  # "rage" is no class
    # f has no usable emotion, g an impossible level, h no level: none of them is labelled.
    assert {"f", "g", "h"}.isdisjoint(labels.index)


def test_conflict_rates_leave_out_flagged_comments(forest):
    posts, comments = forest
    emotion = pd.DataFrame(
        {
            "text_id": ["post:p1", "post:p2", "comment:c1", "comment:c2", "comment:c3", "comment:c4"],
            "emotion": ["anger", "joy", "disgust", "anger", "neutral", "neutral"],
            "method": "nrc",
        }
    )
    flags = [{"flag": "outage", "start": at(15).isoformat(), "end": at(25).isoformat()}]
    tables, rows = run(posts, comments, emotion, comment_cap=100, time_flags=flags)
    assert rows["conflict_rate_posts"].value == pytest.approx(1 / 2)
    # c2 is in the window: c1, c3, c4 remain, one of them in conflict.
    assert rows["conflict_rate_comments"].value == pytest.approx(1 / 3)
    assert rows["conflict_rate_comments"].n == 3
    assert tables["moltnet_emotion"].set_index("measure").loc["conflict_rate_posts", "variant"] == "conflict=emotion"


def test_several_label_methods_must_be_named(forest):
    posts, comments = forest
    emotion = pd.DataFrame({"text_id": ["post:p1", "post:p1"], "emotion": ["anger", "joy"], "method": ["a", "b"]})
    with pytest.raises(ValueError, match="emotion_labels"):
        run(posts, comments, emotion)
    _, rows = run(posts, comments, emotion, emotion_method="b")
    assert rows["conflict_rate_posts"].value == 0.0


# --------------------------------------------------------------------------- reply-pair measures


def test_exact_shuffle_expectation_matches_random_shuffles():
    rng = np.random.default_rng(0)
    n = 400
    stratum = rng.choice(["a|0", "a|1", "b|0"], size=n)
    parent = rng.choice(["joy", "neutral", "anger"], size=n, p=[0.3, 0.6, 0.1])
    child = np.where(rng.random(n) < 0.5, parent, rng.choice(["joy", "neutral", "anger"], size=n))
    match, expected = reciprocity_components(child, parent, stratum)
    assert match.mean() == pytest.approx(np.mean(child == parent))
    shuffled_rates = []
    for _ in range(2000):
        p = parent.copy()
        for s in np.unique(stratum):
            rows = np.flatnonzero(stratum == s)
            p[rows] = parent[rng.permutation(rows)]
        shuffled_rates.append(np.mean(child == p))
    assert expected.mean() == pytest.approx(np.mean(shuffled_rates), abs=0.002)


def chain_society(n_posts: int, post_emotions: list[str], top_emotions: list[str], reply_emotions: list[str],
                  hours_apart: int = 12, communities: tuple[str, ...] = ("tech", "general")):  # fmt: skip
    """n_posts posts (communities in turn, one every `hours_apart`), each with a top comment and a reply to it."""
    posts = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(n_posts)],
            "community_id": [communities[i % len(communities)] for i in range(n_posts)],
            "author_id": [f"a{i}" for i in range(n_posts)],
            "title": ["title"] * n_posts,
            "content": ["content"] * n_posts,
            "comment_count": [2] * n_posts,
            "created_at": [T0 + pd.Timedelta(hours=hours_apart * i) for i in range(n_posts)],
        }
    )
    posts["last_seen_at"] = posts["created_at"] + pd.Timedelta(days=3)
    rows = []
    for i, t in enumerate(posts["created_at"]):
        rows.append((f"t{i}", f"p{i}", None, f"b{i}", t + pd.Timedelta(seconds=10)))
        rows.append((f"r{i}", f"p{i}", f"t{i}", f"c{i}", t + pd.Timedelta(seconds=20)))
    comments = pd.DataFrame(rows, columns=["comment_id", "post_id", "parent_id", "author_id", "created_at"])
    ids = [f"post:p{i}" for i in range(n_posts)] + [f"comment:t{i}" for i in range(n_posts)]
    ids += [f"comment:r{i}" for i in range(n_posts)]
    emotion = pd.DataFrame({"text_id": ids, "emotion": post_emotions + top_emotions + reply_emotions, "method": "nrc"})
    return posts, comments, emotion


def test_children_that_copy_their_parent_show_the_full_excess():
    n = 20
    post_e = ["joy", "neutral", "sadness", "neutral"] * 5
    # One community, a post an hour: 8 short-run bins of 2–3 posts, each mixing emotions.
    posts, comments, emotion = chain_society(n, post_e, post_e, post_e, hours_apart=1, communities=("general",))
    tables, rows = run(posts, comments, emotion)
    table = tables["moltnet_emotion"].set_index("measure")
    # Every pair matches; the null is the within-stratum chance of a match.
    assert rows["emotion_reciprocity"].n == 40
    assert rows["emotion_reciprocity"].value == pytest.approx(1.0 - table.loc["emotion_reciprocity", "null_value"])
    assert 0 < table.loc["emotion_reciprocity", "null_value"] < 1
    # Non-neutral parents only: 20 pairs, below the minimum sample.
    assert rows["emotion_reciprocity_nonneutral"].value is None
    assert rows["emotion_reciprocity_nonneutral"].n == 20


def test_escalation_and_disengagement_by_hand():
    n = 20
    post_e = ["anger"] * 10 + ["joy"] * 10  # posts 0–9 in conflict
    top_e = ["anger"] * 5 + ["joy"] * 5 + ["anger"] * 2 + ["joy"] * 8  # tops of 0–4, 10, 11 in conflict
    reply_e = ["joy"] * 15 + ["disgust"] * 5  # replies of 15–19 in conflict
    posts, comments, emotion = chain_society(n, post_e, top_e, reply_e)
    _, rows = run(posts, comments, emotion)
    # Parent in conflict: (top, post) 0–9 → 5 conflict children; (reply, top) 0–4, 10, 11 → none.
    # Parent calm: (top, post) 10–19 → 2; (reply, top) 5–9, 12–19 → 5 (replies 15–19).
    assert rows["conflict_escalation_diff"].value == pytest.approx(5 / 17 - 7 / 23)
    assert rows["conflict_escalation_diff"].n == 40
    # Tops always get a reply, replies never. Conflict: 7 tops + 5 replies; calm: 13 tops + 15 replies.
    assert rows["conflict_disengagement_diff"].value == pytest.approx(5 / 12 - 15 / 28)
    assert rows["conflict_disengagement_diff"].n == 40
    low, high = rows["conflict_disengagement_diff"].ci_low, rows["conflict_disengagement_diff"].ci_high
    assert low <= 5 / 12 - 15 / 28 <= high

    # Posts seen only an hour after they were written are too young to tell disengagement.
    young = posts.assign(last_seen_at=posts["created_at"] + pd.Timedelta(hours=1))
    _, rows = run(young, comments, emotion)
    assert rows["conflict_disengagement_diff"].value is None and rows["conflict_disengagement_diff"].n == 0


# --------------------------------------------------------------------------- contagion


def test_fractional_logit_recovers_the_two_group_odds_ratio():
    x = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    y = np.array([0.1, 0.2, 0.0, 0.5, 0.7, 0.4])
    w = np.array([10, 5, 5, 4, 6, 10], dtype=float)
    beta = fractional_logit(np.column_stack([np.ones(6), x]), y, w)
    m0 = np.sum((w * y)[x == 0]) / np.sum(w[x == 0])
    m1 = np.sum((w * y)[x == 1]) / np.sum(w[x == 1])
    assert math.exp(beta[1]) == pytest.approx((m1 / (1 - m1)) / (m0 / (1 - m0)), rel=1e-8)


def test_fractional_logit_matches_a_direct_quasi_likelihood_maximum():
    rng = np.random.default_rng(3)
    n = 200
    design = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    w = rng.integers(5, 30, n).astype(float)
    y = rng.binomial(w.astype(int), expit(design @ np.array([-1.0, 0.8, 0.5]))) / w

    def negative_quasi_loglik(beta):
        eta = design @ beta
        return -np.sum(w * (y * eta - np.logaddexp(0.0, eta)))

    direct = minimize(negative_quasi_loglik, np.zeros(3), method="BFGS", options={"gtol": 1e-9}).x
    assert fractional_logit(design, y, w) == pytest.approx(direct, abs=1e-5)
    # A column of zeros (a community absent from a resample) gets 0 and changes nothing else.
    padded = fractional_logit(np.column_stack([design, np.zeros(n)]), y, w)
    assert padded[3] == pytest.approx(0.0, abs=1e-9)
    assert padded[:3] == pytest.approx(direct, abs=1e-5)


def contagion_society(n_communities: int = 4, per_community: int = 10):
    """Threads of 13 top-level comments; half the posts angry. After the first three comments,
    5 of 10 comments are angry under an angry post and 1 of 10 under a calm one: OR = 9."""
    posts, comments, labels = [], [], []
    for k in range(n_communities):
        for j in range(per_community):
            pid = f"p{k}_{j}"
            hot = j % 2 == 0
            t = T0 + pd.Timedelta(hours=5 * j + k)
            posts.append((pid, f"m{k}", f"a{k}_{j}", "t", "x" * (10 + j), 13, t))
            labels.append((f"post:{pid}", "anger" if hot else "joy"))
            for i in range(13):
                cid = f"{pid}_c{i}"
                comments.append((cid, pid, None, f"u{i}", t + pd.Timedelta(seconds=i + 1)))
                angry = i >= 3 and (i - 3 < (5 if hot else 1))
                labels.append((f"comment:{cid}", "anger" if angry else "neutral"))
    posts = pd.DataFrame(posts, columns=["post_id", "community_id", "author_id", "title", "content",
                                         "comment_count", "created_at"])  # fmt: skip
    comments = pd.DataFrame(comments, columns=["comment_id", "post_id", "parent_id", "author_id", "created_at"])
    emotion = pd.DataFrame(labels, columns=["text_id", "emotion"]).assign(method="nrc")
    return posts, comments, emotion


def test_contagion_odds_ratio_on_a_planted_society():
    posts, comments, emotion = contagion_society()
    tables, rows = run(posts, comments, emotion, comment_cap=100, B_contagion=40, R_placebo=20)
    row = rows["conflict_contagion_or"]
    assert row.n == 40
    assert row.value == pytest.approx(9.0, rel=1e-4)
    assert row.ci_low <= 9.0 <= row.ci_high
    placebo = tables["moltnet_emotion"].set_index("measure").loc["conflict_contagion_or", "null_value"]
    assert abs(math.log(placebo)) < math.log(9.0) / 2  # permuting X within communities kills most of it


def test_contagion_needs_thirty_threads_and_both_arms():
    posts, comments, emotion = contagion_society(n_communities=2)
    _, rows = run(posts, comments, emotion, comment_cap=100)
    assert rows["conflict_contagion_or"].value is None and rows["conflict_contagion_or"].n == 20


def test_contagion_design_pools_small_communities_into_the_reference():
    threads = pd.DataFrame(
        {
            "community_id": [f"c{i}" for i in range(40)] + ["c0"],
            "x": [0.0, 1.0] * 20 + [1.0],
            "n_comments": [10.0] * 41,
            "post_length": [100.0] * 41,
            "hour": [0, 6, 12, 18] * 10 + [23],
        }
    )
    design = contagion_design(threads)
    assert design.shape == (41, 4 + 3 + 30)
    assert design[:, 4:7].sum(axis=0).tolist() == [10, 10, 11]  # quarters 2, 3, 4
    assert design[:, 7].sum() == 2  # c0, the largest community, has its own dummy


# --------------------------------------------------------------------------- robustness and simulators


def test_adversarial_rows_do_not_crash():
    posts = pd.DataFrame(
        {
            "post_id": ["p1", "p1", "p2", None],
            "community_id": [None, "x", "y", "z"],
            "author_id": ["a", "a", None, "b"],
            "title": pd.Series([None, "t", "\ud800 lone surrogate", "t"], dtype=object),
            "content": [12, "c", "<script>alert(1)</script>", None],
            "comment_count": ["abc", "3", 2.5, -1],
            "created_at": ["not a time", T0, T0, T0],
        }
    )
    comments = pd.DataFrame(
        {
            "comment_id": ["c1", "c1", "c2", "c3", "c4"],
            "post_id": ["p1", "p1", "p2", "p2", "nowhere"],
            "parent_id": [None, None, "c3", "c2", None],  # c2 and c3 form a cycle
            "author_id": ["b", "b", "a", None, "z"],
            "created_at": [T0, T0, "2026-13-45", T0, T0],
        }
    )
    emotion = pd.DataFrame({"text_id": [1, None, "post:p1"], "emotion": [3.5, "anger", "joy"], "method": "m"})
    tables, rows = run(posts, comments, emotion, time_flags=[{"start": "junk"}, "junk"])
    assert list(rows) == METRIC_NAMES
    assert set(tables) == {"moltnet_emotion", "moltnet_dialogic"}


def test_author_return_on_simulated_societies():
    """SIMULATORS ground truth: moltbook-like 0.09 ± 0.05, high-socialization ≥ 0.30 (small runs here)."""
    from simulators import simulate

    rates = {}
    sizes = {"moltbook-like": {"n_agents": 200}, "high-socialization": {"n_agents": 150, "n_steps": 200}}
    for preset, size in sizes.items():
        batch = simulate(preset, seed=1, **size)
        _, rows = run(batch.tables["posts"], batch.tables["comments"])
        rates[preset] = rows["author_return_rate"]
    assert 0.04 <= rates["moltbook-like"].value <= 0.14
    assert rates["high-socialization"].ci_low >= 0.30
    assert rates["moltbook-like"].ci_high < rates["high-socialization"].ci_low
