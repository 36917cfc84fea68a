"""Attention concentration (ANALYTICS_SPEC.md §4.4): windows `all` and `day`, subscribers, flagged time.

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
    REGISTRY,
    attention_concentration,
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
    """The window `all` row of one population."""
    table = table[table["window"] == "all"]
    sel = table[(table["object"] == obj) & (table["quantity"] == qty) & (table["excl_default"] == excl)]
    assert len(sel) == 1
    return sel.iloc[0]


class TestConcentrationTable:
    def test_rows_and_columns(self, posts, comments):
        t = concentration_table(posts, comments, "general")
        assert list(t.columns) == CONCENTRATION_COLUMNS
        everything = t[t["window"] == "all"]
        assert everything["window_start"].isna().all() and everything["is_flagged"].isna().all()
        keys = set(zip(everything["object"], everything["quantity"], everything["excl_default"]))
        assert keys == {
            ("community", "posts", False), ("community", "posts", True),
            ("community", "comments", False), ("community", "comments", True),
            ("community", "upvotes", False), ("community", "upvotes", True),
            ("community", "subscribers", False), ("community", "subscribers", True),
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


class TestSubscribers:
    def test_community_subscribers_over_communities_with_a_post(self, posts, comments):
        communities = pd.DataFrame(
            {"community_id": ["general", "tech", "empty", "unknown"], "subscriber_count": [100, "300", 5000, None]}
        )  # "empty" has no post; "300" arrives as a string
        t = concentration_table(posts, comments, "general", communities)
        r = row(t, "community", "subscribers")
        assert r["n"] == 2
        assert (r["top1_share"], r["gini"]) == pytest.approx((0.75, 0.25))  # [100, 300]
        excl = row(t, "community", "subscribers", excl=True)
        assert excl["n"] == 1 and excl["top1_share"] == 1.0

    def test_without_subscriber_counts_it_is_not_available(self, posts, comments):
        for communities in [None, pd.DataFrame({"community_id": ["general"], "subscriber_count": [None]})]:
            r = row(concentration_table(posts, comments, "general", communities), "community", "subscribers")
            assert r["n"] == 0 and np.isnan(r["gini"])


def flag(start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
    return [{"flag": "comment_outage", "start": start.isoformat(), "end": end.isoformat()}]


class TestFlaggedTime:
    """§0.4 in window `all`: comment quantities leave out flagged time, post quantities keep it.

    Window T0+1h … T0+2h holds comment c2 (carol on p1, 2 upvotes) and post p4 (tech, carol),
    so c5 (bob on p4) goes too. Left for the comment quantities: p1, p2, p3 and c1, c3, c4.
    """

    FLAGS = flag(T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=2))

    @pytest.fixture()
    def flagged(self, posts, comments):
        p = posts.copy()
        c = comments.copy()
        p.loc[p["post_id"] == "p4", "created_at"] = T0 + pd.Timedelta(minutes=90)
        c.loc[c["comment_id"] == "c2", "created_at"] = T0 + pd.Timedelta(minutes=70)
        c.loc[c["comment_id"] == "c5", "created_at"] = T0 + pd.Timedelta(minutes=150)
        return p, c

    def test_comment_quantities_leave_flagged_time_out(self, flagged):
        p, c = flagged
        t = concentration_table(p, c, "general", time_flags=self.FLAGS)
        received = row(t, "post", "comments_received")  # p1 max(3, 2), p2 0, p3 1
        assert (received["n"], received["top1pct_share"]) == (3, pytest.approx(3 / 4))
        assert row(t, "community", "comments")["n"] == 1  # tech's only post is flagged
        written = row(t, "agent", "comments_written")  # alice 2, bob 1, carol 0: the population stays
        assert (written["n"], written["top1_share"]) == (3, pytest.approx(2 / 3))
        assert row(t, "agent", "comments_received")["top1_share"] == pytest.approx(0.5)  # [1, 1, 0]

    def test_post_quantities_keep_flagged_time(self, flagged, posts, comments):
        p, c = flagged
        t = concentration_table(p, c, "general", time_flags=self.FLAGS)
        plain = concentration_table(posts, comments, "general")
        for obj, qty in [("community", "posts"), ("agent", "posts"), ("agent", "upvotes_received"), ("post", "upvotes")]:
            assert row(t, obj, qty)["gini"] == pytest.approx(row(plain, obj, qty)["gini"]), (obj, qty)

    def test_metrics_follow_the_table(self, flagged):
        p, c = flagged
        t = concentration_table(p, c, "general", time_flags=self.FLAGS)
        m = {r.metric: r for r in concentration_metrics(p, c, t, B=50, time_flags=self.FLAGS)}
        z = m["zero_upvote_comment_share"]  # c1, c3, c4 have 0 upvotes
        assert (z.value, z.n) == (1.0, 3)
        assert (m["post_comment_top1pct_share"].value, m["post_comment_top1pct_share"].n) == (pytest.approx(0.75), 3)
        assert m["agent_posting_gini"].value == pytest.approx(1 / 6)
        low, high = m["post_comment_top1pct_share"].ci_low, m["post_comment_top1pct_share"].ci_high
        assert low is not None and low <= 0.75 <= high


def bin_posts() -> pd.DataFrame:
    """Short run T0 … T0+8h: 8 one-hour bins. Bins 0, 2, 4, 6 hold 30 posts (valid), the others
    one post each (NULL). general's share: 1/2, 1/2, 5/6, 5/6, so community × posts hhi_norm
    (2s − 1)² = 0, 0, 4/9, 4/9 and top1_share 1/2, 1/2, 5/6, 5/6 at days 0, 2, 4, 6."""
    rows = []
    for b, n_general in [(0, 15), (2, 15), (4, 25), (6, 25)]:
        for i in range(30):
            rows.append((T0 + pd.Timedelta(hours=b, minutes=i), "general" if i < n_general else "tech"))
    for b in [1, 3, 5]:
        rows.append((T0 + pd.Timedelta(hours=b, minutes=30), "tech"))
    rows.append((T0 + pd.Timedelta(hours=8), "tech"))  # the last post closes bin 7
    df = pd.DataFrame(rows, columns=["created_at", "community_id"])
    df["post_id"] = [f"p{i}" for i in range(len(df))]
    df["author_id"] = [f"a{i % 7}" for i in range(len(df))]
    df["comment_count"] = 0
    df["upvotes"] = 1
    return df


NO_COMMENTS = pd.DataFrame(
    {"comment_id": pd.Series([], dtype=str), "post_id": pd.Series([], dtype=str),
     "author_id": pd.Series([], dtype=str), "upvotes": pd.Series([], dtype=float),
     "created_at": pd.Series([], dtype="datetime64[ns, UTC]")}
)  # fmt: skip


class TestDayWindow:
    def days(self, table: pd.DataFrame, obj="community", qty="posts") -> pd.DataFrame:
        sel = table[(table["window"] == "day") & (table["object"] == obj) & (table["quantity"] == qty)]
        return sel[~sel["excl_default"]].sort_values("window_start").reset_index(drop=True)

    def test_one_row_per_bin_and_population_with_nulls_below_the_minimum(self):
        t = concentration_table(bin_posts(), NO_COMMENTS, None)
        d = self.days(t)
        assert len(d) == 8 and (d["bin_seconds"] == 3600.0).all()
        assert list(d["window_start"]) == [T0 + pd.Timedelta(hours=b) for b in range(8)]
        assert list(d["n"]) == [2, 1, 2, 1, 2, 1, 2, 1]  # communities with a post that hour
        assert d["hhi_norm"].iloc[[0, 2, 4, 6]].tolist() == pytest.approx([0, 0, 4 / 9, 4 / 9])
        assert d["hhi_norm"].iloc[[1, 3, 5, 7]].isna().all()  # 1 post < 30
        agents = self.days(t, "agent", "posts")
        assert agents["n"].iloc[0] == 7  # every author posted in hour 0

    def test_daily_hhi_and_top1_slopes_per_bin(self):
        p = bin_posts()
        t = concentration_table(p, NO_COMMENTS, None)
        m = {r.metric: r for r in concentration_metrics(p, NO_COMMENTS, t, society_seed=2, B=200)}
        hhi_slope = m["community_hhi_slope_day"]  # slope of 0, 0, 4/9, 4/9 over x = 0, 2, 4, 6
        assert (hhi_slope.value, hhi_slope.n) == (pytest.approx(4 / 45), 4)
        assert hhi_slope.ci_low is not None and hhi_slope.ci_low <= hhi_slope.ci_high
        assert (m["community_top1_share_slope_day"].value, m["community_top1_share_slope_day"].n) == (
            pytest.approx(1 / 15), 4)  # fmt: skip

    def test_fewer_than_four_valid_days_have_no_slope(self, posts, comments):
        t = concentration_table(posts, comments, "general")  # one instant: 8 bins, none with 30 posts
        m = {r.metric: r for r in concentration_metrics(posts, comments, t, B=50)}
        assert (m["community_hhi_slope_day"].value, m["community_hhi_slope_day"].n) == (None, 0)

    def test_flagged_days_are_marked_and_keep_their_data(self):
        p = bin_posts()
        flags = flag(T0 + pd.Timedelta(hours=2, minutes=10), T0 + pd.Timedelta(hours=2, minutes=20))
        t = concentration_table(p, NO_COMMENTS, None, time_flags=flags)
        d = self.days(t)
        assert d["is_flagged"].tolist() == [False, False, True, False, False, False, False, False]
        plain = self.days(concentration_table(p, NO_COMMENTS, None))
        assert d["hhi_norm"].tolist() == pytest.approx(plain["hhi_norm"].tolist(), nan_ok=True)

    def test_comments_after_the_last_post_fall_in_no_day(self, posts, comments):
        # posts all at T0 (8 bins of 1 s); a newcomer comments a day later: not folded into the last bin
        late = comments.assign(created_at=T0 + pd.Timedelta(days=1), author_id="zed")
        t = concentration_table(posts, late, "general")
        assert self.days(t, "agent", "comments_written")["n"].tolist() == [3, 0, 0, 0, 0, 0, 0, 0]
        assert "zed" in set(late["author_id"]) and row(t, "agent", "comments_written")["n"] == 4  # window all


class TestFamily:
    def test_registry_matches_what_is_emitted(self, posts, comments):
        _, rows = attention_concentration(posts, comments, None, default_community_id="general", B=20)
        assert {r.metric for r in rows} == {spec.metric for spec in REGISTRY}
        assert all(spec.family == "influence" for spec in REGISTRY)
        assert {s.ci_method for s in REGISTRY if s.metric.endswith("_slope_day")} == {"block_bootstrap"}

    def test_one_call_gives_table_and_rows(self, posts, comments):
        tables, rows = attention_concentration(posts, comments, None, default_community_id="general", B=20)
        assert list(tables) == ["influence_concentration"]
        expected = concentration_table(posts, comments, "general")
        pd.testing.assert_frame_equal(tables["influence_concentration"], expected)
        assert [r.metric for r in rows] == CONCENTRATION_METRIC_NAMES

    def test_simulated_society_gets_short_run_days_and_a_slope(self):
        from simulators import simulate

        batch = simulate("moltbook-like", seed=1, n_agents=200, n_steps=200)
        posts, comments = batch.tables["posts"], batch.tables["comments"]
        tables, rows = attention_concentration(
            posts, comments, batch.tables["communities"], default_community_id="general", B=100
        )
        t = tables["influence_concentration"]
        d = t[(t["window"] == "day") & (t["object"] == "community") & (t["quantity"] == "posts") & ~t["excl_default"]]
        assert len(d) == 8 and d["bin_seconds"].nunique() == 1
        assert row(t, "community", "subscribers")["n"] > 0
        m = {r.metric: r for r in rows}
        slope = m["community_hhi_slope_day"]
        valid_days = int(d["hhi_norm"].notna().sum())
        assert slope.n == valid_days
        if valid_days >= 4:
            assert slope.ci_low <= slope.value <= slope.ci_high
