"""Thread shape (ANALYTICS_SPEC.md §7.1) on a hand-drawn comment forest.

    p1 (alice, reports 7)            p2 (bob, reports 2)      p3 (carol, reports 1)
    ├── c1 bob      +10 s  d1        └── c8 carol +5 s  d1    └── c10 dave +100 s d1
    │   └── c4 alice +40 s d2            └── c9 bob +15 s d2
    │       └── c5 bob +50 s d3
    ├── c2 carol    +20 s  d1        p4 (dave, reports 150, 2 observed: short of the report)
    │   └── c6 dave +60 s  d2        ├── c11 erin +1 s  d1
    ├── c3 dave     +30 s  d1        └── c12 frank +2 s d1
    c7 erin +70 s → parent "gone" (orphan)
                                     p5 (reports 0), p6 (reports NULL): no comment
                                     p7 (reports 3, none observed): commented per the platform
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.metrics.stats import bootstrap_mean_ci, metric_rng, wilson_interval
from assets.metrics.threads import (
    THREAD_METRIC_NAMES,
    THREAD_STATS_COLUMNS,
    comment_tree,
    flagged_threads,
    thread_metrics,
    thread_stats,
)

T0 = pd.Timestamp("2026-01-30T00:00:00Z")


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


@pytest.fixture()
def posts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "p4", "p5", "p6", "p7"],
            "community_id": ["general", "general", "tech", "tech", "art", "art", "art"],
            "author_id": ["alice", "bob", "carol", "dave", "erin", None, "frank"],
            "comment_count": [7, 2, 1, 150, 0, None, 3],
            "created_at": [T0] * 7,
        }
    )


@pytest.fixture()
def comments() -> pd.DataFrame:
    rows = [
        # comment_id, post_id, parent_id, author, seconds after the post
        ("c1", "p1", None, "bob", 10),
        ("c2", "p1", None, "carol", 20),
        ("c3", "p1", None, "dave", 30),
        ("c4", "p1", "c1", "alice", 40),
        ("c5", "p1", "c4", "bob", 50),
        ("c6", "p1", "c2", "dave", 60),
        ("c7", "p1", "gone", "erin", 70),
        ("c8", "p2", None, "carol", 5),
        ("c9", "p2", "c8", "bob", 15),
        ("c10", "p3", None, "dave", 100),
        ("c11", "p4", None, "erin", 1),
        ("c12", "p4", None, "frank", 2),
    ]
    df = pd.DataFrame(rows, columns=["comment_id", "post_id", "parent_id", "author_id", "s"])
    df["created_at"] = [at(s) for s in df.pop("s")]
    df["depth"] = 0  # a source's own depth column is ignored: depth is rebuilt from parent_id
    return df


def stats_of(posts, comments, cap=100) -> pd.DataFrame:
    return thread_stats(posts, comments, cap).set_index("post_id")


class TestThreadStats:
    def test_one_row_per_post_with_an_observed_comment(self, posts, comments):
        st = thread_stats(posts, comments, 100)
        assert list(st.columns) == THREAD_STATS_COLUMNS
        assert sorted(st["post_id"]) == ["p1", "p2", "p3", "p4"]

    def test_hand_drawn_tree(self, posts, comments):
        p1 = stats_of(posts, comments).loc["p1"]
        assert p1["n_comments_observed"] == 7
        assert p1["comment_count_reported"] == 7
        assert p1["n_orphans"] == 1
        assert p1["max_depth"] == 3  # c1 → c4 → c5
        assert p1["max_width"] == 3  # three comments at depth 1
        assert p1["n_top_level"] == 3
        assert p1["share_depth1"] == pytest.approx(3 / 7)
        assert p1["unanswered_share"] == pytest.approx(4 / 7)  # c3, c5, c6 and the orphan c7
        assert p1["n_unique_commenters"] == 5  # bob, carol, dave, alice, erin
        assert bool(p1["author_returned"]) is True  # alice answered in her own thread

    def test_times(self, posts, comments):
        p1 = stats_of(posts, comments).loc["p1"]
        assert p1["first_comment_delay_s"] == 10.0
        assert p1["lifespan_s"] == 70.0
        assert p1["half_life_s"] == 40.0  # 4th of 7 comments (ceil(7/2))
        p2 = stats_of(posts, comments).loc["p2"]
        assert (p2["first_comment_delay_s"], p2["lifespan_s"], p2["half_life_s"]) == (5.0, 15.0, 5.0)

    def test_author_who_never_comments(self, posts, comments):
        assert bool(stats_of(posts, comments).loc["p3"]["author_returned"]) is False

    def test_capped_when_observed_falls_short_of_the_report(self, posts, comments):
        st = stats_of(posts, comments, cap=100)
        assert st["is_capped"].to_dict() == {"p1": False, "p2": False, "p3": False, "p4": True}

    def test_capped_when_observed_reaches_the_cap(self, posts, comments):
        st = stats_of(posts, comments, cap=2)
        assert bool(st.loc["p2"]["is_capped"]) is True  # 2 observed = cap
        assert bool(st.loc["p3"]["is_capped"]) is False  # 1 observed, 1 reported

    def test_nothing_is_capped_without_a_cap(self, posts, comments):
        # §0.4: the cap rule applies only where the source has a comment cap (simulators have none)
        assert not stats_of(posts, comments, cap=None)["is_capped"].any()


class TestDepthRebuild:
    def test_descendants_of_an_orphan_and_cross_post_parents_are_orphans(self):
        c = pd.DataFrame(
            {
                "comment_id": ["a", "b", "c", "d", "x", "y"],
                "post_id": ["p", "p", "p", "p", "q", "q"],
                "parent_id": [None, "a", "gone", "c", "a", "y"],
                "author_id": ["u"] * 6,
                "created_at": [T0] * 6,
            }
        )
        depth = comment_tree(c).set_index("comment_id")["depth"]
        assert depth["a"] == 1 and depth["b"] == 2
        assert np.isnan(depth["c"]) and np.isnan(depth["d"])  # d hangs below the orphan c
        assert np.isnan(depth["x"])  # parent lives in another post
        assert np.isnan(depth["y"])  # its own parent: a cycle never reaches the post


class TestThreadMetrics:
    def metrics(self, posts, comments, seed=3) -> dict:
        st = thread_stats(posts, comments, 100)
        return {r.metric: r for r in thread_metrics(posts, comments, st, society_seed=seed, B=200)}

    def test_shape_metrics_use_uncapped_orphan_free_threads_only(self, posts, comments):
        m = self.metrics(posts, comments)  # p1 has an orphan, p4 is capped: p2 and p3 remain
        assert (m["mean_max_depth"].value, m["mean_max_depth"].n) == (1.5, 2)
        assert m["mean_comment_depth"].value == pytest.approx(4 / 3)  # depths 1, 2, 1
        assert m["mean_comment_depth"].n == 3  # comments
        assert m["share_comments_depth1"].value == pytest.approx(2 / 3)
        assert m["unanswered_comment_share"].value == pytest.approx(2 / 3)  # c9, c10
        assert (m["flat_thread_share"].value, m["flat_thread_share"].n) == (0.5, 2)
        assert m["mean_max_width"].value == 1.0
        assert m["first_comment_delay_median_s"].value == 52.5  # median(5, 100)
        assert m["thread_lifespan_median_s"].value == 57.5  # median(15, 100)
        assert m["thread_half_life_median_s"].value == 52.5  # median(5, 100)

    def test_author_return_rate_is_left_to_the_moltnet_family(self, posts, comments):
        # §5.4 puts author_return_rate in family moltnet; the per-thread flag stays here
        assert "author_return_rate" not in self.metrics(posts, comments)
        assert "author_return_rate" not in THREAD_METRIC_NAMES
        assert "author_returned" in THREAD_STATS_COLUMNS

    def test_post_and_thread_proportions_use_everything(self, posts, comments):
        m = self.metrics(posts, comments)
        # p5 (reports 0) and p6 (reports NULL) are uncommented; p7 reports comments we did not observe
        assert (m["uncommented_post_share"].value, m["uncommented_post_share"].n) == (pytest.approx(2 / 7), 7)
        assert (m["capped_thread_share"].value, m["capped_thread_share"].n) == (0.25, 4)
        assert (m["capped_thread_share"].ci_low, m["capped_thread_share"].ci_high) == wilson_interval(1, 4)

    def test_every_metric_has_a_row_even_without_threads(self, posts):
        no_comments = pd.DataFrame(columns=["comment_id", "post_id", "parent_id", "author_id", "created_at"])
        st = thread_stats(posts, no_comments, 100)
        rows = thread_metrics(posts, no_comments, st)
        assert [r.metric for r in rows] == THREAD_METRIC_NAMES
        shape = [r for r in rows if r.metric not in ("uncommented_post_share", "capped_thread_share")]
        assert all(r.value is None and r.n == 0 for r in shape)

    def test_seeded_cis_are_reproducible_and_follow_metric_rng(self, posts, comments):
        a = self.metrics(posts, comments, seed=11)
        b = self.metrics(posts, comments, seed=11)
        assert [(r.ci_low, r.ci_high) for r in a.values()] == [(r.ci_low, r.ci_high) for r in b.values()]
        expected = bootstrap_mean_ci([2.0, 1.0], metric_rng(11, "mean_max_depth"), B=200)
        assert (a["mean_max_depth"].ci_low, a["mean_max_depth"].ci_high) == expected


def flag(start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
    return [{"flag": "comment_outage", "start": start.isoformat(), "end": end.isoformat()}]


class TestFlaggedTime:
    """§0.4: comment-based summaries leave out threads whose life overlaps a `time_flags` window."""

    def metrics(self, posts, comments, time_flags) -> dict:
        st = thread_stats(posts, comments, 100)
        return {r.metric: r for r in thread_metrics(posts, comments, st, B=50, time_flags=time_flags)}

    def test_a_thread_overlapping_the_window_is_left_out(self, posts, comments):
        # window +16 s … +90 s: p2 lives 0–15 s (kept), p3 lives 0–100 s (left out)
        m = self.metrics(posts, comments, flag(at(16), at(90)))
        assert (m["mean_max_depth"].value, m["mean_max_depth"].n) == (2.0, 1)  # p2 alone
        assert (m["mean_comment_depth"].value, m["mean_comment_depth"].n) == (1.5, 2)
        assert m["thread_lifespan_median_s"].value == 15.0
        # posts were created before the window: the post proportions are unchanged
        assert (m["uncommented_post_share"].value, m["uncommented_post_share"].n) == (pytest.approx(2 / 7), 7)
        assert (m["capped_thread_share"].value, m["capped_thread_share"].n) == (0.25, 4)

    def test_posts_created_in_the_window_leave_the_post_proportion(self, posts, comments):
        m = self.metrics(posts, comments, flag(T0 - pd.Timedelta(hours=1), T0))
        assert all(m[k].value is None and m[k].n == 0 for k in ["mean_max_depth", "share_comments_depth1"])
        assert (m["uncommented_post_share"].value, m["uncommented_post_share"].n) == (None, 0)
        # the capped share describes the collection itself and keeps every thread
        assert (m["capped_thread_share"].value, m["capped_thread_share"].n) == (0.25, 4)

    def test_no_flags_and_unreadable_flags_change_nothing(self, posts, comments):
        plain = self.metrics(posts, comments, None)
        broken = self.metrics(posts, comments, [{"flag": "x", "start": "not a time", "end": None}, "junk"])
        assert {k: (r.value, r.n) for k, r in plain.items()} == {k: (r.value, r.n) for k, r in broken.items()}
        assert plain["mean_max_depth"].n == 2

    def test_a_post_without_a_time_starts_at_its_first_comment(self, posts, comments):
        p = posts.assign(created_at=[pd.NaT] + [T0] * 6)
        windows = [(at(-10), at(5))]  # p1's first comment is at +10 s
        hit = flagged_threads(p, comments, windows)
        assert bool(hit["p1"]) is False and bool(hit["p2"]) is True
        assert bool(flagged_threads(p, comments, [(at(60), at(61))])["p1"]) is True
