"""The metric assets' checks: registered metrics present; values inside their domains."""

from __future__ import annotations

import math

from assets.metrics.checks import metric_domain, registry_metrics_present, values_in_domain
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import MetricRow


def test_domains_follow_what_the_metric_is() -> None:
    assert metric_domain("agent_posting_gini") == (0.0, 1.0)
    assert metric_domain("exact_dup_share_posts") == (0.0, 1.0)
    assert metric_domain("hub_authority_spearman") == (-1.0, 1.0)
    assert metric_domain("volume_harm_r_hour") == (-1.0, 1.0)
    assert metric_domain("first_comment_delay_median_s") == (0.0, math.inf)
    assert metric_domain("alpha_posts_per_agent") == (0.0, math.inf)
    assert metric_domain("enforcement_rate_per_1k") == (0.0, 1000.0)
    # signed quantities are never read as shares, whatever else their name holds
    assert metric_domain("category_share_slope_a") == (-math.inf, math.inf)
    assert metric_domain("upvote_minus_posting_gini") == (-math.inf, math.inf)
    assert metric_domain("volume_harm_r_hour_diff") == (-math.inf, math.inf)


def test_a_value_or_bound_outside_its_domain_fails_the_check() -> None:
    good = [MetricRow("influence", "agent_posting_gini", 0.6, 0.55, 0.65, 100),
            MetricRow("influence", "community_hhi_slope_day", -3.0, -4.0, -2.0, 9),
            MetricRow("threads", "mean_max_depth", None, None, None, 0)]
    assert values_in_domain(good).passed
    bad = values_in_domain([MetricRow("influence", "agent_posting_gini", 0.99, 0.9, 1.2, 100)])
    assert not bad.passed and bad.failures == 1 and "ci_high=1.2" in bad.detail


def test_every_registered_metric_needs_a_row_even_a_null_one() -> None:
    specs = [MetricSpec("threads", m, "threads", "proposed", "none", "") for m in ("a_share", "b_share")]
    rows = [MetricRow("threads", "a_share", None, None, None, 0)]
    check = registry_metrics_present(specs, rows)
    assert not check.passed and check.detail == "missing: threads.b_share"
    assert registry_metrics_present(specs, [*rows, MetricRow("threads", "b_share", 0.5, None, None, 4)]).passed
