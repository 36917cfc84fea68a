"""Scoring planted ground truth against measurements taken from the emitted tables (§8).

The checker is independent of the engines: every measure reads a `CanonicalBatch`'s tables
(events, content, labels and latent states as written), never a run's internal state. This
module holds the scoring rule and the measures several presets share; each preset's module
(`simulators.checker.<preset>`) measures its own phenomena.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Measured:
    """A measured value, with a 95% interval or standard error where the row needs one."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    se: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    phenomenon: str
    metric: str
    expected: str
    tolerance: str
    measured: Measured
    passed: bool


def within(tolerance: str, expected: str, m: Measured) -> bool:
    """Whether `m` satisfies a ground-truth row's tolerance.

    abs w: |v − e| ≤ w · rel w: |v − e| ≤ w·|e| · range lo hi · min x: v ≥ x · max x: v ≤ x ·
    order: v is 1 when the stated ordering holds, else 0 · ci covers 0 / ci excludes 0 / ci:
    the interval covers 0, excludes 0, or covers the expected value. An expected "> 0" or "< 0"
    with "ci excludes 0" needs the interval on that side: an effect of the wrong sign fails.
    """
    kind, *args = tolerance.split()
    v = m.value
    if not np.isfinite(v):
        return False
    if kind == "abs":
        return abs(v - float(expected)) <= float(args[0])
    if kind == "rel":
        return abs(v - float(expected)) <= float(args[0]) * abs(float(expected))
    if kind == "range":
        return float(args[0]) <= v <= float(args[1])
    if kind == "min":
        return v >= float(args[0])
    if kind == "max":
        return v <= float(args[0])
    if kind == "order":
        return v == 1.0
    if kind == "ci":
        if m.ci_low is None or m.ci_high is None:
            raise ValueError(f"{tolerance!r} needs a measured interval")
        if args == ["covers", "0"]:
            return m.ci_low <= 0.0 <= m.ci_high
        if args == ["excludes", "0"]:
            above, below = m.ci_low > 0.0, m.ci_high < 0.0
            sign = expected.replace(" ", "")
            return above if sign == ">0" else below if sign == "<0" else above or below
        return m.ci_low <= float(expected) <= m.ci_high
    raise ValueError(f"unknown tolerance kind in {tolerance!r}")


def as_order(measured: Measured, expected: str) -> Measured:
    """An `order` row's verdict: 1 when the sign in `expected` ("< 0" or "> 0") holds within
    the 95% interval (or for the value when there is none), else 0."""
    sign, threshold = expected.split()
    low = measured.ci_low if measured.ci_low is not None else measured.value
    high = measured.ci_high if measured.ci_high is not None else measured.value
    holds = high < float(threshold) if sign == "<" else low > float(threshold)
    interval = f" [{low:.4g}, {high:.4g}]" if measured.ci_low is not None else ""
    return Measured(float(holds), note=f"estimate {measured.value:.4g}{interval}")


def score(ground_truth: pd.DataFrame, measured: dict[str, Measured]) -> list[Verdict]:
    """One verdict per ground-truth row whose metric was measured (others are left out)."""
    out = []
    for row in ground_truth.itertuples(index=False):
        if row.metric in measured:
            m = measured[row.metric]
            out.append(Verdict(row.phenomenon, row.metric, row.expected, row.tolerance, m,
                               within(row.tolerance, row.expected, m)))
    return out


def failures(verdicts: list[Verdict]) -> list[str]:
    """Readable lines for failing rows (for assertion messages and the CLI)."""
    return [
        f"{v.metric}: measured {v.measured.value:.4g}"
        + (f" [{v.measured.ci_low:.4g}, {v.measured.ci_high:.4g}]"
           if v.measured.ci_low is not None else "")
        + f", expected {v.expected} ({v.tolerance})"
        for v in verdicts if not v.passed
    ]


# Shared measures -------------------------------------------------------------------------------

def bootstrap_mean(values: np.ndarray, seed: int = 0, n_boot: int = 1_000) -> Measured:
    """Mean with a percentile bootstrap 95% interval and its standard error."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return Measured(float("nan"))
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return Measured(float(values.mean()), float(np.quantile(means, 0.025)),
                    float(np.quantile(means, 0.975)), se)


def discrete_power_law_alpha(x: np.ndarray, xmin: int = 1) -> float:
    """Discrete power-law exponent by the Clauset–Shalizi–Newman approximate MLE,
    α ≈ 1 + n / Σ ln(x / (xmin − ½)), over x ≥ xmin."""
    tail = np.asarray(x, dtype=float)
    tail = tail[tail >= xmin]
    if len(tail) == 0:
        return float("nan")
    return float(1.0 + len(tail) / np.log(tail / (xmin - 0.5)).sum())


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, → 1 = one holder has everything)."""
    v = np.sort(np.asarray(x, dtype=float))
    if len(v) == 0 or v.sum() == 0:
        return 0.0
    n = len(v)
    return float((2.0 * np.arange(1, n + 1) - n - 1).dot(v) / (n * v.sum()))


def dyad_reciprocity(source: np.ndarray, target: np.ndarray) -> float:
    """Share of distinct directed edges (u, v), u ≠ v, whose reverse (v, u) is also an edge."""
    edges = pd.DataFrame({"u": source, "v": target}).drop_duplicates()
    edges = edges[edges["u"] != edges["v"]]
    if edges.empty:
        return float("nan")
    reverse = edges.rename(columns={"u": "v", "v": "u"})
    both = edges.merge(reverse, on=["u", "v"], how="inner")
    return len(both) / len(edges)


def final_follow_edges(follows: pd.DataFrame) -> pd.DataFrame:
    """(follower_id, followee_id) edges standing at the end: each pair's last action is follow."""
    ordered = follows.sort_values("created_at", kind="stable")
    last = ordered.drop_duplicates(["follower_id", "followee_id"], keep="last")
    return last.loc[last["action"] == "follow", ["follower_id", "followee_id"]]


def friendship_paradox_share(source: np.ndarray, target: np.ndarray) -> float:
    """Share of agents (with ≥ 1 neighbour) whose undirected degree is below their neighbours'
    mean degree."""
    edges = pd.DataFrame({"u": source, "v": target})
    edges = edges[edges["u"] != edges["v"]]
    undirected = pd.DataFrame({"a": np.concatenate([edges["u"], edges["v"]]),
                               "b": np.concatenate([edges["v"], edges["u"]])}).drop_duplicates()
    degree = undirected.groupby("a").size()
    neighbour_mean = undirected.assign(d=degree.reindex(undirected["b"]).to_numpy()) \
        .groupby("a")["d"].mean()
    return float((degree < neighbour_mean.reindex(degree.index)).mean())


def stance_clusters(u: np.ndarray, min_share: float = 0.05, gap: float = 0.05) -> int:
    """Opinion clusters holding at least `min_share` of agents: sorted values split wherever two
    neighbours differ by more than `gap`."""
    v = np.sort(np.asarray(u, dtype=float))
    if len(v) == 0:
        return 0
    cuts = np.flatnonzero(np.diff(v) > gap)
    sizes = np.diff(np.concatenate([[0], cuts + 1, [len(v)]]))
    return int((sizes >= min_share * len(v)).sum())


def labels(tables: dict[str, pd.DataFrame], item_type: str, key: str) -> pd.Series:
    """sim_labels value by item id for one item type and key."""
    frame = tables["sim_labels"]
    chosen = frame[(frame["item_type"] == item_type) & (frame["key"] == key)]
    return chosen.set_index("item_id")["value"]


def states_at(tables: dict[str, pd.DataFrame], dimension: str, step: int | None = None
              ) -> pd.Series:
    """Latent state value by agent at one recorded step (default: the last recorded step)."""
    frame = tables["sim_states"]
    frame = frame[frame["dimension"] == dimension]
    chosen = step if step is not None else int(frame["step"].max())
    return frame[frame["step"] == chosen].set_index("agent_id")["value"]


_URL_HANDLE_NUMBER = re.compile(r"https?://\S+|www\.\S+|@\w+|\d+")
_WORD = re.compile(r"\w+")


def zipf_exponent(texts: Iterable[str], first_rank: int = 10, last_rank: int = 10_000) -> float:
    """Unigram Zipf exponent (ANALYTICS_SPEC §7.5): tokens are lowercase `\\w+` after URLs,
    @handles and numbers are stripped (§3.3); s = −slope of the OLS fit of log frequency on
    log rank over ranks first_rank…last_rank (nan with fewer than 3 ranks there)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_WORD.findall(_URL_HANDLE_NUMBER.sub(" ", text.lower())))
    freq = np.sort(np.fromiter(counts.values(), dtype=float))[::-1]
    rank = np.arange(1, len(freq) + 1)
    chosen = (rank >= first_rank) & (rank <= last_rank)
    if chosen.sum() < 3:
        return float("nan")
    slope = np.polyfit(np.log(rank[chosen]), np.log(freq[chosen]), 1)[0]
    return float(-slope)
