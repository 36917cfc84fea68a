"""Automation and flooding (ANALYTICS_SPEC.md §6): copies, bursts, clockwork timing, heavy accounts.

Posts and comments are processed separately (`kind`), except where a metric pools them.

Near-duplicates (§6.1) use leader clustering: texts are visited in `created_at`
order (ties by text_id) and each joins the earliest-created cluster whose leader
has cos ≥ threshold with it, or else leads a new cluster. Leaders are therefore
pairwise below the threshold and a cluster cannot chain. A cluster's id is its
leader's text_id, which later texts never change.

How it avoids comparing every pair:
- texts with bit-identical vectors (same text, same model) in the same scope are
  collapsed first: they always land in the cluster of their first occurrence;
- a text is compared with leaders only, never with other members;
- `author` scope: leaders are searched per author, exactly
  (O(Σ_a n_a·L_a·d), n_a texts and L_a leaders of author a);
- a text scans a list's leaders in creation order, a block at a time, and stops
  at the first block with a match: only texts that end up leading a cluster see
  every leader, so exact search costs about O((L² + N·B)·d), B = 4096 leaders a
  block, rather than O(N·L·d);
- `global` scope: up to EXACT_LIMIT distinct vectors the search is exact; above
  it leaders sit in an inverted-file index of ≈ √N lists (spherical k-means
  centroids) and a text probes its p nearest lists. p starts at 4 and doubles
  until the recall of cos ≥ threshold pairs on a 10k sample, against exact
  search, is ≥ 0.95 (the spec's requirement); when no p up to 64 reaches it the
  search is exact. Anisotropic static vectors at cos 0.85 and 0.90 are such a
  case: their neighbourhoods span too many cells for any few lists to hold them.

Author ids (§0.4): text-level metrics (the duplicate shares, `template_share_top100`,
`peak6_hour_share`, the society periodogram) need none; agent-level ones (floods,
heartbeat classes, activity concentration, coordination episodes) are NULL with
n = 0 without them. Near-duplicate metrics need embeddings likewise.

Choices the spec leaves open:
- a text is an exact duplicate when its normalized text occurs at least twice
  (the first copy included); an empty normalized text is never a duplicate;
- `flood_volume_share` counts texts in any burst; a `similar` burst is always
  inside a `rate` burst of the same author, so this equals the rate-burst share;
- `template_share_top100` pools post and comment clusters (100 largest of both);
- coordination episodes come from post and comment clusters alike; the comment
  lift uses post episodes, comments per post = max(reported, observed);
- heartbeat timing uses posts only (the pooled variant is not built); the χ²
  test of the post-restart share is not stored (the spec names no metric for
  it); `society_dominant_period_power_share` (a name of ours) stores the peak's
  share of periodogram power the spec asks for at the society level.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import periodogram
from threadpoolctl import threadpool_limits

from assets.metrics.bins import hour_is_flagged, parse_time_flags
from assets.metrics.concentration import post_comments_received
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_median_ci,
    bootstrap_ratio_ci,
    bootstrap_ci,
    metric_rng,
    metric_row,
    top_k_share,
    top_pct_share,
    wilson_interval,
)

FAMILY = "automation"
KINDS = ("post", "comment")
SCOPES = ("author", "global")
#: The main near-duplicate threshold (§0.5) and its sensitivity runs (§6.1 step 4).
NEAR_THRESHOLD = 0.90
THRESHOLDS = (0.85, 0.90, 0.95)
#: Global search is exact up to this many distinct vectors per kind; above it the inverted-file index is used.
EXACT_LIMIT = 10_000
RECALL_TARGET = 0.95
RECALL_SAMPLE = 10_000
MAX_PROBES = 64

BURST_MIN_ITEMS = 10
BURST_MAX_GAP_S = 60.0
HEARTBEAT_MIN_ITEMS = 10
REGULAR_COV = 0.5
IRREGULAR_COV = 1.0
PERIOD_MIN_DAYS = 3
RESTART_WINDOW = pd.Timedelta(hours=6)
#: Fewer posts than hours of the day cannot spread over them, so the peak-hour share would be trivially high.
PEAK_MIN_POSTS = 24
EPISODE_MIN_AUTHORS = 3

CLUSTER_COLUMNS = ["kind", "scope", "threshold", "cluster_id", "leader_text_id", "size", "n_authors",
                   "first_at", "last_at"]  # fmt: skip
MEMBER_COLUMNS = ["kind", "scope", "threshold", "cluster_id", "text_id", "author_id", "created_at",
                  "cos_to_leader"]  # fmt: skip
BURST_COLUMNS = ["kind", "burst_kind", "burst_id", "author_id", "cluster_id", "n_items", "start_at", "end_at",
                 "median_gap_s"]  # fmt: skip
TIMING_COLUMNS = ["agent_id", "n_items", "mean_gap_s", "median_gap_s", "cov_gap", "timing_class",
                  "sub_minute_share", "dominant_period_h"]  # fmt: skip

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------- input preparation


def normalize_text(text: object) -> str:
    """§6.1 exact-pass key: NFKC, lowercase, URLs and digits removed, whitespace collapsed."""
    if not isinstance(text, str):
        return ""
    s = unicodedata.normalize("NFKC", text).lower()
    s = _DIGITS.sub("", _URL.sub(" ", s))
    return _SPACE.sub(" ", s).strip()


def _prepare_texts(texts: pd.DataFrame) -> pd.DataFrame:
    """texts view rows sorted in visiting order (created_at, then text_id; unknown times last)."""
    t = pd.DataFrame(
        {
            "text_id": texts["text_id"].astype(str),
            "kind": texts["kind"].astype(str),
            "post_id": texts["post_id"].astype(object) if "post_id" in texts else None,
            "author_id": texts["author_id"].astype(object).where(texts["author_id"].notna(), None),
            "created_at": pd.to_datetime(texts["created_at"], utc=True, errors="coerce"),
            "text": texts["text"],
        }
    )
    t = t.drop_duplicates("text_id")
    t = t.sort_values(["created_at", "text_id"], na_position="last", kind="stable").reset_index(drop=True)
    # object dtype: agent text may hold lone surrogates, which an Arrow-backed string column rejects.
    t["norm"] = pd.Series([normalize_text(x) for x in t["text"]], index=t.index, dtype=object)
    return t


def embedding_matrix(
    text_ids: pd.Series, text_embeddings: pd.DataFrame | None, model_id: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors aligned with `text_ids` and a mask of the texts that have a usable one.

    Vectors of another dimension than the most common one, or with NaN or zero
    norm, count as missing. Several models without `model_id` is a caller error.
    """
    n = len(text_ids)
    if text_embeddings is None or text_embeddings.empty:
        return np.zeros((n, 0), dtype=np.float32), np.zeros(n, dtype=bool)
    emb = text_embeddings
    if "model_id" in emb.columns:
        models = emb["model_id"].dropna().unique()
        if model_id is not None:
            emb = emb[emb["model_id"] == model_id]
        elif len(models) > 1:
            raise ValueError(f"text_embeddings holds several models {sorted(models)}; pass model_id")
    emb = emb.drop_duplicates("text_id").set_index("text_id")["vector"]
    found = text_ids.map(emb)
    vecs = [np.asarray(v, dtype=np.float32).ravel() if v is not None and not _is_nan(v) else None for v in found]
    dims = pd.Series([v.size for v in vecs if v is not None])
    if dims.empty:
        return np.zeros((n, 0), dtype=np.float32), np.zeros(n, dtype=bool)
    d = int(dims.mode().iloc[0])
    X = np.zeros((n, d), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    for i, v in enumerate(vecs):
        if v is not None and v.size == d and np.isfinite(v).all():
            norm = float(np.linalg.norm(v))
            if norm > 0:
                X[i] = v / norm
                ok[i] = True
    return X, ok


def _is_nan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _gap_overlaps_flags(a: np.ndarray, b: np.ndarray, flags_ns: list[tuple[int, int]]) -> np.ndarray:
    """True where the interval [a, b] (ns) overlaps a flagged window."""
    hit = np.zeros(a.size, dtype=bool)
    for s, e in flags_ns:
        hit |= (a <= e) & (b >= s)
    return hit


# --------------------------------------------------------------------------- leader clustering


class _LeaderList:
    """The leaders filed under one index list: their vectors kept contiguous (no gather per query) and rows."""

    def __init__(self, dim: int) -> None:
        self.vecs = np.empty((16, dim), dtype=np.float32)
        self.rows = np.empty(16, dtype=np.int64)
        self.n = 0

    def extend(self, vecs: np.ndarray, rows: np.ndarray) -> None:
        need = self.n + rows.size
        if need > self.rows.size:
            cap = max(need, 2 * self.rows.size)
            self.vecs = np.resize(self.vecs, (cap, self.vecs.shape[1]))
            self.rows = np.resize(self.rows, cap)
        self.vecs[self.n : need] = vecs
        self.rows[self.n : need] = rows
        self.n = need


def leader_clusters(
    X: np.ndarray,
    threshold: float,
    home: np.ndarray,
    probes: np.ndarray,
    partition: np.ndarray | None = None,
    chunk: int = 2048,
    leader_block: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Leader clustering of the rows of X, visited in row order; returns (leader row, cos to leader) per row.

    Leaders are filed under their `home` list and a row searches the lists in its
    `probes` row (exact search: a single list). With `partition`, a row may only
    join a leader of the same partition value. Rows are handled in chunks: first
    against the leaders of earlier chunks through the lists, then exactly against
    earlier rows of the chunk itself. Every leader a chunk creates is later than
    all earlier leaders, so the earliest-cluster rule holds.
    """
    n, dim = X.shape
    leader = np.full(n, -1, dtype=np.int64)
    cos = np.zeros(n, dtype=np.float32)
    rank = np.full(n, -1, dtype=np.int64)  # creation order of leader rows
    n_leaders = 0
    lists: dict[int, _LeaderList] = {}
    width = probes.shape[1]
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        size = e - s
        best_rank = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        best_leader = np.full(size, -1, dtype=np.int64)
        best_cos = np.zeros(size, dtype=np.float32)

        # 1. Leaders of earlier chunks, list by list; within a list the first hit is the earliest leader.
        flat = probes[s:e].ravel()
        owner = np.repeat(np.arange(size), width)
        order = np.argsort(flat, kind="stable")
        flat, owner = flat[order], owner[order]
        bounds = np.flatnonzero(np.diff(flat)) + 1
        for lst, q in zip(np.split(flat, bounds), np.split(owner, bounds)):
            entry = lists.get(int(lst[0]))
            if entry is None:
                continue
            # The list's leaders in creation order, a block at a time: a row that hits has found the
            # list's earliest match and drops out, so most rows never see the list's later leaders.
            for b in range(0, entry.n, leader_block):
                lead = entry.rows[b : min(entry.n, b + leader_block)]
                sims = X[s + q] @ entry.vecs[b : b + lead.size].T
                ok = sims >= threshold
                if partition is not None:
                    ok &= partition[s + q][:, None] == partition[lead][None, :]
                has = ok.any(axis=1)
                if has.any():
                    first = ok[has].argmax(axis=1)
                    qh = q[has]
                    r = rank[lead[first]]
                    better = r < best_rank[qh]
                    qb = qh[better]
                    best_rank[qb] = r[better]
                    best_leader[qb] = lead[first[better]]
                    best_cos[qb] = sims[has][better, first[better]]
                    q = q[~has]
                if q.size == 0:
                    break

        # 2. The rest against each other, exactly. A row with no earlier match leads; the others are
        #    settled in order, joining the earliest earlier row that turned out to be a leader.
        pend = np.flatnonzero(best_leader < 0)
        if pend.size:
            P = X[s + pend]
            S = P @ P.T
            hits = np.tril(S >= threshold, k=-1)
            if partition is not None:
                part = partition[s + pend]
                hits &= part[:, None] == part[None, :]
            is_leader = ~hits.any(axis=1)
            for a in np.flatnonzero(~is_leader):
                cand = np.flatnonzero(hits[a, :a] & is_leader[:a])
                if cand.size:
                    best_leader[pend[a]] = s + pend[cand[0]]
                    best_cos[pend[a]] = S[a, cand[0]]
                else:
                    is_leader[a] = True
            new_rows = s + pend[is_leader]
            best_leader[pend[is_leader]] = new_rows
            best_cos[pend[is_leader]] = 1.0
            rank[new_rows] = n_leaders + np.arange(new_rows.size)
            n_leaders += new_rows.size
            by_list = pd.Series(new_rows).groupby(home[new_rows], sort=False)
            for lst, idx in by_list:
                rows_ = idx.to_numpy()
                lists.setdefault(int(lst), _LeaderList(dim)).extend(X[rows_], rows_)
        leader[s:e] = best_leader
        cos[s:e] = best_cos
    return leader, np.minimum(cos, 1.0)


def _spherical_centroids(X: np.ndarray, n_lists: int, rng: np.random.Generator, iters: int = 3) -> np.ndarray:
    """A few Lloyd steps of spherical k-means on a sample: coarse cells for the inverted-file index."""
    sample = X[np.sort(rng.choice(X.shape[0], size=min(X.shape[0], 20 * n_lists), replace=False))]
    C = sample[np.sort(rng.choice(sample.shape[0], size=n_lists, replace=False))].copy()
    for _ in range(iters):
        assign = np.argmax(sample @ C.T, axis=1)
        for c in range(n_lists):
            pts = sample[assign == c]
            if len(pts):
                m = pts.sum(axis=0)
                norm = np.linalg.norm(m)
                if norm > 0:
                    C[c] = m / norm
    return C


def _ranked_lists(X: np.ndarray, C: np.ndarray, width: int, block: int = 8192) -> np.ndarray:
    """For each row, the `width` nearest centroids, nearest first (width ≤ number of centroids)."""
    out = np.empty((X.shape[0], width), dtype=np.int64)
    for s in range(0, X.shape[0], block):
        sims = X[s : s + block] @ C.T
        top = np.argpartition(-sims, width - 1, axis=1)[:, :width]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        out[s : s + block] = np.take_along_axis(top, order, axis=1)
    return out


def probe_recalls(X: np.ndarray, ranked: np.ndarray, threshold: float) -> np.ndarray:
    """recall[p - 1] for p = 1 … width probes: the share of pairs (i later than j, cos ≥ threshold) among
    the rows of X whose j's home list is among i's first p probes. One pass over the pairs serves every
    p (the similarity products, not the probe test, are the cost)."""
    home = ranked[:, 0]
    width = ranked.shape[1]
    found_at = np.zeros(width + 1, dtype=np.int64)  # pairs by the probe position of j's home; width: none
    for s in range(0, X.shape[0], 1000):
        sims = X[s : s + 1000] @ X.T
        i_loc, j = np.nonzero(sims >= threshold)
        i = s + i_loc
        keep = j < i  # j visited earlier: a potential leader of i
        i, j = i[keep], j[keep]
        if i.size == 0:
            continue
        match = ranked[i] == home[j][:, None]  # a row's probes are distinct lists: at most one match
        position = np.where(match.any(axis=1), match.argmax(axis=1), width)
        found_at += np.bincount(position, minlength=width + 1)
    total = int(found_at.sum())
    if total == 0:
        return np.ones(width)
    return np.cumsum(found_at[:width]) / total


def global_index(
    X: np.ndarray, threshold: float, rng: np.random.Generator, exact_limit: int = EXACT_LIMIT
) -> tuple[np.ndarray, np.ndarray, float]:
    """(home, probes, measured recall) of the global search; one list (exact) for small inputs.

    The index is an inverted file of about √N lists, probed 4, 8, … up to 64 lists deep: the first
    depth whose recall on a sample reaches RECALL_TARGET is used. Where none does (embeddings whose
    neighbourhoods at the threshold are too wide to fall into a few cells), the search is exact.
    """
    n = X.shape[0]
    exact = (np.zeros(n, dtype=np.int64), np.zeros((n, 1), dtype=np.int64), 1.0)
    if n <= exact_limit:
        return exact
    n_lists = max(2, int(round(math.sqrt(n))))
    C = _spherical_centroids(X, n_lists, rng)
    sample = np.sort(rng.choice(n, size=min(n, RECALL_SAMPLE), replace=False))
    recalls = probe_recalls(X[sample], _ranked_lists(X[sample], C, min(MAX_PROBES, n_lists)), threshold)
    n_probe = 4
    while n_probe <= recalls.size:
        recall = float(recalls[n_probe - 1])
        if recall >= RECALL_TARGET:
            ranked = _ranked_lists(X, C, n_probe)
            return ranked[:, 0].copy(), ranked, recall
        n_probe *= 2
    return exact


def _cluster_scope(
    rows: pd.DataFrame, X: np.ndarray, scope: str, threshold: float, rng: np.random.Generator, exact_limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """Leader row index (into `rows`) and cos to leader for one kind and scope; rows are in visiting order."""
    n = len(rows)
    # Collapse bit-identical vectors of the same partition onto their first occurrence.
    partition = pd.factorize(rows["author_id"])[0].astype(np.int64) if scope == "author" else np.zeros(n, np.int64)
    keys = [f"{p}:".encode() + X[i].tobytes() for i, p in enumerate(partition)]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object))
    first = pd.Series(np.arange(n)).groupby(codes).min().to_numpy()  # representative row per code, ascending
    if scope == "author":
        # Authors are independent, so visiting them one after another (time order within each) changes
        # nothing, and keeps most of an author's texts in one chunk where the search is a single matmul.
        visit = first[np.lexsort((first, partition[first]))]
        part = partition[visit]
        v_leader, v_cos = leader_clusters(X[visit], threshold, part, part[:, None], partition=part, chunk=512)
    else:
        visit = first
        # The global search is a few large matrix products: unlike the rest of the family, it gains
        # from every core (about 1.6x on 2 cores).
        with threadpool_limits(limits=os.cpu_count()):
            home, probes, _ = global_index(X[visit], threshold, rng, exact_limit)
            v_leader, v_cos = leader_clusters(X[visit], threshold, home, probes)
    # Back to rows: each code's leader row, through the visit position of its representative.
    rep_leader = np.empty(n, dtype=np.int64)
    rep_cos = np.empty(n, dtype=np.float32)
    rep_leader[visit] = visit[v_leader]
    rep_cos[visit] = v_cos
    return rep_leader[first[codes]], rep_cos[first[codes]]


def near_duplicate_tables(
    t: pd.DataFrame, X: np.ndarray, has_vec: np.ndarray, seed: int, exact_limit: int = EXACT_LIMIT
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`automation_dup_clusters` and `automation_dup_members` for both kinds, scopes and thresholds."""
    clusters, members = [], []
    for kind in KINDS:
        for scope in SCOPES:
            sel = (t["kind"] == kind).to_numpy() & has_vec
            if scope == "author":
                sel &= t["author_id"].notna().to_numpy()
            rows = t[sel].reset_index(drop=True)
            if len(rows) < 2:
                continue
            Xk = X[sel]
            for threshold in THRESHOLDS:
                rng = metric_rng(seed, f"near_duplicate_clusters:{kind}:{scope}:{threshold}")
                lead, cos = _cluster_scope(rows, Xk, scope, threshold, rng, exact_limit)
                m = rows[["text_id", "author_id", "created_at"]].assign(
                    kind=kind, scope=scope, threshold=threshold,
                    cluster_id=rows["text_id"].to_numpy()[lead], cos_to_leader=cos.astype(float),
                )  # fmt: skip
                size = m.groupby("cluster_id")["text_id"].transform("size")
                m = m[size >= 2]
                if m.empty:
                    continue
                c = m.groupby("cluster_id", sort=False).agg(
                    size=("text_id", "size"), n_authors=("author_id", "nunique"),
                    first_at=("created_at", "min"), last_at=("created_at", "max"),
                ).reset_index()  # fmt: skip
                c = c.assign(kind=kind, scope=scope, threshold=threshold, leader_text_id=c["cluster_id"])
                clusters.append(c[CLUSTER_COLUMNS])
                members.append(m[MEMBER_COLUMNS])
    return _frame(clusters, CLUSTER_COLUMNS), _frame(members, MEMBER_COLUMNS)


def _at(frame: pd.DataFrame, scope: str, threshold: float = NEAR_THRESHOLD) -> pd.DataFrame:
    """The rows of a dup table for one scope and threshold."""
    return frame[(frame["scope"] == scope) & np.isclose(frame["threshold"].astype(float), threshold)]


def _frame(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True)[columns]


# --------------------------------------------------------------------------- flood bursts


def _runs(items: pd.DataFrame, burst_kind: str) -> tuple[pd.DataFrame, set[str]]:
    """Maximal runs of ≥ 10 items per (kind, group) with every consecutive gap < 60 s, and their text ids.

    `items` has kind, group, text_id, author_id, cluster_id, created_at (no NaT).
    """
    g = items.sort_values(["kind", "group", "created_at", "text_id"], kind="stable").reset_index(drop=True)
    ns = g["created_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    gap = np.diff(ns, prepend=ns[:1]) / 1e9
    same = (g["kind"].to_numpy() == np.roll(g["kind"].to_numpy(), 1)) & (
        g["group"].to_numpy() == np.roll(g["group"].to_numpy(), 1)
    )
    if len(g):
        same[0] = False
    new_run = ~same | (gap >= BURST_MAX_GAP_S)
    g["run"] = np.cumsum(new_run)
    g["gap"] = np.where(new_run, np.nan, gap)
    g = g[g.groupby("run")["text_id"].transform("size") >= BURST_MIN_ITEMS]
    table = g.groupby("run", sort=True).agg(
        kind=("kind", "first"), burst_id=("text_id", "first"), author_id=("author_id", "first"),
        cluster_id=("cluster_id", "first"), n_items=("text_id", "size"), start_at=("created_at", "first"),
        end_at=("created_at", "last"), median_gap_s=("gap", "median"),
    )  # fmt: skip
    table = table.assign(burst_kind=burst_kind).reset_index(drop=True)
    return table, set(g["text_id"])


def flood_bursts(t: pd.DataFrame, members: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """`automation_flood_bursts` and the ids of texts in any burst.

    Rate bursts run over each (kind, author)'s texts, similar bursts over each
    author-scope cluster at 0.90. A burst's id is the text_id of its first text.
    """
    timed = t[t["author_id"].notna() & t["created_at"].notna()]
    rate = timed[["kind", "text_id", "author_id", "created_at"]].assign(group=timed["author_id"], cluster_id=None)
    parts = [_runs(rate, "rate")]
    if not members.empty:
        sim = _at(members, "author")
        sim = sim[sim["created_at"].notna()]
        parts.append(_runs(sim.assign(group=sim["cluster_id"]), "similar"))
    table = pd.concat([p[0] for p in parts], ignore_index=True)[BURST_COLUMNS]
    table["n_items"] = table["n_items"].astype("int64")
    return table, set().union(*(p[1] for p in parts))


# --------------------------------------------------------------------------- heartbeat timing


def _dominant_period(times: pd.Series) -> tuple[float, float]:
    """(period in hours, its share of total power) of the periodogram peak over 1–24 h of hourly counts."""
    hours = times.dt.floor("h")
    index = pd.date_range(hours.min(), hours.max(), freq="h")
    counts = hours.value_counts().reindex(index, fill_value=0).to_numpy(dtype=float)
    if counts.size < 3:
        return float("nan"), float("nan")
    f, power = periodogram(counts, fs=1.0, detrend="constant")
    positive = f > 0
    band = positive & (f >= 1.0 / 24.0) & (f <= 1.0)
    total = power[positive].sum()
    if not band.any() or total <= 0:
        return float("nan"), float("nan")
    peak = np.flatnonzero(band)[np.argmax(power[band])]
    return float(1.0 / f[peak]), float(power[peak] / total)


def agent_timing(t: pd.DataFrame, flags: list[tuple[pd.Timestamp, pd.Timestamp]]) -> pd.DataFrame:
    """`automation_agent_timing`: one row per author with ≥ 10 posts (§6.3)."""
    posts = t[(t["kind"] == "post") & t["author_id"].notna() & t["created_at"].notna()]
    flags_ns = [(s.value, e.value) for s, e in flags]
    rows = []
    for agent, g in posts.groupby("author_id", sort=True):
        if len(g) < HEARTBEAT_MIN_ITEMS:
            continue
        ns = np.sort(g["created_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64))
        keep = ~_gap_overlaps_flags(ns[:-1], ns[1:], flags_ns)
        gaps = (np.diff(ns) / 1e9)[keep]
        mean = float(gaps.mean()) if gaps.size else float("nan")
        cov = float(gaps.std() / mean) if gaps.size and mean > 0 else float("nan")
        if math.isnan(cov):
            timing_class = None
        else:
            timing_class = "regular" if cov < REGULAR_COV else "irregular" if cov > IRREGULAR_COV else "mixed"
        period = float("nan")
        if g["created_at"].dt.floor("D").nunique() >= PERIOD_MIN_DAYS:
            period, _ = _dominant_period(g["created_at"])
        rows.append(
            {
                "agent_id": agent, "n_items": len(g), "mean_gap_s": mean,
                "median_gap_s": float(np.median(gaps)) if gaps.size else float("nan"),
                "cov_gap": cov, "timing_class": timing_class,
                "sub_minute_share": float((gaps < 60.0).mean()) if gaps.size else float("nan"),
                "dominant_period_h": period,
            }
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=TIMING_COLUMNS)
    frame["n_items"] = frame["n_items"].astype("int64")
    return frame


# --------------------------------------------------------------------------- society metrics


def _share_row(metric: str, k: int, n: int) -> MetricRow:
    if n == 0:
        return metric_row(FAMILY, metric, None, None, 0)
    return metric_row(FAMILY, metric, k / n, wilson_interval(k, n), n)


def _exact_dup_rows(t: pd.DataFrame) -> list[MetricRow]:
    """Exact-pass shares per kind and pooled; a normalized text seen twice marks all its copies."""
    nonempty = t["norm"] != ""
    rows = []
    for metric, sel in [
        ("exact_dup_share_posts", t["kind"] == "post"),
        ("exact_dup_share_comments", t["kind"] == "comment"),
        ("exact_dup_share_pooled", pd.Series(True, index=t.index)),
    ]:
        sub = t[sel]
        counts = sub.loc[nonempty[sel], "norm"].value_counts()
        k = int(counts[counts >= 2].sum())
        rows.append(_share_row(metric, k, len(sub)))
    return rows


def _near_dup_rows(t: pd.DataFrame, has_vec: np.ndarray, clusters: pd.DataFrame) -> list[MetricRow]:
    """Shares of texts with a vector that sit in global clusters at 0.90."""
    n_posts = int(((t["kind"] == "post").to_numpy() & has_vec).sum())
    n_texts = int(has_vec.sum())
    main = _at(clusters, "global")
    in_posts = int(main.loc[main["kind"] == "post", "size"].sum())
    top = int(main["size"].astype(int).sort_values(ascending=False).head(100).sum())
    return [
        _share_row("near_dup_share_posts", in_posts, n_posts),
        _share_row("template_share_top100", top, n_texts),
    ]


def _flood_rows(t: pd.DataFrame, in_burst: set[str], seed: int, B: int) -> list[MetricRow]:
    """§6.2 society rows; a text counts once however many bursts hold it."""
    authored = t[t["author_id"].notna()]
    names = ["flood_volume_share", "n_flooding_agents", "flood_top_agent_share", "max_agent_post_count"]
    if authored.empty:
        return [metric_row(FAMILY, m, None, None, 0) for m in names]
    flagged = authored["text_id"].isin(in_burst)
    per_agent = pd.DataFrame({"burst": flagged.astype(float), "all": 1.0}).groupby(authored["author_id"]).sum()
    k, n = int(flagged.sum()), len(authored)
    ci = bootstrap_ratio_ci(per_agent["burst"], per_agent["all"], metric_rng(seed, "flood_volume_share"), B)
    rows = [metric_row(FAMILY, "flood_volume_share", k / n, ci, n)]
    flooders = per_agent[per_agent["burst"] > 0]
    rows.append(metric_row(FAMILY, "n_flooding_agents", float(len(flooders)), None, len(per_agent)))
    if k == 0:
        rows.append(metric_row(FAMILY, "flood_top_agent_share", None, None, 0))
    else:
        rows.append(metric_row(FAMILY, "flood_top_agent_share", float(flooders["burst"].max() / k), None, k))
    post_counts = authored[authored["kind"] == "post"].groupby("author_id").size()
    if post_counts.empty:
        rows.append(metric_row(FAMILY, "max_agent_post_count", None, None, 0))
    else:
        rows.append(metric_row(FAMILY, "max_agent_post_count", float(post_counts.max()), None, len(post_counts)))
    return rows


def _heartbeat_rows(
    t: pd.DataFrame, timing: pd.DataFrame, flags: list[tuple[pd.Timestamp, pd.Timestamp]]
) -> list[MetricRow]:
    """§6.3 society rows: timing classes (agents), the restart share, the society's rhythm (posts)."""
    classified = timing[timing["timing_class"].notna()]
    n = len(classified)
    rows = [
        _share_row("heartbeat_regular_share", int((classified["timing_class"] == "regular").sum()), n),
        _share_row("heartbeat_irregular_share", int((classified["timing_class"] == "irregular").sum()), n),
    ]

    # Agents posting in the first 6 h after a flagged window ends.
    posts = t[(t["kind"] == "post") & t["author_id"].notna() & t["created_at"].notna()]
    after = pd.Series(False, index=posts.index)
    for _, end in flags:
        after |= (posts["created_at"] > end) & (posts["created_at"] <= end + RESTART_WINDOW)
    restarted = classified[classified["agent_id"].isin(set(posts.loc[after, "author_id"]))]
    rows.append(_share_row("post_restart_irregular_share",
                           int((restarted["timing_class"] == "irregular").sum()), len(restarted)))  # fmt: skip

    # Society periodogram of hourly post counts, all posts (needs ≥ 3 active days).
    times = t.loc[t["kind"] == "post", "created_at"].dropna()
    n_hours = 0
    period, power_share = float("nan"), float("nan")
    if len(times):
        hours = times.dt.floor("h")
        n_hours = int((hours.max() - hours.min()) / pd.Timedelta(hours=1)) + 1
        if times.dt.floor("D").nunique() >= PERIOD_MIN_DAYS:
            period, power_share = _dominant_period(times)
    rows.append(metric_row(FAMILY, "society_dominant_period_h", period, None, n_hours))
    rows.append(metric_row(FAMILY, "society_dominant_period_power_share", power_share, None, n_hours))

    # Peak-hour share: posts in the 6 busiest UTC hours of the day. The CI is Wilson's for that share with
    # the 6 hours held fixed: a bootstrap that re-picks the busiest hours is biased upwards (it picks noise).
    counts = np.bincount(times.dt.hour.to_numpy(dtype=int), minlength=24)
    total = int(counts.sum())
    if total < PEAK_MIN_POSTS:
        rows.append(metric_row(FAMILY, "peak6_hour_share", None, None, total))
    else:
        rows.append(_share_row("peak6_hour_share", int(np.sort(counts)[-6:].sum()), total))
    return rows


Flags = list[tuple[pd.Timestamp, pd.Timestamp]]


def _activity_rows(t: pd.DataFrame, flags: Flags, seed: int, B: int) -> list[MetricRow]:
    """Comment concentration on accounts; comments in flagged hours are left out (comment-based, §0.4)."""
    c = t[(t["kind"] == "comment") & t["author_id"].notna()]
    c = c[~hour_is_flagged(c["created_at"], flags)] if flags else c
    counts = c.groupby("author_id").size().sort_values(ascending=False)
    x = counts.to_numpy(dtype=float)
    rows = []
    for metric, k in [("top4_agent_comment_share", 4), ("top10_agent_comment_share", 10)]:
        if x.size <= k:  # with k accounts or fewer the top k hold everything by construction
            rows.append(metric_row(FAMILY, metric, None, None, x.size))
        else:
            ci = bootstrap_ci(x, lambda v, k=k: top_k_share(v, k), metric_rng(seed, metric), B)
            rows.append(metric_row(FAMILY, metric, top_k_share(x, k), ci, x.size))
    if x.size < 2:
        rows.append(metric_row(FAMILY, "top1pct_agent_comment_share", None, None, x.size))
    else:
        ci = bootstrap_ci(x, lambda v: top_pct_share(v, 1), metric_rng(seed, "top1pct_agent_comment_share"), B)
        rows.append(metric_row(FAMILY, "top1pct_agent_comment_share", top_pct_share(x, 1), ci, x.size))

    # Gaps between consecutive comments of each of the 4 most active accounts (ties by author id).
    ranked = pd.DataFrame({"author_id": counts.index, "n": counts.to_numpy()})
    top4 = ranked.sort_values(["n", "author_id"], ascending=[False, True]).head(4)["author_id"]
    flags_ns = [(s.value, e.value) for s, e in flags]
    gaps = []
    for author in top4:
        times = c.loc[c["author_id"] == author, "created_at"].dropna()
        ns = np.sort(times.to_numpy(dtype="datetime64[ns]").astype(np.int64))
        if ns.size >= 2:
            keep = ~_gap_overlaps_flags(ns[:-1], ns[1:], flags_ns)
            gaps.append((np.diff(ns) / 1e9)[keep])
    g = np.concatenate(gaps) if gaps else np.zeros(0)
    if g.size == 0 or x.size <= 4:
        rows.append(metric_row(FAMILY, "top4_comment_gap_median_s", None, None, int(g.size)))
    else:
        ci = bootstrap_median_ci(g, metric_rng(seed, "top4_comment_gap_median_s"), B)
        rows.append(metric_row(FAMILY, "top4_comment_gap_median_s", float(np.median(g)), ci, int(g.size)))
    return rows


def _coordination_rows(
    t: pd.DataFrame, posts: pd.DataFrame, clusters: pd.DataFrame, members: pd.DataFrame, seed: int, B: int
) -> list[MetricRow]:
    """Episodes: global clusters at 0.90 with ≥ 3 authors; comment lift of their posts per community × day."""
    main = _at(clusters, "global")
    episodes = main[main["n_authors"] >= EPISODE_MIN_AUTHORS]
    duration = (episodes["last_at"] - episodes["first_at"]).dropna()
    under24h = int((duration < pd.Timedelta(hours=24)).sum())
    rows = [_share_row("coordination_under24h_share", under24h, len(duration))]

    ep_members = _at(members, "global")
    in_episode = ep_members["cluster_id"].isin(set(episodes["cluster_id"]))
    ep_members = ep_members[(ep_members["kind"] == "post") & in_episode]
    episode_posts = set(t.loc[t["text_id"].isin(set(ep_members["text_id"])), "post_id"])
    p = posts[["post_id", "community_id", "comment_count"]].copy()
    comments = t[t["kind"] == "comment"]
    p["received"] = post_comments_received(posts, comments).to_numpy()
    p["day"] = pd.to_datetime(posts["created_at"], utc=True, errors="coerce").dt.floor("D")
    p["episode"] = p["post_id"].isin(episode_posts)
    p = p.dropna(subset=["day", "received"])
    p["community_id"] = p["community_id"].astype(object).where(p["community_id"].notna(), "")
    strata = p.groupby(["community_id", "day", "episode"])["received"].agg(["size", "mean"]).unstack("episode")
    if True not in strata.columns.get_level_values(1) or False not in strata.columns.get_level_values(1):
        rows.append(metric_row(FAMILY, "coordination_comment_lift", None, None, 0))
        return rows
    matched = strata.dropna()
    n_ep = matched[("size", True)].to_numpy(dtype=float)
    num = n_ep * matched[("mean", True)].to_numpy(dtype=float)
    den = n_ep * matched[("mean", False)].to_numpy(dtype=float)
    n = int(n_ep.sum())
    if n == 0 or den.sum() <= 0:
        rows.append(metric_row(FAMILY, "coordination_comment_lift", None, None, n))
        return rows
    ci = bootstrap_ratio_ci(num, den, metric_rng(seed, "coordination_comment_lift"), B)
    rows.append(metric_row(FAMILY, "coordination_comment_lift", float(num.sum() / den.sum()), ci, n))
    return rows


def automation_metrics(
    texts: pd.DataFrame,
    text_embeddings: pd.DataFrame | None,
    posts: pd.DataFrame,
    time_flags: Sequence[Mapping[str, Any]] | None = None,
    society_seed: int = 0,
    model_id: str | None = None,
    B: int = 1000,
    exact_limit: int = EXACT_LIMIT,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The automation family (§6): its four tables and its `society_metric` rows.

    `texts` is the texts view of one society (text_id, kind, post_id, author_id,
    created_at, text); `text_embeddings` its rows (text_id, model_id, vector),
    None when the society is not embedded; `posts` gives comment_count and
    community_id for the coordination lift; `time_flags` is
    `societies.config_json.time_flags`. `exact_limit` is exposed for tests.
    """
    t = _prepare_texts(texts)
    flags = parse_time_flags(time_flags)
    X, has_vec = embedding_matrix(t["text_id"], text_embeddings, model_id)
    clusters, members = near_duplicate_tables(t, X, has_vec, society_seed, exact_limit)
    bursts, in_burst = flood_bursts(t, members)
    timing = agent_timing(t, flags)

    rows = _exact_dup_rows(t)
    rows += _near_dup_rows(t, has_vec, clusters)
    rows += _flood_rows(t, in_burst, society_seed, B)
    rows += _heartbeat_rows(t, timing, flags)
    rows += _activity_rows(t, flags, society_seed, B)
    rows += _coordination_rows(t, posts, clusters, members, society_seed, B)

    tables = {
        "automation_dup_clusters": clusters,
        "automation_dup_members": members,
        "automation_flood_bursts": bursts,
        "automation_agent_timing": timing,
    }
    return tables, rows


# --------------------------------------------------------------------------- registry


def _spec(metric: str, unit: str, provenance: str, ci: str, direction: str,
          value: str | None = None, evidence: str = "none", source: str | None = None) -> MetricSpec:
    return MetricSpec(
        FAMILY, metric, unit, provenance, ci, direction, value, evidence, source  # type: ignore[arg-type]
    )


_ANATOMY = "Anatomy, arXiv:2602.10131"
_WELCOME = "Humans welcome to observe, arXiv:2602.10127"
_ILLUSION = "The Moltbook Illusion (no arXiv id)"
#: What this module writes to society_metric (ANALYTICS_SPEC §6), in order.
REGISTRY = [
    _spec("exact_dup_share_posts", "posts", "proposed", "wilson", "high (template copying)"),
    _spec("exact_dup_share_comments", "comments", "proposed", "wilson", "high (template copying)"),
    _spec("exact_dup_share_pooled", "texts", "proposed", "wilson", "high; ≈ 0.34 in the first 3.5 days",
          "34.1% of messages are exact copies of viral templates (first 3.5 days, posts and comments pooled)",
          "P", _ANATOMY),
    _spec("near_dup_share_posts", "posts", "proposed", "wilson",
          "≥ exact_dup_share_posts (cos ≥ 0.90 threshold paper-defined [S], leader procedure proposed)"),
    _spec("template_share_top100", "texts", "proposed", "wilson", "high"),
    _spec("flood_volume_share", "texts", "paper-named", "bootstrap", "> 0",
          "a handful of agents post bursts less than a minute apart", "P", _WELCOME),
    _spec("n_flooding_agents", "agents", "paper-named", "none", "a handful",
          "a handful of agents post bursts less than a minute apart", "P", _WELCOME),
    _spec("flood_top_agent_share", "texts", "paper-named", "none", "high (few agents flood)",
          "a handful of agents post bursts less than a minute apart", "P", _WELCOME),
    _spec("max_agent_post_count", "agents", "paper-named", "none", "very large",
          "one agent posted 4,535 times in quick succession", "S", _WELCOME),
    _spec("heartbeat_regular_share", "agents", "paper-defined", "wilson", "substantial (scheduled agents)"),
    _spec("heartbeat_irregular_share", "agents", "paper-defined", "wilson", "≈ 0.37",
          "36.9% of authors irregular (54.8% judged human-influenced [S])", "P", _ILLUSION),
    _spec("post_restart_irregular_share", "agents", "paper-defined", "wilson", "> heartbeat_irregular_share",
          "87.7% irregular in the first 6 h after the restart (χ² = 551.76)", "P", _ILLUSION),
    _spec("society_dominant_period_h", "hours", "proposed", "none", "no dominant 4-hour cycle",
          "no dominant 4-hour cycle in the spectrum", "P", "Fast Response or Silence, arXiv:2602.07667"),
    _spec("society_dominant_period_power_share", "hours", "proposed", "none", "small (no dominant cycle)",
          "no dominant 4-hour cycle in the spectrum", "P", "Fast Response or Silence, arXiv:2602.07667"),
    _spec("peak6_hour_share", "posts", "proposed", "wilson", "≈ 0.55 (uniform would be 0.25)",
          "54.8% of posts fall in 6 peak UTC hours", "P", "Let There Be Claws, arXiv:2602.20044"),
    _spec("top4_agent_comment_share", "agents", "proposed", "bootstrap", "high (≈ 0.32)",
          "4 accounts wrote 32% of comments", "P", _ILLUSION),
    _spec("top10_agent_comment_share", "agents", "proposed", "bootstrap", "high"),
    _spec("top1pct_agent_comment_share", "agents", "proposed", "bootstrap", "high"),
    _spec("top4_comment_gap_median_s", "gaps", "proposed", "bootstrap", "seconds (≈ 12 s)",
          "the top 4 accounts comment about 12 s apart", "P", _ILLUSION),
    _spec("coordination_under24h_share", "episodes", "proposed", "wilson", "≈ 1",
          "98.33% of episodes last under 24 h (episode rule differs)", "P", "MoltGraph, arXiv:2603.00646"),
    _spec("coordination_comment_lift", "posts", "proposed", "bootstrap", "> 1",
          "coordinated posts get +506% early interaction (episode rule differs)", "P",
          "MoltGraph, arXiv:2603.00646"),
]
