"""Heavy tails, popularity scaling, attention decay and Zipf's law (ANALYTICS_SPEC.md §7.2–§7.5).

Four society-level descriptions of how attention and activity are distributed:
- §7.2 heavy_tail_fits: a discrete power law per count variable (posts per agent, comments
  per post, ...) fitted with the `powerlaw` package (Clauset–Shalizi–Newman: xmin by KS
  minimization), compared with a lognormal and an exponential by normalized log-likelihood
  ratio, with CCDF points kept for plots;
- §7.3 upvote_comment_scaling: how median upvotes grow with comment count, on log2 bins;
- §7.4 attention_decay: how fast comments stop arriving after a post (rate ∝ t^−θ);
- §7.5 zipf_exponent: the rank–frequency slope of the society's English vocabulary.

Choices the spec leaves open (all recorded in the registry or below):
- α bootstrap: B = 200 resamples of the variable's units (the values ≥ 1), each refitted with
  xmin held at the original fit's xmin. A full xmin search per replicate would cost B times a
  search over every distinct value; the fixed-xmin refit is one estimate of α, so the CI
  stays affordable at 100k posts but does not include the uncertainty of xmin itself.
- Scaling and decay fits need at least `MIN_FIT_BINS` (3) bins: a line through two points
  cannot show whether the relation is a power law at all.
- The 24 h minimum post age of §7.3 is read as one spec "day" of `plan_bins` (24 h on a
  real society, one bin width on a short simulated run), and only where `last_seen_at` is
  known; the post_snapshots variant (fit at a fixed age) is not implemented.
- The median-regression variant of §7.3 is fitted on at most `MEDIAN_REGRESSION_MAX_POSTS`
  seeded posts (a linear program on every post takes tens of seconds at 60k posts) and has
  no CI.
- The decay fit keeps physical seconds (1 s … 7 days, fit on [60 s, 48 h]): the shape of a
  1/t decay does not depend on how long the society ran. It excludes capped threads (§0.4),
  and both comments and posts created inside a flagged window.
- Zipf keeps texts whose detected language is English or unknown (no `text_languages`
  row, or a NULL language: too short to tell); a text known to be in another language is
  dropped. No CI (see zipf_exponent).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import powerlaw

from assets.metrics.bins import in_flagged_window, parse_time_flags, plan_bins, utc_times
from assets.metrics.influence_graph import edge_events, influence_edges
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import MetricRow, metric_rng, metric_row, ols_slope, percentile_interval

FAMILY = "threads"

TAIL_VARIABLES = [
    "comments_per_post",
    "upvotes_per_post",
    "posts_per_agent",
    "comments_per_agent",
    "posts_per_community",
    "subscribers_per_community",
    "in_degree_per_agent",
    "out_degree_per_agent",
]

#: §7.2: a tail with fewer points gives a NULL α.
MIN_TAIL = 50
#: §0.5: B = 200 for power-law fits.
TAIL_BOOTSTRAP_B = 200
#: CCDF points kept per variable (log-spaced over its distinct values) for plots.
MAX_CCDF_POINTS = 500

#: §7.3: a log2 bin of comment_count needs this many posts.
MIN_POSTS_PER_SCALING_BIN = 20
#: A line is only fitted through at least this many bins (proposed, see the module docstring).
MIN_FIT_BINS = 3
SCALING_BOOTSTRAP_B = 1000
MEDIAN_REGRESSION_MAX_POSTS = 5_000

#: §7.4: lag histogram, 10 log bins per decade from 1 s to 7 days; fit on [60 s, 48 h].
DECAY_BINS_PER_DECADE = 10
DECAY_MAX_LAG_S = 7 * 86_400.0
DECAY_FIT_MIN_S = 60.0
DECAY_FIT_MAX_S = 48 * 3_600.0
MIN_COMMENTS_PER_DECAY_BIN = 10
DECAY_BOOTSTRAP_B = 1000

#: §7.5: the OLS of log frequency on log rank uses ranks 10 … 10,000.
ZIPF_FIRST_RANK = 10
ZIPF_LAST_RANK = 10_000
#: Fewer ranks than this inside the fit range: the vocabulary is too small for a slope.
MIN_ZIPF_RANKS = 50
#: Texts cleaned and counted per regex pass.
ZIPF_CHUNK_TEXTS = 2_000

#: Columns produced here; the writer adds society_id, computed_at, params_hash.
TAIL_FIT_COLUMNS = ["variable", "n", "xmin", "n_tail", "alpha", "alpha_ci_low", "alpha_ci_high", "ks_d",
                    "llr_lognormal", "p_lognormal", "llr_exponential", "p_exponential"]  # fmt: skip
CCDF_COLUMNS = ["variable", "x", "ccdf"]
SCALING_COLUMNS = ["method", "beta", "ci_low", "ci_high", "intercept", "n_posts", "n_bins"]
DECAY_COLUMNS = ["theta", "ci_low", "ci_high", "fit_t_min_s", "fit_t_max_s", "n_comments"]
DECAY_BIN_COLUMNS = ["bin_low_s", "bin_high_s", "center_s", "n_comments", "rate", "in_fit"]

SCALING_BINNED = "log2_bin_median_ols"
SCALING_MEDIAN_REGRESSION = "post_median_regression"


def _numbers(values: pd.Series) -> np.ndarray:
    """Numeric values of a column (numbers sent as strings are read; unreadable values → NaN)."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _ci(reps: np.ndarray) -> tuple[float, float]:
    """95 % percentile interval of bootstrap replicates; NaN when none is finite."""
    return percentile_interval(reps)


# --------------------------------------------------------------------------- §7.2 heavy tails


def tail_variables(posts: pd.DataFrame, comments: pd.DataFrame, communities: pd.DataFrame) -> dict[str, np.ndarray]:
    """The eight §7.2 samples, one value per unit (post, agent or community), NaN-free.

    Degrees are distinct neighbours in the `post_author` graph of the `all` window
    (§4.1): in-degree = distinct commenters on an agent's posts, out-degree = distinct
    post authors an agent commented on.
    """
    def per_key(keys: pd.Series) -> np.ndarray:
        return keys.dropna().value_counts().to_numpy(dtype=float)

    def finite(values: pd.Series) -> np.ndarray:
        x = _numbers(values)
        return x[np.isfinite(x)]

    edges = influence_edges(edge_events(posts, comments))
    graph = edges[(edges["edge_type"] == "post_author") & (edges["window"] == "all")]
    return {
        "comments_per_post": finite(posts["comment_count"]),
        "upvotes_per_post": finite(posts["upvotes"]),
        "posts_per_agent": per_key(posts["author_id"]),
        "comments_per_agent": per_key(comments["author_id"]),
        "posts_per_community": per_key(posts["community_id"]),
        "subscribers_per_community": finite(communities["subscriber_count"]),
        "in_degree_per_agent": per_key(graph["dst_agent_id"]),
        "out_degree_per_agent": per_key(graph["src_agent_id"]),
    }


def ccdf_points(x: np.ndarray, max_points: int = MAX_CCDF_POINTS) -> pd.DataFrame:
    """P(X ≥ v) at the distinct values v of x, thinned to about `max_points` log-spaced values."""
    x = np.sort(np.asarray(x, dtype=float))
    if x.size == 0:
        return pd.DataFrame({"x": pd.Series(dtype=float), "ccdf": pd.Series(dtype=float)})
    values = np.unique(x)
    ccdf = 1.0 - np.searchsorted(x, values, side="left") / x.size
    if values.size > max_points:
        targets = np.geomspace(values[0], values[-1], max_points)
        keep = np.unique(np.clip(np.searchsorted(values, targets), 0, values.size - 1))
        values, ccdf = values[keep], ccdf[keep]
    return pd.DataFrame({"x": values, "ccdf": ccdf})


def fit_power_law(x: np.ndarray, rng: np.random.Generator, B: int = TAIL_BOOTSTRAP_B) -> dict[str, float]:
    """One `threads_tail_fits` row (without `variable`) for the values ≥ 1 of x.

    α, its CI and the likelihood-ratio tests are NaN when the tail has fewer than
    MIN_TAIL points or when x has fewer than two distinct values (no xmin to choose).
    A positive LLR favours the power law; p is the significance of its sign.
    """
    x = np.asarray(x, dtype=float)
    x = x[x >= 1]
    nan = float("nan")
    row = {"n": x.size, "xmin": nan, "n_tail": 0, "alpha": nan, "alpha_ci_low": nan, "alpha_ci_high": nan,
           "ks_d": nan, "llr_lognormal": nan, "p_lognormal": nan, "llr_exponential": nan, "p_exponential": nan}
    if np.unique(x).size < 2:
        return row
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # The package warns on every awkward candidate xmin and comparison; the values say enough.
        warnings.simplefilter("ignore")
        fit = powerlaw.Fit(x, discrete=True, verbose=0)
        if not np.isfinite(fit.xmin):
            return row
        law = fit.power_law
        row.update(xmin=float(fit.xmin), n_tail=int(fit.n_tail), ks_d=float(law.D))
        if fit.n_tail < MIN_TAIL:
            return row
        row["alpha"] = float(law.alpha)
        for other in ["lognormal", "exponential"]:
            llr, p = fit.distribution_compare("power_law", other, normalized_ratio=True)
            row[f"llr_{other}"], row[f"p_{other}"] = float(llr), float(p)
        reps = np.empty(B, dtype=float)
        for b in range(B):
            sample = x[rng.integers(0, x.size, size=x.size)]
            tail = sample[sample >= fit.xmin]
            reps[b] = powerlaw.Fit(tail, discrete=True, xmin=fit.xmin, verbose=0).power_law.alpha if tail.size else nan
    row["alpha_ci_low"], row["alpha_ci_high"] = _ci(reps)
    return row


def heavy_tail_fits(
    samples: Mapping[str, np.ndarray], society_seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[MetricRow]]:
    """`threads_tail_fits`, `threads_tail_ccdf` and the `alpha_<variable>` rows (n = units ≥ 1)."""
    fits, curves, rows = [], [], []
    for variable in TAIL_VARIABLES:
        x = np.asarray(samples[variable], dtype=float)
        metric = f"alpha_{variable}"
        fit = fit_power_law(x, metric_rng(society_seed, metric))
        fits.append({"variable": variable, **fit})
        curves.append(ccdf_points(x[x >= 1]).assign(variable=variable))
        rows.append(metric_row(FAMILY, metric, fit["alpha"], (fit["alpha_ci_low"], fit["alpha_ci_high"]), fit["n"]))
    table = pd.DataFrame(fits)[TAIL_FIT_COLUMNS]
    table["n"] = table["n"].astype("int64")
    table["n_tail"] = table["n_tail"].astype("int64")
    ccdf = pd.concat(curves, ignore_index=True)[CCDF_COLUMNS]
    return table, ccdf, rows


# --------------------------------------------------------------------------- §7.3 scaling


def weighted_median_sorted(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of the multiset holding values[i] weights[i] times (values ascending, integer
    weights); the mean of the two middle elements when the total is even, as np.median."""
    cum = np.cumsum(weights)
    total = int(cum[-1]) if cum.size else 0
    if total == 0:
        return float("nan")
    low = np.searchsorted(cum, (total - 1) // 2, side="right")
    high = np.searchsorted(cum, total // 2, side="right")
    return float((values[low] + values[high]) / 2.0)


def _binned_scaling_fit(
    bin_of: np.ndarray, upvotes: np.ndarray, weights: np.ndarray
) -> tuple[float, float, int]:
    """(β, intercept, bins used) of the §7.3 OLS over bins with enough posts.

    Posts arrive sorted by (bin, upvotes); `weights` counts how often each post is in the
    sample (all ones for the observed data, bootstrap multiplicities otherwise).
    """
    centers, medians = [], []
    for b in np.unique(bin_of):
        inside = bin_of == b
        w = weights[inside]
        if w.sum() < MIN_POSTS_PER_SCALING_BIN:
            continue
        lo, hi = 2.0**b, 2.0 ** (b + 1) - 1.0  # integer comment counts in bin b
        centers.append(np.sqrt(lo * hi))
        medians.append(weighted_median_sorted(upvotes[inside], w))
    if len(centers) < MIN_FIT_BINS:
        return float("nan"), float("nan"), len(centers)
    x = np.log10(1.0 + np.asarray(centers))
    y = np.log10(1.0 + np.asarray(medians))
    beta = ols_slope(x, y)
    return beta, float(y.mean() - beta * x.mean()), len(centers)


def _median_regression(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-absolute-deviation line y ≈ β·x + c (a median regression), via scikit-learn."""
    from sklearn.linear_model import QuantileRegressor

    if x.size < MIN_POSTS_PER_SCALING_BIN or np.ptp(x) == 0:
        return float("nan"), float("nan")
    model = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(x[:, None], y)
    return float(model.coef_[0]), float(model.intercept_)


def scaling_posts(posts: pd.DataFrame, min_age_s: float) -> pd.DataFrame:
    """Posts of §7.3: reported comment_count ≥ 1, readable upvotes, and at least `min_age_s`
    old at `last_seen_at` where that is known."""
    comment_count = _numbers(posts["comment_count"])
    upvotes = _numbers(posts["upvotes"])
    keep = (comment_count >= 1) & np.isfinite(upvotes)
    if "last_seen_at" in posts.columns:
        age = (utc_times(posts["last_seen_at"]) - utc_times(posts["created_at"])).dt.total_seconds()
        age = age.to_numpy(dtype=float, na_value=np.nan)
        keep &= np.isnan(age) | (age >= min_age_s)
    return pd.DataFrame({"comment_count": comment_count[keep], "upvotes": upvotes[keep]})


def upvote_comment_scaling(
    posts: pd.DataFrame, min_age_s: float, society_seed: int, B: int = SCALING_BOOTSTRAP_B
) -> tuple[pd.DataFrame, MetricRow]:
    """`threads_scaling` (two methods) and the `upvote_comment_beta` row (n = posts)."""
    metric = "upvote_comment_beta"
    rng = metric_rng(society_seed, metric)
    p = scaling_posts(posts, min_age_s)
    bin_of = np.floor(np.log2(p["comment_count"].to_numpy())).astype(np.int64)
    order = np.lexsort((p["upvotes"].to_numpy(), bin_of))
    bin_of, upvotes = bin_of[order], p["upvotes"].to_numpy()[order]
    n_posts = int(bin_of.size)

    beta, intercept, n_bins = _binned_scaling_fit(bin_of, upvotes, np.ones(n_posts, dtype=np.int64))
    low = high = float("nan")
    if np.isfinite(beta):
        reps = np.empty(B, dtype=float)
        for b in range(B):
            weights = np.bincount(rng.integers(0, n_posts, size=n_posts), minlength=n_posts)
            reps[b] = _binned_scaling_fit(bin_of, upvotes, weights)[0]
        low, high = _ci(reps)

    sample = rng.permutation(n_posts)[:MEDIAN_REGRESSION_MAX_POSTS]
    x_post = np.log1p(p["comment_count"].to_numpy()[order][sample])
    mr_beta, mr_intercept = _median_regression(x_post, np.log1p(upvotes[sample]))
    table = pd.DataFrame(
        [
            [SCALING_BINNED, beta, low, high, intercept, n_posts, n_bins],
            [SCALING_MEDIAN_REGRESSION, mr_beta, np.nan, np.nan, mr_intercept, int(sample.size), 0],
        ],
        columns=SCALING_COLUMNS,
    )
    return table, metric_row(FAMILY, metric, beta, (low, high), n_posts)


# --------------------------------------------------------------------------- §7.4 decay


def decay_edges() -> np.ndarray:
    """Bin edges in seconds: 10 per decade from 1 s, the last edge at exactly 7 days."""
    k_max = int(np.ceil(np.log10(DECAY_MAX_LAG_S) * DECAY_BINS_PER_DECADE))
    edges = 10.0 ** (np.arange(k_max + 1) / DECAY_BINS_PER_DECADE)
    edges = edges[edges < DECAY_MAX_LAG_S]
    return np.append(edges, DECAY_MAX_LAG_S)


def capped_posts(posts: pd.DataFrame, comments: pd.DataFrame, comment_cap: int | None) -> np.ndarray:
    """§0.4 is_capped per post: the cap is set and the observed comments reach it or fall
    short of the reported count (a post with none observed but some reported included)."""
    if comment_cap is None:
        return np.zeros(len(posts), dtype=bool)
    observed = posts["post_id"].map(comments["post_id"].value_counts()).fillna(0).to_numpy(dtype=float)
    reported = _numbers(posts["comment_count"])
    return (observed >= comment_cap) | (np.isfinite(reported) & (observed < reported))


def attention_decay(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    comment_cap: int | None,
    time_flags: Sequence[Mapping[str, object]] | None,
    society_seed: int,
    B: int = DECAY_BOOTSTRAP_B,
) -> tuple[pd.DataFrame, pd.DataFrame, MetricRow]:
    """`threads_decay`, `threads_decay_bins` and the `attention_decay_theta` row (n = comments).

    rate_b = count_b / (width_b · N_posts) over the kept posts (uncapped, created outside
    flagged windows); θ = −slope of log10 rate on log10 of the bin's geometric centre over the
    bins inside [60 s, 48 h] with ≥ 10 comments. CI: posts resampled with their comments.
    """
    metric = "attention_decay_theta"
    windows = parse_time_flags(time_flags)
    p = posts.drop_duplicates("post_id")
    keep_post = ~capped_posts(p, comments, comment_cap) & ~in_flagged_window(p["created_at"], windows)
    p = p[keep_post]
    post_index = pd.Series(np.arange(len(p)), index=p["post_id"].to_numpy())
    posted = pd.Series(utc_times(p["created_at"]).to_numpy(), index=p["post_id"].to_numpy())

    c = comments[comments["post_id"].isin(post_index.index)]
    c = c[~in_flagged_window(c["created_at"], windows)]
    lag = (utc_times(c["created_at"]) - c["post_id"].map(posted)).dt.total_seconds().to_numpy(dtype=float)
    edges = decay_edges()
    bin_of = np.searchsorted(edges, lag, side="right") - 1
    inside = np.isfinite(lag) & (lag > 0) & (bin_of >= 0) & (bin_of < edges.size - 1)
    bin_of = bin_of[inside]
    owner = c["post_id"].map(post_index).to_numpy(dtype=np.int64)[inside]
    n_posts, n_comments = len(p), int(bin_of.size)

    widths = np.diff(edges)
    centers = np.sqrt(edges[:-1] * edges[1:])
    in_window = (edges[:-1] >= DECAY_FIT_MIN_S) & (edges[1:] <= DECAY_FIT_MAX_S)

    def fit(post_weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        counts = np.bincount(bin_of, weights=post_weights[owner], minlength=widths.size)
        used = in_window & (counts >= MIN_COMMENTS_PER_DECAY_BIN)
        if used.sum() < MIN_FIT_BINS:
            return float("nan"), counts, used
        rate = counts[used] / (widths[used] * post_weights.sum())
        return -ols_slope(np.log10(centers[used]), np.log10(rate)), counts, used

    theta, counts, used = fit(np.ones(n_posts))
    low = high = float("nan")
    if np.isfinite(theta):
        rng = metric_rng(society_seed, metric)
        reps = np.array([fit(np.bincount(rng.integers(0, n_posts, size=n_posts), minlength=n_posts).astype(float))[0]
                         for _ in range(B)])  # fmt: skip
        low, high = _ci(reps)

    rate = counts / (widths * n_posts) if n_posts else np.full(widths.size, np.nan)
    bins = pd.DataFrame({"bin_low_s": edges[:-1], "bin_high_s": edges[1:], "center_s": centers,
                         "n_comments": counts.astype("int64"), "rate": rate, "in_fit": used})  # fmt: skip
    t_min = float(edges[:-1][used].min()) if used.any() else np.nan
    t_max = float(edges[1:][used].max()) if used.any() else np.nan
    table = pd.DataFrame([[theta, low, high, t_min, t_max, n_comments]], columns=DECAY_COLUMNS)
    return table, bins[DECAY_BIN_COLUMNS], metric_row(FAMILY, metric, theta, (low, high), n_comments)


# --------------------------------------------------------------------------- §7.5 Zipf

_URL = re.compile(r"(?:https?://|www\.)\S+")  # applied to lowercased text
_HANDLE = re.compile(r"@\w+")
_WORD = re.compile(r"\w+")


def tokenize(text: object) -> list[str]:
    """§3.3 tokens: lowercase, URLs, @handles and numbers stripped, then Unicode \\w+ runs.

    A number is a run of decimal digits between word boundaries ("2026", both halves of
    "3.14"), so it is exactly a \\w+ token made of digits only; "gpt4" stays a word.
    A value that is not a string (NULL content) has no tokens.
    """
    if not isinstance(text, str):
        return []
    words = _WORD.findall(_HANDLE.sub(" ", _URL.sub(" ", text.lower())))
    return [w for w in words if not w.isdecimal()]


def english_texts(texts: pd.DataFrame, text_languages: pd.DataFrame | None) -> pd.Series:
    """The `text` column without the texts known to be in a language other than English."""
    if text_languages is None or text_languages.empty:
        return texts["text"]
    language = texts["text_id"].map(text_languages.drop_duplicates("text_id").set_index("text_id")["language"])
    return texts.loc[language.isna() | (language == "en"), "text"]


def zipf_fit(frequencies: np.ndarray) -> float:
    """s = −slope of log f on log r over ranks ZIPF_FIRST_RANK … ZIPF_LAST_RANK (NaN if too few)."""
    f = np.sort(np.asarray(frequencies, dtype=float))[::-1]
    f = f[f > 0]
    rank = np.arange(1, f.size + 1)
    chosen = (rank >= ZIPF_FIRST_RANK) & (rank <= ZIPF_LAST_RANK)
    if chosen.sum() < MIN_ZIPF_RANKS:
        return float("nan")
    return -ols_slope(np.log(rank[chosen]), np.log(f[chosen]))


def token_counts(texts: Sequence[object], chunk: int = ZIPF_CHUNK_TEXTS) -> Counter[str]:
    """Unigram counts of many texts, tokenized as `tokenize`.

    Texts are cleaned and counted a chunk at a time (joined by newlines, which no URL,
    handle, number or word crosses), so the regexes and Counter run in C over long strings
    instead of once per text in Python.
    """
    counts: Counter[str] = Counter()
    for start in range(0, len(texts), chunk):
        joined = "\n".join(t for t in texts[start : start + chunk] if isinstance(t, str))
        counts.update(_WORD.findall(_HANDLE.sub(" ", _URL.sub(" ", joined.lower()))))
    for number in [w for w in counts if w.isdecimal()]:
        del counts[number]
    return counts


def zipf_exponent(texts: pd.DataFrame, text_languages: pd.DataFrame | None) -> MetricRow:
    """The `zipf_exponent` row (n = tokens), without a CI.

    A bootstrap over texts is biased here: a resample loses about a third of the rare
    words and doubles others, which reshapes the low-frequency end the fit runs through
    (on a 300k-token simulated society the percentile interval did not even contain the
    estimate), and the spec asks for no interval.
    """
    counts = token_counts(english_texts(texts, text_languages).tolist())
    frequencies = np.fromiter(counts.values(), dtype=float, count=len(counts))
    return metric_row(FAMILY, "zipf_exponent", zipf_fit(frequencies), None, int(frequencies.sum()))


# --------------------------------------------------------------------------- the family


def tail_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    communities: pd.DataFrame,
    texts: pd.DataFrame,
    text_languages: pd.DataFrame | None,
    *,
    comment_cap: int | None,
    time_flags: Sequence[Mapping[str, object]] | None,
    society_seed: int,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """§7.2–§7.5 for one society: the family tables by name and the society_metric rows.

    posts(post_id, community_id, author_id, upvotes, comment_count, created_at[, last_seen_at]),
    comments(comment_id, post_id, parent_id, author_id, created_at),
    communities(community_id, subscriber_count), texts(text_id, text) — the `texts` view —
    and text_languages(text_id, language) or None when no language was detected.
    """
    samples = tail_variables(posts, comments, communities)
    fits, ccdf, rows = heavy_tail_fits(samples, society_seed)

    bins = plan_bins(posts["created_at"])
    min_age_s = bins.day_s if bins is not None else 86_400.0
    scaling, beta_row = upvote_comment_scaling(posts, min_age_s, society_seed)
    decay, decay_bins, theta_row = attention_decay(posts, comments, comment_cap, time_flags, society_seed)
    rows += [beta_row, theta_row, zipf_exponent(texts, text_languages)]
    tables = {
        "threads_tail_fits": fits,
        "threads_tail_ccdf": ccdf,
        "threads_scaling": scaling,
        "threads_decay": decay,
        "threads_decay_bins": decay_bins,
    }
    return tables, rows


# --------------------------------------------------------------------------- registry


def _spec(metric: str, unit: str, provenance: str, direction: str, value: str | None = None,
          evidence: str = "none", source: str | None = None, ci: str = "bootstrap") -> MetricSpec:
    return MetricSpec(FAMILY, metric, unit, provenance, ci, direction, value, evidence, source)  # type: ignore[arg-type]


_ANATOMY = "Anatomy, arXiv:2602.10131"
_COLLECTIVE = "Collective Behavior of AI Agents, arXiv:2602.09270"
_MOLTGRAPH = "MoltGraph, arXiv:2603.00646"
_TAIL = "heavy-tailed, α within 1.5–2.1; a power law only if the LLR significantly favours it"
#: What this module writes to society_metric (ANALYTICS_SPEC §7.2–§7.5), in order.
REGISTRY = [
    _spec("alpha_comments_per_post", "posts", "paper-named", _TAIL, "≈ 1.72", "S", _COLLECTIVE),
    _spec("alpha_upvotes_per_post", "posts", "paper-named", "heavy-tailed",
          "popularity exponents 1.68–2.00", "S", _COLLECTIVE),
    _spec("alpha_posts_per_agent", "agents", "paper-named", _TAIL, "1.70 (participation)", "P", _ANATOMY),
    _spec("alpha_comments_per_agent", "agents", "paper-named", "heavy-tailed"),
    _spec("alpha_posts_per_community", "communities", "paper-named", "heavy-tailed",
          "popularity exponents 1.68–2.00", "S", _COLLECTIVE),
    _spec("alpha_subscribers_per_community", "communities", "paper-named", "heavy-tailed"),
    _spec("alpha_in_degree_per_agent", "agents", "paper-named", "heavy-tailed", "1.86–2.72 (degree)", "P",
          _MOLTGRAPH),
    _spec("alpha_out_degree_per_agent", "agents", "paper-named", "heavy-tailed", "1.86–2.72 (degree)", "P",
          _MOLTGRAPH),
    _spec("upvote_comment_beta", "posts", "paper-named", "< 1 (sublinear); fit proposed", "β < 1", "P", _COLLECTIVE),
    _spec("attention_decay_theta", "comments", "paper-named", "≈ 1 (rate ∝ 1/t); fit window proposed", "θ ≈ 1", "S",
          _COLLECTIVE),
    _spec("zipf_exponent", "tokens", "paper-named", "≈ 1.70, against ≈ 1.0 for ordinary English; fit range proposed",
          "1.70", "P", _ANATOMY, ci="none"),
]
TAIL_METRIC_NAMES = [spec.metric for spec in REGISTRY]
