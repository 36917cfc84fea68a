"""Feed rankings shared by presets (SIMULATORS.md §4.5), vectorised over the awake viewers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.core import first_occurrences
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
                      opposite_only: bool = False, dense_pool: int = 1_024) -> np.ndarray:
    """k posts per viewer drawn without replacement with weight
    (|u_viewer − u_item| + δ)^(−γ) · e^(−age/τ) (§4.5 `personalized`).

    A viewer never gets its own posts; with `opposite_only` only posts on the other side of ½
    (the cross-cutting exposure arm). The draw is successive weighted sampling without
    replacement, the Plackett–Luce order that Gumbel top-k also draws: rank 1 is a single
    weighted draw, the partner choice of the algorithmic-bias model; γ = 0 leaves
    recency-weighted random. Returns global post indices, -1 where fewer than k posts qualify.

    Pools of at most `dense_pool` posts are drawn by one Gumbel top-k pass (`_dense_feed`),
    cheaper there. Larger pools are drawn by `_proposal_feed` in O(pool · log pool + viewers ·
    (buckets + k · log pool)), never viewers × pool: each proposal picks a distance bucket
    (`_distance_buckets`) by its bounded mass, a post in it by recency, and is accepted with the
    ratio of its weight to the bucket's bound (≥ 2^−γ). A viewer's own posts and the posts it
    already has leave the masses and are stepped over, so they are never proposed; a viewer
    still short after `_ROUNDS` rounds (rare) is finished exactly by `_dense_feed`. Uniforms are
    pure functions of (key, viewer, draw), so a viewer's feed does not depend on who else is
    awake.
    """
    n_viewers, n_items = len(viewers), len(items.post)
    if n_items == 0 or k == 0 or n_viewers == 0:
        return np.full((n_viewers, k), -1, dtype=np.int64)
    order = np.argsort(items.stance_u, kind="stable")  # positions below are in stance order
    stance, author = items.stance_u[order], items.author[order]
    log_recency = -items.age[order] / tau
    nothing_yet = np.full((n_viewers, k), -1, dtype=np.int64)
    if n_items <= dense_pool:  # by pool size alone, so no viewer's draw depends on the others
        chosen = _dense_feed(viewers, viewer_u, stance, author, log_recency, nothing_yet,
                             np.zeros(n_viewers, dtype=np.int64), key, gamma=gamma, delta=delta,
                             opposite_only=opposite_only)
    else:
        chosen = _proposal_feed(viewers, viewer_u, stance, author, log_recency, nothing_yet, key,
                                gamma=gamma, delta=delta, opposite_only=opposite_only)
    return np.where(chosen >= 0, items.post[order[np.maximum(chosen, 0)]], -1)


def _proposal_feed(viewers: np.ndarray, viewer_u: np.ndarray, stance: np.ndarray,
                   author: np.ndarray, log_recency: np.ndarray, chosen: np.ndarray, key: int, *,
                   gamma: float, delta: float, opposite_only: bool) -> np.ndarray:
    """The proposal draw of `personalized_feed` over stance-ordered pool positions; returns the
    chosen positions per viewer (-1 where fewer qualify)."""
    chosen = chosen.copy()
    n_viewers, k = chosen.shape
    n_items = len(stance)
    recency = np.exp(log_recency)
    recency_cum = np.concatenate([[0.0], np.cumsum(recency)])
    lo, hi, bound = _distance_buckets(viewer_u, stance, gamma, delta, opposite_only)
    range_recency = recency_cum[hi] - recency_cum[lo]
    own = _own_positions(viewers, author)
    need = np.minimum((hi - lo).sum(axis=1) - _in_ranges(own, lo, hi).sum(axis=(1, 2)), k)
    filled = np.zeros(n_viewers, dtype=np.int64)
    m = 2 * k  # proposals per viewer and round
    for r in range(_ROUNDS):
        rows = np.flatnonzero(filled < need)
        if len(rows) == 0:
            break
        # Own and already chosen posts leave the bucket masses, and proposals step over them,
        # so no proposal is wasted on a post that cannot be taken (they carry the peak weight).
        skip = _ascending(np.concatenate([own[rows], chosen[rows]], axis=1), n_items)
        skip_recency = np.where(skip >= 0, recency[np.maximum(skip, 0)], 0.0)
        skip_in = _in_ranges(skip, lo[rows], hi[rows])
        free = np.maximum(range_recency[rows] - (skip_in * skip_recency[:, :, None]).sum(axis=1),
                          0.0)
        mass_cum = np.cumsum(bound[rows] * free, axis=1)
        total = mass_cum[:, -1]
        draws = _PROPOSAL_COLUMN + r * 3 * m + np.arange(3 * m)
        u = pair_uniforms(key, viewers[rows], draws)
        bucket = (mass_cum[:, None, :] <= (u[:, :m] * total[:, None])[:, :, None]).sum(axis=2)
        bucket = np.minimum(bucket, mass_cum.shape[1] - 1)
        b_lo, b_hi = lo[rows[:, None], bucket], hi[rows[:, None], bucket]
        in_bucket = recency_cum[b_lo] + u[:, m : 2 * m] * np.take_along_axis(free, bucket, axis=1)
        for j in range(skip.shape[1]):  # ascending: step over each skipped post's interval
            p = skip[:, j : j + 1]
            over = (b_lo <= p) & (p < b_hi) & (recency_cum[np.maximum(p, 0)] <= in_bucket)
            in_bucket = in_bucket + np.where(over, skip_recency[:, j : j + 1], 0.0)
        pos = np.clip(np.searchsorted(recency_cum, in_bucket, side="right") - 1, b_lo, b_hi - 1)
        weight = np.exp(log_bias_weights(viewer_u[rows, None], stance[pos], gamma, delta))
        ok = (u[:, 2 * m :] * bound[rows[:, None], bucket] < weight) & (total[:, None] > 0)
        ok &= author[pos] != viewers[rows, None]
        ok &= ~(chosen[rows, :, None] == pos[:, None, :]).any(axis=1)
        ok = first_occurrences(pos, ok)  # a post proposed twice in one round counts once
        rank = filled[rows, None] + np.cumsum(ok, axis=1) - 1
        keep = ok & (rank < k)
        hit_row, hit_col = np.nonzero(keep)
        chosen[rows[hit_row], rank[hit_row, hit_col]] = pos[hit_row, hit_col]
        filled[rows] = np.minimum(rank[:, -1] + 1, k)
    short = np.flatnonzero(filled < need)
    if len(short):
        chosen[short] = _dense_feed(viewers[short], viewer_u[short], stance, author, log_recency,
                                    chosen[short], filled[short], key, gamma=gamma, delta=delta,
                                    opposite_only=opposite_only)
    return chosen


def _in_ranges(positions: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(viewer, position, bucket): whether each of a viewer's positions lies in each of its
    bucket ranges [lo, hi); -1 pads lie in none."""
    return (lo[:, None, :] <= positions[:, :, None]) & (positions[:, :, None] < hi[:, None, :])


_ROUNDS = 10  # proposal rounds before the exact dense finish
_PROPOSAL_COLUMN = 1 << 62  # proposal draws use columns no pool position reaches


def _own_positions(viewers: np.ndarray, author: np.ndarray) -> np.ndarray:
    """Each viewer's own posts as ascending pool positions, one row per viewer, -1 padded."""
    by_author = np.argsort(author, kind="stable")
    sorted_author = author[by_author]
    start = np.searchsorted(sorted_author, viewers, side="left")
    count = np.searchsorted(sorted_author, viewers, side="right") - start
    own = np.full((len(viewers), int(count.max(initial=0))), -1, dtype=np.int64)
    row = np.repeat(np.arange(len(viewers)), count)
    col = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    own[row, col] = by_author[np.repeat(start, count) + col]
    return _ascending(own, len(author))


def _ascending(positions: np.ndarray, n: int) -> np.ndarray:
    """Each row's positions in ascending order, its -1 pads moved to the end."""
    ordered = np.sort(np.where(positions >= 0, positions, n), axis=1)
    return np.where(ordered < n, ordered, -1)


def _distance_buckets(viewer_u: np.ndarray, stance: np.ndarray, gamma: float, delta: float,
                      opposite_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per viewer, the sorted-stance position ranges [lo, hi) of the posts at distance
    [d_j, d_j+1) below and above its stance, d_j = δ(2^j − 1), and each range's weight bound
    (d_j + δ)^(−γ): within a range the weight varies by at most 2^γ. With `opposite_only` the
    ranges are clipped to the other side of ½."""
    n_edges = int(np.ceil(np.log2(1.0 / delta + 1.0))) + 1  # d_last ≥ 1 covers [0, 1]
    d = delta * (2.0 ** np.arange(n_edges) - 1.0)
    below = np.searchsorted(stance, viewer_u[:, None] - d[None, :], side="left")
    above = np.searchsorted(stance, viewer_u[:, None] + d[None, :], side="left")
    lo = np.concatenate([below[:, 1:], above[:, :-1]], axis=1)
    hi = np.concatenate([below[:, :-1], above[:, 1:]], axis=1)
    if opposite_only:
        half = np.searchsorted(stance, 0.5, side="left")
        high = viewer_u >= 0.5
        first = np.where(high, 0, half)[:, None]
        last = np.where(high, half, len(stance))[:, None]
        lo, hi = np.clip(lo, first, last), np.clip(hi, first, last)
    bound = np.exp(log_bias_weights(0.0, np.concatenate([d[:-1], d[:-1]]), gamma, delta))
    return lo, hi, np.broadcast_to(bound, lo.shape)


def _dense_feed(viewers: np.ndarray, viewer_u: np.ndarray, stance: np.ndarray,
                author: np.ndarray, log_recency: np.ndarray, chosen: np.ndarray,
                filled: np.ndarray, key: int, *, gamma: float, delta: float,
                opposite_only: bool) -> np.ndarray:
    """Finish each viewer's draw over the whole pool by Gumbel top-k after the `filled` posts it
    already has (the same Plackett–Luce order, continued); work is viewers × pool, in chunks."""
    out = chosen.copy()
    k = chosen.shape[1]
    n = len(stance)
    side = stance >= 0.5
    chunk = max(1, _CHUNK_CELLS // n)
    for start in range(0, len(viewers), chunk):
        rows = slice(start, start + chunk)
        who, u, have = viewers[rows], viewer_u[rows], chosen[rows]
        keys = log_bias_weights(u[:, None], stance[None, :], gamma, delta) + log_recency
        keys -= np.log(-np.log(pair_uniforms(key, who, np.arange(n))))
        keys[author[None, :] == who[:, None]] = -np.inf
        if opposite_only:
            keys[(u[:, None] >= 0.5) == side[None, :]] = -np.inf
        had_row, had_col = np.nonzero(have >= 0)
        keys[had_row, have[had_row, had_col]] = -np.inf
        top = _top_k(keys, k)  # fewer than k columns when the pool is smaller
        slot = filled[rows, None] + np.arange(top.shape[1])[None, :]
        row, col = np.nonzero((top >= 0) & (slot < k))
        out[start + row, slot[row, col]] = top[row, col]
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
    ok = first_occurrences(pick, ok)
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
