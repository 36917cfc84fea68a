"""Shared statistics (ANALYTICS_SPEC.md §0.5) and the society_metric row type (§8.1)."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd
import pytest

from assets.metrics.stats import (
    SOCIETY_METRIC_COLUMNS,
    MetricRow,
    bootstrap_ci,
    bootstrap_mean_ci,
    bootstrap_ratio_ci,
    gini,
    hhi,
    hhi_norm,
    item_bootstrap_ci,
    metric_rng,
    metric_row,
    metrics_frame,
    top_k_share,
    top_pct_share,
    wilson_interval,
)


class TestGini:
    def test_one_holder_among_four_follows_the_formula(self):
        # sorted [0,0,0,10]: 2·(4·10)/(4·10) − 5/4 = 0.75 (zeros count, so not 1.0)
        assert gini([0, 0, 0, 10]) == pytest.approx(0.75)

    def test_equal_values_give_zero(self):
        assert gini([5, 5, 5, 5]) == pytest.approx(0.0)

    def test_small_example(self):
        # sorted [1,2,3,4]: 2·30/(4·10) − 5/4 = 0.25
        assert gini([4, 1, 3, 2]) == pytest.approx(0.25)

    def test_order_and_scale_do_not_matter(self):
        assert gini([3, 0, 7, 1]) == pytest.approx(gini([10, 70, 0, 30]))

    def test_empty_or_all_zero_is_nan(self):
        assert math.isnan(gini([]))
        assert math.isnan(gini([0, 0, 0]))

    def test_nan_or_negative_input_is_refused(self):
        with pytest.raises(ValueError):
            gini([1.0, float("nan")])
        with pytest.raises(ValueError):
            gini([1.0, -1.0])


class TestConcentration:
    def test_hhi_of_equal_shares_is_one_over_n_and_normalizes_to_zero(self):
        assert hhi([1, 1, 1, 1]) == pytest.approx(0.25)
        assert hhi_norm([1, 1, 1, 1]) == pytest.approx(0.0)

    def test_single_holder_normalizes_to_one(self):
        assert hhi([0, 0, 0, 10]) == pytest.approx(1.0)
        assert hhi_norm([0, 0, 0, 10]) == pytest.approx(1.0)

    def test_hhi_norm_of_three_to_one(self):
        # shares .75/.25: hhi = .625, hhi_norm = (.625 − .5)/(1 − .5) = .25
        assert hhi([3, 1]) == pytest.approx(0.625)
        assert hhi_norm([3, 1]) == pytest.approx(0.25)

    def test_hhi_norm_is_undefined_for_one_unit(self):
        assert math.isnan(hhi_norm([7]))

    def test_top_k_share(self):
        x = [5, 1, 1, 1, 2]
        assert top_k_share(x, 1) == pytest.approx(0.5)
        assert top_k_share(x, 2) == pytest.approx(0.7)
        assert top_k_share(x, 10) == 1.0
        assert math.isnan(top_k_share([0, 0], 1))

    def test_top_pct_share_takes_ceil_of_n_times_pct(self):
        x = [10, 10] + [1] * 198  # 200 units: the top 1 % is 2 units
        assert top_pct_share(x, 1) == pytest.approx(20 / 218)
        assert top_pct_share([4, 1, 0], 1) == pytest.approx(0.8)  # at least one unit


class TestIntervals:
    def test_wilson_known_value(self):
        low, high = wilson_interval(5, 10)
        assert low == pytest.approx(0.2366, abs=1e-4)
        assert high == pytest.approx(0.7634, abs=1e-4)

    def test_wilson_edges(self):
        assert wilson_interval(0, 20)[0] == 0.0
        assert wilson_interval(20, 20)[1] == 1.0
        assert all(math.isnan(v) for v in wilson_interval(0, 0))

    def test_metric_rng_is_the_documented_construction(self):
        expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, zlib.crc32(b"mean_max_depth")])))
        assert metric_rng(7, "mean_max_depth").random(5).tolist() == expected.random(5).tolist()

    def test_metric_rng_separates_metrics_and_societies(self):
        a = metric_rng(7, "mean_max_depth").random(3)
        assert a.tolist() == metric_rng(7, "mean_max_depth").random(3).tolist()
        assert a.tolist() != metric_rng(7, "mean_max_width").random(3).tolist()
        assert a.tolist() != metric_rng(8, "mean_max_depth").random(3).tolist()

    def test_bootstrap_mean_ci_is_reproducible_and_brackets_the_mean(self):
        values = np.arange(1.0, 51.0)
        ci1 = bootstrap_mean_ci(values, metric_rng(1, "m"), B=500)
        ci2 = bootstrap_mean_ci(values, metric_rng(1, "m"), B=500)
        assert ci1 == ci2
        assert ci1[0] < values.mean() < ci1[1]

    def test_bootstrap_of_a_constant_is_degenerate(self):
        assert bootstrap_mean_ci([3.0, 3.0, 3.0], metric_rng(0, "m"), B=50) == (3.0, 3.0)
        assert all(math.isnan(v) for v in bootstrap_mean_ci([], metric_rng(0, "m"), B=50))

    def test_ratio_ci_resamples_units(self):
        # every unit has share 1/2, so every resample does too
        assert bootstrap_ratio_ci([1, 2, 3], [2, 4, 6], metric_rng(0, "r"), B=50) == (0.5, 0.5)


class TestSocietyMetricRows:
    def test_nan_value_becomes_null_and_drops_its_ci(self):
        row = MetricRow("threads", "mean_max_depth", float("nan"), 1.0, 2.0, 3)
        assert (row.value, row.ci_low, row.ci_high, row.n) == (None, None, None, 3)

    def test_frame_keeps_null_rows_with_their_n(self):
        rows = [
            metric_row("threads", "mean_max_depth", 1.5, (1.0, 2.0), 2),
            metric_row("threads", "flat_thread_share", None, None, 0),
        ]
        at = pd.Timestamp("2026-02-01T12:00:00Z")
        df = metrics_frame("sim-a-1", rows, computed_at=at)
        assert list(df.columns) == SOCIETY_METRIC_COLUMNS
        assert len(df) == 2
        null = df[df["metric"] == "flat_thread_share"].iloc[0]
        assert pd.isna(null["value"]) and null["n"] == 0
        assert (df["society_id"] == "sim-a-1").all() and (df["computed_at"] == at).all()

    def test_duplicate_metric_is_refused(self):
        row = metric_row("threads", "x", 1.0, None, 1)
        with pytest.raises(ValueError):
            metrics_frame("s", [row, row])


def test_a_hub_community_keeps_its_share_when_posts_are_resampled() -> None:
    """One community holds 615 of 1,000 posts, 40 others share the rest: resampling communities would
    drop the hub from about a third of the replicates; resampling posts keeps the interval near 0.615."""
    counts = np.array([615.0, *([385.0 / 40] * 40)])
    low, high = item_bootstrap_ci(counts, lambda x: x.max() / x.sum(), np.random.default_rng(1), B=500)
    assert 0.57 < low < 0.615 < high < 0.66
    by_community = bootstrap_ci(counts, lambda x: x.max() / x.sum(), np.random.default_rng(1), B=500)
    assert by_community[0] < 0.1  # the hub left out: the interval the post resampling replaces
    assert item_bootstrap_ci(np.zeros(3), np.max, np.random.default_rng(1)) == pytest.approx((math.nan, math.nan), nan_ok=True)
