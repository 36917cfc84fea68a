"""Feed rankings shared by presets (SIMULATORS.md §4.5), vectorised over the awake viewers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.kernels.bounded_confidence import log_bias_weights


def following_feed(viewers: np.ndarray, follower: np.ndarray, followee: np.ndarray,
                   post_author: np.ndarray, post_score: np.ndarray, pool_start: int,
                   k: int) -> np.ndarray:
    """Recent posts by followees, by net score then recency (§4.5 `following`).

    `follower`/`followee` are the standing follow edges; posts are indexed in creation order,
    so a higher index is more recent, and the pool is posts[pool_start:]. Returns one row of
    `k` post indices per viewer, -1 where fewer qualify (empty until follows exist). Work is
    O(pool + viewers' edges × k): each author's best k pool posts are ranked once, then joined
    to the viewers' edges.
    """
    out = np.full((len(viewers), k), -1, dtype=np.int64)
    n_posts = len(post_author)
    if k == 0 or pool_start >= n_posts or len(follower) == 0 or len(viewers) == 0:
        return out
    # Each author's pool posts, best score first, newest first among equal scores.
    pool = np.arange(pool_start, n_posts)
    order = np.lexsort((-pool, -post_score[pool], post_author[pool]))
    ranked = pool[order]
    authors = post_author[ranked]
    group_start = np.searchsorted(authors, authors, side="left")
    keep = np.arange(len(ranked)) - group_start < k
    ranked, authors = ranked[keep], authors[keep]
    # The viewers' edges, each joined to its followee's best k posts.
    n_ids = int(max(viewers.max(), follower.max(), followee.max(), post_author.max())) + 1
    row_of = np.full(n_ids, -1, dtype=np.int64)
    row_of[viewers] = np.arange(len(viewers))
    mine = row_of[follower] >= 0
    edge_row, edge_followee = row_of[follower[mine]], followee[mine]
    start = np.searchsorted(authors, edge_followee, side="left")
    count = np.searchsorted(authors, edge_followee, side="right") - start
    if count.sum() == 0:
        return out
    row = np.repeat(edge_row, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    post = ranked[np.repeat(start, count) + offset]
    # Per viewer: best score first, then newest; keep the first k.
    order = np.lexsort((-post, -post_score[post], row))
    row, post = row[order], post[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row, side="left")
    top = rank < k
    out[row[top], rank[top]] = post[top]
    return out


# Personalized, random and new feeds (§4.5) ----------------------------------------------------

# A chunk of viewers is sized so that its viewer × pool matrices hold about this many cells
# (8 MiB per float64 matrix), which bounds memory whatever the pool and the number awake.
_CHUNK_CELLS = 1 << 20
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class FeedItems:
    """A feed's candidate posts, in creation order (ascending post index)."""

    post: np.ndarray  # global post index
    author: np.ndarray
    stance_u: np.ndarray  # the stance the post carries, on u = (s + 1)/2
    age: np.ndarray  # steps since creation


def _mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of uint64 that scrambles every bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def pair_uniforms(key: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1), one per (row, col), each a pure function of (key, row, col).

    These are the common random numbers of viewer × item draws (§4.2): viewer i's uniform for
    post j at a step does not depend on who else is awake or what else is in the pool, and a
    viewer × pool matrix of them costs no generator state. `key` comes from the module's
    per-step stream, so the draws stay under `simulators.rng`.
    """
    with np.errstate(over="ignore"):
        row_hash = _mix64(np.uint64(key) ^ _mix64(np.asarray(rows).astype(np.uint64)))
        col_hash = _mix64(np.asarray(cols).astype(np.uint64) * _GOLDEN + np.uint64(1))
        x = row_hash[:, None] ^ col_hash[None, :]
        x = (x ^ (x >> np.uint64(32))) * np.uint64(0xD6E8FEB86659FD93)
        x = x ^ (x >> np.uint64(32))
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _top_k(keys: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest keys, largest first; -1 for -inf keys."""
    k = min(k, keys.shape[1])
    if k < keys.shape[1]:
        part = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(keys.shape[1]), keys.shape)
    part_keys = np.take_along_axis(keys, part, axis=1)
    order = np.argsort(-part_keys, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    return np.where(np.take_along_axis(part_keys, order, axis=1) > -np.inf, top, -1)


def personalized_feed(viewers: np.ndarray, viewer_u: np.ndarray, items: FeedItems, k: int,
                      key: int, *, gamma: float, delta: float, tau: float,
                      opposite_only: bool = False) -> np.ndarray:
    """k posts per viewer drawn without replacement with weight
    (|u_viewer − u_item| + δ)^(−γ) · e^(−age/τ) (§4.5 `personalized`), by Gumbel top-k.

    A viewer never gets its own posts; with `opposite_only` only posts on the other side of ½
    (the cross-cutting exposure arm). Rank 1 is a single weighted draw, the partner choice of
    the algorithmic-bias model; γ = 0 leaves recency-weighted random. Returns global post
    indices, -1 where fewer than k posts qualify. Work is viewers × pool, in chunks.
    """
    out = np.full((len(viewers), k), -1, dtype=np.int64)
    if len(items.post) == 0 or k == 0:
        return out
    log_recency = -items.age / tau
    item_side = items.stance_u >= 0.5
    chunk = max(1, _CHUNK_CELLS // len(items.post))
    for start in range(0, len(viewers), chunk):
        rows = slice(start, start + chunk)
        who, u = viewers[rows], viewer_u[rows]
        # Gumbel keys, log weight − log(−log U): the k largest are the weighted draw.
        keys = log_bias_weights(u[:, None], items.stance_u[None, :], gamma, delta)
        keys += log_recency
        keys -= np.log(-np.log(pair_uniforms(key, who, items.post)))
        keys[items.author[None, :] == who[:, None]] = -np.inf
        if opposite_only:
            keys[(u[:, None] >= 0.5) == item_side[None, :]] = -np.inf
        top = _top_k(keys, k)
        out[rows, : top.shape[1]] = np.where(top >= 0, items.post[np.maximum(top, 0)], -1)
    return out


def random_feed(viewers: np.ndarray, viewer_u: np.ndarray, items: FeedItems, k: int,
                uniforms: np.ndarray, *, opposite_only: bool = False) -> np.ndarray:
    """k posts per viewer uniformly without replacement from the pool (§4.5 `random`).

    Each viewer draws positions from its own row of `uniforms` (common random numbers; give a
    few more columns than k): a draw that lands on its own post or repeats an earlier pick is
    skipped. With `opposite_only`, positions range over the other side of ½ only. Work is
    viewers × columns. Returns global post indices, -1 where fewer than k draws qualify.
    """
    out = np.full((len(viewers), k), -1, dtype=np.int64)
    if len(items.post) == 0 or k == 0:
        return out
    if opposite_only:  # the pool in two blocks, low side first; each viewer draws in the other
        order = np.argsort(items.stance_u >= 0.5, kind="stable")
        n_low = int((items.stance_u < 0.5).sum())
        high = viewer_u >= 0.5
        first = np.where(high, 0, n_low)
        size = np.where(high, n_low, len(order) - n_low)
    else:
        order = np.arange(len(items.post))
        first = np.zeros(len(viewers), dtype=np.int64)
        size = np.full(len(viewers), len(order))
    offset = np.minimum((uniforms * size[:, None]).astype(np.int64),
                        np.maximum(size, 1)[:, None] - 1)
    pick = order[np.minimum(first[:, None] + offset, len(order) - 1)]
    ok = (size[:, None] > 0) & (items.author[pick] != viewers[:, None])
    for j in range(1, pick.shape[1]):
        ok[:, j] &= ~((pick[:, :j] == pick[:, j : j + 1]) & ok[:, :j]).any(axis=1)
    rank = np.cumsum(ok, axis=1) - 1
    rows, cols = np.nonzero(ok & (rank < k))
    out[rows, rank[rows, cols]] = items.post[pick[rows, cols]]
    return out


def new_feed(viewers: np.ndarray, viewer_u: np.ndarray, items: FeedItems, visible_end: np.ndarray,
             k: int, *, opposite_only: bool = False) -> np.ndarray:
    """The k newest posts each viewer can see (post index < its `visible_end`, which lets a
    viewer see posts made earlier in the same step), never its own; with `opposite_only`, only
    posts on the other side of ½. Returns global post indices, -1 where fewer qualify."""
    out = np.full((len(viewers), k), -1, dtype=np.int64)
    if len(items.post) == 0 or k == 0:
        return out
    window = 8 * k  # newest candidates scanned per viewer; enough unless most are excluded
    end = np.searchsorted(items.post, visible_end)
    idx = end[:, None] - 1 - np.arange(window)[None, :]
    ok = idx >= 0
    idx = np.maximum(idx, 0)
    ok &= items.author[idx] != viewers[:, None]
    if opposite_only:
        ok &= (items.stance_u[idx] >= 0.5) != (viewer_u[:, None] >= 0.5)
    rank = np.cumsum(ok, axis=1) - 1
    rows, cols = np.nonzero(ok & (rank < k))
    out[rows, rank[rows, cols]] = items.post[idx[rows, cols]]
    return out
