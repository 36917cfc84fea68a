"""Attention concentration (ANALYTICS_SPEC.md §4.4), window `all`.

    post  community  author  upvotes  reported comments   observed comments (author, upvotes)
    p1    general    alice   10       3                   bob 0, carol 2, alice 0 (self-reply)
    p2    general    alice    0       0                   –
    p3    general    bob      5       1                   alice 0
    p4    tech       carol    0       NULL                bob 0

Agents (authors of a post or comment): alice, bob, carol.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assets.metrics.concentration import (
    CONCENTRATION_COLUMNS,
    CONCENTRATION_METRIC_NAMES,
    concentration_metrics,
    concentration_table,
    post_comments_received,
)
from assets.metrics.stats import wilson_interval

T0 = pd.Timestamp("2026-01-30T00:00:00Z")


@pytest.fixture()
def posts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "p4"],
            "community_id": ["general", "general", "general", "tech"],
            "author_id": ["alice", "alice", "bob", "carol"],
            "upvotes": [10, 0, 5, 0],
            "score": [10, 0, 5, 0],
            "comment_count": [3, 0, 1, None],
            "created_at": [T0] * 4,
        }
    )


@pytest.fixture()
def comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comment_id": ["c1", "c2", "c3", "c4", "c5"],
            "post_id": ["p1", "p1", "p1", "p3", "p4"],
            "parent_id": [None] * 5,
            "author_id": ["bob", "carol", "alice", "alice", "bob"],
            "upvotes": [0, 2, 0, 0, 0],
            "score": [0, 2, 0, 0, 0],
            "created_at": [T0] * 5,
        }
    )


def row(table: pd.DataFrame, obj: str, qty: str, excl: bool = False) -> pd.Series:
    sel = table[(table["object"] == obj) & (table["quantity"] == qty) & (table["excl_default"] == excl)]
    assert len(sel) == 1
    return sel.iloc[0]


class TestConcentrationTable:
    def test_rows_and_columns(self, posts, comments):
        t = concentration_table(posts, comments, "general")
        assert list(t.columns) == CONCENTRATION_COLUMNS
        assert set(t["window"]) == {"all"} and t["window_start"].isna().all()
        keys = set(zip(t["object"], t["quantity"], t["excl_default"]))
        assert keys == {
            ("community", "posts", False), ("community", "posts", True),
            ("community", "comments", False), ("community", "comments", True),
            ("community", "upvotes", False), ("community", "upvotes", True),
            ("post", "comments_received", False), ("post", "upvotes", False),
            ("agent", "posts", False), ("agent", "comments_written", False),
            ("agent", "upvotes_received", False), ("agent", "comments_received", False),
        }  # fmt: skip

    def test_community_posts_with_and_without_the_default(self, posts, comments):
        t = concentration_table(posts, comments, "general")
        r = row(t, "community", "posts")  # general 3, tech 1
        assert r["n"] == 2
        assert (r["hhi"], r["hhi_norm"], r["top1_share"], r["top5_share"]) == pytest.approx((0.625, 0.25, 0.75, 1.0))
        excl = row(t, "community", "posts", excl=True)  # tech alone
        assert excl["n"] == 1 and math.isnan(excl["hhi_norm"])

    def test_no_default_community_means_no_excl_rows(self, posts, comments):
        assert not concentration_table(posts, comments, None)["excl_default"].any()

    def test_comments_received_per_post_take_the_larger_of_report_and_observation(self, posts, comments):
        t = concentration_table(posts, comments, "general")
        # p1..p4: 3, 0, 1 and (report NULL → 1 observed)
        assert row(t, "post", "comments_received")["top1pct_share"] == pytest.approx(3 / 5)
        assert row(t, "community", "comments")["top1_share"] == pytest.approx(4 / 5)
        # a capped observation (report 50) and a stale report (0 reported, 1 observed) both undercount
        received = post_comments_received(posts.assign(comment_count=[50, 0, 0, 0]), comments)
        assert received.to_dict() == {"p1": 50.0, "p2": 0.0, "p3": 1.0, "p4": 1.0}

    def test_agent_populations_keep_zeros(self, posts, comments):
        t = concentration_table(posts, comments, "general")
        assert row(t, "agent", "posts")["gini"] == pytest.approx(1 / 6)  # [2, 1, 1]
        assert row(t, "agent", "upvotes_received")["gini"] == pytest.approx(16 / 51)  # [10, 5, 2]
        # received by others: alice 2 (her self-reply excluded), bob 1, carol 1
        assert row(t, "agent", "comments_received")["top1_share"] == pytest.approx(0.5)
        assert row(t, "post", "upvotes")["gini"] == pytest.approx(7 / 12)  # [10, 0, 5, 0]


class TestConcentrationMetrics:
    def metrics(self, posts, comments, seed=5) -> dict:
        t = concentration_table(posts, comments, "general")
        return {r.metric: r for r in concentration_metrics(posts, comments, t, society_seed=seed, B=200)}

    def test_names_and_family(self, posts, comments):
        t = concentration_table(posts, comments, "general")
        rows = concentration_metrics(posts, comments, t, B=50)
        assert [r.metric for r in rows] == CONCENTRATION_METRIC_NAMES
        assert {r.family for r in rows} == {"influence"}

    def test_exact_values(self, posts, comments):
        m = self.metrics(posts, comments)
        assert (m["agent_posting_gini"].value, m["agent_posting_gini"].n) == (pytest.approx(1 / 6), 3)
        assert m["agent_upvote_gini"].value == pytest.approx(16 / 51)
        assert m["upvote_minus_posting_gini"].value == pytest.approx(16 / 51 - 1 / 6)
        assert (m["post_upvote_gini"].value, m["post_upvote_gini"].n) == (pytest.approx(7 / 12), 4)
        assert m["community_post_hhi_norm"].value == pytest.approx(0.25)
        assert m["community_post_top1_share"].value == pytest.approx(0.75)
        assert m["community_post_top5_share"].value == pytest.approx(1.0)
        assert m["post_comment_top1pct_share"].value == pytest.approx(0.6)
        assert m["agent_engagement_top1pct_share"].value == pytest.approx(0.5)
        z = m["zero_upvote_comment_share"]
        assert (z.value, z.n, (z.ci_low, z.ci_high)) == (0.8, 5, wilson_interval(4, 5))

    def test_seeded_cis_are_reproducible(self, posts, comments):
        a, b = self.metrics(posts, comments, seed=9), self.metrics(posts, comments, seed=9)
        assert all((a[k].ci_low, a[k].ci_high) == (b[k].ci_low, b[k].ci_high) for k in a)
        assert a["agent_posting_gini"].ci_low is not None

    def test_upvotes_entirely_null_are_not_available_not_score(self, posts, comments):
        # like the observatory CSV export: a net score but no upvote counts
        p = posts.assign(upvotes=None)
        c = comments.drop(columns=["upvotes"])
        t = concentration_table(p, c, "general")
        for obj, qty in [("post", "upvotes"), ("agent", "upvotes_received"), ("community", "upvotes")]:
            r = row(t, obj, qty)
            assert r["n"] == 0 and np.isnan(r["gini"])
        m = {r.metric: r for r in concentration_metrics(p, c, t, B=50)}
        for name in ["agent_upvote_gini", "upvote_minus_posting_gini", "post_upvote_gini", "zero_upvote_comment_share"]:
            assert (m[name].value, m[name].n, m[name].ci_low) == (None, 0, None), name
        assert m["agent_posting_gini"].value == pytest.approx(1 / 6)  # the rest is unaffected

    def test_a_single_community_is_below_minimum_sample(self, posts, comments):
        p = posts.assign(community_id="general")
        t = concentration_table(p, comments, "general")
        m = {r.metric: r for r in concentration_metrics(p, comments, t, B=50)}
        assert (m["community_post_hhi_norm"].value, m["community_post_hhi_norm"].n) == (None, 1)
