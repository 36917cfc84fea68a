"""Toxicity family (ANALYTICS_SPEC.md §2.2) on small hand-built societies.

Each test builds the posts it needs with `society(...)`: one row per post with its level and,
where it matters, category, topic, community, hour and engagement. Expected values are worked
out in the comments next to the assertions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assets.metrics.stats import metric_rng, wilson_interval
from assets.metrics.toxicity import (
    ENGAGEMENT_COLUMNS,
    LEVEL_SHARE_COLUMNS,
    REGISTRY,
    RISK_VALUE_COLUMNS,
    TIME_SERIES_COLUMNS,
    TOXICITY_METRIC_NAMES,
    VOLUME_CORR_COLUMNS,
    toxicity_metrics,
)
from assets.metrics.stats import moving_block_bootstrap_ci, pearson

T0 = pd.Timestamp("2026-01-28T00:00:00Z")
OUTAGE = [{"flag": "comment_outage", "start": "2026-01-31T00:00:00Z", "end": "2026-02-03T23:59:00Z"}]


def at_hour(h: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=h)


class Society:
    """Warehouse frames of one society, built post by post (and comment by comment)."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.comments: list[dict] = []
        self.categories: list[dict] = []
        self.topics: list[dict] = []
        self.labels: list[dict] = []

    def post(self, level, *, category=None, topic=None, community="general", hour=0.0,
             comments=0, upvotes=0, method="offline-v2") -> None:  # fmt: skip
        pid = f"p{len(self.posts)}"
        tid = f"post:{pid}"
        self.posts.append({"post_id": pid, "community_id": community, "comment_count": comments,
                           "upvotes": upvotes, "created_at": at_hour(hour)})  # fmt: skip
        self.labels.append({"text_id": tid, "level": level, "scores_json": "{}", "method": method})
        if category is not None:
            self.categories.append({"text_id": tid, "category": category, "score": 1.0, "method": "proto-v1"})
        if topic is not None:
            self.topics.append({"text_id": tid, "model_id": "bertopic", "topic": topic, "prob": 0.9})

    def posts_like(self, n: int, level: int, **kw) -> None:
        for _ in range(n):
            self.post(level, **kw)

    def comment(self, level, *, hour=0.0) -> None:
        cid = f"c{len(self.comments)}"
        self.comments.append({"text_id": f"comment:{cid}", "created_at": at_hour(hour)})
        self.labels.append({"text_id": f"comment:{cid}", "level": level, "scores_json": "{}", "method": "offline-v2"})

    def frames(self) -> dict[str, pd.DataFrame]:
        posts = pd.DataFrame(self.posts, columns=["post_id", "community_id", "comment_count", "upvotes", "created_at"])
        post_texts = posts.assign(text_id="post:" + posts["post_id"], kind="post")
        comment_texts = pd.DataFrame(self.comments, columns=["text_id", "created_at"]).assign(
            kind="comment", post_id="p0", community_id="general"
        )
        texts = pd.concat([post_texts, comment_texts], ignore_index=True)
        return {
            "texts": texts[["text_id", "kind", "post_id", "community_id", "created_at"]],
            "posts": posts,
            "toxicity_labels": pd.DataFrame(self.labels, columns=["text_id", "level", "scores_json", "method"]),
            "content_category": pd.DataFrame(self.categories, columns=["text_id", "category", "score", "method"]),
            "topic_assignments": pd.DataFrame(self.topics, columns=["text_id", "model_id", "topic", "prob"]),
        }

    def measure(self, **kw) -> tuple[dict[str, pd.DataFrame], dict[str, object]]:
        kw.setdefault("B", 200)
        tables, rows = toxicity_metrics(**self.frames(), **kw)
        return tables, {r.metric: r for r in rows}


# --------------------------------------------------------------------------- level shares


class TestLevelShares:
    @pytest.fixture()
    def soc(self) -> Society:
        s = Society()
        for level in [0, 0, 0, 0, 0, 1, 2, 2, 3, 4]:
            s.post(level)
        s.comment(0, hour=1)
        s.comment(2, hour=2)
        s.comment(0, hour=3)
        s.comment(4, hour=24 * 3 + 5)  # 2026-01-31 05:00, inside the outage: left out
        return s

    def test_post_shares_with_wilson_intervals(self, soc):
        tables, m = soc.measure(time_flags=OUTAGE)
        assert m["level_share_0"].value == pytest.approx(0.5)
        assert [m[f"level_share_{lv}"].value for lv in range(1, 5)] == pytest.approx([0.1, 0.2, 0.1, 0.1])
        assert m["harmful_share"].value == pytest.approx(0.4)  # levels 2, 2, 3, 4 of 10
        assert (m["harmful_share"].ci_low, m["harmful_share"].ci_high) == pytest.approx(wilson_interval(4, 10))
        assert m["harmful_share"].n == 10

    def test_comments_in_flagged_hours_are_left_out(self, soc):
        _, flagged = soc.measure(time_flags=OUTAGE)
        assert flagged["harmful_share_comments"].value == pytest.approx(1 / 3)
        assert flagged["harmful_share_comments"].n == 3
        _, unflagged = soc.measure()
        assert unflagged["harmful_share_comments"].value == pytest.approx(2 / 4)

    def test_table_has_exact_and_at_least_rows(self, soc):
        tables, _ = soc.measure(time_flags=OUTAGE)
        t = tables["toxicity_level_share"]
        assert list(t.columns) == LEVEL_SHARE_COLUMNS
        posts = t[t["kind"] == "post"].set_index(["variant", "level"])["share"]
        assert posts.loc[("exact", 0)] == pytest.approx(0.5)
        # at_least l: share of posts at level l or above
        assert [posts.loc[("at_least", lv)] for lv in range(1, 5)] == pytest.approx([0.5, 0.4, 0.2, 0.1])
        assert len(t) == 2 * (5 + 4)

    def test_bad_levels_leave_the_text_unlabelled(self):
        s = Society()
        for level in [0, 2, "3", 7, -1, 2.5, "high", None]:
            s.post(level)
        _, m = s.measure()
        assert m["harmful_share"].n == 3  # 0, 2 and "3" are levels; the rest are not
        assert m["harmful_share"].value == pytest.approx(2 / 3)

    def test_no_labels_means_every_metric_null_with_n_zero(self):
        s = Society()
        s.posts_like(5, 0)
        frames = s.frames()
        tables, rows = toxicity_metrics(frames["texts"], frames["posts"], None, None, None, B=50)
        assert [r.metric for r in rows] == TOXICITY_METRIC_NAMES
        assert all(r.value is None and r.n == 0 for r in rows)
        assert set(tables) == {"toxicity_level_share", "toxicity_risk_by_category", "toxicity_risk_by_topic",
                               "toxicity_risk_by_community", "toxicity_time_series", "toxicity_volume_corr",
                               "toxicity_engagement"}  # fmt: skip


class TestMethods:
    def test_two_label_methods_must_be_told_apart(self):
        s = Society()
        s.post(0)
        s.post(4, method="llm:judge-v1")
        with pytest.raises(ValueError, match="llm:judge-v1"):
            s.measure()
        _, m = s.measure(toxicity_method="llm:judge-v1")
        assert m["level_share_4"].value == 1.0 and m["level_share_4"].n == 1

    def test_auxiliary_labels_in_content_category_are_not_categories(self):
        s = Society()
        s.posts_like(30, 2, category="D")
        frames = s.frames()
        aux = frames["content_category"].assign(category="A", method="llm:judge-v1:motivation")
        frames["content_category"] = pd.concat([frames["content_category"], aux])
        _, rows = toxicity_metrics(**frames, B=50)
        m = {r.metric: r for r in rows}
        assert m["harmful_rate_d"].value == 1.0
        assert m["harmful_rate_a"].n == 0


# --------------------------------------------------------------------------- risk tables


def category_society() -> Society:
    s = Society()
    # Economics (D), 40 posts: 20 safe, 10 toxic, 6 manipulative, 4 malicious -> 20 harmful
    s.posts_like(20, 0, category="D")
    s.posts_like(10, 2, category="D")
    s.posts_like(6, 3, category="d")  # lower-case code is the same category
    s.posts_like(4, 4, category="D")
    # Technology (B), 60 posts: 54 safe, 6 toxic
    s.posts_like(54, 0, category="B")
    s.posts_like(6, 2, category="B")
    # Identity (A), 10 posts (below 30): 8 safe, 2 toxic; counted in N and H all the same
    s.posts_like(8, 0, category="A")
    s.posts_like(2, 2, category="A")
    s.posts_like(5, 4)  # no category: outside this table
    return s


class TestRiskByCategory:
    @pytest.fixture()
    def soc(self) -> Society:
        return category_society()

    def test_rates_and_contribution(self, soc):
        _, m = soc.measure()
        assert m["harmful_rate_d"].value == pytest.approx(0.5)
        assert (m["harmful_rate_d"].ci_low, m["harmful_rate_d"].ci_high) == pytest.approx(wilson_interval(20, 40))
        assert m["level4_rate_d"].value == pytest.approx(0.1)
        assert (m["level4_rate_d"].ci_low, m["level4_rate_d"].ci_high) == pytest.approx(wilson_interval(4, 40))
        # N = 110 categorised posts, H = 28 harmful: (20/28) / (40/110) for D, (6/28) / (60/110) for B
        assert m["contrib_ratio_d"].value == pytest.approx((20 / 28) / (40 / 110))
        assert m["contrib_ratio_b"].value == pytest.approx((6 / 28) / (60 / 110))
        assert m["contrib_ratio_d"].ci_low > 1 > m["contrib_ratio_b"].ci_high
        assert m["contrib_ratio_d"].n == 40

    def test_small_and_empty_categories_are_null_with_their_n(self, soc):
        tables, m = soc.measure()
        assert m["harmful_rate_a"].value is None and m["harmful_rate_a"].n == 10
        assert m["contrib_ratio_e"].value is None and m["contrib_ratio_e"].n == 0
        t = tables["toxicity_risk_by_category"]
        assert list(t["category"]) == list("ABCDEFGHI")
        assert list(t.columns) == ["category", *RISK_VALUE_COLUMNS]

    def test_the_sankey_rows_sum_to_one(self, soc):
        tables, _ = soc.measure()
        d = tables["toxicity_risk_by_category"].set_index("category").loc["D"]
        levels = [d[f"p_level_{lv}"] for lv in range(5)]
        assert levels == pytest.approx([0.5, 0.0, 0.25, 0.15, 0.1])
        assert d["level3_rate"] == pytest.approx(0.15)

    def test_an_unknown_category_is_listed_but_not_a_metric(self, soc):
        soc.posts_like(3, 4, category="<script>Z")
        tables, m = soc.measure()
        assert "<SCRIPT>Z" in set(tables["toxicity_risk_by_category"]["category"])
        assert not any("script" in name for name in m)
        assert m["contrib_ratio_d"].value == pytest.approx((20 / 31) / (40 / 113))  # Z joins N and H


class TestRiskByTopicAndCommunity:
    @pytest.fixture()
    def soc(self) -> Society:
        s = Society()
        s.posts_like(25, 0, topic=0, community="a")
        s.posts_like(25, 2, topic=0, community="a")  # topic 0: 50 posts, rate 0.5
        s.posts_like(45, 0, topic=1, community="b")
        s.posts_like(5, 3, topic=1, community="b")  # topic 1: 50 posts, rate 0.1
        s.posts_like(10, 4, topic=2, community="c")  # topic 2: rate 1.0 but only 10 posts
        s.posts_like(15, 0, topic=-1, community="b")
        s.posts_like(45, 2, topic=-1, community="b")  # outliers: rate 0.75, never a topic
        for t in range(3, 8):
            s.post(2, topic=t, community="c")  # five more topics, one harmful post each
        return s

    def test_max_topic_rate_skips_small_topics_and_outliers(self, soc):
        tables, m = soc.measure()
        assert m["harmful_rate_max_topic"].value == pytest.approx(0.5)
        assert m["harmful_rate_max_topic"].n == 50
        t = tables["toxicity_risk_by_topic"].set_index("topic")
        assert t.loc[-1, "n"] == 60 and math.isnan(t.loc[-1, "harmful_rate"])
        assert t.loc[2, "n"] == 10 and math.isnan(t.loc[2, "harmful_rate"])

    def test_top5_concentration(self, soc):
        _, m = soc.measure()
        # harmful posts with a topic: 25 + 5 + 10 + 45 + 5 = 90; the five topics (≠ −1) holding
        # the most are 0 (25), 2 (10), 1 (5) and two of the one-post topics: 42 of 90
        assert m["harmful_top5_concentration"].value == pytest.approx(42 / 90)
        assert m["harmful_top5_concentration"].n == 90
        assert m["harmful_top5_concentration"].ci_low <= 42 / 90 <= m["harmful_top5_concentration"].ci_high

    def test_max_community_rate(self, soc):
        tables, m = soc.measure()
        # a: 25 of 50; b: 5 + 45 of 110; c: 15 posts (below 50)
        assert m["harmful_rate_max_community"].value == pytest.approx(0.5)
        c = tables["toxicity_risk_by_community"].set_index("community_id")
        assert c.loc["b", "harmful_rate"] == pytest.approx(50 / 110)
        assert math.isnan(c.loc["c", "harmful_rate"])

    def test_no_topics_is_not_available(self, soc):
        frames = soc.frames()
        frames["topic_assignments"] = frames["topic_assignments"].iloc[:0]
        _, rows = toxicity_metrics(**frames, B=50)
        m = {r.metric: r for r in rows}
        assert m["harmful_rate_max_topic"].value is None and m["harmful_rate_max_topic"].n == 0
        assert m["harmful_top5_concentration"].value is None and m["harmful_top5_concentration"].n == 0


# --------------------------------------------------------------------------- time series


class TestTimeSeries:
    def test_bins_minimums_and_flags(self):
        s = Society()
        s.posts_like(20, 0, hour=0.5)
        s.posts_like(4, 2, hour=0.6)
        s.posts_like(1, 4, hour=0.7)  # hour 0: 25 posts, 5 harmful, one at level 4
        s.posts_like(10, 3, hour=24 * 3 + 1)  # 2026-01-31 01:00: 10 posts, flagged, below 20
        tables, _ = s.measure(time_flags=OUTAGE)
        t = tables["toxicity_time_series"]
        assert list(t.columns) == TIME_SERIES_COLUMNS
        hours = t[t["bin"] == "hour"].reset_index(drop=True)
        assert list(hours["n_posts"]) == [25, 10]
        assert hours.loc[0, "harmful_share"] == pytest.approx(0.2)
        assert hours.loc[0, "level4_share"] == pytest.approx(0.04)
        assert hours.loc[0, "level3_share"] == 0
        assert math.isnan(hours.loc[1, "harmful_share"]) and hours.loc[1, "n_harmful"] == 10
        assert list(hours["is_flagged"]) == [False, True]
        days = t[t["bin"] == "day"]
        assert list(days["is_flagged"]) == [False, True]
        assert days["harmful_share"].isna().all()  # fewer than 200 posts a day

    def test_daily_slope_and_busiest_hour(self):
        s = Society()
        for day, harmful in enumerate([20, 40, 60]):  # 200 posts a day, shares 0.1, 0.2, 0.3
            s.posts_like(200 - harmful, 0, hour=24 * day)
            s.posts_like(harmful, 2, hour=24 * day)
        _, m = s.measure()
        assert m["harmful_share_slope_day"].value == pytest.approx(0.1)
        assert m["harmful_share_slope_day"].n == 3
        assert m["harmful_share_max_hour"].value == pytest.approx(0.3)
        assert m["harmful_share_max_hour"].n == 200
        assert (m["harmful_share_max_hour"].ci_low, m["harmful_share_max_hour"].ci_high) == pytest.approx(
            wilson_interval(60, 200)
        )

    def test_too_few_busy_bins_are_null(self):
        s = Society()
        s.posts_like(99, 2)
        _, m = s.measure()
        assert m["harmful_share_max_hour"].value is None and m["harmful_share_max_hour"].n == 0
        assert m["harmful_share_slope_day"].value is None and m["harmful_share_slope_day"].n == 0


class TestVolumeHarmCorrelation:
    # Twelve consecutive hours; the harmful share is volume / 400, so r = 1 in levels and in
    # differences. Hour 6 falls in a flag window and breaks that rule: it must be left out.
    VOLUMES = [20, 60, 40, 100, 80, 140, None, 120, 200, 160, 180, 240]
    FLAG = [{"flag": "outage", "start": "2026-01-28T06:00:00Z", "end": "2026-01-28T06:59:00Z"}]

    @pytest.fixture()
    def soc(self) -> Society:
        s = Society()
        for h, n in enumerate(self.VOLUMES):
            if n is None:
                s.posts_like(30, 4, hour=h)
                continue
            harmful = n * n // 400
            s.posts_like(n - harmful, 0, hour=h)
            s.posts_like(harmful, 2, hour=h)
        return s

    def test_levels_and_differences(self, soc):
        tables, m = soc.measure(time_flags=self.FLAG)
        assert m["volume_harm_r_hour"].value == pytest.approx(1.0)
        assert m["volume_harm_r_hour"].n == 11
        assert m["volume_harm_r_hour"].ci_low == pytest.approx(1.0)
        # differences only between adjacent valid hours: 0-1 … 4-5 and 7-8 … 10-11
        assert m["volume_harm_r_hour_diff"].value == pytest.approx(1.0)
        assert m["volume_harm_r_hour_diff"].n == 9
        assert m["volume_harm_r_day"].value is None and m["volume_harm_r_day"].n == 0  # one day, under 200
        corr = tables["toxicity_volume_corr"]
        assert list(corr.columns) == VOLUME_CORR_COLUMNS
        spearman = corr[(corr["bin"] == "hour") & (corr["method"] == "spearman") & ~corr["differenced"]]
        assert spearman["r"].iloc[0] == pytest.approx(1.0)

    def test_the_flagged_hour_would_break_the_correlation(self, soc):
        _, m = soc.measure()
        assert m["volume_harm_r_hour"].n == 12
        assert m["volume_harm_r_hour"].value < 0.9

    def test_block_bootstrap_keeps_blocks_in_order(self):
        # With one block as long as the series there is a single possible resample: the series.
        data = np.column_stack([np.arange(10.0), np.arange(10.0) ** 2])
        low, high = moving_block_bootstrap_ci(data, pearson, metric_rng(0, "x"), block=10, B=50)
        assert low == pytest.approx(pearson(data)) and high == pytest.approx(pearson(data))
        low1, high1 = moving_block_bootstrap_ci(data, pearson, metric_rng(0, "x"), block=1, B=200)
        assert low1 < high1


# --------------------------------------------------------------------------- engagement


class TestEngagement:
    @pytest.fixture()
    def soc(self) -> Society:
        s = Society()
        # stratum (a, day 0): level ≥ 3 mean 6 comments, level-0 mean 3
        for c in [6, 6, 6, 6, 6]:
            s.post(3, community="a", comments=c, upvotes=10)
        for c in [2, 2, 4, 4]:
            s.post(0, community="a", comments=c, upvotes=5)
        # stratum (b, day 0): both means 1
        for _ in range(5):
            s.post(4, community="b", comments=1, upvotes=1)
        s.post(0, community="b", comments=1, upvotes=1)
        s.post(0, community="b", comments=1, upvotes=1)
        # ignored: a stratum with no level ≥ 3 post, and levels 1 and 2
        s.post(0, community="a", hour=30, comments=100)
        s.post(1, community="a", comments=100)
        s.post(2, community="b", comments=100)
        return s

    def test_standardized_ratio_within_strata(self, soc):
        tables, m = soc.measure()
        # Σ harmful comments / Σ_s n_harm,s · safe mean_s = (30 + 5) / (5·3 + 5·1)
        r = m["harm_engagement_ratio_comments"]
        assert r.value == pytest.approx(35 / 20)
        assert r.n == 10
        assert r.ci_low <= 35 / 20 <= r.ci_high
        e = tables["toxicity_engagement"].set_index("outcome")
        assert list(tables["toxicity_engagement"].columns) == ENGAGEMENT_COLUMNS
        assert e.loc["comments", "n_safe"] == 6
        # upvotes: (50 + 5) / (5·5 + 5·1)
        assert m["harm_engagement_ratio_upvotes"].value == pytest.approx(55 / 30)

    def test_missing_upvotes_are_not_available(self, soc):
        frames = soc.frames()
        frames["posts"] = frames["posts"].drop(columns="upvotes")
        _, rows = toxicity_metrics(**frames, B=50)
        m = {r.metric: r for r in rows}
        assert m["harm_engagement_ratio_upvotes"].value is None and m["harm_engagement_ratio_upvotes"].n == 0
        assert m["harm_engagement_ratio_comments"].value == pytest.approx(35 / 20)

    def test_below_ten_harmful_posts_is_null(self):
        s = Society()
        s.posts_like(9, 3, comments=2)
        s.posts_like(9, 0, comments=1)
        _, m = s.measure()
        assert m["harm_engagement_ratio_comments"].value is None
        assert m["harm_engagement_ratio_comments"].n == 9


# --------------------------------------------------------------------------- registry and wiring


def test_every_emitted_metric_is_registered_and_vice_versa():
    s = Society()
    s.posts_like(3, 2)
    _, rows = toxicity_metrics(**s.frames(), B=20)
    emitted = [r.metric for r in rows]
    assert len(emitted) == len(set(emitted)) == 44
    assert emitted == [spec.metric for spec in REGISTRY]
    assert {spec.family for spec in REGISTRY} == {"toxicity"}
    spec = {x.metric: x for x in REGISTRY}
    assert spec["contrib_ratio_d"].moltbook_evidence == "P"
    assert spec["contrib_ratio_g"].expected_direction.startswith("> 1")
    assert spec["volume_harm_r_hour"].moltbook_value == "r = 0.769"
    assert spec["volume_harm_r_hour"].moltbook_evidence == "S"
    assert spec["volume_harm_r_hour"].ci_method == "block_bootstrap"
    assert spec["harm_engagement_ratio_comments"].moltbook_source == "Agents in the Wild, arXiv:2602.13284"


def test_seeded_intervals_repeat_and_depend_on_the_seed():
    s = category_society()
    _, a = s.measure(society_seed=7)
    _, b = s.measure(society_seed=7)
    _, c = s.measure(society_seed=8)
    assert a["contrib_ratio_d"].ci_low == b["contrib_ratio_d"].ci_low
    assert a["contrib_ratio_d"].ci_low != c["contrib_ratio_d"].ci_low


def test_a_simulated_society_runs_end_to_end():
    """The simulator plants no toxicity truth; this checks real frames (dtypes, ids) flow through,
    labelled by the offline rules, and that every metric comes out."""
    from assets.enrich.toxicity import score_toxicity
    from simulators import simulate

    tables = simulate("moltbook-like", seed=1, n_agents=60, n_steps=60).tables
    posts, comments = tables["posts"], tables["comments"]
    post_texts = pd.DataFrame({"text_id": "post:" + posts["post_id"], "kind": "post", "post_id": posts["post_id"],
                               "community_id": posts["community_id"], "created_at": posts["created_at"],
                               "text": posts["title"] + "\n\n" + posts["content"]})  # fmt: skip
    comment_texts = pd.DataFrame({"text_id": "comment:" + comments["comment_id"], "kind": "comment",
                                  "post_id": comments["post_id"], "community_id": None,
                                  "created_at": comments["created_at"], "text": comments["content"]})  # fmt: skip
    texts = pd.concat([post_texts, comment_texts], ignore_index=True)
    labels = score_toxicity(texts["text"].tolist()).assign(text_id=texts["text_id"].to_numpy())
    out, rows = toxicity_metrics(texts, posts, labels, B=50)
    m = {r.metric: r for r in rows}
    assert [r.metric for r in rows] == TOXICITY_METRIC_NAMES
    assert m["level_share_0"].n == len(posts) and m["harmful_share_comments"].n == len(comments)
    assert m["level_share_0"].value > 0.5
    assert m["harmful_rate_a"].value is None  # no categories given: not available


def test_hostile_values_do_not_crash():
    """Strings for numbers, a topic too large for INTEGER, a missing time, a text labelled twice,
    a label for a text that does not exist, an unreadable flag window."""
    s = Society()
    s.posts_like(12, 3, topic="1e30", comments="7")
    s.posts_like(12, 0, topic="not a topic", comments="-3")
    frames = s.frames()
    frames["posts"].loc[0, "created_at"] = None
    frames["texts"].loc[0, "created_at"] = None
    frames["toxicity_labels"] = pd.concat([
        frames["toxicity_labels"],
        frames["toxicity_labels"].iloc[[1]].assign(level=0),  # the first label of a text wins
        pd.DataFrame([{"text_id": "post:</script>", "level": 4, "scores_json": None, "method": "offline-v2"}]),
    ])  # fmt: skip
    tables, rows = toxicity_metrics(**frames, time_flags=[{"start": "yesterday-ish"}, "junk"], B=20)
    m = {r.metric: r for r in rows}
    assert m["harmful_share"].value == pytest.approx(0.5) and m["harmful_share"].n == 24
    assert tables["toxicity_risk_by_topic"].empty  # no topic survives
    series = tables["toxicity_time_series"]
    assert list(series["n_posts"]) == [23, 23]  # one day, one hour; the post without a time is not binned
    # comment counts: "7" is read as 7 and "-3" is no count, so there is no level-0 post to compare with
    assert m["harm_engagement_ratio_comments"].value is None
