"""Attention concentration (ANALYTICS_SPEC.md §4.4): who gets the posts, comments and upvotes.

Only the `all` window is computed here; the `day` window (and with it the
`community_hhi_slope_day` trend) is left to a later issue. Community
subscribers are left out too: they need the `communities` table.

Populations (zeros kept, §0.5):
- community: communities with ≥ 1 post (posts with a NULL community are skipped),
  with and without the default community (`excl_default`);
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
  community `upvotes` sums its posts' upvotes.

Upvotes are "not available" when no row of the source has them (e.g. the
observatory CSV export has a net score only): those rows get n = 0 and NULL
statistics, and the upvote metrics value NULL with n = 0. Score is never used
as a stand-in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_ci,
    gini,
    hhi,
    hhi_norm,
    metric_rng,
    metric_row,
    top_k_share,
    top_pct_share,
    wilson_interval,
)

FAMILY = "influence"
WINDOW = "all"

#: Columns of `influence_concentration` produced here; the asset adds society_id, computed_at, params_hash.
CONCENTRATION_COLUMNS = [
    "window",
    "window_start",
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

Key = tuple[str, str, bool]


def _upvotes(df: pd.DataFrame) -> pd.Series:
    """The upvotes column as floats, all NaN when the source has no such column."""
    if "upvotes" not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df["upvotes"], errors="coerce").astype(float)


def post_comments_received(posts: pd.DataFrame, comments: pd.DataFrame) -> pd.Series:
    """Comments per post (index post_id): max(reported, observed), each being a lower bound."""
    observed = comments.groupby("post_id").size()
    obs = posts["post_id"].map(observed).fillna(0).astype(float)
    reported = pd.to_numeric(posts["comment_count"], errors="coerce").astype(float)
    return pd.Series(np.fmax(reported, obs).to_numpy(), index=posts["post_id"].to_numpy())


def populations(
    posts: pd.DataFrame, comments: pd.DataFrame, default_community_id: str | None
) -> dict[Key, np.ndarray | None]:
    """Per-unit values of every (object, quantity, excl_default); None = not available."""
    out: dict[Key, np.ndarray | None] = {}
    up_post = _upvotes(posts)
    up_comment = _upvotes(comments)
    have_post_up = bool(up_post.notna().any())
    have_up = have_post_up or bool(up_comment.notna().any())
    received = post_comments_received(posts, comments)

    # community × {posts, comments, upvotes}
    p = posts.assign(_received=received.to_numpy(), _up=up_post.to_numpy())
    p = p[p["community_id"].notna()]
    per_comm = p.groupby("community_id").agg(
        posts=("post_id", "size"), comments=("_received", "sum"), upvotes=("_up", "sum")
    )
    excl_options = [False] if default_community_id is None else [False, True]
    for excl in excl_options:
        c = per_comm.drop(index=default_community_id, errors="ignore") if excl else per_comm
        out[("community", "posts", excl)] = c["posts"].to_numpy(dtype=float)
        out[("community", "comments", excl)] = c["comments"].to_numpy(dtype=float)
        out[("community", "upvotes", excl)] = c["upvotes"].to_numpy(dtype=float) if have_post_up else None

    # post × {comments_received, upvotes}
    out[("post", "comments_received", False)] = received.to_numpy(dtype=float)
    out[("post", "upvotes", False)] = up_post.dropna().to_numpy(dtype=float) if have_post_up else None

    # agent × {posts, comments_written, upvotes_received, comments_received}
    agents = pd.Index(pd.concat([posts["author_id"], comments["author_id"]]).dropna().unique())
    n_posts = posts.groupby("author_id").size().reindex(agents, fill_value=0)
    n_written = comments.groupby("author_id").size().reindex(agents, fill_value=0)
    up_received = (
        up_post.groupby(posts["author_id"]).sum().reindex(agents, fill_value=0.0)
        + up_comment.groupby(comments["author_id"]).sum().reindex(agents, fill_value=0.0)
    )
    on_post = comments.merge(
        posts[["post_id", "author_id"]].rename(columns={"author_id": "_post_author"}), on="post_id"
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
        nan = float("nan")
        return dict(n=0, gini=nan, hhi=nan, hhi_norm=nan, top1_share=nan, top5_share=nan,
                    top10_share=nan, top1pct_share=nan)  # fmt: skip
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


def concentration_table(
    posts: pd.DataFrame, comments: pd.DataFrame, default_community_id: str | None
) -> pd.DataFrame:
    """`influence_concentration` rows for window `all` (window_start NULL).

    Needs posts(post_id, community_id, author_id, comment_count[, upvotes]) and
    comments(post_id, author_id[, upvotes]) of one society.

    Without a default community only the `excl_default = false` community rows exist.
    """
    rows = []
    for (obj, qty, excl), x in populations(posts, comments, default_community_id).items():
        rows.append({"window": WINDOW, "window_start": pd.NaT, "object": obj, "quantity": qty,
                     "excl_default": excl, **_summary(x)})  # fmt: skip
    table = pd.DataFrame(rows, columns=CONCENTRATION_COLUMNS)
    table["window_start"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[us, UTC]")
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
    """A table statistic as a society metric; CI by bootstrap over the population's units."""
    value, n = _lookup(table, obj, qty, stat)
    x = pops[(obj, qty, False)]
    if x is None or n < MIN_UNITS or np.isnan(value):
        return metric_row(FAMILY, metric, None, None, n)
    return metric_row(FAMILY, metric, value, bootstrap_ci(x, fn, metric_rng(seed, metric), B), n)


def _gini_difference(rows: np.ndarray) -> float:
    return gini(rows[:, 1]) - gini(rows[:, 0])


def concentration_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    table: pd.DataFrame,
    society_seed: int = 0,
    B: int = 1000,
) -> list[MetricRow]:
    """`influence` rows of `society_metric` from §4.4 (window `all`).

    Values are read from `table` so the long table agrees with the drill-down
    table; CIs are percentile bootstraps over the metric's population units
    (agents, posts or communities; agents resampled in pairs for the Gini
    difference) and Wilson for `zero_upvote_comment_share`.
    `post_upvote_gini` (Gini of upvotes per post) is a name of ours, not the spec's.
    """
    pops = populations(posts, comments, None)
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
        _index_row("post_comment_top1pct_share", table, pops, "post", "comments_received", "top1pct_share",
                   top1pct, s, B),  # fmt: skip
        _index_row("agent_engagement_top1pct_share", table, pops, "agent", "comments_received",
                   "top1pct_share", top1pct, s, B),  # fmt: skip
    ]

    known = _upvotes(comments).dropna()
    if known.empty:
        rows.append(metric_row(FAMILY, "zero_upvote_comment_share", None, None, 0))
    else:
        k, n = int((known == 0).sum()), int(known.size)
        rows.append(metric_row(FAMILY, "zero_upvote_comment_share", k / n, wilson_interval(k, n), n))
    return rows


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
    _influence_spec("post_comment_top1pct_share", "posts", "bootstrap", "high"),
    _influence_spec("agent_engagement_top1pct_share", "agents", "bootstrap", "high", "0.29", "P",
                    "MoltGraph, arXiv:2603.00646"),
    _influence_spec("zero_upvote_comment_share", "comments", "wilson", "very high", "0.973", "P",
                    "Form Without Function, arXiv:2604.13052"),
]
CONCENTRATION_METRIC_NAMES = [spec.metric for spec in REGISTRY]
