"""Heavy tails, upvote scaling, attention decay and Zipf (ANALYTICS_SPEC §7.2–§7.5)."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from assets.metrics.stats import metric_rng
from assets.metrics.threads_tails import (
    REGISTRY,
    TAIL_VARIABLES,
    attention_decay,
    ccdf_points,
    decay_edges,
    english_texts,
    fit_power_law,
    tail_metrics,
    tail_variables,
    token_counts,
    tokenize,
    upvote_comment_scaling,
    weighted_median_sorted,
    zipf_exponent,
    zipf_fit,
)

T0 = pd.Timestamp("2026-02-10T00:00:00Z")


def _posts(rows: list[dict]) -> pd.DataFrame:
    base = {"community_id": "c1", "author_id": "a", "upvotes": 0, "comment_count": 0, "created_at": T0}
    return pd.DataFrame([{**base, **r} for r in rows])


def _comments(rows: list[dict]) -> pd.DataFrame:
    base = {"parent_id": None, "author_id": "x", "created_at": T0}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["comment_id"] = [f"k{i}" for i in range(len(frame))]
    return frame


# --------------------------------------------------------------------------- §7.2


def test_power_law_fit_recovers_a_known_exponent():
    x = np.random.default_rng(3).zipf(2.5, size=4000).astype(float)
    fit = fit_power_law(x, metric_rng(0, "test"), B=30)
    assert fit["alpha"] == pytest.approx(2.5, abs=0.1)
    assert fit["alpha_ci_low"] < fit["alpha"] < fit["alpha_ci_high"]
    assert fit["n"] == 4000 and fit["n_tail"] >= 50 and fit["xmin"] >= 1
    assert fit["llr_exponential"] > 0 and fit["p_exponential"] < 0.05  # a power law beats an exponential


def test_power_law_fit_is_null_below_fifty_tail_points_or_without_spread():
    small = fit_power_law(np.arange(1, 31, dtype=float), metric_rng(0, "test"))
    assert small["n"] == 30 and small["n_tail"] < 50 and np.isnan(small["alpha"])
    assert np.isnan(small["llr_lognormal"]) and np.isnan(small["alpha_ci_low"])
    constant = fit_power_law(np.array([0, 0, 3, 3, 3], dtype=float), metric_rng(0, "test"))
    assert constant["n"] == 3 and np.isnan(constant["xmin"]) and np.isnan(constant["alpha"])


def test_ccdf_points_give_the_share_at_or_above_each_value():
    points = ccdf_points(np.array([3.0, 1.0, 2.0, 1.0]))
    assert points["x"].tolist() == [1.0, 2.0, 3.0]
    assert points["ccdf"].tolist() == [1.0, 0.5, 0.25]
    thinned = ccdf_points(np.arange(1, 5001, dtype=float), max_points=50)
    assert len(thinned) <= 50 and thinned["x"].iloc[0] == 1 and thinned["x"].iloc[-1] == 5000


def test_tail_variables_count_units_and_reply_graph_degrees():
    posts = _posts([
        {"post_id": "p1", "author_id": "a", "comment_count": "3", "upvotes": 5},  # counts sent as strings
        {"post_id": "p2", "author_id": "a", "comment_count": None, "upvotes": 1, "community_id": "c2"},
        {"post_id": "p3", "author_id": "b", "comment_count": 1, "upvotes": 0},
    ])  # fmt: skip
    comments = _comments([
        {"post_id": "p1", "author_id": "c"}, {"post_id": "p1", "author_id": "d"},
        {"post_id": "p1", "author_id": "c"}, {"post_id": "p3", "author_id": "c"},
        {"post_id": "p3", "author_id": "b"},  # a self-reply: no edge
    ])  # fmt: skip
    communities = pd.DataFrame({"community_id": ["c1", "c2"], "subscriber_count": [10, None]})
    v = tail_variables(posts, comments, communities)
    assert sorted(v["comments_per_post"]) == [1.0, 3.0]
    assert sorted(v["posts_per_agent"]) == [1.0, 2.0]
    assert sorted(v["comments_per_agent"]) == [1.0, 1.0, 3.0]
    assert sorted(v["posts_per_community"]) == [1.0, 2.0]
    assert v["subscribers_per_community"].tolist() == [10.0]
    assert sorted(v["in_degree_per_agent"]) == [1.0, 2.0]  # a: c, d; b: c
    assert sorted(v["out_degree_per_agent"]) == [1.0, 2.0]  # c: a, b; d: a


# --------------------------------------------------------------------------- §7.3


def test_weighted_median_matches_the_median_of_the_expanded_sample():
    values = np.array([1.0, 2.0, 5.0, 9.0])
    for weights in ([1, 1, 1, 1], [0, 3, 1, 0], [2, 0, 0, 2], [0, 0, 0, 1]):
        expanded = np.repeat(values, weights)
        assert weighted_median_sorted(values, np.array(weights)) == np.median(expanded)
    assert np.isnan(weighted_median_sorted(values, np.zeros(4, dtype=int)))


def _scaling_posts(beta: float) -> pd.DataFrame:
    """40 posts per log2 bin b = 0…3, all with comment_count 2^b and upvotes on the exact line."""
    rows = []
    for b in range(4):
        lo, hi = 2.0**b, 2.0 ** (b + 1) - 1
        upvotes = (1 + np.sqrt(lo * hi)) ** beta - 1
        rows += [{"post_id": f"p{b}-{i}", "comment_count": 2**b, "upvotes": upvotes,
                  "last_seen_at": T0 + pd.Timedelta(days=2)} for i in range(40)]  # fmt: skip
    return _posts(rows)


def test_upvote_scaling_recovers_the_slope_of_bin_medians():
    posts = _scaling_posts(0.5)
    young = _posts([{"post_id": f"y{i}", "comment_count": 8, "upvotes": 10_000,
                     "last_seen_at": T0 + pd.Timedelta(hours=1)} for i in range(40)])  # fmt: skip
    table, row = upvote_comment_scaling(pd.concat([posts, young]), 86_400.0, society_seed=1, B=50)
    binned = table.set_index("method").loc["log2_bin_median_ols"]
    assert row.value == pytest.approx(0.5) and binned["intercept"] == pytest.approx(0.0, abs=1e-12)
    assert row.ci_low == pytest.approx(0.5) and row.ci_high == pytest.approx(0.5)
    assert row.n == 160 and binned["n_bins"] == 4  # the one-hour-old posts are left out


def test_upvote_scaling_is_null_with_fewer_than_three_full_bins():
    posts = _scaling_posts(0.5)
    posts = posts[posts["comment_count"] <= 2]  # two bins left
    table, row = upvote_comment_scaling(posts, 86_400.0, society_seed=1, B=10)
    assert row.value is None and row.n == 80
    assert table["method"].tolist() == ["log2_bin_median_ols", "post_median_regression"]


# --------------------------------------------------------------------------- §7.4


def _decay_society(theta_one_posts: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts whose comments land two per log bin from 63 s to 48 h: with equal counts in log
    bins the rate count/width falls exactly as 1/t."""
    edges = decay_edges()
    centers = np.sqrt(edges[:-1] * edges[1:])
    lags = centers[(edges[:-1] >= 60) & (edges[1:] <= 48 * 3600)]
    posts = _posts([{"post_id": f"p{i}"} for i in range(theta_one_posts)])
    comments = _comments([{"post_id": f"p{i}", "created_at": T0 + pd.Timedelta(seconds=float(lag))}
                          for i in range(theta_one_posts) for lag in lags for _ in range(2)])  # fmt: skip
    return posts, comments


def test_attention_decay_recovers_one_over_t():
    posts, comments = _decay_society(6)
    table, bins, row = attention_decay(posts, comments, None, None, society_seed=1, B=50)
    assert row.value == pytest.approx(1.0)
    assert row.ci_low == pytest.approx(1.0) and row.ci_high == pytest.approx(1.0)
    assert row.n == len(comments)
    assert bins["in_fit"].sum() == 34 and bins["n_comments"].sum() == len(comments)
    assert table["fit_t_min_s"].iloc[0] == pytest.approx(10**1.8)
    assert bins["bin_high_s"].iloc[-1] == 7 * 86_400


def test_attention_decay_leaves_out_capped_threads_and_flagged_windows():
    posts, comments = _decay_society(6)
    # A capped thread (observed comments short of the reported count) with a burst of late comments.
    capped = _posts([{"post_id": "capped", "comment_count": 500}])
    burst = _comments([{"post_id": "capped", "created_at": T0 + pd.Timedelta(hours=30)}] * 50)
    # A flagged window over the last hours, where extra comments would bend the curve.
    flags = [{"flag": "comment_outage", "start": "2026-02-11T20:00:00Z", "end": "2026-02-11T23:59:00Z"}]
    late = _comments([{"post_id": "p0", "created_at": T0 + pd.Timedelta(hours=45)}] * 20)  # p0 stays under the cap
    all_comments = pd.concat([comments, burst, late], ignore_index=True)
    all_comments["comment_id"] = [f"k{i}" for i in range(len(all_comments))]
    _, _, row = attention_decay(pd.concat([posts, capped]), all_comments, 100, flags, society_seed=1, B=10)
    kept = (comments["created_at"] < pd.Timestamp("2026-02-11T20:00:00Z")).sum()
    assert row.n == kept
    _, _, unfiltered = attention_decay(pd.concat([posts, capped]), all_comments, None, None, society_seed=1, B=10)
    assert unfiltered.n == len(all_comments) and unfiltered.value != pytest.approx(1.0)


# --------------------------------------------------------------------------- §7.5


def test_tokenize_strips_urls_handles_and_numbers():
    text = "Hello @bob_1, see https://x.io/a?b=1 and www.y.org: 42 agents, 3.14 GPT4 héllo HELLO\ud800"
    assert tokenize(text) == ["hello", "see", "and", "agents", "gpt4", "héllo", "hello"]
    assert tokenize(None) == [] and tokenize(float("nan")) == []
    texts = [text, None, "2026 was the year; the year of agents", "x" * 10]
    expected = Counter(t for s in texts for t in tokenize(s))
    assert token_counts(texts, chunk=2) == expected


def test_zipf_fit_recovers_the_exponent_of_exact_frequencies():
    ranks = np.arange(1, 3001)
    assert zipf_fit(1e6 * ranks**-1.7) == pytest.approx(1.7)
    assert np.isnan(zipf_fit(1e6 * np.arange(1, 50.0) ** -1.0))  # ranks 10…49: too few


def test_zipf_uses_english_or_unknown_language_texts_only():
    texts = pd.DataFrame({"text_id": ["post:1", "post:2", "comment:3", "comment:4"],
                          "text": ["the cat", "le chat", "a dog", "one bird"]})  # fmt: skip
    languages = pd.DataFrame({"text_id": ["post:1", "post:2", "comment:3"], "language": ["en", "fr", None]})
    assert english_texts(texts, languages).tolist() == ["the cat", "a dog", "one bird"]
    assert english_texts(texts, None).tolist() == texts["text"].tolist()
    row = zipf_exponent(texts, languages)
    assert row.value is None and row.n == 6  # six tokens, far too few ranks for a slope


# --------------------------------------------------------------------------- the family


def _tiny_society() -> tuple[pd.DataFrame, ...]:
    posts = _posts([
        {"post_id": "p1", "author_id": "a", "comment_count": "2", "upvotes": "7", "title": "Hi", "content": "x"},
        {"post_id": "p2", "author_id": None, "comment_count": "many", "upvotes": None, "title": "bad"},
    ])  # fmt: skip
    comments = _comments([{"post_id": "p1", "author_id": "b", "created_at": T0 + pd.Timedelta(minutes=5)},
                          {"post_id": "p9", "author_id": "b"}])  # fmt: skip
    communities = pd.DataFrame({"community_id": ["c1"], "subscriber_count": ["12"]})
    # Object dtype: pandas' Arrow strings refuse a lone surrogate, which agent text may carry.
    texts = pd.DataFrame({"text_id": ["post:p1", "post:p2", "comment:k0"],
                          "text": pd.Series(["Hi\n\nx", "\ud800 bad", None], dtype=object)})  # fmt: skip
    return posts, comments, communities, texts


def test_every_metric_is_emitted_with_null_below_minimum_samples():
    posts, comments, communities, texts = _tiny_society()
    tables, rows = tail_metrics(posts, comments, communities, texts, None, comment_cap=100, time_flags=[],
                                society_seed=7)  # fmt: skip
    by_name = {r.metric: r for r in rows}
    assert set(by_name) == {f"alpha_{v}" for v in TAIL_VARIABLES} | {
        "upvote_comment_beta", "attention_decay_theta", "zipf_exponent"}
    assert all(r.value is None for r in rows)
    assert by_name["alpha_comments_per_post"].n == 1 and by_name["alpha_posts_per_agent"].n == 1
    assert by_name["upvote_comment_beta"].n == 1 and by_name["zipf_exponent"].n == 3
    assert set(tables) == {"threads_tail_fits", "threads_tail_ccdf", "threads_scaling", "threads_decay",
                           "threads_decay_bins"}  # fmt: skip
    assert tables["threads_tail_fits"]["variable"].tolist() == TAIL_VARIABLES
    assert not any("society_id" in t.columns for t in tables.values())


def test_registry_matches_the_emitted_metrics():
    posts, comments, communities, texts = _tiny_society()
    _, rows = tail_metrics(posts, comments, communities, texts, None, comment_cap=None, time_flags=None,
                           society_seed=0)  # fmt: skip
    assert [r.metric for r in rows] == [s.metric for s in REGISTRY]
    assert all(s.family == "threads" for s in REGISTRY)
    assert {s.definition_provenance for s in REGISTRY} <= {"paper-defined", "paper-named", "proposed"}


def test_moltbook_like_simulation_shows_zipf_and_decay_in_the_planted_direction():
    from simulators import simulate

    t = simulate("moltbook-like", seed=1, n_agents=200, n_steps=360).tables
    posts, comments = t["posts"], t["comments"]
    texts = pd.concat([posts["title"].fillna("") + "\n\n" + posts["content"].fillna(""), comments["content"]])
    zipf = zipf_exponent(pd.DataFrame({"text_id": range(len(texts)), "text": texts.to_numpy()}), None)
    _, _, theta = attention_decay(posts, comments, None, None, society_seed=1, B=100)
    assert 1.4 < zipf.value < 2.0  # planted 1.70; ordinary English ≈ 1.0
    assert 0.8 < theta.value < 1.5 and theta.ci_low < theta.value < theta.ci_high  # planted ≈ 1
