"""What the metric assets check after each run (ANALYTICS_SPEC.md §8.1.1): every registered metric
of the family has its `society_metric` row, and every value lies inside the metric's domain.

The domain follows from what the metric is, read off its name by the rules below (a share, a
Gini or a Jaccard index lies in [0, 1]; a correlation in [−1, 1]; a count, a duration, an
exponent or a ratio of non-negative amounts, coverage included (stored over reported can pass 1
when the platform's count lags), is ≥ 0). A name no rule covers (slopes, differences,
effects) has no bound.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from assets.metrics.registry import MetricSpec
from assets.metrics.stats import MetricRow

Domain = tuple[float, float]

UNBOUNDED: Domain = (-math.inf, math.inf)
UNIT_INTERVAL: Domain = (0.0, 1.0)
CORRELATION: Domain = (-1.0, 1.0)
NON_NEGATIVE: Domain = (0.0, math.inf)

# First match wins: the signed quantities go first, so "_diff" or "_slope" is never read as a share.
_RULES: tuple[tuple[str, Domain], ...] = (
    (r"(slope|_diff|_minus_|effect|excess|drift|_gap|log_ratio|_lift$|_rho$|reward_|convergence)", UNBOUNDED),
    (r"(spearman|pearson|_tau|_corr|_r_hour|_r_day|_r$)", CORRELATION),
    (r"(_per_1k$)", (0.0, 1000.0)),
    (r"(share|gini|hhi|jaccard|_pct|_rate|reciprocity|entropy|_overlap|_cos|density|"
     r"alignment|consistency|protocol_fraction|top1|carryover_k)", UNIT_INTERVAL),
    (r"(^n_|_n_|_n$|count|coverage|days|_s$|_h$|alpha_|depth|width|lifespan|delay|ratio|_or$|theta|beta|"
     r"zipf|path|period|_k$|_k\d+$|power)", NON_NEGATIVE),
)


def metric_domain(metric: str) -> Domain:
    """The range a value of `metric` can take (see the module docstring)."""
    for pattern, domain in _RULES:
        if re.search(pattern, metric):
            return domain
    return UNBOUNDED


@dataclass(frozen=True)
class MetricCheck:
    name: str
    passed: bool
    failures: int
    detail: str


def registry_metrics_present(specs: Iterable[MetricSpec], rows: Iterable[MetricRow]) -> MetricCheck:
    """Every metric the family registers has a row (NULL values count: they say "not available")."""
    emitted = {(r.family, r.metric) for r in rows}
    missing = sorted(f"{s.family}.{s.metric}" for s in specs if (s.family, s.metric) not in emitted)
    detail = "every registered metric has a row" if not missing else "missing: " + ", ".join(missing[:20])
    return MetricCheck("registry_metrics_present", not missing, len(missing), detail)


def values_in_domain(rows: Iterable[MetricRow]) -> MetricCheck:
    """Every value, and its interval bounds, lie in the metric's domain."""
    outside = []
    for r in rows:
        low, high = metric_domain(r.metric)
        for label, x in (("value", r.value), ("ci_low", r.ci_low), ("ci_high", r.ci_high)):
            if x is not None and not (low - 1e-9 <= x <= high + 1e-9):
                outside.append(f"{r.family}.{r.metric} {label}={x:.4g} not in [{low:g}, {high:g}]")
    detail = "every value inside its domain" if not outside else "; ".join(outside[:20])
    return MetricCheck("values_in_domain", not outside, len(outside), detail)
