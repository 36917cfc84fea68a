"""Attention concentration (ANALYTICS_SPEC.md §4.4): who gets the posts, comments, upvotes and subscribers.

Windows: `all` (window_start NULL) and `day`. A society spanning ≥ 8 UTC days
gets UTC days; a shorter one (every built-in simulator) gets the short-run bins
of `bins.plan_bins`, and a `day` row then stands for one bin (window_start =
bin start, `bin_seconds` its width). A day's populations are the posts and
comments created in it; a day with fewer posts than the bin minimum (200 a
day, 30 a short-run bin) is listed with NULL statistics. Day rows overlapping
a `time_flags` window carry `is_flagged` and keep all their data (§0.4: time
series always show flagged bins).

Populations (zeros kept, §0.5):
- community: communities with ≥ 1 post (posts with a NULL community are skipped),
  with and without the default community (`excl_default`); `subscribers` keeps
  those whose `subscriber_count` is known;
- post: every post (for upvotes: every post whose upvotes are known);
- agent: every non-NULL author of ≥ 1 post or comment.

Quantities:
- a post's `comments_received` is the larger of the platform's reported
  `comment_count` and the observed comments: both undercount (the observation
  is truncated by the API's comment cap, the report can be older than the
  comments collected later, as in the observatory CSV export); community
  `comments` sums it;
- an agent's `comments_received` counts observed comments on its posts written
  by anyone else (self-replies are not attention received, as in §4.1);
- an agent's `upvotes_received` sums the known upvotes of its posts and comments;
  community `upvotes` sums its posts' upvotes; community `subscribers` is the
  community's `subscriber_count` (a snapshot, the same value in every window).

Flagged time in the `all` window (§0.4: society summaries drop flagged time for
comment-based metrics, keep it for post-based ones): the comment quantities
(community and post comments, an agent's comments written and received) and
`zero_upvote_comment_share` leave out comments created inside a flag window and
posts created inside one (their comments were cut short, and a reported count
cannot be split by time); the agent population itself is not changed. Posts,
upvotes and subscribers keep everything.

Upvotes are "not available" when no row of the source has them (e.g. the
observatory CSV export has a net score only): those rows get n = 0 and NULL
statistics, and the upvote metrics value NULL with n = 0. Score is never used
as a stand-in. Subscribers are not available without a `communities` table or
without any known `subscriber_count`.

Trends: `community_hhi_slope_day` (§4.4) and `community_top1_share_slope_day`
(ours) are OLS slopes per day (per bin for short runs) of the community × posts
`hhi_norm` and `top1_share` over the valid days, flagged days included (posts
are post-based); CI by a moving-block bootstrap of 3-day blocks (§0.5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from assets.metrics.bins import FlagWindows, TimeBins, in_flagged_window, parse_time_flags, plan_bins, utc_times
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_ci,
    gini,
    hhi,
    hhi_norm,
    item_bootstrap_ci,
    metric_rng,
    metric_row,
    moving_block_bootstrap_ci,
    ols_slope,
    top_k_share,
    top_pct_share,
    wilson_interval,
)

FAMILY = "influence"
WINDOW = "all"
DAY_WINDOW = "day"

#: Columns of `influence_concentration` produced here; the asset adds society_id, computed_at, params_hash.
CONCENTRATION_COLUMNS = [
    "window",
    "window_start",
    "bin_seconds",
    "is_flagged",
    "object",
    "quantity",
    "excl_default",
    "n",
    "gini",
    "hhi",
    "hhi_norm",
    "top1_share",
    "top5_share",
    "top10_share",
    "top1pct_share",
]

#: An inequality or concentration index of fewer than 2 units says nothing; below that the value is NULL.
MIN_UNITS = 2
#: Valid days a trend needs, and the block length of its bootstrap (3-day blocks, §0.5); as in topics.py.
MIN_TREND_DAYS = 4
TREND_BLOCK_DAYS = 3

#: The comment-based quantities, which drop flagged time in the `all` window (§0.4).
COMMENT_QUANTITIES = {"comments", "comments_received", "comments_written"}

Key = tuple[str, str, bool]
TimeFlags = Sequence[Mapping[str, object]] | None


def _upvotes(df: pd.DataFrame) -> pd.Series:
    """The upvotes column as floats, all NaN when the source has no such column."""
    if "upvotes" not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df["upvotes"], errors="coerce").astype(float)


def _subscribers(communities: pd.DataFrame | None) -> pd.Series | None:
    """Known subscriber counts by community_id; None when no community has one."""
    if communities is None or "subscriber_count" not in communities.columns:
        return None
    counts = pd.to_numeric(communities["subscriber_count"], errors="coerce").astype(float)
    known = pd.Series(counts.to_numpy(), index=communities["community_id"].to_numpy()).dropna()
    known = known[~known.index.duplicated(keep="last")]
    return known if not known.empty else None


def post_comments_received(posts: pd.DataFrame, comments: pd.DataFrame) -> pd.Series:
    """Comments per post (index post_id): max(reported, observed), each being a lower bound."""
    observed = comments.groupby("post_id").size()
    obs = posts["post_id"].map(observed).fillna(0).astype(float)
    reported = pd.to_numeric(posts["comment_count"], errors="coerce").astype(float)
    return pd.Series(np.fmax(reported, obs).to_numpy(), index=posts["post_id"].to_numpy())


def unflagged_comment_view(
    posts: pd.DataFrame, comments: pd.DataFrame, windows: FlagWindows
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts and comments the comment quantities may use: none created inside a flag window,
    and no comment on a post created inside one."""
    if not windows:
        return posts, comments
    flagged_post = in_flagged_window(posts["created_at"], windows)
    kept_posts = posts[~flagged_post]
    on_flagged_post = comments["post_id"].isin(posts.loc[flagged_post, "post_id"])
    kept_comments = comments[~in_flagged_window(comments["created_at"], windows) & ~on_flagged_post.to_numpy()]
    return kept_posts, kept_comments


def populations(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    default_community_id: str | None,
    communities: pd.DataFrame | None = None,
    windows: FlagWindows | None = None,
) -> dict[Key, np.ndarray | None]:
    """Per-unit values of every (object, quantity, excl_default); None = not available.

    `windows` (flag windows) removes flagged time from the comment quantities only.
    """
    out: dict[Key, np.ndarray | None] = {}
    up_post = _upvotes(posts)
    up_comment = _upvotes(comments)
    have_post_up = bool(up_post.notna().any())
    have_up = have_post_up or bool(up_comment.notna().any())
    c_posts, c_comments = unflagged_comment_view(posts, comments, windows or [])

    # community × {posts, comments, upvotes, subscribers}
    comm_posts = posts.groupby("community_id").size()  # NULL communities drop out
    comm_upvotes = up_post.groupby(posts["community_id"]).sum()
    received = post_comments_received(c_posts, c_comments)
    comm_comments = pd.Series(received.to_numpy()).groupby(c_posts["community_id"].to_numpy()).sum()
    subscribers = _subscribers(communities)
    excl_options = [False] if default_community_id is None else [False, True]
    for excl in excl_options:

        def kept(s: pd.Series) -> np.ndarray:
            return (s.drop(index=default_community_id, errors="ignore") if excl else s).to_numpy(dtype=float)

        out[("community", "posts", excl)] = kept(comm_posts)
        out[("community", "comments", excl)] = kept(comm_comments)
        out[("community", "upvotes", excl)] = kept(comm_upvotes) if have_post_up else None
        out[("community", "subscribers", excl)] = (
            None if subscribers is None else kept(subscribers.reindex(comm_posts.index).dropna())
        )

    # post × {comments_received, upvotes}
    out[("post", "comments_received", False)] = received.to_numpy(dtype=float)
    out[("post", "upvotes", False)] = up_post.dropna().to_numpy(dtype=float) if have_post_up else None

    # agent × {posts, comments_written, upvotes_received, comments_received}
    agents = pd.Index(pd.concat([posts["author_id"], comments["author_id"]]).dropna().unique())
    n_posts = posts.groupby("author_id").size().reindex(agents, fill_value=0)
    n_written = c_comments.groupby("author_id").size().reindex(agents, fill_value=0)
    up_received = (
        up_post.groupby(posts["author_id"]).sum().reindex(agents, fill_value=0.0)
        + up_comment.groupby(comments["author_id"]).sum().reindex(agents, fill_value=0.0)
    )
    on_post = c_comments.merge(
        c_posts[["post_id", "author_id"]].rename(columns={"author_id": "_post_author"}), on="post_id"
    )
    by_other = on_post[on_post["_post_author"].notna() & (on_post["author_id"] != on_post["_post_author"])]
    n_received = by_other.groupby("_post_author").size().reindex(agents, fill_value=0)
    out[("agent", "posts", False)] = n_posts.to_numpy(dtype=float)
    out[("agent", "comments_written", False)] = n_written.to_numpy(dtype=float)
    out[("agent", "upvotes_received", False)] = up_received.to_numpy(dtype=float) if have_up else None
    out[("agent", "comments_received", False)] = n_received.to_numpy(dtype=float)
    return out


def _summary(x: np.ndarray | None) -> dict[str, float | int]:
    """All §4.4 indices of one population; n = 0 and NaN everywhere when not available."""
    if x is None or x.size == 0:
        return {"n": 0, **_null_indices()}
    return dict(
        n=int(x.size),
        gini=gini(x),
        hhi=hhi(x),
        hhi_norm=hhi_norm(x),
        top1_share=top_k_share(x, 1),
        top5_share=top_k_share(x, 5),
        top10_share=top_k_share(x, 10),
        top1pct_share=top_pct_share(x, 1),
    )


def _null_indices() -> dict[str, float]:
    nan = float("nan")
    return dict(gini=nan, hhi=nan, hhi_norm=nan, top1_share=nan, top5_share=nan, top10_share=nan, top1pct_share=nan)


def _day_bins(times: pd.Series, bins: TimeBins) -> np.ndarray:
    """Bin of each time; -1 for a missing time or one outside the binned span (TimeBins.index
    would fold a comment made after the last post into the last bin)."""
    idx = bins.index(times)
    offset = (utc_times(times) - bins.origin).dt.total_seconds().to_numpy(dtype=float)
    outside = ~(offset <= bins.n_bins * bins.width_s)  # NaN compares False: already -1
    idx[outside] = -1
    return idx


def _day_rows(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    default_community_id: str | None,
    communities: pd.DataFrame | None,
    windows: FlagWindows,
) -> list[dict]:
    """Rows of window `day`: one population per day (bin) from the posts and comments created in it."""
    bins = plan_bins(posts["created_at"])
    if bins is None:
        return []
    post_bin = _day_bins(posts["created_at"], bins)
    comment_bin = _day_bins(comments["created_at"], bins)
    flagged = bins.flagged(windows)
    rows = []
    for b, start in enumerate(bins.starts()):
        day_posts = posts[post_bin == b]
        valid = len(day_posts) >= bins.min_posts
        pops = populations(day_posts, comments[comment_bin == b], default_community_id, communities)
        for (obj, qty, excl), x in pops.items():
            summary = _summary(x) if valid else {"n": 0 if x is None else int(x.size), **_null_indices()}
            rows.append({"window": DAY_WINDOW, "window_start": start, "bin_seconds": bins.width_s,
                         "is_flagged": bool(flagged[b]), "object": obj, "quantity": qty,
                         "excl_default": excl, **summary})  # fmt: skip
    return rows


def concentration_table(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    default_community_id: str | None,
    communities: pd.DataFrame | None = None,
    *,
    time_flags: TimeFlags = None,
) -> pd.DataFrame:
    """`influence_concentration` rows: window `all` (window_start, bin_seconds, is_flagged NULL),
    then window `day`.

    Needs posts(post_id, community_id, author_id, comment_count, created_at[, upvotes]),
    comments(post_id, author_id, created_at[, upvotes]) and optionally
    communities(community_id, subscriber_count) of one society.

    Without a default community only the `excl_default = false` community rows exist.
    """
    windows = parse_time_flags(time_flags)
    rows = []
    for (obj, qty, excl), x in populations(posts, comments, default_community_id, communities, windows).items():
        rows.append({"window": WINDOW, "window_start": pd.NaT, "bin_seconds": np.nan, "is_flagged": None,
                     "object": obj, "quantity": qty, "excl_default": excl, **_summary(x)})  # fmt: skip
    rows += _day_rows(posts, comments, default_community_id, communities, windows)
    table = pd.DataFrame(rows, columns=CONCENTRATION_COLUMNS)
    table["window_start"] = pd.to_datetime(table["window_start"], utc=True).astype("datetime64[us, UTC]")
    table["bin_seconds"] = table["bin_seconds"].astype(float)
    table["is_flagged"] = table["is_flagged"].astype("boolean")
    table["n"] = table["n"].astype("int64")
    table["excl_default"] = table["excl_default"].astype(bool)
    return table


def _lookup(table: pd.DataFrame, obj: str, qty: str, stat: str) -> tuple[float, int]:
    sel = table[
        (table["window"] == WINDOW)
        & (table["object"] == obj)
        & (table["quantity"] == qty)
        & (~table["excl_default"].astype(bool))
    ]
    if len(sel) != 1:
        raise KeyError(f"influence_concentration has no single row for {obj} × {qty} (window all)")
    return float(sel[stat].iloc[0]), int(sel["n"].iloc[0])


def _index_row(
    metric: str,
    table: pd.DataFrame,
    pops: dict[Key, np.ndarray | None],
    obj: str,
    qty: str,
    stat: str,
    fn: Callable[[np.ndarray], float],
    seed: int,
    B: int,
) -> MetricRow:
    """A table statistic as a society metric. CI by bootstrap over the population's units, except
    for communities, whose counts are resampled post by post (`item_bootstrap_ci`)."""
    value, n = _lookup(table, obj, qty, stat)
    x = pops[(obj, qty, False)]
    if x is None or n < MIN_UNITS or np.isnan(value):
        return metric_row(FAMILY, metric, None, None, n)
    resample = item_bootstrap_ci if obj == "community" else bootstrap_ci
    return metric_row(FAMILY, metric, value, resample(x, fn, metric_rng(seed, metric), B), n)


def _trend_row(metric: str, table: pd.DataFrame, stat: str, seed: int, B: int) -> MetricRow:
    """OLS slope per day of a community × posts statistic over the valid days (n = days)."""
    days = table[
        (table["window"] == DAY_WINDOW)
        & (table["object"] == "community")
        & (table["quantity"] == "posts")
        & (~table["excl_default"].astype(bool))
    ].dropna(subset=[stat])
    if len(days) < MIN_TREND_DAYS:
        return metric_row(FAMILY, metric, None, None, len(days))
    days = days.sort_values("window_start")
    elapsed = (days["window_start"] - days["window_start"].iloc[0]).dt.total_seconds()
    x = (elapsed / days["bin_seconds"]).to_numpy(dtype=float)
    y = days[stat].to_numpy(dtype=float)
    ci = moving_block_bootstrap_ci(
        np.column_stack([x, y]), lambda r: ols_slope(r[:, 0], r[:, 1]), metric_rng(seed, metric), TREND_BLOCK_DAYS, B
    )
    return metric_row(FAMILY, metric, ols_slope(x, y), ci, len(days))


def _gini_difference(rows: np.ndarray) -> float:
    return gini(rows[:, 1]) - gini(rows[:, 0])


def concentration_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    table: pd.DataFrame,
    society_seed: int = 0,
    B: int = 1000,
    *,
    time_flags: TimeFlags = None,
) -> list[MetricRow]:
    """`influence` rows of `society_metric` from §4.4.

    Values are read from `table` (pass the same `time_flags` as to
    `concentration_table`) so the long table agrees with the drill-down table;
    CIs are percentile bootstraps over the metric's population units (agents,
    posts or communities; agents resampled in pairs for the Gini difference),
    Wilson for `zero_upvote_comment_share` and a moving-block bootstrap over days
    for the trends. `post_upvote_gini` (Gini of upvotes per post) and
    `community_top1_share_slope_day` are names of ours, not the spec's.
    """
    windows = parse_time_flags(time_flags)
    pops = populations(posts, comments, None, None, windows)
    s = society_seed
    rows = [
        _index_row("agent_posting_gini", table, pops, "agent", "posts", "gini", gini, s, B),
        _index_row("agent_upvote_gini", table, pops, "agent", "upvotes_received", "gini", gini, s, B),
    ]

    # Upvote inequality minus posting inequality over the same agents, paired in the bootstrap.
    up_gini, posting_gini = rows[1].value, rows[0].value
    up = pops[("agent", "upvotes_received", False)]
    if up is None or up_gini is None or posting_gini is None:
        rows.append(metric_row(FAMILY, "upvote_minus_posting_gini", None, None, 0 if up is None else up.size))
    else:
        paired = np.column_stack([pops[("agent", "posts", False)], up])
        ci = bootstrap_ci(paired, _gini_difference, metric_rng(s, "upvote_minus_posting_gini"), B)
        rows.append(metric_row(FAMILY, "upvote_minus_posting_gini", up_gini - posting_gini, ci, up.size))

    top1 = lambda x: top_k_share(x, 1)  # noqa: E731
    top5 = lambda x: top_k_share(x, 5)  # noqa: E731
    top1pct = lambda x: top_pct_share(x, 1)  # noqa: E731
    rows += [
        _index_row("post_upvote_gini", table, pops, "post", "upvotes", "gini", gini, s, B),
        _index_row("community_post_hhi_norm", table, pops, "community", "posts", "hhi_norm", hhi_norm, s, B),
        _index_row("community_post_top1_share", table, pops, "community", "posts", "top1_share", top1, s, B),
        _index_row("community_post_top5_share", table, pops, "community", "posts", "top5_share", top5, s, B),
        _trend_row("community_hhi_slope_day", table, "hhi_norm", s, B),
        _trend_row("community_top1_share_slope_day", table, "top1_share", s, B),
        _index_row("post_comment_top1pct_share", table, pops, "post", "comments_received", "top1pct_share",
                   top1pct, s, B),  # fmt: skip
        _index_row("agent_engagement_top1pct_share", table, pops, "agent", "comments_received",
                   "top1pct_share", top1pct, s, B),  # fmt: skip
    ]

    _, kept_comments = unflagged_comment_view(posts, comments, windows)
    known = _upvotes(kept_comments).dropna()
    if known.empty:
        rows.append(metric_row(FAMILY, "zero_upvote_comment_share", None, None, 0))
    else:
        k, n = int((known == 0).sum()), int(known.size)
        rows.append(metric_row(FAMILY, "zero_upvote_comment_share", k / n, wilson_interval(k, n), n))
    return rows


def attention_concentration(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    communities: pd.DataFrame | None,
    *,
    default_community_id: str | None,
    time_flags: TimeFlags = None,
    society_seed: int = 0,
    B: int = 1000,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The whole §4.4 family: the `influence_concentration` table and its society_metric rows."""
    table = concentration_table(posts, comments, default_community_id, communities, time_flags=time_flags)
    rows = concentration_metrics(posts, comments, table, society_seed, B, time_flags=time_flags)
    return {"influence_concentration": table}, rows


def _influence_spec(metric: str, unit: str, ci: str, direction: str, value: str | None = None,
                    evidence: str = "none", source: str | None = None) -> MetricSpec:
    # §4.4: the formulas and populations are proposed; the findings are the papers'.
    return MetricSpec("influence", metric, unit, "proposed", ci, direction, value, evidence, source)  # type: ignore[arg-type]


_CLAWS = "Let There Be Claws, arXiv:2602.20044"
#: What this module writes to society_metric (ANALYTICS_SPEC §4.4), in order.
REGISTRY = [
    _influence_spec("agent_posting_gini", "agents", "bootstrap", "high", "0.601", "P", _CLAWS),
    _influence_spec("agent_upvote_gini", "agents", "bootstrap", "very high", "0.992", "P", _CLAWS),
    _influence_spec("upvote_minus_posting_gini", "agents", "bootstrap", "> 0", "0.391", "P", _CLAWS),
    _influence_spec("post_upvote_gini", "posts", "bootstrap", "high"),
    _influence_spec("community_post_hhi_norm", "communities", "bootstrap", "high (hub communities)", None, "P",
                    "Humans welcome to observe, arXiv:2602.10127"),
    _influence_spec("community_post_top1_share", "communities", "bootstrap", "high", "0.84", "S",
                    "an independent 5-day crawl published as a blog post"),
    _influence_spec("community_post_top5_share", "communities", "bootstrap", "high"),
    _influence_spec("community_hhi_slope_day", "days", "block_bootstrap", "> 0 (hubs concentrate over time)",
                    None, "P", "Humans welcome to observe, arXiv:2602.10127"),
    _influence_spec("community_top1_share_slope_day", "days", "block_bootstrap", "> 0"),
    _influence_spec("post_comment_top1pct_share", "posts", "bootstrap", "high"),
    _influence_spec("agent_engagement_top1pct_share", "agents", "bootstrap", "high", "0.29", "P",
                    "MoltGraph, arXiv:2603.00646"),
    _influence_spec("zero_upvote_comment_share", "comments", "wilson", "very high", "0.973", "P",
                    "Form Without Function, arXiv:2604.13052"),
]
CONCENTRATION_METRIC_NAMES = [spec.metric for spec in REGISTRY]
