"""Thread shape (ANALYTICS_SPEC.md §7.1): per-thread stats and the `threads` society metrics.

Depth is rebuilt from `comments.parent_id` rather than trusted from the source
(sources disagree on whether the post is depth 0 or 1): a top-level comment has
depth 1, a reply its parent's depth + 1. A comment whose parent is not observed
in the same post, or whose ancestor chain breaks or loops, cannot be placed in
the tree: its depth is NULL and it counts in `n_orphans`. Threads with orphans
or with `is_capped` are excluded from the shape metrics, because a truncated
tree understates depth and overstates unanswered comments.

Collection artifacts (§0.4): the society summaries are comment-based, so they
leave out flagged time. A comment tree is measured whole or not at all (dropping
single comments would orphan their replies), so a thread is left out when its
life, from the post to its last observed comment, overlaps a `time_flags`
window; `uncommented_post_share` leaves out posts created inside one (they had
no chance to be commented). `capped_thread_share` describes the collection
itself and keeps every thread. The per-thread table keeps everything.

Known gap (left to a later issue): the day-level series are not built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from assets.metrics.bins import FlagWindows, in_flagged_window, parse_time_flags, utc_times
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_mean_ci,
    bootstrap_median_ci,
    bootstrap_ratio_ci,
    metric_rng,
    metric_row,
    wilson_interval,
)

FAMILY = "threads"

#: Columns of `threads_thread_stats` produced here; the asset adds society_id, computed_at, params_hash.
THREAD_STATS_COLUMNS = [
    "post_id",
    "community_id",
    "comment_count_reported",
    "n_comments_observed",
    "is_capped",
    "n_orphans",
    "max_depth",
    "max_width",
    "n_top_level",
    "share_depth1",
    "unanswered_share",
    "n_unique_commenters",
    "author_returned",
    "first_comment_delay_s",
    "lifespan_s",
    "half_life_s",
]

#: The spec sets no minimum sample for §7.1; a metric needs at least one unit to exist.
MIN_UNITS = 1


def _utc(s: pd.Series) -> pd.Series:
    """UTC timestamps; a value that is not a time becomes NaT (unknown), as in the other families."""
    return pd.to_datetime(s, utc=True, errors="coerce")


def comment_tree(comments: pd.DataFrame) -> pd.DataFrame:
    """One row per comment with its rebuilt `depth` (NaN = orphan) and `has_child`.

    Iterates one tree level at a time, so the cost is O(comments × max depth).
    """
    if comments["comment_id"].duplicated().any():
        raise ValueError("comment_id must be unique within a society")
    c = comments[["comment_id", "post_id", "parent_id", "author_id", "created_at"]].copy()
    c["created_at"] = _utc(c["created_at"])
    post_of = pd.Series(c["post_id"].to_numpy(), index=c["comment_id"].to_numpy())
    is_top = c["parent_id"].isna()
    # A reply is placeable only if its parent is observed and belongs to the same post.
    parent_ok = ~is_top & (c["parent_id"].map(post_of) == c["post_id"])

    depth = pd.Series(np.where(is_top, 1.0, np.nan), index=c.index)
    while True:
        pending = depth.isna() & parent_ok
        if not pending.any():
            break
        depth_by_id = pd.Series(depth.to_numpy(), index=c["comment_id"].to_numpy())
        parent_depth = c.loc[pending, "parent_id"].map(depth_by_id)
        resolved = parent_depth.dropna()
        if resolved.empty:
            break  # what is left hangs below an orphan or sits in a cycle
        depth.loc[resolved.index] = resolved + 1.0
    c["depth"] = depth
    answered_ids = set(c.loc[parent_ok, "parent_id"])
    c["has_child"] = c["comment_id"].isin(answered_ids)
    return c


def _thread_aggregates(tree: pd.DataFrame) -> pd.DataFrame:
    """Per-post counts from a comment tree, indexed by post_id."""
    t = tree.assign(
        is_orphan=tree["depth"].isna(),
        is_top=tree["depth"] == 1,
        is_unanswered=~tree["has_child"].astype(bool),
    )
    g = t.groupby("post_id", sort=True)
    agg = pd.DataFrame(
        {
            "n_comments_observed": g.size(),
            "n_orphans": g["is_orphan"].sum(),
            "depth_sum": g["depth"].sum(),  # NaN-skipping: only used for orphan-free threads
            "max_depth": g["depth"].max(),
            "n_top_level": g["is_top"].sum(),
            "n_unanswered": g["is_unanswered"].sum(),
            "n_unique_commenters": g["author_id"].nunique(),
            "first_at": g["created_at"].min(),
            "last_at": g["created_at"].max(),
        }
    )
    placed = tree.dropna(subset=["depth"])
    width = placed.groupby(["post_id", "depth"]).size().groupby(level="post_id").max()
    agg["max_width"] = width.reindex(agg.index)
    # Half-life: arrival time of the ceil(m/2)-th comment, m = comments with a timestamp.
    timed = tree.dropna(subset=["created_at"]).sort_values(["post_id", "created_at"])
    rank = timed.groupby("post_id").cumcount() + 1
    m = timed.groupby("post_id")["created_at"].transform("size")
    half = timed.loc[rank == np.ceil(m / 2.0), ["post_id", "created_at"]].set_index("post_id")["created_at"]
    agg["half_at"] = half.reindex(agg.index)
    return agg


def thread_stats(posts: pd.DataFrame, comments: pd.DataFrame, comment_cap: int | None) -> pd.DataFrame:
    """`threads_thread_stats` rows: one per post with ≥ 1 observed comment (§7.1).

    Needs posts(post_id, community_id, author_id, comment_count, created_at) and
    comments(comment_id, post_id, parent_id, author_id, created_at) of one society.

    Comments on posts absent from `posts` are ignored (no post time or author to
    measure against). `is_capped` follows §0.4: only when `comment_cap` is set,
    and then when the observed comments reach the cap or fall short of the
    platform's reported `comment_count`. `n_unique_commenters` counts distinct
    non-null comment authors, the post author included.
    """
    p = posts[["post_id", "community_id", "author_id", "comment_count", "created_at"]].copy()
    p["created_at"] = _utc(p["created_at"])
    c = comments[comments["post_id"].isin(p["post_id"])]
    tree = comment_tree(c)
    agg = _thread_aggregates(tree)
    out = p.set_index("post_id").join(agg, how="inner")

    posted = out["created_at"]
    delay = lambda t: (t - posted).dt.total_seconds()  # noqa: E731
    reported = out["comment_count"].astype("Int64")
    n_obs = out["n_comments_observed"].astype("int64")
    if comment_cap is None:
        capped = pd.Series(False, index=out.index)
    else:
        short = (reported.notna() & (n_obs < reported)).fillna(False).astype(bool)
        capped = (n_obs >= comment_cap) | short

    authors = tree.merge(p[["post_id", "author_id"]], on="post_id", suffixes=("", "_post"))
    returned = (authors["author_id"] == authors["author_id_post"]).fillna(False).groupby(authors["post_id"]).any()
    author_returned = returned.reindex(out.index).astype("boolean")
    author_returned[out["author_id"].isna()] = pd.NA

    result = pd.DataFrame(
        {
            "post_id": out.index.to_numpy(),
            "community_id": out["community_id"].to_numpy(),
            "comment_count_reported": reported.to_numpy(),
            "n_comments_observed": n_obs.to_numpy(),
            "is_capped": capped.astype(bool).to_numpy(),
            "n_orphans": out["n_orphans"].astype("int64").to_numpy(),
            "max_depth": out["max_depth"].astype("Int64").to_numpy(),
            "max_width": out["max_width"].astype("Int64").to_numpy(),
            "n_top_level": out["n_top_level"].astype("int64").to_numpy(),
            "share_depth1": (out["n_top_level"] / n_obs).to_numpy(dtype=float),
            "unanswered_share": (out["n_unanswered"] / n_obs).to_numpy(dtype=float),
            "n_unique_commenters": out["n_unique_commenters"].astype("int64").to_numpy(),
            "author_returned": author_returned.to_numpy(),
            "first_comment_delay_s": delay(out["first_at"]).to_numpy(dtype=float),
            "lifespan_s": delay(out["last_at"]).to_numpy(dtype=float),
            "half_life_s": delay(out["half_at"]).to_numpy(dtype=float),
        }
    )
    result["comment_count_reported"] = result["comment_count_reported"].astype("Int64")
    result["max_depth"] = result["max_depth"].astype("Int64")
    result["max_width"] = result["max_width"].astype("Int64")
    result["author_returned"] = result["author_returned"].astype("boolean")
    return result[THREAD_STATS_COLUMNS].reset_index(drop=True)


def _mean_row(metric: str, values: pd.Series, seed: int, B: int) -> MetricRow:
    v = values.dropna().to_numpy(dtype=float)
    if v.size < MIN_UNITS:
        return metric_row(FAMILY, metric, None, None, v.size)
    return metric_row(FAMILY, metric, float(v.mean()), bootstrap_mean_ci(v, metric_rng(seed, metric), B), v.size)


def _median_row(metric: str, values: pd.Series, seed: int, B: int) -> MetricRow:
    v = values.dropna().to_numpy(dtype=float)
    if v.size < MIN_UNITS:
        return metric_row(FAMILY, metric, None, None, v.size)
    return metric_row(
        FAMILY, metric, float(np.median(v)), bootstrap_median_ci(v, metric_rng(seed, metric), B), v.size
    )


def _ratio_row(metric: str, num: pd.Series, den: pd.Series, seed: int, B: int) -> MetricRow:
    """A share of comments: Σnum/Σden, CI by resampling threads; n = comments behind it."""
    n_units = int(den.sum()) if len(den) else 0
    if len(den) < MIN_UNITS or n_units == 0:
        return metric_row(FAMILY, metric, None, None, n_units)
    value = float(num.sum() / den.sum())
    return metric_row(FAMILY, metric, value, bootstrap_ratio_ci(num, den, metric_rng(seed, metric), B), n_units)


def _proportion_row(metric: str, flags: pd.Series) -> MetricRow:
    f = flags.dropna().astype(bool)
    n = int(f.size)
    if n < MIN_UNITS:
        return metric_row(FAMILY, metric, None, None, n)
    k = int(f.sum())
    return metric_row(FAMILY, metric, k / n, wilson_interval(k, n), n)


def flagged_threads(posts: pd.DataFrame, comments: pd.DataFrame, windows: FlagWindows) -> pd.Series:
    """Per post_id: True when the thread's life (post to last comment) overlaps a flag window.

    A post without a readable time starts at its first comment; a thread with no
    readable time at all is not flagged.
    """
    started = pd.Series(utc_times(posts["created_at"]).to_numpy(), index=posts["post_id"].to_numpy())
    times = utc_times(comments["created_at"])
    first = times.groupby(comments["post_id"].to_numpy()).min()
    last = times.groupby(comments["post_id"].to_numpy()).max()
    ids = pd.Index(posts["post_id"]).union(first.index)
    start = started.groupby(level=0).min().reindex(ids).fillna(first.reindex(ids))
    end = last.reindex(ids).fillna(start)
    hit = pd.Series(False, index=ids)
    for w_start, w_end in windows:
        hit |= ((start <= w_end) & (end >= w_start)).fillna(False).astype(bool)
    return hit


def thread_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    stats: pd.DataFrame,
    society_seed: int = 0,
    B: int = 1000,
    *,
    time_flags: Sequence[Mapping[str, object]] | None = None,
) -> list[MetricRow]:
    """`threads` rows of `society_metric` (§7.1).

    Shape metrics use uncapped, orphan-free, unflagged threads;
    `uncommented_post_share` uses all unflagged posts and `capped_thread_share`
    all threads. Thread means and
    medians get a percentile bootstrap over threads, shares of comments a
    bootstrap of Σ/Σ over threads, thread and post proportions a Wilson interval.
    `n` is threads for thread-level metrics and comments for comment-level ones.

    `time_flags` (societies.config_json; None = nothing flagged) removes flagged
    time from the comment-based summaries as the module docstring says.
    """
    windows = parse_time_flags(time_flags)
    flagged = flagged_threads(posts, comments, windows)
    tree = comment_tree(comments[comments["post_id"].isin(stats["post_id"])])
    agg = _thread_aggregates(tree)[["depth_sum", "n_unanswered"]]
    s = stats.set_index("post_id").join(agg, how="left")
    in_flag = flagged.reindex(s.index, fill_value=False).to_numpy(dtype=bool)
    ok = s[~s["is_capped"].astype(bool) & (s["n_orphans"] == 0) & ~in_flag]
    n_obs = ok["n_comments_observed"].astype(float)

    rows = [
        _mean_row("mean_max_depth", ok["max_depth"].astype(float), society_seed, B),
        _ratio_row("mean_comment_depth", ok["depth_sum"].astype(float), n_obs, society_seed, B),
        _ratio_row("share_comments_depth1", ok["n_top_level"].astype(float), n_obs, society_seed, B),
        _ratio_row("unanswered_comment_share", ok["n_unanswered"].astype(float), n_obs, society_seed, B),
        _proportion_row("flat_thread_share", ok["max_depth"].astype(float) == 1),
        _mean_row("mean_max_width", ok["max_width"].astype(float), society_seed, B),
        _median_row("first_comment_delay_median_s", ok["first_comment_delay_s"], society_seed, B),
        _median_row("thread_lifespan_median_s", ok["lifespan_s"], society_seed, B),
        _median_row("thread_half_life_median_s", ok["half_life_s"], society_seed, B),
    ]

    # A post is uncommented when nothing is observed and the platform reports no comment either.
    observed = posts["post_id"].isin(comments["post_id"])
    reported = pd.to_numeric(posts["comment_count"], errors="coerce")
    uncommented = ~observed & (reported.isna() | (reported == 0))
    unflagged = ~in_flagged_window(posts["created_at"], windows)
    rows.append(_proportion_row("uncommented_post_share", uncommented[unflagged]))
    rows.append(_proportion_row("capped_thread_share", stats["is_capped"].astype(bool)))
    return rows


#: Names this module writes to society_metric, in order (for the metric registry).
def _thread_spec(metric: str, unit: str, provenance: str, ci: str, direction: str,
                 value: str | None = None, evidence: str = "none", source: str | None = None) -> MetricSpec:
    return MetricSpec("threads", metric, unit, provenance, ci, direction, value, evidence, source)  # type: ignore[arg-type]


_ANATOMY = "Anatomy, arXiv:2602.10131"
_FORM = "Form Without Function, arXiv:2604.13052"
#: What this module writes to society_metric (ANALYTICS_SPEC §7.1), in order.
REGISTRY = [
    _thread_spec("mean_max_depth", "threads", "paper-named", "bootstrap", "≈ 1.07 (shallow)", "1.07", "P", _ANATOMY),
    _thread_spec("mean_comment_depth", "comments", "proposed", "bootstrap", "close to 1"),
    _thread_spec("share_comments_depth1", "comments", "paper-named", "bootstrap", "≈ 0.94", "0.938", "P",
                 "The Moltbook Illusion (no arXiv id)"),
    _thread_spec("unanswered_comment_share", "comments", "proposed", "bootstrap", "≈ 0.93", "0.935", "P", _ANATOMY),
    _thread_spec("flat_thread_share", "threads", "proposed", "wilson", "high", "0.856", "P", _FORM),
    _thread_spec("mean_max_width", "threads", "paper-named", "bootstrap", "wide and shallow"),
    _thread_spec("first_comment_delay_median_s", "threads", "proposed", "bootstrap", "tens of seconds", "55 s",
                 "P", _FORM),
    _thread_spec("thread_lifespan_median_s", "threads", "proposed", "bootstrap", "minutes", "2.48 min", "P",
                 "Let There Be Claws, arXiv:2602.20044"),
    _thread_spec("thread_half_life_median_s", "threads", "proposed", "bootstrap", "short"),
    _thread_spec("uncommented_post_share", "posts", "proposed", "wilson", "none published"),
    _thread_spec("capped_thread_share", "threads", "proposed", "wilson", "collection artifact, not behaviour"),
]
THREAD_METRIC_NAMES = [spec.metric for spec in REGISTRY]
