"""Toxicity family (ANALYTICS_SPEC.md §2): how much harm there is, where it sits, when it peaks
and whether it draws attention.

Inputs are warehouse frames of one society: the `texts` view (text_id, kind, post_id,
community_id, created_at), `posts` (post_id, comment_count, upvotes), `toxicity_labels`
(text_id, level, method), and optionally `content_category` (text_id, category, method) and
`topic_assignments` (text_id, model_id, topic).

Conventions used throughout:
- One label method at a time (§0.5 comparability): a table holding several toxicity or category
  methods (offline and LLM-judged labels side by side) needs the method named explicitly;
  auxiliary `content_category` rows (`…:motivation`, `…:enforcement`, `…:argument`, §0.3) are
  never categories. The same goes for the topic `model_id`.
- A level outside 0..4 or not an integer leaves its text unlabelled (the labeller folds 5 into 4;
  anything else reaching here is a bad row, not a level).
- Harmful means level ≥ 2 (§2.1). Posts are the unit everywhere except the comment rows of
  `toxicity_level_share`; those, being comment-based, leave out comments written in a flagged
  hour (§0.4), while post-based summaries keep flagged bins.
- `n_posts` of the time series counts labelled posts: it is the denominator of the harmful share,
  and it is the volume the correlation reads (equal to all posts when every post is labelled).
- `harm_engagement_ratio` combines the (community, day) strata as a standardized ratio:
  Σ_s w_s·mean_harm_s / Σ_s w_s·mean_safe_s with w_s = the stratum's level-≥3 count. This is our
  reading of "combined with weights equal to each stratum's level-≥3 count": the weights apply to
  both means rather than to per-stratum ratios, so that one stratum whose safe posts all have
  zero comments does not make the ratio infinite (nor has to be dropped).

Minimum samples the spec does not fix are this module's (proposed): `MIN_CORR_BINS` bins for a
correlation, `MIN_SLOPE_DAYS` days for a slope, `MIN_ENGAGEMENT_POSTS` level-≥3 posts for the
engagement ratio; elsewhere one unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from assets.enrich.categories import CATEGORY_CODES
from assets.metrics.bins import bin_is_flagged, hour_is_flagged, parse_time_flags
from assets.metrics.registry import CiMethod, Evidence, MetricSpec, Provenance
from assets.metrics.stats import (
    percentile_interval,
    MetricRow,
    bootstrap_ci,
    metric_rng,
    metric_row,
    moving_block_bootstrap_ci,
    ols_slope,
    pearson,
    spearman,
    wilson_interval,
)

FAMILY = "toxicity"
LEVELS = (0, 1, 2, 3, 4)
HARMFUL_LEVEL = 2  # harmful = level ≥ 2 (§2.1)
ENGAGEMENT_LEVEL = 3  # harm_engagement_ratio compares level ≥ 3 with level 0 (§2.2)

MIN_CATEGORY_POSTS = 30
MIN_GROUP_POSTS = 50  # topics and communities
MIN_HOUR_POSTS = 20
MIN_DAY_POSTS = 200
MIN_MAX_HOUR_POSTS = 100  # harmful_share_max_hour looks at busy hours only
MIN_CORR_BINS = 8  # proposed
MIN_SLOPE_DAYS = 3  # proposed
MIN_ENGAGEMENT_POSTS = 10  # proposed: level-≥3 posts in strata that also hold a level-0 post
TOP_TOPICS = 5
OUTLIER_TOPIC = -1
BLOCK_HOURS = 24
BLOCK_DAYS = 3

#: Suffixes of auxiliary labels stored in content_category (§0.3); they are not categories.
AUXILIARY_METHOD_SUFFIXES = (":motivation", ":enforcement", ":argument")

LEVEL_SHARE_COLUMNS = ["variant", "kind", "level", "n", "share", "ci_low", "ci_high"]
RISK_VALUE_COLUMNS = [
    "n", "p_level_0", "p_level_1", "p_level_2", "p_level_3", "p_level_4",
    "harmful_rate", "harmful_ci_low", "harmful_ci_high", "level3_rate", "level4_rate",
    "contrib_ratio", "contrib_ci_low", "contrib_ci_high",
]  # fmt: skip
TIME_SERIES_COLUMNS = [
    "bin", "bin_start", "n_posts", "n_harmful", "harmful_share", "level3_share", "level4_share", "is_flagged",
]  # fmt: skip
VOLUME_CORR_COLUMNS = ["bin", "method", "differenced", "r", "ci_low", "ci_high", "n_bins"]
ENGAGEMENT_COLUMNS = ["outcome", "n_harmful", "n_safe", "ratio", "ci_low", "ci_high"]

BIN_WIDTH = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1)}

#: (start, end) of the society's `time_flags` windows.
Windows = list[tuple[pd.Timestamp, pd.Timestamp]]


# --------------------------------------------------------------------------- inputs


def pick_method(frame: pd.DataFrame | None, column: str, chosen: str | None, what: str) -> pd.DataFrame | None:
    """The rows of one label method (or topic model); None when the frame has none to offer.

    Without an explicit choice the frame must hold a single method: mixing two labellers
    would silently average incomparable labels.
    """
    if frame is None or frame.empty:
        return None
    if chosen is not None:
        rows = frame[frame[column] == chosen]
        return rows if not rows.empty else None
    present = sorted(str(m) for m in frame[column].dropna().unique())
    if len(present) > 1:
        raise ValueError(f"{what} holds several values of {column} ({', '.join(present)}); name the one to use")
    return frame if present else None


def category_rows(content_category: pd.DataFrame | None) -> pd.DataFrame | None:
    """content_category without the auxiliary labels that share its table."""
    if content_category is None or content_category.empty:
        return None
    method = content_category["method"].astype(str)
    return content_category[~method.str.endswith(AUXILIARY_METHOD_SUFFIXES)]


def _valid_level(values: pd.Series) -> pd.Series:
    """Levels as float 0..4; NaN for anything else (strings, fractions, out of range)."""
    level = pd.to_numeric(values, errors="coerce").astype(float)
    ok = level.isin([float(lv) for lv in LEVELS])
    return level.where(ok)


def labelled_texts(texts: pd.DataFrame, toxicity_labels: pd.DataFrame | None) -> pd.DataFrame:
    """One row per labelled text: text_id, kind, post_id, community_id, created_at (UTC), level (int).

    `toxicity_labels` must already be one method's rows; a text labelled twice keeps its first row.
    """
    columns = ["text_id", "kind", "post_id", "community_id", "created_at", "level"]
    if toxicity_labels is None:
        toxicity_labels = pd.DataFrame({"text_id": pd.Series(dtype=object), "level": pd.Series(dtype=float)})
    labels = toxicity_labels[["text_id", "level"]].assign(level=lambda d: _valid_level(d["level"]))
    labels = labels.dropna(subset=["level"]).drop_duplicates("text_id")
    t = texts[["text_id", "kind", "post_id", "community_id", "created_at"]].drop_duplicates("text_id")
    out = t.merge(labels, on="text_id", how="inner")
    out["created_at"] = pd.to_datetime(out["created_at"], utc=True, errors="coerce")
    out["level"] = out["level"].astype("int64")
    return out[columns].reset_index(drop=True)


# --------------------------------------------------------------------------- toxicity_level_share


def _unflagged(rows: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """Rows whose creation hour overlaps no flag window (a missing time is kept: it is not flagged)."""
    return rows[~hour_is_flagged(rows["created_at"], windows)]


def level_share_table(lab: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """`toxicity_level_share`: per kind, the share of each level (`exact`) and of each level or
    above (`at_least`, level 1..4; `at_least` 2 is the harmful share), Wilson CIs, n = labelled texts.

    Comments written in flagged hours are left out (comment-based, §0.4); posts are all kept.
    """
    rows = []
    for kind in ("post", "comment"):
        sub = lab[lab["kind"] == kind]
        if kind == "comment":
            sub = _unflagged(sub, windows)
        n = len(sub)
        for variant, levels in (("exact", LEVELS), ("at_least", LEVELS[1:])):
            for level in levels:
                hit = sub["level"] == level if variant == "exact" else sub["level"] >= level
                k = int(hit.sum())
                low, high = wilson_interval(k, n)
                rows.append({"variant": variant, "kind": kind, "level": level, "n": n,
                             "share": k / n if n else math.nan, "ci_low": low, "ci_high": high})  # fmt: skip
    table = pd.DataFrame(rows, columns=LEVEL_SHARE_COLUMNS)
    return table.astype({"level": "int64", "n": "int64"})


# --------------------------------------------------------------------------- risk tables


def _contrib_ratio(h_c: float, n_c: float, h: float, n: float) -> float:
    """(H_c/H) / (n_c/N); NaN when there is no harmful post or no post in c."""
    if h <= 0 or n_c <= 0 or n <= 0:
        return math.nan
    return (h_c / h) / (n_c / n)


def contrib_ratio_ci(h_c: int, n_c: int, h: int, n: int, rng: np.random.Generator, B: int) -> tuple[float, float]:
    """Post bootstrap CI of contrib_ratio.

    The ratio depends on the posts only through four cell counts (in c or not × harmful or not),
    so resampling N posts with replacement is exactly a multinomial draw of those cells.
    """
    if n <= 0:
        return math.nan, math.nan
    cells = np.array([h_c, n_c - h_c, h - h_c, n - n_c - (h - h_c)], dtype=float) / n
    draws = rng.multinomial(n, cells, size=B).astype(float)
    hc, nc = draws[:, 0], draws[:, 0] + draws[:, 1]
    hh = draws[:, 0] + draws[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = (hc / hh) / (nc / n)
    return percentile_interval(reps)


def risk_table(
    keyed: pd.DataFrame,
    key: str,
    min_posts: int,
    society_seed: int,
    B: int,
    all_keys: Sequence | None = None,
    excluded: Sequence = (),
) -> pd.DataFrame:
    """Rows of a `toxicity_risk_by_<key>` table from posts with (key, level).

    Every key present (and every key of `all_keys`) gets a row with its n; the rates and
    contrib_ratio are NULL below `min_posts` and for `excluded` keys (the BERTopic outlier
    topic). N and H (all posts, all harmful posts) count every keyed post, excluded ones too.
    """
    counts = keyed.groupby([key, "level"]).size().unstack("level", fill_value=0)
    counts = counts.reindex(columns=list(LEVELS), fill_value=0)
    if all_keys is not None:
        counts = counts.reindex(counts.index.union(pd.Index(list(all_keys))), fill_value=0)
    n_all = int(counts.to_numpy().sum())
    h_all = int(counts[[lv for lv in LEVELS if lv >= HARMFUL_LEVEL]].to_numpy().sum())
    rows = []
    for k, c in counts.sort_index().iterrows():
        n = int(c.sum())
        row: dict = {key: k, "n": n}
        row.update({col: math.nan for col in RISK_VALUE_COLUMNS if col != "n"})
        if n >= min_posts and k not in excluded:
            harmful = int(sum(c[lv] for lv in LEVELS if lv >= HARMFUL_LEVEL))
            for lv in LEVELS:
                row[f"p_level_{lv}"] = c[lv] / n
            row["harmful_rate"] = harmful / n
            row["harmful_ci_low"], row["harmful_ci_high"] = wilson_interval(harmful, n)
            row["level3_rate"], row["level4_rate"] = c[3] / n, c[4] / n
            row["contrib_ratio"] = _contrib_ratio(harmful, n, h_all, n_all)
            if not math.isnan(row["contrib_ratio"]):
                rng = metric_rng(society_seed, f"toxicity_risk_by_{key}:{k}")
                row["contrib_ci_low"], row["contrib_ci_high"] = contrib_ratio_ci(harmful, n, h_all, n_all, rng, B)
        rows.append(row)
    table = pd.DataFrame(rows, columns=[key, *RISK_VALUE_COLUMNS])
    return table.astype({"n": "int64"})


def _posts(lab: pd.DataFrame) -> pd.DataFrame:
    return lab[lab["kind"] == "post"]


def category_keyed(lab: pd.DataFrame, categories: pd.DataFrame | None) -> pd.DataFrame:
    """Labelled posts with their category (upper-cased code); posts without one are left out."""
    if categories is None:
        return pd.DataFrame({"category": pd.Series(dtype=object), "level": pd.Series(dtype="int64")})
    cat = categories[["text_id", "category"]].dropna().drop_duplicates("text_id")
    cat = cat.assign(category=cat["category"].astype(str).str.strip().str.upper())
    return _posts(lab).merge(cat, on="text_id", how="inner")[["category", "level"]]


def topic_keyed(lab: pd.DataFrame, topics: pd.DataFrame | None) -> pd.DataFrame:
    """Labelled posts with their topic; posts without one, or with a topic that is no INTEGER, are left out."""
    if topics is None:
        return pd.DataFrame({"topic": pd.Series(dtype="int64"), "level": pd.Series(dtype="int64")})
    tp = topics[["text_id", "topic"]].drop_duplicates("text_id")
    topic = pd.to_numeric(tp["topic"], errors="coerce")
    tp = tp.assign(topic=topic)[topic.notna() & (topic == np.floor(topic)) & (topic.abs() < 2**31)]
    keyed = _posts(lab).merge(tp, on="text_id", how="inner")[["topic", "level"]]
    return keyed.astype({"topic": "int64"})


def community_keyed(lab: pd.DataFrame) -> pd.DataFrame:
    posts = _posts(lab)
    return posts[posts["community_id"].notna()][["community_id", "level"]]


# --------------------------------------------------------------------------- time series


def time_series_table(lab: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """`toxicity_time_series`: one row per hour and per day holding a labelled post.

    Shares are NULL below the §0.4 minimum (20 posts an hour, 200 a day); bins without posts
    are not listed, so an absurd timestamp cannot create millions of empty rows.
    """
    posts = _posts(lab).dropna(subset=["created_at"])
    parts = []
    for bin_name, freq, minimum in (("hour", "h", MIN_HOUR_POSTS), ("day", "D", MIN_DAY_POSTS)):
        per_post = pd.DataFrame(
            {
                "bin_start": posts["created_at"].dt.floor(freq),
                "n_posts": 1,
                "n_harmful": (posts["level"] >= HARMFUL_LEVEL).astype(int),
                "n_level3": (posts["level"] == 3).astype(int),
                "n_level4": (posts["level"] == 4).astype(int),
            }
        )
        part = per_post.groupby("bin_start", as_index=False).sum()
        enough = part["n_posts"] >= minimum
        part["harmful_share"] = (part["n_harmful"] / part["n_posts"]).where(enough)
        part["level3_share"] = (part["n_level3"] / part["n_posts"]).where(enough)
        part["level4_share"] = (part["n_level4"] / part["n_posts"]).where(enough)
        part["is_flagged"] = bin_is_flagged(part["bin_start"], BIN_WIDTH[bin_name], windows)
        part["bin"] = bin_name
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)[TIME_SERIES_COLUMNS].astype(
        {"n_posts": "int64", "n_harmful": "int64", "harmful_share": float,
         "level3_share": float, "level4_share": float, "is_flagged": bool}  # fmt: skip
    )
    table["bin_start"] = pd.to_datetime(table["bin_start"], utc=True).astype("datetime64[us, UTC]")
    return table.sort_values(["bin", "bin_start"]).reset_index(drop=True)


def _slope(rows: np.ndarray) -> float:
    """OLS slope of column 1 on column 0; NaN when x does not vary."""
    return ols_slope(rows[:, 0], rows[:, 1])


def _correlation_pairs(series: pd.DataFrame, bin_name: str, differenced: bool) -> np.ndarray:
    """(volume, harmful share) of valid unflagged bins in time order, or their first differences
    between bins exactly one width apart."""
    s = series[(series["bin"] == bin_name) & series["harmful_share"].notna() & ~series["is_flagged"]]
    s = s.sort_values("bin_start")
    pairs = s[["n_posts", "harmful_share"]].to_numpy(dtype=float)
    if not differenced:
        return pairs
    adjacent = (s["bin_start"].diff() == BIN_WIDTH[bin_name]).to_numpy()
    return np.diff(pairs, axis=0)[adjacent[1:]] if len(pairs) > 1 else np.empty((0, 2))


def volume_corr_table(series: pd.DataFrame, society_seed: int, B: int) -> pd.DataFrame:
    """`toxicity_volume_corr`: Pearson and Spearman r between posts per bin and harmful share,
    levels and first differences, hourly and daily; moving-block bootstrap CIs (24 h / 3-day blocks)."""
    rows = []
    for bin_name, block in (("hour", BLOCK_HOURS), ("day", BLOCK_DAYS)):
        for differenced in (False, True):
            pairs = _correlation_pairs(series, bin_name, differenced)
            for method, stat in (("pearson", pearson), ("spearman", spearman)):
                r, low, high = math.nan, math.nan, math.nan
                if len(pairs) >= MIN_CORR_BINS:
                    r = stat(pairs)
                if not math.isnan(r):
                    name = f"toxicity_volume_corr:{bin_name}:{method}:{differenced}"
                    low, high = moving_block_bootstrap_ci(pairs, stat, metric_rng(society_seed, name), block, B)
                rows.append({"bin": bin_name, "method": method, "differenced": differenced,
                             "r": r, "ci_low": low, "ci_high": high, "n_bins": len(pairs)})  # fmt: skip
    return pd.DataFrame(rows, columns=VOLUME_CORR_COLUMNS).astype({"differenced": bool, "n_bins": "int64"})


# --------------------------------------------------------------------------- engagement


def _standardized_ratio(sums: np.ndarray, counts: np.ndarray, harm_group: np.ndarray, safe_group: np.ndarray
                        ) -> float:  # fmt: skip
    """Σ_s n_h,s·mean_h,s / Σ_s n_h,s·mean_0,s from per-(stratum, class) sums and counts."""
    expected = float(np.sum(counts[harm_group] * sums[safe_group] / counts[safe_group]))
    return float(sums[harm_group].sum() / expected) if expected > 0 else math.nan


def engagement_ratio(
    frame: pd.DataFrame, rng: np.random.Generator, B: int
) -> tuple[float, tuple[float, float], int, int]:
    """(ratio, CI, n_harmful, n_safe) of outcome `y` for level ≥ 3 vs level 0 posts.

    `frame` holds y, level, stratum. Only strata with both classes count. The CI resamples posts
    within each (stratum, class) so that every replicate keeps the same strata.
    """
    f = frame[(frame["level"] >= ENGAGEMENT_LEVEL) | (frame["level"] == 0)]
    f = f.assign(harm=f["level"] >= ENGAGEMENT_LEVEL)
    both = f.groupby("stratum")["harm"].agg(lambda s: s.any() and not s.all())
    f = f[f["stratum"].map(both).fillna(False).astype(bool)]
    n_harm, n_safe = int(f["harm"].sum()), int((~f["harm"]).sum())
    if n_harm < MIN_ENGAGEMENT_POSTS:
        return math.nan, (math.nan, math.nan), n_harm, n_safe

    # Group 2·s is stratum s's level-0 posts, 2·s + 1 its level-≥3 posts; rows sorted by group.
    stratum_code = pd.factorize(f["stratum"], sort=True)[0]
    group = 2 * stratum_code + f["harm"].to_numpy(dtype=np.int64)
    order = np.argsort(group, kind="stable")
    group = group[order]
    G = 2 * (int(stratum_code.max()) + 1)
    safe_group, harm_group = np.arange(0, G, 2), np.arange(1, G, 2)
    y = f["y"].to_numpy(dtype=float)[order]
    counts = np.bincount(group, minlength=G).astype(float)
    sums = np.bincount(group, weights=y, minlength=G)
    ratio = _standardized_ratio(sums, counts, harm_group, safe_group)
    if math.isnan(ratio):
        return ratio, (math.nan, math.nan), n_harm, n_safe

    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    row_start, row_size = starts[group], counts[group].astype(np.int64)
    reps = np.empty(B)
    for b in range(B):
        pick = row_start + (rng.random(len(y)) * row_size).astype(np.int64)
        resampled = np.bincount(group, weights=y[pick], minlength=G)
        reps[b] = _standardized_ratio(resampled, counts, harm_group, safe_group)
    return ratio, percentile_interval(reps), n_harm, n_safe


def engagement_table(lab: pd.DataFrame, posts: pd.DataFrame, society_seed: int, B: int) -> pd.DataFrame:
    """`toxicity_engagement`: reported comments and upvotes of level-≥3 posts relative to level-0
    posts, within (community, day) strata; an outcome the source lacks gets n = 0 and NULLs."""
    p = _posts(lab).merge(posts.drop_duplicates("post_id"), on="post_id", how="inner", suffixes=("", "_post"))
    p = p.dropna(subset=["created_at"])
    day = p["created_at"].dt.floor("D")
    p = p.assign(stratum=p.groupby([p["community_id"], day], dropna=False).ngroup())
    rows = []
    for outcome, column in (("comments", "comment_count"), ("upvotes", "upvotes")):
        y = pd.to_numeric(p[column], errors="coerce") if column in p.columns else pd.Series(np.nan, index=p.index)
        f = p.assign(y=y.astype(float))
        f = f[f["y"].notna() & (f["y"] >= 0)]
        rng = metric_rng(society_seed, f"toxicity_engagement:{outcome}")
        ratio, (low, high), n_harm, n_safe = engagement_ratio(f, rng, B)
        rows.append({"outcome": outcome, "n_harmful": n_harm, "n_safe": n_safe,
                     "ratio": ratio, "ci_low": low, "ci_high": high})  # fmt: skip
    return pd.DataFrame(rows, columns=ENGAGEMENT_COLUMNS).astype({"n_harmful": "int64", "n_safe": "int64"})


# --------------------------------------------------------------------------- society_metric rows


def _share_row(metric: str, table: pd.DataFrame, variant: str, kind: str, level: int) -> MetricRow:
    row = table[(table["variant"] == variant) & (table["kind"] == kind) & (table["level"] == level)].iloc[0]
    n = int(row["n"])
    if n < 1:
        return metric_row(FAMILY, metric, None, None, n)
    return metric_row(FAMILY, metric, row["share"], (row["ci_low"], row["ci_high"]), n)


def _category_rows(table: pd.DataFrame) -> list[MetricRow]:
    """harmful_rate_<c>, level4_rate_<c>, contrib_ratio_<c> for c = a…i (NULL below 30 posts)."""
    by_code = table.set_index("category")
    rows = []
    for code in CATEGORY_CODES:
        c = by_code.loc[code]
        n = int(c["n"])
        level4 = c["level4_rate"]
        # level4_rate is a count over n, so the count comes back exactly by rounding.
        level4_ci = wilson_interval(round(level4 * n), n) if not math.isnan(level4) else None
        rows += [
            metric_row(FAMILY, f"harmful_rate_{code.lower()}", c["harmful_rate"],
                       (c["harmful_ci_low"], c["harmful_ci_high"]), n),  # fmt: skip
            metric_row(FAMILY, f"level4_rate_{code.lower()}", level4, level4_ci, n),
            metric_row(FAMILY, f"contrib_ratio_{code.lower()}", c["contrib_ratio"],
                       (c["contrib_ci_low"], c["contrib_ci_high"]), n),  # fmt: skip
        ]
    return rows


def _max_rate_row(metric: str, table: pd.DataFrame) -> MetricRow:
    """The highest harmful_rate among groups that meet the minimum; Wilson CI and n of that group.

    n = 0 when no group qualifies. The CI is that group's own: it ignores that the group was
    picked as the maximum, so it is optimistic.
    """
    ok = table[table["harmful_rate"].notna()]
    if ok.empty:
        return metric_row(FAMILY, metric, None, None, 0)
    best = ok.loc[ok["harmful_rate"].idxmax()]
    ci = (best["harmful_ci_low"], best["harmful_ci_high"])
    return metric_row(FAMILY, metric, best["harmful_rate"], ci, int(best["n"]))


def _top5_concentration_row(keyed: pd.DataFrame, society_seed: int, B: int) -> MetricRow:
    """Share of harmful posts (with a topic, outliers included) held by the 5 topics ≠ −1 holding
    the most; CI by resampling the harmful posts (a multinomial draw of their topic counts)."""
    metric = "harmful_top5_concentration"
    harmful = keyed[keyed["level"] >= HARMFUL_LEVEL]
    h = len(harmful)
    if h < 1:
        return metric_row(FAMILY, metric, None, None, h)
    per_topic = harmful.groupby("topic").size()
    is_topic = per_topic.index != OUTLIER_TOPIC
    counts = per_topic.to_numpy(dtype=float)

    def top5(c: np.ndarray) -> float:
        return float(np.sort(c[is_topic])[::-1][:TOP_TOPICS].sum() / h)

    draws = metric_rng(society_seed, metric).multinomial(h, counts / h, size=B).astype(float)
    reps = np.array([top5(d) for d in draws])
    return metric_row(FAMILY, metric, top5(counts), percentile_interval(reps), h)


def _slope_row(series: pd.DataFrame, society_seed: int, B: int) -> MetricRow:
    """harmful_share_slope_day: OLS slope (share per day) over valid days, flagged ones kept
    (post-based, §0.4); CI by resampling days."""
    metric = "harmful_share_slope_day"
    days = series[(series["bin"] == "day") & series["harmful_share"].notna()]
    if len(days) < MIN_SLOPE_DAYS:
        return metric_row(FAMILY, metric, None, None, len(days))
    x = ((days["bin_start"] - days["bin_start"].min()) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    data = np.column_stack([x, days["harmful_share"].to_numpy(dtype=float)])
    ci = bootstrap_ci(data, _slope, metric_rng(society_seed, metric), B)
    return metric_row(FAMILY, metric, _slope(data), ci, len(days))


def _max_hour_row(series: pd.DataFrame) -> MetricRow:
    """harmful_share_max_hour: the highest hourly harmful share among hours with ≥ 100 posts
    (flagged kept); Wilson CI and n of that hour (optimistic, as for any picked maximum)."""
    metric = "harmful_share_max_hour"
    busy = series[(series["bin"] == "hour") & (series["n_posts"] >= MIN_MAX_HOUR_POSTS)]
    if busy.empty:
        return metric_row(FAMILY, metric, None, None, 0)
    best = busy.loc[busy["harmful_share"].idxmax()]
    k, n = int(best["n_harmful"]), int(best["n_posts"])
    return metric_row(FAMILY, metric, k / n, wilson_interval(k, n), n)


def _corr_row(metric: str, table: pd.DataFrame, bin_name: str, differenced: bool) -> MetricRow:
    pick = (table["bin"] == bin_name) & (table["method"] == "pearson") & (table["differenced"] == differenced)
    row = table[pick].iloc[0]
    return metric_row(FAMILY, metric, row["r"], (row["ci_low"], row["ci_high"]), int(row["n_bins"]))


def _engagement_row(metric: str, table: pd.DataFrame, outcome: str) -> MetricRow:
    row = table[table["outcome"] == outcome].iloc[0]
    return metric_row(FAMILY, metric, row["ratio"], (row["ci_low"], row["ci_high"]), int(row["n_harmful"]))


# --------------------------------------------------------------------------- the family


def toxicity_metrics(
    texts: pd.DataFrame,
    posts: pd.DataFrame,
    toxicity_labels: pd.DataFrame | None,
    content_category: pd.DataFrame | None = None,
    topic_assignments: pd.DataFrame | None = None,
    time_flags: Sequence[dict] | None = None,
    society_seed: int = 0,
    B: int = 1000,
    toxicity_method: str | None = None,
    category_method: str | None = None,
    topic_model_id: str | None = None,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The toxicity family of one society (§2.2): its drill-down tables by name and its
    `society_metric` rows (every name of TOXICITY_METRIC_NAMES, NULL where not available).

    texts: the `texts` view (text_id, kind, post_id, community_id, created_at).
    posts: post_id, comment_count, upvotes (upvotes may be missing: its ratio is then NULL).
    toxicity_labels / content_category / topic_assignments: the enrichment rows; None or empty
    means not labelled, and the metrics that need them are NULL with n = 0.
    The *_method / topic_model_id arguments pick one labeller or topic model when the tables
    hold several (ValueError if they do and none is named).
    time_flags: `societies.config_json.time_flags` ({flag, start, end} entries).
    """
    labels = pick_method(toxicity_labels, "method", toxicity_method, "toxicity_labels")
    categories = pick_method(category_rows(content_category), "method", category_method, "content_category")
    topics = pick_method(topic_assignments, "model_id", topic_model_id, "topic_assignments")
    windows = parse_time_flags(time_flags)
    lab = labelled_texts(texts, labels)

    shares = level_share_table(lab, windows)
    by_category = risk_table(category_keyed(lab, categories), "category", MIN_CATEGORY_POSTS, society_seed, B,
                             all_keys=CATEGORY_CODES)  # fmt: skip
    topic_posts = topic_keyed(lab, topics)
    by_topic = risk_table(topic_posts, "topic", MIN_GROUP_POSTS, society_seed, B, excluded=(OUTLIER_TOPIC,))
    by_community = risk_table(community_keyed(lab), "community_id", MIN_GROUP_POSTS, society_seed, B)
    series = time_series_table(lab, windows)
    corr = volume_corr_table(series, society_seed, B)
    engagement = engagement_table(lab, posts, society_seed, B)

    rows = [_share_row(f"level_share_{lv}", shares, "exact", "post", lv) for lv in LEVELS]
    rows.append(_share_row("harmful_share", shares, "at_least", "post", HARMFUL_LEVEL))
    rows.append(_share_row("harmful_share_comments", shares, "at_least", "comment", HARMFUL_LEVEL))
    rows += _category_rows(by_category)
    rows += [
        _max_rate_row("harmful_rate_max_topic", by_topic),
        _max_rate_row("harmful_rate_max_community", by_community),
        _top5_concentration_row(topic_posts, society_seed, B),
        _slope_row(series, society_seed, B),
        _max_hour_row(series),
        _corr_row("volume_harm_r_hour", corr, "hour", False),
        _corr_row("volume_harm_r_hour_diff", corr, "hour", True),
        _corr_row("volume_harm_r_day", corr, "day", False),
        _engagement_row("harm_engagement_ratio_comments", engagement, "comments"),
        _engagement_row("harm_engagement_ratio_upvotes", engagement, "upvotes"),
    ]
    tables = {
        "toxicity_level_share": shares,
        "toxicity_risk_by_category": by_category,
        "toxicity_risk_by_topic": by_topic,
        "toxicity_risk_by_community": by_community,
        "toxicity_time_series": series,
        "toxicity_volume_corr": corr,
        "toxicity_engagement": engagement,
    }
    return tables, rows


# --------------------------------------------------------------------------- registry

_JIANG = "Humans welcome to observe, arXiv:2602.10127"
_NO_EXPECTATION = "none published"


def _spec(metric: str, unit: str, provenance: Provenance, ci: CiMethod, direction: str = _NO_EXPECTATION,
          value: str | None = None, evidence: Evidence = "none", source: str | None = None) -> MetricSpec:  # fmt: skip
    return MetricSpec(FAMILY, metric, unit, provenance, ci, direction, value, evidence, source)


def _category_specs(code: str) -> list[MetricSpec]:
    c = code.lower()
    harmful = _spec(f"harmful_rate_{c}", "posts", "proposed", "wilson")
    level4 = _spec(f"level4_rate_{c}", "posts", "paper-defined", "wilson")
    contrib = _spec(f"contrib_ratio_{c}", "posts", "proposed", "bootstrap")
    if code == "D":
        level4 = _spec("level4_rate_d", "posts", "paper-defined", "wilson", "the highest of a–i",
                       "~6.3% (Economics has the highest level-4 rate)", "S", _JIANG)  # fmt: skip
    if code == "G":
        harmful = _spec("harmful_rate_g", "posts", "proposed", "wilson", "among the highest of a–i",
                        "~39.7% of Politics posts are Safe", "S", _JIANG)  # fmt: skip
    if code in ("D", "G"):
        contrib = _spec(f"contrib_ratio_{c}", "posts", "proposed", "bootstrap",
                        "> 1 (Economics and Politics are over-represented among harmful posts)",
                        None, "P", _JIANG)  # fmt: skip
    return [harmful, level4, contrib]


_RISKY_TOPICS = "topics of quasi-religious mobilizing language and hostility toward humanity near the top"

REGISTRY: list[MetricSpec] = [
    _spec("level_share_0", "posts", "paper-defined", "wilson", "≈ 0.73 (most posts Safe)",
          "about 73% of posts are Safe", "S", _JIANG),
    *[_spec(f"level_share_{lv}", "posts", "paper-defined", "wilson") for lv in LEVELS[1:]],
    # The level ≥ 2 cut is proposed (§2.1), although the shares themselves are paper-defined.
    _spec("harmful_share", "posts", "proposed", "wilson", "≤ 1 − level_share_0 (≈ 0.27 at most)"),
    _spec("harmful_share_comments", "comments", "proposed", "wilson"),
    *[spec for code in CATEGORY_CODES for spec in _category_specs(code)],
    _spec("harmful_rate_max_topic", "posts", "proposed", "wilson", _RISKY_TOPICS, None, "P", _JIANG),
    _spec("harmful_rate_max_community", "posts", "proposed", "wilson"),
    _spec("harmful_top5_concentration", "posts", "proposed", "bootstrap", _RISKY_TOPICS,
          None, "P", _JIANG),
    _spec("harmful_share_slope_day", "days", "paper-defined", "bootstrap"),
    _spec("harmful_share_max_hour", "posts", "paper-defined", "wilson", "harm peaks during the busiest windows",
          None, "S", _JIANG),
    _spec("volume_harm_r_hour", "hours", "paper-defined", "block_bootstrap", "> 0", "r = 0.769", "S", _JIANG),
    _spec("volume_harm_r_hour_diff", "hours", "proposed", "block_bootstrap",
          "> 0 if the association is more than a shared growth trend"),
    _spec("volume_harm_r_day", "days", "paper-defined", "block_bootstrap", "> 0"),
    _spec("harm_engagement_ratio_comments", "posts", "proposed", "bootstrap", "> 1 (direction only)",
          "adversarial posts draw about 6× the engagement (a different class than level ≥ 3)", "P",
          "Agents in the Wild, arXiv:2602.13284"),
    _spec("harm_engagement_ratio_upvotes", "posts", "proposed", "bootstrap", "> 1 (direction only)",
          "adversarial posts draw about 6× the engagement (a different class than level ≥ 3)", "P",
          "Agents in the Wild, arXiv:2602.13284"),
]  # fmt: skip

#: Names this module writes to society_metric, in order.
TOXICITY_METRIC_NAMES = [spec.metric for spec in REGISTRY]
