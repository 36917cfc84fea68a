"""Shared statistics for the metric families (ANALYTICS_SPEC.md §0.5, §8.1).

Pure numpy/pandas: inequality indices, confidence intervals, per-metric seeded
random generators and the `society_metric` row type. Every family uses these so
that a Gini or a CI means the same thing everywhere.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy.stats import rankdata

#: z for a two-sided 95 % interval.
Z95 = 1.959963984540054

#: Columns of `society_metric` (warehouse/migrations/001_schema_v1.sql), in order.
SOCIETY_METRIC_COLUMNS = ["society_id", "family", "metric", "value", "ci_low", "ci_high", "n", "computed_at"]


def _as_array(x: Iterable[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Float array of a population; NaN or negative values are a caller bug, so they raise."""
    a = np.asarray(x, dtype=float).ravel()
    if a.size and (np.isnan(a).any() or (a < 0).any()):
        raise ValueError("population values must be non-negative and not NaN (fill zeros explicitly)")
    return a


# --------------------------------------------------------------------------- inequality


def gini(x: Iterable[float] | np.ndarray | pd.Series) -> float:
    """Gini per §0.5: 2·Σ i·x_(i) / (n·Σx) − (n+1)/n, x ascending, zeros included.

    NaN for an empty or all-zero population (no inequality is defined there).
    """
    a = np.sort(_as_array(x))
    n = a.size
    total = a.sum()
    if n == 0 or total == 0:
        return float("nan")
    i = np.arange(1, n + 1, dtype=float)
    return float(2.0 * np.dot(i, a) / (n * total) - (n + 1.0) / n)


def hhi(x: Iterable[float] | np.ndarray | pd.Series) -> float:
    """Herfindahl–Hirschman index Σ s_i² of the shares s_i = x_i / Σx; NaN if empty or all zero."""
    a = _as_array(x)
    total = a.sum()
    if a.size == 0 or total == 0:
        return float("nan")
    s = a / total
    return float(np.dot(s, s))


def hhi_norm(x: Iterable[float] | np.ndarray | pd.Series) -> float:
    """(hhi − 1/n) / (1 − 1/n): 0 for equal shares, 1 for one holder; NaN when n < 2 (undefined)."""
    a = _as_array(x)
    n = a.size
    h = hhi(a)
    if n < 2 or math.isnan(h):
        return float("nan")
    return float((h - 1.0 / n) / (1.0 - 1.0 / n))


def top_k_share(x: Iterable[float] | np.ndarray | pd.Series, k: int) -> float:
    """Total of the k largest values over the overall total (1.0 when k ≥ n); NaN if empty or all zero."""
    if k < 1:
        raise ValueError("k must be ≥ 1")
    a = _as_array(x)
    total = a.sum()
    if a.size == 0 or total == 0:
        return float("nan")
    if k >= a.size:
        return 1.0
    top = np.partition(a, a.size - k)[a.size - k :]
    return float(top.sum() / total)


def top_pct_share(x: Iterable[float] | np.ndarray | pd.Series, pct: float) -> float:
    """Share held by the top `pct` percent of units (pct=1 → top 1 %).

    The top group has ceil(n·pct/100) units, at least one, so a small population
    still has a defined top 1 % (its single largest unit).
    """
    if not 0 < pct <= 100:
        raise ValueError("pct must be in (0, 100]")
    a = _as_array(x)
    if a.size == 0:
        return float("nan")
    k = max(1, math.ceil(a.size * pct / 100.0 - 1e-9))
    return top_k_share(a, k)


# --------------------------------------------------------------------------- intervals


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (§0.5); (NaN, NaN) when n = 0."""
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= n:
        raise ValueError("successes must lie in [0, n]")
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_ci(
    data: np.ndarray,
    stat: Callable[[np.ndarray], float],
    rng: np.random.Generator,
    B: int = 1000,
) -> tuple[float, float]:
    """Percentile bootstrap CI of `stat`, resampling the rows of `data` (the metric's unit).

    `data` may be 2-D (one row per unit, e.g. numerator and denominator of a
    ratio, or paired values) so that paired statistics keep their pairing.
    Replicates where `stat` is NaN (e.g. an all-zero resample for a Gini) are
    ignored; (NaN, NaN) when there is no unit or no finite replicate.
    """
    data = np.asarray(data, dtype=float)
    n = data.shape[0] if data.ndim else 0
    if n == 0:
        return float("nan"), float("nan")
    reps = np.empty(B, dtype=float)
    for b in range(B):
        reps[b] = stat(data[rng.integers(0, n, size=n)])
    return percentile_interval(reps)


def item_bootstrap_ci(
    counts: np.ndarray,
    stat: Callable[[np.ndarray], float],
    rng: np.random.Generator,
    B: int = 1000,
) -> tuple[float, float]:
    """Percentile bootstrap CI of a statistic of per-group counts that resamples the counted
    items (posts), each keeping its group (community): the counts are redrawn as a multinomial.
    Resampling the groups instead would drop a hub holding most items from about a third of the
    replicates, which drags the interval of a top-1 share or an HHI far below the estimate."""
    counts = np.asarray(counts, dtype=float)
    total = int(counts.sum())
    if counts.size == 0 or total <= 0:
        return float("nan"), float("nan")
    shares = counts / counts.sum()
    reps = np.array([stat(rng.multinomial(total, shares).astype(float)) for _ in range(B)])
    return percentile_interval(reps)


def bootstrap_mean_ci(
    values: Sequence[float] | np.ndarray | pd.Series, rng: np.random.Generator, B: int = 1000
) -> tuple[float, float]:
    """Percentile bootstrap 95 % CI of the mean of per-unit values."""
    return bootstrap_ci(np.asarray(values, dtype=float), np.mean, rng, B)


def bootstrap_median_ci(
    values: Sequence[float] | np.ndarray | pd.Series, rng: np.random.Generator, B: int = 1000
) -> tuple[float, float]:
    """Percentile bootstrap 95 % CI of the median of per-unit values."""
    return bootstrap_ci(np.asarray(values, dtype=float), np.median, rng, B)


def _ratio_of_sums(rows: np.ndarray) -> float:
    den = rows[:, 1].sum()
    return float(rows[:, 0].sum() / den) if den > 0 else float("nan")


def bootstrap_ratio_ci(
    numerators: Sequence[float] | np.ndarray,
    denominators: Sequence[float] | np.ndarray,
    rng: np.random.Generator,
    B: int = 1000,
) -> tuple[float, float]:
    """CI of Σnum / Σden resampling whole units (e.g. a share of comments, resampled by thread).

    Resampling threads rather than comments keeps the within-thread correlation
    of comments in the interval.
    """
    data = np.column_stack([np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)])
    return bootstrap_ci(data, _ratio_of_sums, rng, B)


def metric_rng(society_seed: int, metric: str) -> np.random.Generator:
    """The generator of one metric (§0.5): rerunning one metric never perturbs another."""
    seq = np.random.SeedSequence([int(society_seed), zlib.crc32(metric.encode("utf-8"))])
    return np.random.Generator(np.random.PCG64(seq))


# --------------------------------------------------------------------------- society_metric rows


def _clean(x: float | None) -> float | None:
    """None for missing/NaN, a plain float otherwise (NULL in the warehouse, never NaN)."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class MetricRow:
    """One `society_metric` row without society and time; value None = below minimum sample or not available."""

    family: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    def __post_init__(self) -> None:
        # Normalize NaN to None so a missing value is always NULL, and a NULL value never carries a CI.
        value = _clean(self.value)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "ci_low", None if value is None else _clean(self.ci_low))
        object.__setattr__(self, "ci_high", None if value is None else _clean(self.ci_high))
        object.__setattr__(self, "n", int(self.n))


def metric_row(
    family: str,
    metric: str,
    value: float | None,
    ci: tuple[float, float] | None,
    n: int,
) -> MetricRow:
    """Build a MetricRow from a value and an optional (low, high) interval."""
    low, high = ci if ci is not None else (None, None)
    return MetricRow(family, metric, value, low, high, n)


def metrics_frame(
    society_id: str,
    rows: Iterable[MetricRow],
    computed_at: datetime | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The `society_metric` DataFrame of one society; (family, metric) must be unique."""
    rows = list(rows)
    keys = [(r.family, r.metric) for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate (family, metric) in society_metric rows")
    ts = pd.Timestamp(computed_at if computed_at is not None else datetime.now(timezone.utc))
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    frame = pd.DataFrame(
        {
            "society_id": pd.Series([society_id] * len(rows), dtype=object),
            "family": pd.Series([r.family for r in rows], dtype=object),
            "metric": pd.Series([r.metric for r in rows], dtype=object),
            "value": pd.Series([r.value for r in rows], dtype="float64"),
            "ci_low": pd.Series([r.ci_low for r in rows], dtype="float64"),
            "ci_high": pd.Series([r.ci_high for r in rows], dtype="float64"),
            "n": pd.Series([r.n for r in rows], dtype="int64"),
            "computed_at": pd.Series([ts] * len(rows), dtype="datetime64[us, UTC]"),
        }
    )
    return frame[SOCIETY_METRIC_COLUMNS]


# --------------------------------------------------------------------------- trends and correlations


def ols_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x; NaN when x does not vary."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xc = x - x.mean()
    den = float((xc * xc).sum())
    return float((xc * (y - y.mean())).sum() / den) if den > 0 else float("nan")


def pearson(rows: np.ndarray) -> float:
    """Pearson r of the two columns; NaN when either is constant (r is undefined there)."""
    x, y = rows[:, 0], rows[:, 1]
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def spearman(rows: np.ndarray) -> float:
    """Spearman rho: Pearson r of the ranks (average ranks for ties)."""
    return pearson(np.column_stack([rankdata(rows[:, 0]), rankdata(rows[:, 1])]))


def percentile_interval(replicates: np.ndarray) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the finite replicates; (NaN, NaN) when there are none."""
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return math.nan, math.nan
    low, high = np.percentile(reps, [2.5, 97.5])
    return float(low), float(high)


def moving_block_bootstrap_ci(
    data: np.ndarray,
    stat: Callable[[np.ndarray], float],
    rng: np.random.Generator,
    block: int,
    B: int = 1000,
) -> tuple[float, float]:
    """Percentile CI from a moving-block bootstrap (§0.5): the series is rebuilt from randomly
    placed runs of `block` consecutive rows, which keeps the autocorrelation within a block."""
    data = np.asarray(data, dtype=float)
    n = data.shape[0]
    if n == 0:
        return math.nan, math.nan
    length = min(block, n)
    n_blocks = math.ceil(n / length)
    starts = rng.integers(0, n - length + 1, size=(B, n_blocks))
    index = (starts[:, :, None] + np.arange(length)).reshape(B, -1)[:, :n]
    reps = np.array([stat(data[i]) for i in index])
    return percentile_interval(reps)
