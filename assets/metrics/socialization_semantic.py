"""Socialization diagnostics on the society as a whole (ANALYTICS_SPEC.md §3.1, §3.2 daily part, §3.3).

Three day series over posts, after Does Socialization Emerge (arXiv:2602.14299, paper-named):

- semantic stabilization (§3.1): does the society-wide centroid of post embeddings settle? The
  day-to-day centroid move is compared with the split-half sampling noise (`drift_ratio`);
- semantic diversity (§3.2): do posts grow alike? `pairwise_diversity`, `dispersion` and the
  10-nearest-neighbour `local_density` of each day;
- lexical turnover (§3.3): does the vocabulary keep renewing? Birth and death rates of the
  1-, 2- and 3-grams used ≥ 5 times in a token-budgeted sample of each day (posts in seeded
  random order; a post that no longer fits the budget is skipped).

Days are the bins of `bins.plan_bins`: UTC days for a society spanning ≥ 8 days, otherwise 8
equal-width bins (every simulator run), and every "per day" quantity is then per bin. A day is
valid with ≥ `TimeBins.min_posts` posts (embedded posts for the semantic series, English or
language-unknown posts for the lexical one); other days are listed with NULL values. These are
post-based series, so flagged days (`time_flags`) are marked and kept in the summaries (§0.4).

Choices the spec leaves open (proposed, documented here and in the registry):
- `pairwise_diversity` is the mean over all distinct pairs of the day's sample, computed exactly
  from |Σe|² in O(n·d); the spec's 10,000 random pairs estimate the same quantity with noise.
- "previous day" is the preceding bin, and it must be valid; otherwise the day-to-day values
  (`centroid_cos_prev`, `drift_ratio`, `death_rate`, `jaccard_prev`) are NULL.
- `drift_ratio` averages numerator and denominator over the 20 splits, then divides.
- summaries need ≥ `MIN_SERIES_DAYS` days; a "last third" is the last ceil(k/3) of k days.
- `days_to_stabilize` is NULL when the last drift ratio is still above 1.5 (never settled).
- CIs: the tails (and `pairwise_diversity_mean`'s days) by a percentile bootstrap; the semantic
  slopes by a bootstrap of posts within each day (per-post local densities are resampled with
  their neighbours fixed); `lexical_birth_rate_slope_n2` by a moving-block bootstrap over days
  (3-day blocks, §0.5), because resampling posts with replacement would push rare n-grams over
  the count threshold and bias every birth rate.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from assets.metrics.bins import TimeBins, parse_time_flags, plan_bins, utc_times
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    percentile_interval,
    MetricRow,
    bootstrap_mean_ci,
    metric_rng,
    metric_row,
    moving_block_bootstrap_ci,
    ols_slope,
)
from assets.metrics.vectors import centroid, vectors_for

FAMILY = "socialization"

MAX_SAMPLE = 5_000  # posts per day for the semantic series (§3)
N_SPLITS = 20  # split-half draws per day (§3.1)
STABLE_RATIO = 1.5  # drift_ratio at or below this counts as settled (§3.1)
KNN = 10  # neighbours of the local density (§3.2)
NGRAM_ORDERS = (1, 2, 3)
MIN_NGRAM_COUNT = 5  # an n-gram is in a day's vocabulary with this many uses (§3.3)
MAX_TOKEN_BUDGET = 2_000_000
BURN_IN_DAYS = 2  # first valid lexical days: listed, never summarized (§3.3)
MIN_SERIES_DAYS = 3  # days a tail or slope needs (proposed)
BOOTSTRAP_B = 1000
BLOCK_DAYS = 3  # §0.5: 3-day blocks for daily series

#: Columns of `socialization_daily` produced here; the writer adds society_id, computed_at, params_hash.
DAILY_COLUMNS = [
    "day",
    "bin_seconds",
    "n_posts",
    "n_sampled",
    "centroid_cos_prev",
    "centroid_cos_final",
    "split_half_cos",
    "drift_ratio",
    "pairwise_diversity",
    "dispersion",
    "local_density",
    "is_flagged",
]

#: Columns of `socialization_lexical_daily` produced here.
LEXICAL_COLUMNS = [
    "day",
    "bin_seconds",
    "ngram_n",
    "vocab_size",
    "token_budget",
    "birth_rate",
    "death_rate",
    "jaccard_prev",
    "is_flagged",
]

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_NUMBER = re.compile(r"\b[\d_]+\b")  # a word of digits (and underscores) only
_WORD = re.compile(r"\w+")


# --------------------------------------------------------------------------- text


def _text(value: object) -> str:
    """A text field as str; anything else (None, NaN, a number sent by a broken source) is empty."""
    return value if isinstance(value, str) else ""


def post_texts(posts: pd.DataFrame) -> list[str]:
    """A post's text as the `texts` view builds it: title, a blank line, content."""
    return [_text(t) + "\n\n" + _text(c) for t, c in zip(posts["title"], posts["content"])]


def tokenize(text: str) -> list[str]:
    """§3.3 tokens: lowercase; URLs, @handles and numbers (words of digits only) removed; then
    Unicode \\w+ words. A word that mixes letters and digits ("gpt4") is kept."""
    return _WORD.findall(_NUMBER.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text.lower()))))


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The n-grams of one post's tokens (they never cross posts)."""
    return list(zip(*(tokens[i:] for i in range(n))))


# --------------------------------------------------------------------------- per-day semantics


def pairwise_diversity(vectors: np.ndarray) -> float:
    """1 − mean cos over all distinct pairs of unit rows: (|Σe|² − n) / (n² − n); NaN below 2 rows."""
    n = vectors.shape[0]
    if n < 2:
        return math.nan
    total = vectors.sum(axis=0, dtype=np.float64)
    return float(1.0 - (total @ total - n) / (n * n - n))


def resampled_diversity(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """pairwise_diversity of bootstrap resamples: row b of `weights` counts how often each post
    was drawn. Pairs of two draws of the same post are left out, as in the observed value."""
    w = weights.astype(np.float64)
    sums = w @ vectors.astype(np.float64)
    same = (w * w).sum(axis=1)
    n = w.sum(axis=1)
    return 1.0 - ((sums * sums).sum(axis=1) - same) / (n * n - same)


def local_density(vectors: np.ndarray, k: int = KNN, chunk: int = 1024) -> np.ndarray:
    """Each row's mean cosine to its k nearest other rows (exact search, in row chunks so that the
    n × n similarity matrix is never held whole); k shrinks to n − 1 on a tiny day."""
    n = vectors.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return np.full(n, np.nan)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        sims = vectors[start : start + chunk] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf  # a post is not its own neighbour
        top = np.partition(sims, n - k, axis=1)[:, n - k :]
        out[start : start + chunk] = top.mean(axis=1)
    return out


def split_half_drift(
    current: np.ndarray, previous: np.ndarray, rng: np.random.Generator, n_splits: int = N_SPLITS
) -> tuple[float, float]:
    """(split_half_cos, drift_ratio) of a day against the previous one (§3.1).

    Both days are split into random halves; the move 1 − cos(c_t^A, c_{t−1}^A) is divided by the
    noise 1 − cos(c_t^A, c_t^B) of two half-size centroids of the same day, each averaged over
    the splits. The ratio is NaN when the day's halves coincide (no noise to compare with).
    """
    cos_halves, moves, noise = [], [], []
    for _ in range(n_splits):
        order = rng.permutation(current.shape[0])
        half = current.shape[0] // 2
        a, b = centroid(current[order[:half]]), centroid(current[order[half:]])
        prev_a = centroid(previous[rng.permutation(previous.shape[0])[: previous.shape[0] // 2]])
        cos_halves.append(float(a @ b))
        moves.append(1.0 - float(a @ prev_a))
        noise.append(1.0 - float(a @ b))
    mean_noise = float(np.mean(noise))
    ratio = float(np.mean(moves)) / mean_noise if mean_noise > 0 else math.nan
    return float(np.mean(cos_halves)), ratio


def days_to_stabilize(days: np.ndarray, ratios: np.ndarray, first_day: int) -> float | None:
    """Days from `first_day` to the first day t* from which every drift ratio is ≤ STABLE_RATIO;
    None when the last one is still above it. `days` and `ratios` list the days with a ratio."""
    settled_from: int | None = None
    for day, ratio in zip(days, ratios):
        if ratio <= STABLE_RATIO:
            if settled_from is None:
                settled_from = int(day)
        else:
            settled_from = None
    return None if settled_from is None else float(settled_from - first_day)


def _embedded_posts(posts: pd.DataFrame, embeddings: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of the posts and which posts have one (a missing, zero or non-finite vector does not count)."""
    vectors, found = vectors_for([f"post:{p}" for p in posts["post_id"]], embeddings)
    if vectors.size:
        usable = np.isfinite(vectors).all(axis=1) & (np.abs(vectors).sum(axis=1) > 0)
        found = found & usable
        vectors[~found] = 0.0
    return vectors, found


def semantic_daily(
    posts: pd.DataFrame,
    embeddings: pd.DataFrame | None,
    bins: TimeBins,
    flagged: np.ndarray,
    society_seed: int,
) -> tuple[pd.DataFrame, list[np.ndarray], list[np.ndarray]]:
    """`socialization_daily` rows (one per bin), each bin's sampled unit vectors and their local
    densities (both empty when the bin is invalid)."""
    day_of = bins.index(posts["created_at"])
    vectors, found = _embedded_posts(posts, embeddings)
    sample_rng = metric_rng(society_seed, "socialization_daily_sample")
    split_rng = metric_rng(society_seed, "drift_ratio")

    samples: list[np.ndarray] = []
    dim = vectors.shape[1]
    n_posts = np.bincount(day_of[day_of >= 0], minlength=bins.n_bins)
    for day in range(bins.n_bins):
        members = np.flatnonzero((day_of == day) & found)
        if members.size < bins.min_posts:
            samples.append(np.zeros((0, dim), dtype=np.float32))
            continue
        if members.size > MAX_SAMPLE:
            members = np.sort(sample_rng.choice(members, MAX_SAMPLE, replace=False))
        samples.append(vectors[members])

    valid = np.array([s.shape[0] > 0 for s in samples], dtype=bool)
    centroids = [centroid(s) if s.shape[0] else None for s in samples]
    last = int(np.flatnonzero(valid)[-1]) if valid.any() else -1
    densities = [local_density(s) if s.shape[0] else np.zeros(0) for s in samples]
    rows = []
    for day, sample in enumerate(samples):
        row = dict.fromkeys(DAILY_COLUMNS[4:11], math.nan)
        if valid[day]:
            c = centroids[day]
            row["centroid_cos_final"] = float(c @ centroids[last])
            row["pairwise_diversity"] = pairwise_diversity(sample)
            row["dispersion"] = float(np.mean(1.0 - sample @ c))
            row["local_density"] = float(np.mean(densities[day]))
            if day > 0 and valid[day - 1]:
                row["centroid_cos_prev"] = float(c @ centroids[day - 1])
                row["split_half_cos"], row["drift_ratio"] = split_half_drift(sample, samples[day - 1], split_rng)
            else:
                row["split_half_cos"], _ = split_half_drift(sample, sample, split_rng)
        rows.append(row)

    frame = pd.DataFrame(rows, columns=DAILY_COLUMNS[4:11], dtype=float)
    frame.insert(0, "day", bins.starts())
    frame.insert(1, "bin_seconds", float(bins.width_s))
    frame.insert(2, "n_posts", n_posts.astype(np.int64))
    frame.insert(3, "n_sampled", np.array([s.shape[0] for s in samples], dtype=np.int64))
    frame["is_flagged"] = flagged
    return frame[DAILY_COLUMNS], samples, densities


# --------------------------------------------------------------------------- lexical turnover


def _is_english(posts: pd.DataFrame, text_languages: pd.DataFrame | None) -> np.ndarray:
    """Keep posts labelled English and posts whose language is unknown (no row or NULL)."""
    if text_languages is None or text_languages.empty:
        return np.ones(len(posts), dtype=bool)
    lang = text_languages.drop_duplicates("text_id").set_index("text_id")["language"]
    found = pd.Series([f"post:{p}" for p in posts["post_id"]]).map(lang)
    return np.array([not isinstance(v, str) or v.strip().lower().startswith("en") for v in found], dtype=bool)


def _budget_sample(order: np.ndarray, n_tokens: np.ndarray, budget: int) -> np.ndarray:
    """The posts, taken in the given (random) order, that fit into `budget` tokens; a post too
    long for what is left is skipped, so one megabyte post cannot starve the day's sample."""
    taken, used = [], 0
    for i in order:
        if used + n_tokens[i] <= budget:
            taken.append(i)
            used += int(n_tokens[i])
    return np.array(taken, dtype=np.int64)


def lexical_daily(
    posts: pd.DataFrame,
    text_languages: pd.DataFrame | None,
    bins: TimeBins,
    flagged: np.ndarray,
    society_seed: int,
) -> pd.DataFrame:
    """`socialization_lexical_daily` rows: one per bin and n-gram order (§3.3)."""
    day_of = bins.index(posts["created_at"])
    keep = _is_english(posts, text_languages) & (day_of >= 0)
    texts = post_texts(posts)
    tokens = [tokenize(texts[i]) if keep[i] else [] for i in range(len(texts))]
    n_tokens = np.array([len(t) for t in tokens], dtype=np.int64)

    members = [np.flatnonzero(keep & (day_of == day)) for day in range(bins.n_bins)]
    valid = np.array([m.size >= bins.min_posts for m in members], dtype=bool)
    budget = min([int(n_tokens[m].sum()) for m, ok in zip(members, valid) if ok] + [MAX_TOKEN_BUDGET])
    rng = metric_rng(society_seed, "socialization_lexical_sample")
    sampled: list[np.ndarray] = []
    for day in range(bins.n_bins):
        if not valid[day]:
            sampled.append(np.zeros(0, dtype=np.int64))
            continue
        sampled.append(_budget_sample(rng.permutation(members[day]), n_tokens, budget))

    rows = []
    for n in NGRAM_ORDERS:
        seen: set[tuple[str, ...]] = set()
        previous: set[tuple[str, ...]] | None = None
        for day in range(bins.n_bins):
            row = {"ngram_n": n, "vocab_size": pd.NA, "token_budget": pd.NA,
                   "birth_rate": math.nan, "death_rate": math.nan, "jaccard_prev": math.nan}
            if not valid[day]:
                rows.append(row)
                previous = None
                continue
            counts = Counter(g for i in sampled[day] for g in ngrams(tokens[i], n))
            vocab = {g for g, c in counts.items() if c >= MIN_NGRAM_COUNT}
            row["vocab_size"], row["token_budget"] = len(vocab), budget
            if vocab:
                row["birth_rate"] = len(vocab - seen) / len(vocab)
            if previous is not None:
                if previous:
                    row["death_rate"] = len(previous - vocab) / len(previous)
                if previous or vocab:
                    row["jaccard_prev"] = len(previous & vocab) / len(previous | vocab)
            seen |= vocab
            previous = vocab
            rows.append(row)

    frame = pd.DataFrame(rows)
    frame.insert(0, "day", np.tile(bins.starts(), len(NGRAM_ORDERS)))
    frame.insert(1, "bin_seconds", float(bins.width_s))
    frame["vocab_size"] = frame["vocab_size"].astype("Int64")
    frame["token_budget"] = frame["token_budget"].astype("Int64")
    frame["is_flagged"] = np.tile(flagged, len(NGRAM_ORDERS))
    return frame[LEXICAL_COLUMNS]


# --------------------------------------------------------------------------- summaries


def _tail(values: np.ndarray) -> np.ndarray:
    """The last third of a day series (ceil(k/3) days)."""
    return values[len(values) - math.ceil(len(values) / 3) :]


def _tail_row(metric: str, series: np.ndarray, n_days: int, society_seed: int) -> MetricRow:
    """Mean over the last third of `series` (the valid days, in order, NaN where undefined)."""
    tail = _tail(series)
    tail = tail[np.isfinite(tail)]
    if n_days < MIN_SERIES_DAYS or tail.size == 0:
        return metric_row(FAMILY, metric, None, None, int(tail.size))
    ci = bootstrap_mean_ci(tail, metric_rng(society_seed, metric), BOOTSTRAP_B)
    return metric_row(FAMILY, metric, float(tail.mean()), ci, int(tail.size))


def _slope_ci_from_replicates(x: np.ndarray, replicates: np.ndarray) -> tuple[float, float]:
    """Percentile 95 % CI of the OLS slope of each replicate row (replicates: B × days) on x."""
    xc = x - x.mean()
    slopes = (replicates - replicates.mean(axis=1, keepdims=True)) @ xc / float(xc @ xc)
    return percentile_interval(slopes)


def _semantic_rows(
    daily: pd.DataFrame, samples: list[np.ndarray], densities: list[np.ndarray], society_seed: int
) -> list[MetricRow]:
    valid = np.flatnonzero(daily["n_sampled"].to_numpy() > 0)
    n_valid = int(valid.size)
    x = valid.astype(float)  # bin index = days since the first bin ("per day" = per bin)
    rows = [
        _tail_row("centroid_cos_prev_tail", daily["centroid_cos_prev"].to_numpy()[valid], n_valid, society_seed),
        _tail_row("drift_ratio_tail", daily["drift_ratio"].to_numpy()[valid], n_valid, society_seed),
    ]

    ratios = daily["drift_ratio"].to_numpy()
    with_ratio = np.flatnonzero(np.isfinite(ratios))
    stabilize = None
    if n_valid >= MIN_SERIES_DAYS and with_ratio.size:
        stabilize = days_to_stabilize(with_ratio, ratios[with_ratio], int(valid[0]))
    rows.append(metric_row(FAMILY, "days_to_stabilize", stabilize, None, int(with_ratio.size)))

    if n_valid < MIN_SERIES_DAYS:
        for metric in ("pairwise_diversity_mean", "pairwise_diversity_slope_day", "local_density_slope_day"):
            rows.append(metric_row(FAMILY, metric, None, None, n_valid))
        return rows

    # Bootstrap of posts within each day: replicate b of day d redraws day d's sample.
    diversity = daily["pairwise_diversity"].to_numpy()[valid]
    rng = metric_rng(society_seed, "pairwise_diversity_slope_day")
    div_reps = np.column_stack([resampled_diversity(samples[d], _draw_counts(rng, len(samples[d]))) for d in valid])
    mean_ci = percentile_interval(div_reps.mean(axis=1))
    rows.append(metric_row(FAMILY, "pairwise_diversity_mean", float(diversity.mean()), mean_ci, n_valid))
    rows.append(metric_row(FAMILY, "pairwise_diversity_slope_day", ols_slope(x, diversity),
                           _slope_ci_from_replicates(x, div_reps), n_valid))

    # Same for the local density, resampling each day's per-post densities (neighbours kept).
    density = daily["local_density"].to_numpy()[valid]
    rng = metric_rng(society_seed, "local_density_slope_day")
    dens_reps = np.column_stack([_draw_counts(rng, densities[d].size) @ densities[d] / densities[d].size for d in valid])
    rows.append(metric_row(FAMILY, "local_density_slope_day", ols_slope(x, density),
                           _slope_ci_from_replicates(x, dens_reps), n_valid))
    return rows


def _draw_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """BOOTSTRAP_B × n: how often each of n units is drawn in each bootstrap resample."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=BOOTSTRAP_B)


def _slope_of_columns(rows: np.ndarray) -> float:
    return ols_slope(rows[:, 0], rows[:, 1])


def _lexical_rows(lexical: pd.DataFrame, society_seed: int) -> list[MetricRow]:
    """Tails of birth and death rates per order, then the bigram birth-rate slope (§3.3)."""
    births: dict[int, MetricRow] = {}
    deaths: dict[int, MetricRow] = {}
    slope_row = metric_row(FAMILY, "lexical_birth_rate_slope_n2", None, None, 0)
    for n in NGRAM_ORDERS:
        one = lexical[lexical["ngram_n"] == n].reset_index(drop=True)  # row i = bin i
        counted = one[one["vocab_size"].notna()].iloc[BURN_IN_DAYS:]
        k = len(counted)
        birth = counted["birth_rate"].to_numpy(dtype=float)
        births[n] = _tail_row(f"lexical_birth_rate_tail_n{n}", birth, k, society_seed)
        deaths[n] = _tail_row(f"lexical_death_rate_tail_n{n}", counted["death_rate"].to_numpy(dtype=float), k, society_seed)
        if n == 2:
            ok = np.isfinite(birth)
            series = np.column_stack([counted.index.to_numpy(dtype=float)[ok], birth[ok]])
            if len(series) >= MIN_SERIES_DAYS:
                rng = metric_rng(society_seed, "lexical_birth_rate_slope_n2")
                ci = moving_block_bootstrap_ci(series, _slope_of_columns, rng, BLOCK_DAYS, BOOTSTRAP_B)
                slope_row = metric_row(FAMILY, "lexical_birth_rate_slope_n2", _slope_of_columns(series), ci, len(series))
            else:
                slope_row = metric_row(FAMILY, "lexical_birth_rate_slope_n2", None, None, len(series))
    return [births[n] for n in NGRAM_ORDERS] + [deaths[n] for n in NGRAM_ORDERS] + [slope_row]


def _empty_tables() -> dict[str, pd.DataFrame]:
    return {
        "socialization_daily": pd.DataFrame(columns=DAILY_COLUMNS),
        "socialization_lexical_daily": pd.DataFrame(columns=LEXICAL_COLUMNS),
    }


def semantic_socialization_metrics(
    posts: pd.DataFrame,
    embeddings: pd.DataFrame | None,
    text_languages: pd.DataFrame | None,
    *,
    time_flags: Sequence[Mapping[str, object]] | None,
    society_seed: int,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The society-level socialization series and their `society_metric` rows (§3.1–§3.3).

    posts: post_id, title, content, created_at. embeddings: `text_embeddings` rows (text_id,
    vector) of one model; None or empty = not available, and the semantic metrics are NULL with
    n = 0. text_languages: (text_id, language); None or empty = unknown, every post is kept.
    Every metric of METRIC_NAMES is returned, NULL with the achieved n below the minimum sample.
    """
    posts = posts.drop_duplicates("post_id").reset_index(drop=True)
    posts = posts[utc_times(posts["created_at"]).notna()].reset_index(drop=True)
    bins = plan_bins(posts["created_at"])
    if bins is None:
        return _empty_tables(), [metric_row(FAMILY, m, None, None, 0) for m in METRIC_NAMES]
    flagged = bins.flagged(parse_time_flags(time_flags))
    daily, samples, densities = semantic_daily(posts, embeddings, bins, flagged, society_seed)
    lexical = lexical_daily(posts, text_languages, bins, flagged, society_seed)
    rows = _semantic_rows(daily, samples, densities, society_seed) + _lexical_rows(lexical, society_seed)
    tables = {"socialization_daily": daily, "socialization_lexical_daily": lexical}
    return tables, rows


# --------------------------------------------------------------------------- registry

_LI = "Does Socialization Emerge, arXiv:2602.14299"


def _spec(metric: str, unit: str, ci: str, direction: str) -> MetricSpec:
    # §3: the diagnostics are the paper's [P]; every formula here is paper-named. No number is published.
    return MetricSpec(FAMILY, metric, unit, "paper-named", ci, direction, None, "P", _LI)  # type: ignore[arg-type]


#: What this module writes to society_metric (ANALYTICS_SPEC §3.1–§3.3), in order.
REGISTRY = [
    _spec("centroid_cos_prev_tail", "days", "bootstrap", "high (the society-wide centroid settles fast)"),
    _spec("drift_ratio_tail", "days", "bootstrap", "≈ 1"),
    _spec("days_to_stabilize", "days", "none", "small"),
    _spec("pairwise_diversity_mean", "days", "bootstrap", "high"),
    _spec("pairwise_diversity_slope_day", "days", "bootstrap",
          "≥ 0: CI covers 0 or lies above (no collapse of diversity); CI by a bootstrap of posts within days"),
    _spec("local_density_slope_day", "days", "bootstrap",
          "≤ 0 (local density does not rise); CI by a bootstrap of posts within days"),
    *[_spec(f"lexical_birth_rate_tail_n{n}", "days", "bootstrap", "> 0 (levels off above zero)") for n in NGRAM_ORDERS],
    *[_spec(f"lexical_death_rate_tail_n{n}", "days", "bootstrap", "> 0 (levels off above zero)") for n in NGRAM_ORDERS],
    _spec("lexical_birth_rate_slope_n2", "days", "block_bootstrap",
          "not trending to 0: CI covers 0 or lies above; CI by a 3-day moving-block bootstrap"),
]
METRIC_NAMES = [spec.metric for spec in REGISTRY]
