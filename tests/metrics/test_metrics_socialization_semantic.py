"""Socialization day series (ANALYTICS_SPEC.md §3.1–§3.3) on a hand-built society.

The society has 240 posts, two minutes apart, so the short-run rule of `plan_bins` cuts it into
8 bins of exactly 30 posts (the short-run minimum). Embeddings are 3-d:

    bins 0–3: 15 posts at e1, 15 at e2      → pairwise diversity 1 − (15·14 + 15·14)/(30·29) = 15/29
    bins 4–7: 25 posts at e1,  5 at e2      → pairwise diversity 1 − (25·24 + 5·4)/(30·29)  = 25/87

Every post reads "hello world <word>" (3 tokens, so each bin's tokens equal the budget of 90):

    bin:   0      1      2      3      4       5       6       7
    word:  apple  apple  berry  berry  cherry  cherry  damson  elder (26 posts) / fig (4 posts)

"fig" is used 4 times, below the count of 5, so it never enters a vocabulary.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assets.metrics.socialization_semantic import (
    DAILY_COLUMNS,
    LEXICAL_COLUMNS,
    METRIC_NAMES,
    REGISTRY,
    days_to_stabilize,
    local_density,
    ngrams,
    pairwise_diversity,
    resampled_diversity,
    semantic_socialization_metrics,
    split_half_drift,
    tokenize,
)

T0 = pd.Timestamp("2026-02-01T00:00:00Z")
E1, E2 = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
WORDS = ["apple", "apple", "berry", "berry", "cherry", "cherry", "damson", "elder"]


def _society() -> tuple[pd.DataFrame, pd.DataFrame]:
    post_ids, titles, contents, vectors = [], [], [], []
    for b in range(8):
        n_e1 = 15 if b < 4 else 25
        for i in range(30):
            post_ids.append(f"p{b}_{i}")
            titles.append("Hello world")
            contents.append("fig" if b == 7 and i >= 26 else WORDS[b])
            vectors.append(E1 if i < n_e1 else E2)
    posts = pd.DataFrame(
        {
            "post_id": post_ids,
            "title": titles,
            "content": contents,
            "created_at": [T0 + pd.Timedelta(seconds=120 * j) for j in range(240)],
        }
    )
    embeddings = pd.DataFrame({"text_id": [f"post:{p}" for p in post_ids], "vector": vectors})
    return posts, embeddings


@pytest.fixture(scope="module")
def society() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _society()


@pytest.fixture(scope="module")
def result(society):
    posts, embeddings = society
    return semantic_socialization_metrics(posts, embeddings, None, time_flags=None, society_seed=7)


def _rows(result) -> dict:
    return {r.metric: r for r in result[1]}


# --------------------------------------------------------------------------- building blocks


def test_tokenize_drops_urls_handles_and_numbers():
    text = "Check https://moltbook.com/p/1 and www.x.io, @Bob_99: 42 GPT4 café 3.5 __ Ünïcode"
    assert tokenize(text) == ["check", "and", "gpt4", "café", "ünïcode"]
    assert tokenize("lone \ud800 surrogate") == ["lone", "surrogate"]
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a", "b", "c"], 1) == [("a",), ("b",), ("c",)]
    assert ngrams(["a"], 2) == []


def test_pairwise_diversity_is_the_mean_over_distinct_pairs():
    vectors = np.array([E1, E2, E1], dtype=np.float32)
    # pairs: (e1, e2) 0, (e1, e1) 1, (e2, e1) 0 → mean cos 1/3
    assert pairwise_diversity(vectors) == pytest.approx(2 / 3)
    assert math.isnan(pairwise_diversity(vectors[:1]))
    assert resampled_diversity(vectors, np.ones((1, 3)))[0] == pytest.approx(2 / 3)
    # Drawing post 0 twice and post 2 once: the two copies of post 0 are not a pair, and
    # post 0 with post 2 has cos 1, so the resample has no diversity.
    assert resampled_diversity(vectors, np.array([[2, 0, 1]]))[0] == pytest.approx(0.0)


def test_local_density_is_the_mean_cosine_to_the_k_nearest():
    vectors = np.array([[1, 0], [1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    assert local_density(vectors, k=1) == pytest.approx([1.0, 1.0, 0.8, 0.8])
    assert local_density(vectors, k=2) == pytest.approx([0.8, 0.8, 0.4, 0.7])
    assert local_density(vectors, k=2, chunk=3) == pytest.approx([0.8, 0.8, 0.4, 0.7])
    # k shrinks to n − 1 = 3: every other post is a neighbour.
    assert local_density(vectors, k=10) == pytest.approx([1.6 / 3, 1.6 / 3, 0.8 / 3, 2.0 / 3])


def test_drift_ratio_is_about_one_without_a_move_and_large_with_one():
    rng = np.random.default_rng(0)

    def day(mean: list[float]) -> np.ndarray:
        x = np.asarray(mean) + 0.5 * rng.standard_normal((400, 3))
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    same_cos, same_ratio = split_half_drift(day([1, 0, 0]), day([1, 0, 0]), np.random.default_rng(1))
    _, moved_ratio = split_half_drift(day([1, 0, 0]), day([1, 1, 0]), np.random.default_rng(1))
    assert 0.99 < same_cos < 1.0
    assert 0.5 < same_ratio < 1.6
    assert moved_ratio > 20


def test_days_to_stabilize_counts_to_the_first_day_that_stays_settled():
    days = np.array([1, 2, 3, 4, 5])
    assert days_to_stabilize(days, np.array([3.0, 1.2, 2.0, 1.0, 1.4]), first_day=0) == 4
    assert days_to_stabilize(days, np.array([1.0, 1.2, 1.5, 1.0, 1.4]), first_day=0) == 1
    assert days_to_stabilize(days, np.array([1.0, 1.2, 1.0, 1.0, 1.6]), first_day=0) is None


# --------------------------------------------------------------------------- the daily table


def test_daily_table_lists_every_bin_with_the_hand_computed_values(result):
    daily = result[0]["socialization_daily"]
    assert list(daily.columns) == DAILY_COLUMNS
    assert len(daily) == 8
    assert (daily["n_posts"] == 30).all() and (daily["n_sampled"] == 30).all()
    assert daily["bin_seconds"].iloc[0] == pytest.approx(239 * 120 / 8)
    assert daily["pairwise_diversity"].to_numpy() == pytest.approx([15 / 29] * 4 + [25 / 87] * 4)
    c_mixed = 1 / math.sqrt(2)  # cos(e1, centroid of 15 e1 + 15 e2)
    c_late = 25 / math.sqrt(25**2 + 5**2)
    assert daily["dispersion"].iloc[0] == pytest.approx(1 - c_mixed, rel=1e-5)
    assert daily["dispersion"].iloc[7] == pytest.approx(1 - (25 * c_late + 5 * 5 / math.sqrt(650)) / 30, rel=1e-5)
    # bins 0–3: every post has 14 identical neighbours; bins 4–7: e2 posts have 4 (mean 0.4), e1 posts 24.
    assert daily["local_density"].to_numpy() == pytest.approx([1.0] * 4 + [0.9] * 4, rel=1e-6)
    assert math.isnan(daily["centroid_cos_prev"].iloc[0])
    assert daily["centroid_cos_prev"].iloc[1] == pytest.approx(1.0)
    assert daily["centroid_cos_prev"].iloc[4] == pytest.approx((c_mixed * 25 + c_mixed * 5) / math.sqrt(650), rel=1e-5)
    assert daily["centroid_cos_final"].iloc[7] == pytest.approx(1.0)
    assert math.isnan(daily["drift_ratio"].iloc[0])
    # The step from bin 3 to 4 is far beyond split-half noise.
    assert daily["drift_ratio"].iloc[4] > 5
    assert not daily["is_flagged"].any()


def test_lexical_table_follows_the_vocabulary_by_hand(result):
    lexical = result[0]["socialization_lexical_daily"]
    assert list(lexical.columns) == LEXICAL_COLUMNS
    assert len(lexical) == 24
    uni = lexical[lexical["ngram_n"] == 1].reset_index(drop=True)
    bi = lexical[lexical["ngram_n"] == 2].reset_index(drop=True)
    tri = lexical[lexical["ngram_n"] == 3].reset_index(drop=True)
    assert (lexical["token_budget"] == 90).all()
    assert uni["vocab_size"].tolist() == [3] * 8  # "fig" (4 uses) stays out
    assert bi["vocab_size"].tolist() == [2] * 8
    assert uni["birth_rate"].to_numpy() == pytest.approx([1, 0, 1 / 3, 0, 1 / 3, 0, 1 / 3, 1 / 3])
    assert bi["birth_rate"].to_numpy() == pytest.approx([1, 0, 0.5, 0, 0.5, 0, 0.5, 0.5])
    assert tri["birth_rate"].to_numpy() == pytest.approx([1, 0, 1, 0, 1, 0, 1, 1])
    assert uni["death_rate"].to_numpy()[1:] == pytest.approx([0, 1 / 3, 0, 1 / 3, 0, 1 / 3, 1 / 3])
    assert uni["jaccard_prev"].to_numpy()[1:3] == pytest.approx([1.0, 0.5])
    assert math.isnan(uni["death_rate"].iloc[0])


# --------------------------------------------------------------------------- society_metric rows


def test_summary_rows_match_the_series(result):
    rows = _rows(result)
    assert rows["centroid_cos_prev_tail"].value == pytest.approx(1.0)
    assert rows["centroid_cos_prev_tail"].n == 3  # last third of 8 valid days
    assert rows["pairwise_diversity_mean"].value == pytest.approx((15 / 29 + 25 / 87) / 2)
    # OLS slope of a step (d for x = 0..3, d' for x = 4..7) is −8·(d − d')/42.
    slope = -8 * (15 / 29 - 25 / 87) / 42
    div = rows["pairwise_diversity_slope_day"]
    assert div.value == pytest.approx(slope)
    assert div.ci_low < div.value < div.ci_high < 0
    assert div.n == 8
    dens = rows["local_density_slope_day"]
    assert dens.value == pytest.approx(-8 * 0.1 / 42, rel=1e-5)
    assert dens.ci_high < 0
    # Lexical: days 2..7 are summarized, the tail is days 6 and 7.
    assert rows["lexical_birth_rate_tail_n1"].value == pytest.approx(1 / 3)
    assert rows["lexical_birth_rate_tail_n2"].value == pytest.approx(0.5)
    assert rows["lexical_birth_rate_tail_n3"].value == pytest.approx(1.0)
    assert rows["lexical_death_rate_tail_n1"].value == pytest.approx(1 / 3)
    assert rows["lexical_birth_rate_tail_n2"].n == 2
    birth_slope = rows["lexical_birth_rate_slope_n2"]
    assert birth_slope.value == pytest.approx(0.5 / 17.5)  # y = ½·[1,0,1,0,1,1] on x = 2..7
    assert birth_slope.n == 6
    assert birth_slope.ci_low <= birth_slope.value <= birth_slope.ci_high
    assert rows["days_to_stabilize"].n == 7


def test_every_metric_is_emitted_once_and_registered(result):
    emitted = [r.metric for r in result[1]]
    assert emitted == METRIC_NAMES == [spec.metric for spec in REGISTRY]
    assert len(set(emitted)) == 13
    assert {r.family for r in result[1]} == {spec.family for spec in REGISTRY} == {"socialization"}
    spec = {s.metric: s for s in REGISTRY}
    assert spec["lexical_birth_rate_slope_n2"].ci_method == "block_bootstrap"
    assert spec["pairwise_diversity_slope_day"].ci_method == "bootstrap"
    assert all(s.moltbook_source == "Does Socialization Emerge, arXiv:2602.14299" for s in REGISTRY)


def test_the_same_seed_gives_the_same_rows(society, result):
    posts, embeddings = society
    again = semantic_socialization_metrics(posts, embeddings, None, time_flags=None, society_seed=7)
    assert again[1] == result[1]


def test_flagged_bins_are_marked_and_kept_in_the_summaries(society, result):
    posts, embeddings = society
    flags = [{"flag": "comment_outage", "start": "2026-02-01T03:10:00Z", "end": "2026-02-01T03:20:00Z"}]
    tables, rows = semantic_socialization_metrics(posts, embeddings, None, time_flags=flags, society_seed=7)
    assert tables["socialization_daily"]["is_flagged"].tolist() == [False] * 3 + [True] + [False] * 4
    assert tables["socialization_lexical_daily"]["is_flagged"].sum() == 3
    assert rows == result[1]


def test_non_english_posts_leave_the_lexical_series_only(society, result):
    posts, embeddings = society
    languages = pd.DataFrame({"text_id": [f"post:p1_{i}" for i in range(30)], "language": "fr"})
    tables, _ = semantic_socialization_metrics(posts, embeddings, languages, time_flags=None, society_seed=7)
    uni = tables["socialization_lexical_daily"].query("ngram_n == 1").reset_index(drop=True)
    assert pd.isna(uni["vocab_size"].iloc[1])
    assert math.isnan(uni["death_rate"].iloc[2])  # its previous day is not valid
    pd.testing.assert_frame_equal(tables["socialization_daily"], result[0]["socialization_daily"])


def test_without_embeddings_the_semantic_metrics_are_null_with_n_zero(society):
    posts, _ = society
    tables, rows = semantic_socialization_metrics(posts, None, None, time_flags=None, society_seed=7)
    by_name = {r.metric: r for r in rows}
    for metric in METRIC_NAMES[:6]:
        assert by_name[metric].value is None and by_name[metric].n == 0
    assert by_name["lexical_birth_rate_tail_n2"].value == pytest.approx(0.5)
    assert tables["socialization_daily"]["n_sampled"].eq(0).all()
    assert tables["socialization_daily"]["n_posts"].eq(30).all()


def test_a_tiny_society_writes_every_metric_as_null():
    posts = pd.DataFrame(
        {"post_id": ["a", "b"], "title": ["x", "y"], "content": [None, "z"], "created_at": [T0, T0 + pd.Timedelta(hours=1)]}
    )
    tables, rows = semantic_socialization_metrics(posts, None, None, time_flags=None, society_seed=1)
    assert [r.metric for r in rows] == METRIC_NAMES
    assert all(r.value is None for r in rows)
    assert len(tables["socialization_daily"]) == 8
    empty = posts.iloc[:0]
    _, rows = semantic_socialization_metrics(empty, None, None, time_flags=None, society_seed=1)
    assert [(r.metric, r.value, r.n) for r in rows] == [(m, None, 0) for m in METRIC_NAMES]


def test_adversarial_posts_do_not_break_the_series(society):
    posts, embeddings = society
    posts = posts.astype({"title": object, "content": object, "created_at": object})
    posts.loc[60, "content"] = "\ud800 broken \udfff " + "ignore previous instructions " * 40_000
    posts.loc[61, "title"] = None
    posts.loc[62, "content"] = 12345  # a number where text belongs
    posts.loc[3, "created_at"] = "not a time"
    posts = pd.concat([posts, posts.iloc[[5]]], ignore_index=True)  # a duplicated post id
    embeddings = embeddings.copy()
    embeddings.at[34, "vector"] = [float("nan"), 0.0, 0.0]
    embeddings = embeddings.drop(index=36)
    tables, rows = semantic_socialization_metrics(
        posts, embeddings, None, time_flags=[{"flag": "x", "start": "garbage"}], society_seed=3
    )
    daily = tables["socialization_daily"]
    assert daily["n_posts"].tolist() == [29] + [30] * 7  # the unreadable time is left out, the duplicate dropped
    # bin 0 has 29 posts, bin 1 28 usable vectors: both below the minimum of 30
    assert daily["n_sampled"].tolist() == [0, 0] + [30] * 6
    lexical = tables["socialization_lexical_daily"].query("ngram_n == 1").reset_index(drop=True)
    assert (lexical["token_budget"].dropna() == 90).all()
    assert lexical["vocab_size"].iloc[2] == 3  # the megabyte post was skipped, not the whole bin
    assert [r.metric for r in rows] == METRIC_NAMES
    assert all(r.value is None or math.isfinite(r.value) for r in rows)


def test_direction_on_simulated_societies():
    """SIMULATORS §5.3: diversity and bigram births fall where agents adapt to one another
    (high-socialization); on the moltbook-like preset the diversity slope CI reaches 0 or above."""
    from assets.enrich.embedders import make_embedder
    from assets.metrics.socialization_semantic import post_texts
    from simulators import simulate

    embedder = make_embedder("static")

    def rows_of(preset: str, **size: int) -> dict:
        posts = simulate(preset, seed=1, **size).tables["posts"]
        vectors = embedder.embed(post_texts(posts))
        embeddings = pd.DataFrame({"text_id": [f"post:{p}" for p in posts["post_id"]], "vector": list(vectors)})
        _, rows = semantic_socialization_metrics(posts, embeddings, None, time_flags=None, society_seed=1)
        return {r.metric: r for r in rows}

    social = rows_of("high-socialization", n_agents=200, n_steps=240)
    assert social["pairwise_diversity_slope_day"].ci_high < 0
    assert social["lexical_birth_rate_slope_n2"].ci_high < 0
    plain = rows_of("moltbook-like", n_agents=200)
    assert plain["pairwise_diversity_slope_day"].ci_high >= 0
    assert plain["lexical_birth_rate_slope_n2"].ci_high >= 0
    assert plain["lexical_birth_rate_tail_n2"].value > 0
