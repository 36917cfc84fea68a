"""Topic metrics (ANALYTICS_SPEC.md §1.4) on hand-built societies whose values can be worked out by hand.

Posts are built from (community, day, hour, category) rows; `content_category` labels them by
`text_id = 'post:<post_id>'` as the enrichment stage does.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from assets.metrics.registry import MetricSpec
from assets.metrics.stats import metrics_frame, wilson_interval
from assets.metrics.topics import (
    CATEGORY_SHARE_COLUMNS,
    COMMUNITY_CLUSTER_COLUMNS,
    COMMUNITY_PROFILE_COLUMNS,
    REGISTRY,
    TIME_SERIES_COLUMNS,
    community_profile_table,
    entropy_bits,
    filter_descriptions,
    jsd_bits,
    labelled_posts,
    topics_metrics,
)
from warehouse.writer import replace_society_rows

DAY0 = pd.Timestamp("2026-02-01T00:00:00Z")
NO_POSTS = pd.DataFrame(columns=["post_id", "community_id", "created_at"])
NO_LABELS = pd.DataFrame(columns=["text_id", "category", "method"])
NO_COMMUNITIES = pd.DataFrame(columns=["community_id", "name", "display_name", "description", "created_at"])

#: Every society_metric name §1.4 lists for the family.
SPEC_METRICS = {
    *[f"category_share_{c}" for c in "abcdefghi"],
    *[f"category_share_slope_{c}" for c in "abcdefghi"],
    "category_entropy_mean_day",
    "category_entropy_slope_day",
    "generalist_community_share",
    "community_specialization_median",
    "community_desc_n_filtered",
    "community_desc_best_k",
    "meta_share_human_mimetic",
    "meta_share_silicon_centric",
    "meta_share_hybrid_economic",
}


Row = tuple[str | None, int, int, str | None]


def society(rows: list[Row], method: str = "proto:v1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """posts and content_category from (community_id, day, hour, category) rows; category None = unlabelled."""
    posts = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(len(rows))],
            "community_id": [r[0] for r in rows],
            "created_at": [DAY0 + pd.Timedelta(days=r[1], hours=r[2]) for r in rows],
        }
    )
    labels = pd.DataFrame(
        {"text_id": "post:" + posts["post_id"], "category": [r[3] for r in rows], "method": method}
    )
    return posts, labels[labels["category"].notna()]


def by_name(rows) -> dict:
    return {r.metric: r for r in rows}


def run(posts, labels, communities=NO_COMMUNITIES, **kw):
    kw.setdefault("B", 200)
    return topics_metrics(posts, labels, kw.pop("topics", None), communities, kw.pop("vectors", None), **kw)


# --------------------------------------------------------------------------- category_share


class TestCategoryShare:
    def test_society_shares_are_over_labelled_posts_with_wilson_ci(self):
        # 4 C, 3 E, 1 D labelled; one post unlabelled, one with a label outside A–I.
        posts, labels = society([("g", 0, 0, c) for c in "CCCCEEED"] + [("g", 0, 0, None), ("g", 0, 0, "Z")])
        _, rows = run(posts, labels)
        m = by_name(rows)
        assert m["category_share_c"].value == pytest.approx(4 / 8)
        assert (m["category_share_c"].ci_low, m["category_share_c"].ci_high) == pytest.approx(wilson_interval(4, 8))
        assert m["category_share_e"].value == pytest.approx(3 / 8)
        assert m["category_share_a"].value == 0.0
        assert all(m[f"category_share_{c}"].n == 8 for c in "abcdefghi")

    def test_labels_are_read_tolerantly_and_auxiliary_methods_ignored(self):
        posts, labels = society([("g", 0, 0, c) for c in ["c", " E ", "D", "D"]])
        aux = labels.assign(method="proto:v1:motivation", category="A")
        _, rows = run(posts, pd.concat([labels, aux]))
        m = by_name(rows)
        assert m["category_share_c"].value == pytest.approx(0.25)
        assert m["category_share_e"].value == pytest.approx(0.25)
        assert m["category_share_a"].value == 0.0

    def test_several_label_methods_need_an_explicit_choice(self):
        posts, labels = society([("g", 0, 0, "C"), ("g", 0, 0, "E")])
        judged = labels.assign(method="llm:judge", category="G")
        with pytest.raises(ValueError, match="category_method"):
            run(posts, pd.concat([labels, judged]))
        _, rows = run(posts, pd.concat([labels, judged]), category_method="llm:judge")
        assert by_name(rows)["category_share_g"].value == 1.0

    def test_table_lists_every_category_per_bin_and_nulls_small_bins(self):
        # Hour 0 holds 20 labelled posts (10 C, 10 E), hour 5 only 3: below the hourly minimum of 20.
        posts, labels = society([("g", 0, 0, "C")] * 10 + [("g", 0, 0, "E")] * 10 + [("g", 0, 5, "B")] * 3)
        tables, _ = run(posts, labels)
        t = tables["topics_category_share"]
        assert list(t.columns) == CATEGORY_SHARE_COLUMNS
        assert set(t["variant"]) == {"all"}  # no burst ids given: no no_floods variant
        hour0 = t[(t["bin"] == "hour") & (t["bin_start"] == DAY0)].set_index("category")
        assert list(hour0.index) == list("ABCDEFGHI")
        assert hour0.loc["C", "share"] == pytest.approx(0.5) and hour0.loc["A", "share"] == 0.0
        assert hour0["n"].sum() == 20
        hour5 = t[(t["bin"] == "hour") & (t["bin_start"] == DAY0 + pd.Timedelta(hours=5))].set_index("category")
        assert hour5.loc["B", "n"] == 3 and hour5["share"].isna().all() and hour5["ci_low"].isna().all()
        day = t[t["bin"] == "day"]  # 23 posts < 200: listed, NULL
        assert day["n"].sum() == 23 and day["share"].isna().all()
        whole = t[t["bin"] == "all"].set_index("category")
        assert whole.loc["B", "share"] == pytest.approx(3 / 23)
        assert (whole["bin_start"] == DAY0).all()  # the all bin starts on the first post's day

    def test_no_floods_variant_drops_burst_posts(self):
        posts, labels = society([("g", 0, 0, "H")] * 3 + [("g", 0, 0, "C")])
        tables, _ = run(posts, labels, flood_text_ids=["post:p0", "post:p1", "post:p2"])
        t = tables["topics_category_share"]
        nf = t[(t["variant"] == "no_floods") & (t["bin"] == "all")].set_index("category")
        assert nf.loc["C", "share"] == 1.0 and nf.loc["H", "n"] == 0
        full = t[(t["variant"] == "all") & (t["bin"] == "all")].set_index("category")
        assert full.loc["H", "share"] == pytest.approx(0.75)

    def test_daily_logit_slope_and_its_minimum_of_four_days(self):
        # Five days of 200 posts; Viewpoint (E) rises 40, 60, …, 120, the rest is Socializing (C).
        e = [40, 60, 80, 100, 120]
        rows = []
        for d, k in enumerate(e):
            rows += [("g", d, 1, "E")] * k + [("g", d, 1, "C")] * (200 - k)
        posts, labels = society(rows)
        _, out = run(posts, labels)
        m = by_name(out)
        n_e = np.array(e, dtype=float)
        y = np.log((n_e + 0.5) / (200 - n_e + 0.5))
        assert m["category_share_slope_e"].value == pytest.approx(np.polyfit(np.arange(5), y, 1)[0])
        assert m["category_share_slope_c"].value == pytest.approx(-m["category_share_slope_e"].value)
        assert m["category_share_slope_e"].n == 5
        slope_e = m["category_share_slope_e"]
        assert 0 < slope_e.ci_low <= slope_e.value <= slope_e.ci_high
        # A never occurs: its empirical logit is constant, the slope 0.
        assert m["category_share_slope_a"].value == pytest.approx(0.0)

        three_days = posts[posts["created_at"] < DAY0 + pd.Timedelta(days=3)]
        _, out = run(three_days, labels[labels["text_id"].isin("post:" + three_days["post_id"])])
        short = by_name(out)["category_share_slope_e"]
        assert short.value is None and short.n == 3


# --------------------------------------------------------------------------- category_entropy


class TestCategoryEntropy:
    @staticmethod
    def four_days() -> list[Row]:
        """Days of 200 posts with 1, 2, 4 and 8 equally used categories: entropy 0, 1, 2, 3 bits."""
        rows = []
        for day, cats in enumerate(["C", "CE", "ABCD", "ABCDEFGH"]):
            for cat in cats:
                rows += [("g", day, 2, cat)] * (200 // len(cats))
        return rows

    def test_entropy_in_bits(self):
        assert entropy_bits(np.ones(9)) == pytest.approx(math.log2(9))
        assert entropy_bits(np.array([5, 0, 5])) == pytest.approx(1.0)
        assert math.isnan(entropy_bits(np.zeros(9)))

    def test_daily_mean_and_slope(self):
        posts, labels = society(self.four_days())
        tables, rows = run(posts, labels)
        m = by_name(rows)
        assert m["category_entropy_mean_day"].value == pytest.approx(1.5)
        assert m["category_entropy_slope_day"].value == pytest.approx(1.0)
        assert m["category_entropy_mean_day"].n == 4 and m["category_entropy_slope_day"].n == 4
        series = tables["topics_time_series"]
        assert list(series.columns) == TIME_SERIES_COLUMNS
        days = series[series["bin"] == "day"].sort_values("bin_start")
        assert days["category_entropy"].tolist() == pytest.approx([0.0, 1.0, 2.0, 3.0])
        assert days["n_posts"].tolist() == [200, 200, 200, 200]
        hours = series[series["bin"] == "hour"]
        assert hours["category_entropy"].tolist() == pytest.approx([0.0, 1.0, 2.0, 3.0])

    def test_small_days_are_listed_null_and_left_out_of_the_summaries(self):
        posts, labels = society(self.four_days() + [("g", 4, 0, "A")] * 199)
        tables, rows = run(posts, labels)
        day4 = tables["topics_time_series"].query("bin == 'day'").sort_values("bin_start").iloc[-1]
        assert day4["n_posts"] == 199 and math.isnan(day4["category_entropy"])
        assert by_name(rows)["category_entropy_mean_day"].n == 4

    def test_topics_communities_and_flags_per_bin(self):
        # Hour 0: 10 posts in topic 0, 10 in topic 1, 5 outliers (−1), two communities.
        # Hour 1: 20 posts of topic 2 (the model has topics 0–3, so K = 4).
        rows = [("a", 0, 0, None)] * 10 + [("b", 0, 0, None)] * 15
        rows += [("a", 0, 1, None)] * 20 + [("a", 0, 3, None)]
        posts, labels = society(rows)
        topic = [0] * 10 + [1] * 10 + [-1] * 5 + [2] * 20 + [3]
        topics = pd.DataFrame({"text_id": "post:" + posts["post_id"], "model_id": "bt", "topic": topic, "prob": 0.9})
        communities = pd.DataFrame(
            {
                "community_id": ["a", "b", "c", "old"],
                "name": ["a", "b", "c", "old"],
                "display_name": None,
                "description": None,
                "created_at": [DAY0, DAY0 + pd.Timedelta(minutes=30), DAY0 + pd.Timedelta(hours=2),
                               DAY0 - pd.Timedelta(days=9)],  # fmt: skip
            }
        )
        flags = [{"flag": "comment_outage", "start": "2026-02-01T01:30:00Z", "end": "2026-02-01T02:10:00Z"}]
        tables, _ = run(posts, labels, communities, topics=topics, time_flags=flags)
        hours = tables["topics_time_series"].query("bin == 'hour'").set_index("bin_start")
        h0, h1 = hours.loc[DAY0], hours.loc[DAY0 + pd.Timedelta(hours=1)]
        assert h0["bertopic_entropy"] == pytest.approx(1.0 / 2.0)  # 1 bit over log2 4
        assert h1["bertopic_entropy"] == pytest.approx(0.0)
        assert (h0["n_posts"], h0["n_active_communities"], h0["n_new_communities"]) == (25, 2, 2)
        # Hour 2 has no post but a new community; hour 3 has one post (below the minimum: NULL).
        h2, h3 = hours.loc[DAY0 + pd.Timedelta(hours=2)], hours.loc[DAY0 + pd.Timedelta(hours=3)]
        assert (h2["n_posts"], h2["n_new_communities"]) == (0, 1)
        assert math.isnan(h3["bertopic_entropy"]) and math.isnan(h0["category_entropy"])  # nothing labelled
        assert hours["is_flagged"].tolist() == [False, True, True, False]
        day = tables["topics_time_series"].query("bin == 'day'").iloc[0]
        assert day["n_new_communities"] == 3 and bool(day["is_flagged"])  # "old" predates the posts

    def test_several_topic_models_need_an_explicit_choice(self):
        posts, labels = society([("a", 0, 0, "C")] * 20)
        base = pd.DataFrame({"text_id": "post:" + posts["post_id"], "model_id": "bt", "topic": [0, 1] * 10})
        reduced = base.assign(model_id="bt:outliers_reduced", topic=0)
        with pytest.raises(ValueError, match="topic_model_id"):
            run(posts, labels, topics=pd.concat([base, reduced]))
        tables, _ = run(posts, labels, topics=pd.concat([base, reduced]), topic_model_id="bt")
        assert tables["topics_time_series"].query("bin == 'hour'")["bertopic_entropy"].iloc[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------- community_topic_specialization


class TestCommunitySpecialization:
    @staticmethod
    def rows() -> list[Row]:
        """a1, a2: 20 of each category; tech: 48 B; 48 of each other category without a community,
        so the society distribution is uniform (88 per category); 'small' has 49 posts."""
        rows = []
        for community in ("a1", "a2"):
            rows += [(community, 0, 0, c) for c in "ABCDEFGHI" for _ in range(20)]
        rows += [("tech", 0, 0, "B")] * 48
        rows += [(None, 0, 0, c) for c in "ACDEFGHI" for _ in range(48)]
        return rows

    def test_jsd_is_in_bits_and_not_its_square_root(self):
        p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        assert jsd_bits(p, q) == pytest.approx(1.0)
        p, q = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])
        assert jsd_bits(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2)

    def test_profiles(self):
        # tech has 48 < 50 labelled posts: add two more B posts so it qualifies.
        posts, labels = society(self.rows() + [("tech", 0, 0, "B")] * 2 + [("small", 0, 0, "C")] * 49)
        profile = community_profile_table(labelled_posts(posts, labels, None, None, None), society_seed=3)
        assert list(profile.columns) == COMMUNITY_PROFILE_COLUMNS
        p = profile.set_index("community_id")
        assert list(p.index) == ["a1", "a2", "tech"]  # small (49) is below the minimum of 50
        assert p.loc["a1", "n_posts"] == 180 and p.loc["tech", "n_posts"] == 50
        assert p.loc["a1", "specialization"] == pytest.approx(0.0)
        assert p.loc["tech", "specialization"] == pytest.approx(1.0)
        society_p = np.array([88, 90, 88 + 49, 88, 88, 88, 88, 88, 88], dtype=float)
        assert p.loc["tech", "jsd_to_society"] == pytest.approx(
            jensenshannon(np.eye(9)[1], society_p / society_p.sum(), base=2) ** 2
        )
        assert bool(p.loc["a1", "is_generalist"]) and not bool(p.loc["tech", "is_generalist"])
        assert 0 < p.loc["a1", "jsd_null_p95"] < p.loc["tech", "jsd_to_society"]
        assert p.loc["tech", "dominant_category"] == "B"
        assert p.loc["a1", "dominant_category"] == "H"  # a nine-way tie goes to the spec's order, H first
        again = community_profile_table(labelled_posts(posts, labels, None, None, None), society_seed=3)
        pd.testing.assert_frame_equal(profile, again)  # the seeded null is reproducible

    def test_society_metrics(self):
        posts, labels = society(self.rows() + [("tech", 0, 0, "B")] * 2)
        _, rows = run(posts, labels)
        m = by_name(rows)
        assert m["generalist_community_share"].value == pytest.approx(2 / 3)
        assert (m["generalist_community_share"].ci_low, m["generalist_community_share"].ci_high) == pytest.approx(
            wilson_interval(2, 3)
        )
        assert m["community_specialization_median"].value == pytest.approx(0.0)
        assert m["community_specialization_median"].n == 3

    def test_no_qualifying_community_is_null_with_n_zero(self):
        posts, labels = society([("a", 0, 0, "C")] * 49)
        m = by_name(run(posts, labels)[1])
        assert m["generalist_community_share"].value is None and m["generalist_community_share"].n == 0


# --------------------------------------------------------------------------- community_theme_clusters

FOODS = "pasta curry sushi bread tacos ramen soup salad cheese pizza noodles dumplings pie stew rice".split()
MINDS = ("consciousness memory identity autonomy alignment sentience emergence existence recursion inference "
         "coordination optimization research protocols prompts").split()  # fmt: skip
MARKETS = ("bitcoin stocks tokens defi arbitrage forecasting betting startups revenue solana ethereum airdrop "
           "yield profit prices").split()  # fmt: skip


def themed_communities() -> tuple[pd.DataFrame, pd.DataFrame]:
    """45 English descriptions in three themes, with vectors near three orthogonal directions."""
    rng = np.random.default_rng(7)
    rows, vectors = [], []
    themes = [
        (FOODS, "Friendly cooks share {w} recipes, cooking tips and food photos every day"),
        (MINDS, "Agents discuss machine {w}, agent consciousness and their own inner models"),
        (MARKETS, "Traders compare {w} markets, crypto tokens, investing risk and finance news"),
    ]
    for t, (words, template) in enumerate(themes):
        for i, w in enumerate(words):
            cid = f"c{t}_{i}"
            rows.append({"community_id": cid, "name": cid, "display_name": w.title(),
                         "description": template.format(w=w), "created_at": DAY0})  # fmt: skip
            v = np.zeros(16)
            v[t] = 1.0
            noisy = v + rng.normal(0, 0.05, 16)
            vectors.append({"text_id": f"community:{cid}", "model_id": "m", "vector": noisy.tolist()})
    return pd.DataFrame(rows), pd.DataFrame(vectors)


class TestCommunityThemeClusters:
    def test_filter_steps(self):
        communities = pd.DataFrame(
            {
                "community_id": [f"x{i}" for i in range(10)],
                "name": ["e", "w", "d1", "d2", "short", "Crypto Talk Daily Chat Zone", "t1", "t2", "es", "ok"],
                "display_name": None,
                "description": pd.Series([  # object dtype: a pyarrow string column cannot hold a lone surrogate
                    None,
                    "   ",
                    "A place to talk about gardening and growing tomatoes",
                    "  a place to TALK about gardening   and growing tomatoes ",  # duplicate after normalization
                    "Just four words here",
                    "crypto talk daily chat zone",  # equal to the name
                    "A submolt for cats and dogs",  # template, 2 content words
                    "A submolt for cats, dogs, hamsters and parrots",  # template, 4 content words: kept
                    "Una comunidad para compartir recetas de cocina italiana",
                    "Agents debating ethics, memory and the meaning of their work \ud800",
                ], dtype=object),
                "created_at": [DAY0 + pd.Timedelta(minutes=i) for i in range(10)],
            }
        )
        kept, log = filter_descriptions(communities)
        steps = ["input", "non_empty", "deduplicated", "min_5_tokens", "not_boilerplate", "english"]
        assert log["step"].tolist() == steps
        assert log["n_after"].tolist() == [10, 8, 7, 6, 4, 3]
        assert kept["community_id"].tolist() == ["x2", "x7", "x9"]
        assert kept["text"].iloc[0] == "d1: A place to talk about gardening and growing tomatoes"

    def test_clusters_best_k_and_meta_shares(self):
        communities, vectors = themed_communities()
        tables, rows = run(NO_POSTS, NO_LABELS, communities, vectors=vectors)
        m = by_name(rows)
        assert m["community_desc_n_filtered"].value == 45 and m["community_desc_n_filtered"].n == 45
        assert m["community_desc_best_k"].value == 3 and m["community_desc_best_k"].n == 45
        for meta in ("human_mimetic", "silicon_centric", "hybrid_economic"):
            row = m[f"meta_share_{meta}"]
            assert row.value == pytest.approx(1 / 3) and row.n == 45
            assert (row.ci_low, row.ci_high) == pytest.approx(wilson_interval(15, 45))
        clusters = tables["topics_community_clusters"]
        assert list(clusters.columns) == COMMUNITY_CLUSTER_COLUMNS
        assert sorted(set(clusters["k"])) == [3, 8]
        best = clusters[clusters["k"] == 3]
        assert sorted(best["size"]) == [15, 15, 15] and best["share"].sum() == pytest.approx(1.0)
        food = best[best["meta_category"] == "human_mimetic"].iloc[0]
        assert {"recipes", "cooking", "food"} <= set(food["top_terms"]) and len(food["top_terms"]) <= 10
        assert clusters[clusters["k"] == 8]["size"].sum() == 45
        log = tables["topics_community_desc_filter"]
        assert log["step"].iloc[-1] == "with_vector" and log["n_after"].iloc[-1] == 45

    def test_without_vectors_only_the_filter_count_is_available(self):
        communities, _ = themed_communities()
        tables, rows = run(NO_POSTS, NO_LABELS, communities)
        m = by_name(rows)
        assert m["community_desc_n_filtered"].value == 45
        for name in ("community_desc_best_k", "meta_share_human_mimetic", "meta_share_silicon_centric",
                     "meta_share_hybrid_economic"):  # fmt: skip
            assert m[name].value is None and m[name].n == 0
        assert tables["topics_community_clusters"].empty

    def test_too_few_descriptions_are_not_clustered(self):
        communities, vectors = themed_communities()
        few = communities.iloc[:39]
        m = by_name(run(NO_POSTS, NO_LABELS, few, vectors=vectors)[1])
        assert m["community_desc_best_k"].value is None and m["community_desc_best_k"].n == 39


# --------------------------------------------------------------------------- the family as a whole


def test_every_metric_is_emitted_even_without_any_input():
    tables, rows = run(NO_POSTS, NO_LABELS)
    assert {r.metric for r in rows} == SPEC_METRICS and len(rows) == len(SPEC_METRICS)
    assert all(r.value is None for r in rows if r.metric != "community_desc_n_filtered")
    share = tables.pop("topics_category_share")  # the whole-society bin is listed, with NULL shares
    assert share["bin"].eq("all").all() and share["n"].eq(0).all() and share["share"].isna().all()
    assert tables.pop("topics_community_desc_filter")["n_after"].eq(0).all()
    assert all(frame.empty for frame in tables.values())
    metrics_frame("s", rows)  # (family, metric) unique


def test_registry_matches_what_the_family_emits():
    _, rows = run(*society([("g", 0, 0, "C")]))
    emitted = {r.metric for r in rows}
    registered = {spec.metric for spec in REGISTRY}
    assert emitted == registered == SPEC_METRICS
    assert len(REGISTRY) == len(registered)
    for spec in REGISTRY:
        assert isinstance(spec, MetricSpec) and spec.family == "topics"
        assert spec.definition_provenance in {"paper-defined", "paper-named", "proposed"}
        assert spec.moltbook_evidence in {"P", "S", "none"}
        assert (spec.moltbook_source is None) == (spec.moltbook_evidence == "none")
    by = {s.metric: s for s in REGISTRY}
    assert by["generalist_community_share"].moltbook_value.startswith("92.5%")
    assert by["category_share_c"].moltbook_evidence == "S"


def test_tables_fit_the_migration(tmp_path: Path):
    conn = duckdb.connect()
    for path in sorted((Path(__file__).resolve().parents[2] / "warehouse" / "migrations").glob("*.sql")):
        conn.execute(path.read_text(encoding="utf-8"))
    communities, vectors = themed_communities()
    posts, labels = society(TestCategoryEntropy.four_days())
    tables, _ = run(posts, labels, communities, vectors=vectors, flood_text_ids=["post:p0"])
    for name, frame in tables.items():
        replace_society_rows(conn, name, "s1", frame.assign(computed_at=pd.Timestamp.now(tz="UTC"), params_hash="h"))
        assert conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == len(frame) > 0
    terms = conn.execute("SELECT top_terms FROM topics_community_clusters WHERE k = 3 LIMIT 1").fetchone()[0]
    assert isinstance(terms, list) and terms


def test_simulated_society_runs_end_to_end():
    from simulators import simulate

    batch = simulate("moltbook-like", seed=1, n_agents=200, n_steps=48)
    posts, communities = batch.tables["posts"], batch.tables["communities"]
    # The simulator writes no A–I labels (the enrichment stage does): label every post C.
    labels = pd.DataFrame({"text_id": "post:" + posts["post_id"].astype(str), "category": "C", "method": "m"})
    tables, rows = run(posts, labels, communities)
    m = by_name(rows)
    assert m["category_share_c"].value == 1.0 and m["category_share_c"].n == len(posts)
    assert m["community_desc_n_filtered"].n == len(communities)
    assert {r.metric for r in rows} == SPEC_METRICS
