"""Top-k persistence and supernode lifespan (ANALYTICS_SPEC.md §4.3, copied to socialization §3.7):
does the same small set of agents stay at the top of the reply graph from one day to the next?

Days are the bins of `bins.plan_bins` over post times: UTC days for a society that spans
≥ 8 days, else 8 equal bins (every built-in simulator), and every parameter the spec states in
days (the 3-day supernode run, lags 1…7) is read in bins. Each bin's graph is the `post_author`
reply graph of the comments made in it (influence_graph.edge_events, re-windowed to the bin),
scored by influence_graph.agent_scores, so PageRank and the tie rule (in_strength, then
agent_id) are those of §4.2.

A bin is valid for k when ≥ 10·k agents have in_strength > 0 there. Every bin is listed in
`influence_topk_daily`; the society summaries use only valid bins that do not overlap a
`time_flags` window (these are comment-based metrics, §0.4), a pair of bins only when both are
usable, and a flagged or invalid bin ends a supernode run. `n_nodes` is the number of agents
with in_strength > 0 in the bin (what the validity rule counts). Bins are planned on post times
(comment times when no post has one); a comment after the last bin falls into the last bin.

Controls: the split-half ceiling splits the bin's comments into two random halves (one seeded
split per bin) and compares the two halves' top k. The shuffled-identity floor (≈ k/N) is not stored.

CIs: percentile bootstrap, B = 200 (§0.5 graph persistence), resampling bins (or bin pairs)
for the series means and agents for the lifespan metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from assets.metrics.bins import parse_time_flags, plan_bins
from assets.metrics.influence_graph import agent_scores, edge_events
from assets.metrics.registry import Evidence, MetricSpec, Provenance
from assets.metrics.stats import MetricRow, bootstrap_ci, metric_rng, metric_row

FAMILY = "influence"
COPY_FAMILY = "socialization"
KS = (10, 50, 100)
#: A bin is valid for k when at least NODES_PER_K · k agents have in_strength > 0.
NODES_PER_K = 10
MAX_LAG = 7
#: A persistent supernode stays in Top_k for at least this many consecutive usable bins.
PERSISTENT_RUN = 3
#: Post analogue: the top posts by comments received in a bin.
TOP_POSTS = 100
B_DEFAULT = 200

DAILY_COLUMNS = ["day", "bin_seconds", "k", "n_nodes", "topk_jaccard_prev", "split_half_jaccard",
                 "rank_tau_prev", "is_flagged"]  # fmt: skip
LAG_COLUMNS = ["k", "lag_days", "bin_seconds", "overlap_mean", "n_pairs"]
SUPERNODE_COLUMNS = ["k", "agent_id", "bin_seconds", "days_in_topk", "longest_run_days", "first_day", "last_day"]

#: The three metrics copied under family `socialization` (§3.7).
COPIED = ("topk_jaccard_mean_k10", "topk_jaccard_rel_k10", "persistent_supernode_share_k10")


# --------------------------------------------------------------------------- per-bin scores


@dataclass(frozen=True)
class BinScores:
    """One bin's ranking: agents with in_strength > 0, PageRank by agent, and agents by rank."""

    n_nodes: int
    pagerank: pd.Series  # indexed by agent_id, agents with in_strength > 0
    ranked: list[str]  # every node of the bin's graph, rank 1 first


def rank_agents(events: pd.DataFrame) -> BinScores:
    """PageRank ranking of the `post_author` events of one window (§4.2 via agent_scores)."""
    if events.empty:
        return BinScores(0, pd.Series(dtype=float), [])
    edges = events.groupby(["src", "dst"], sort=True).size().rename("weight").reset_index()
    edges = edges.rename(columns={"src": "src_agent_id", "dst": "dst_agent_id"})
    edges = edges.assign(edge_type="post_author", window="day", window_start=pd.Timestamp(0, tz="UTC"))
    scores = agent_scores(edges).sort_values("pagerank_rank")
    received = scores[scores["in_strength"] > 0]
    return BinScores(len(received), received.set_index("agent_id")["pagerank"], scores["agent_id"].tolist())


def top_k(scores: BinScores, k: int) -> set[str]:
    return set(scores.ranked[:k])


def jaccard(a: set[str], b: set[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else float("nan")


def rank_tau(previous: BinScores, current: BinScores) -> float:
    """Kendall τ_b of PageRank over agents with in-strength on both bins; NaN below 3 agents."""
    common = previous.pagerank.index.intersection(current.pagerank.index)
    if len(common) < 3:
        return float("nan")
    tau = kendalltau(previous.pagerank[common].to_numpy(), current.pagerank[common].to_numpy()).statistic
    return float(tau)


# --------------------------------------------------------------------------- runs of top-k membership


def supernode_runs(tops: list[set[str] | None]) -> dict[str, list[tuple[int, int]]]:
    """Per agent, its maximal runs (first bin, length) in Top_k; None marks an unusable bin,
    which ends every run."""
    runs: dict[str, list[tuple[int, int]]] = {}
    open_runs: dict[str, int] = {}
    for t, top in enumerate([*tops, None]):
        members = top or set()
        for agent in list(open_runs):
            if agent not in members:
                start = open_runs.pop(agent)
                runs.setdefault(agent, []).append((start, t - start))
        for agent in members:
            open_runs.setdefault(agent, t)
    return runs


def _supernode_table(k: int, runs: dict[str, list[tuple[int, int]]], starts: pd.DatetimeIndex,
                     bin_seconds: float) -> pd.DataFrame:
    rows = []
    for agent in sorted(runs):
        agent_runs = runs[agent]
        first = min(s for s, _ in agent_runs)
        last = max(s + n - 1 for s, n in agent_runs)
        rows.append({"k": k, "agent_id": agent, "bin_seconds": bin_seconds,
                     "days_in_topk": sum(n for _, n in agent_runs),
                     "longest_run_days": max(n for _, n in agent_runs),
                     "first_day": starts[first], "last_day": starts[last]})  # fmt: skip
    return pd.DataFrame(rows, columns=SUPERNODE_COLUMNS)


# --------------------------------------------------------------------------- post analogue


def attention_carryover(comments: pd.DataFrame, comment_bins: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Per usable pair of consecutive bins (t, t+1): comments that bin t's top-100 posts receive
    on t+1 over those they received on t (bin t needs a comment)."""
    counts = pd.DataFrame({"bin": comment_bins, "post_id": comments["post_id"].to_numpy(object)})
    counts = counts[(counts["bin"] >= 0) & counts["post_id"].notna()]
    per_bin = counts.groupby(["bin", "post_id"]).size()
    ratios = []
    for t in range(len(usable) - 1):
        if not (usable[t] and usable[t + 1]) or t not in per_bin.index.get_level_values(0):
            continue
        today = per_bin.loc[t].reset_index(name="n").sort_values(["n", "post_id"], ascending=[False, True])
        top = today.head(TOP_POSTS)
        tomorrow = per_bin.loc[t + 1] if t + 1 in per_bin.index.get_level_values(0) else pd.Series(dtype=float)
        received_next = tomorrow.reindex(top["post_id"], fill_value=0).sum()
        ratios.append(received_next / top["n"].sum())
    return np.asarray(ratios, dtype=float)


# --------------------------------------------------------------------------- the family


def _nan_ratio_of_means(rows: np.ndarray) -> float:
    num, den = rows[:, 0], rows[:, 1]
    if np.isnan(num).all() or np.isnan(den).all() or np.nanmean(den) == 0:
        return float("nan")
    return float(np.nanmean(num) / np.nanmean(den))


def _mean_row(metric: str, values: np.ndarray, seed: int, B: int) -> MetricRow:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return metric_row(FAMILY, metric, None, None, 0)
    ci = bootstrap_ci(values, np.mean, metric_rng(seed, metric), B)
    return metric_row(FAMILY, metric, float(values.mean()), ci, values.size)


def _lifespan_rows(runs: dict[str, list[tuple[int, int]]], n_usable: int, seed: int, B: int) -> list[MetricRow]:
    """supernode_lifespan_mean_k10 (mean run length, ≥ 2 usable bins) and
    persistent_supernode_share_k10 (≥ 3 usable bins); CIs resample agents with all their runs."""
    agents = sorted(runs)
    lengths = [np.array([n for _, n in runs[a]], dtype=float) for a in agents]
    n_runs = int(sum(x.size for x in lengths))
    out = []
    if agents and n_usable >= 2:
        per_agent = np.array([[x.sum(), x.size] for x in lengths])
        value = per_agent[:, 0].sum() / per_agent[:, 1].sum()
        stat = lambda rows: float(rows[:, 0].sum() / rows[:, 1].sum())  # noqa: E731
        ci = bootstrap_ci(per_agent, stat, metric_rng(seed, "supernode_lifespan_mean_k10"), B)
        out.append(metric_row(FAMILY, "supernode_lifespan_mean_k10", value, ci, n_runs))
    else:
        out.append(metric_row(FAMILY, "supernode_lifespan_mean_k10", None, None, n_runs))
    if agents and n_usable >= PERSISTENT_RUN:
        persistent = np.array([float(x.max() >= PERSISTENT_RUN) for x in lengths])
        ci = bootstrap_ci(persistent, np.mean, metric_rng(seed, "persistent_supernode_share_k10"), B)
        out.append(metric_row(FAMILY, "persistent_supernode_share_k10", float(persistent.mean()), ci, len(agents)))
    else:
        out.append(metric_row(FAMILY, "persistent_supernode_share_k10", None, None, len(agents)))
    return out


def _empty_tables() -> dict[str, pd.DataFrame]:
    return {
        "influence_topk_daily": pd.DataFrame(columns=DAILY_COLUMNS),
        "influence_topk_lag": pd.DataFrame(columns=LAG_COLUMNS),
        "influence_supernodes": pd.DataFrame(columns=SUPERNODE_COLUMNS),
    }


def _with_copies(rows: list[MetricRow]) -> list[MetricRow]:
    copies = [MetricRow(COPY_FAMILY, r.metric, r.value, r.ci_low, r.ci_high, r.n) for r in rows if r.metric in COPIED]
    return rows + copies


def _null_rows() -> list[MetricRow]:
    return _with_copies([metric_row(FAMILY, spec.metric, None, None, 0) for spec in REGISTRY if spec.family == FAMILY])


def influence_persistence_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    *,
    time_flags: Sequence[Mapping[str, object]] | None = None,
    society_seed: int = 0,
    B: int = B_DEFAULT,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """Tables `influence_topk_daily`, `influence_topk_lag`, `influence_supernodes` and the §4.3
    society_metric rows (family influence, three of them also under socialization).

    Needs posts(post_id, author_id, created_at) and comments(comment_id, post_id, parent_id,
    author_id, created_at). Without author ids or times every metric is NULL with n = 0.
    """
    bins = plan_bins(posts["created_at"]) if len(posts) else None
    if bins is None and len(comments):
        bins = plan_bins(comments["created_at"])  # no readable post time: bin the comments instead
    if bins is None:
        return _empty_tables(), _null_rows()

    events = edge_events(posts, comments)
    events = events[events["edge_type"] == "post_author"].reset_index(drop=True)
    event_bins = bins.index(events["at"])
    flagged = bins.flagged(parse_time_flags(time_flags))
    starts = bins.starts()
    split_rng = metric_rng(society_seed, "split_half_jaccard")

    full: list[BinScores] = []
    halves: list[tuple[BinScores, BinScores]] = []
    for t in range(bins.n_bins):
        in_bin = events[event_bins == t]
        full.append(rank_agents(in_bin))
        side = split_rng.permutation(len(in_bin)) < len(in_bin) // 2
        halves.append((rank_agents(in_bin[side]), rank_agents(in_bin[~side])))

    daily, lag_rows, supernode_frames, rows = [], [], [], []
    split_k10 = np.full(bins.n_bins, np.nan)
    jaccard_k10 = np.full(bins.n_bins, np.nan)
    # rank_tau(t) does not depend on k: it is computed where both bins are valid for the smallest k.
    valid_smallest = np.array([s.n_nodes >= NODES_PER_K * min(KS) for s in full])
    taus = np.full(bins.n_bins, np.nan)
    for t in range(1, bins.n_bins):
        if valid_smallest[t] and valid_smallest[t - 1]:
            taus[t] = rank_tau(full[t - 1], full[t])
    summary_taus = np.array([taus[t] for t in range(1, bins.n_bins) if not (flagged[t] or flagged[t - 1])])
    for k in KS:
        valid = np.array([s.n_nodes >= NODES_PER_K * k for s in full])
        usable = valid & ~flagged
        tops = [top_k(s, k) if v else None for s, v in zip(full, valid)]
        for t in range(bins.n_bins):
            jac = jaccard(tops[t], tops[t - 1]) if t > 0 and valid[t] and valid[t - 1] else float("nan")
            split = jaccard(top_k(halves[t][0], k), top_k(halves[t][1], k)) if valid[t] else float("nan")
            daily.append({"day": starts[t], "bin_seconds": bins.width_s, "k": k, "n_nodes": full[t].n_nodes,
                          "topk_jaccard_prev": jac, "split_half_jaccard": split, "rank_tau_prev": taus[t],
                          "is_flagged": bool(flagged[t])})  # fmt: skip
            if k == 10 and usable[t]:
                split_k10[t] = split
                if t > 0 and usable[t - 1]:
                    jaccard_k10[t] = jac
        pair_jaccards = np.array([jaccard(tops[t], tops[t - 1]) for t in range(1, bins.n_bins)
                                  if usable[t] and usable[t - 1]])  # fmt: skip
        rows.append(_mean_row(f"topk_jaccard_mean_k{k}", pair_jaccards, society_seed, B))
        for lag in range(1, MAX_LAG + 1):
            overlaps = [len(tops[t] & tops[t + lag]) / k for t in range(bins.n_bins - lag)
                        if usable[t] and usable[t + lag]]  # fmt: skip
            lag_rows.append({"k": k, "lag_days": lag, "bin_seconds": bins.width_s,
                             "overlap_mean": float(np.mean(overlaps)) if overlaps else float("nan"),
                             "n_pairs": len(overlaps)})  # fmt: skip
            if k == 10 and lag == MAX_LAG:
                rows.append(_mean_row("topk_overlap_lag7_k10", np.array(overlaps, dtype=float), society_seed, B))
        runs = supernode_runs([top if u else None for top, u in zip(tops, usable)])
        supernode_frames.append(_supernode_table(k, runs, starts, bins.width_s))
        if k == 10:
            rows.extend(_lifespan_rows(runs, int(usable.sum()), society_seed, B))

    # topk_jaccard_rel_k10: mean Jaccard over mean split-half Jaccard, bins resampled together.
    paired = np.column_stack([jaccard_k10, split_k10])[np.isfinite(split_k10)]
    n_pairs = int(np.isfinite(jaccard_k10).sum())
    rel = _nan_ratio_of_means(paired) if n_pairs else float("nan")
    ci = bootstrap_ci(paired, _nan_ratio_of_means, metric_rng(society_seed, "topk_jaccard_rel_k10"), B)
    rows.append(metric_row(FAMILY, "topk_jaccard_rel_k10", rel, ci, n_pairs))
    rows.append(_mean_row("rank_tau_mean", summary_taus, society_seed, B))

    usable_posts = ~flagged
    carry = attention_carryover(comments, bins.index(comments["created_at"]), usable_posts)
    rows.append(_mean_row("post_attention_carryover_k100", carry, society_seed, B))

    order = {spec.metric: i for i, spec in enumerate(REGISTRY) if spec.family == FAMILY}
    rows.sort(key=lambda r: order[r.metric])
    supernode_frames = [f for f in supernode_frames if len(f)]
    tables = {
        "influence_topk_daily": _typed_daily(pd.DataFrame(daily, columns=DAILY_COLUMNS)),
        "influence_topk_lag": pd.DataFrame(lag_rows, columns=LAG_COLUMNS),
        "influence_supernodes": pd.concat(supernode_frames, ignore_index=True) if supernode_frames
        else pd.DataFrame(columns=SUPERNODE_COLUMNS),
    }  # fmt: skip
    return tables, _with_copies(rows)


def _typed_daily(table: pd.DataFrame) -> pd.DataFrame:
    table["day"] = pd.to_datetime(table["day"], utc=True)
    table[["k", "n_nodes"]] = table[["k", "n_nodes"]].astype("int64")
    table["is_flagged"] = table["is_flagged"].astype(bool)
    return table


# --------------------------------------------------------------------------- registry

_LI = "Does Socialization Emerge, arXiv:2602.14299"
_CLAWS = "Let There Be Claws, arXiv:2602.20044"


def _spec(family: str, metric: str, unit: str, provenance: Provenance, direction: str, value: str | None = None,
          evidence: Evidence = "P", source: str | None = _LI) -> MetricSpec:
    return MetricSpec(family, metric, unit, provenance, "bootstrap", direction, value, evidence, source)


#: What this module writes to society_metric (§4.3, §3.7). CIs: bootstrap B = 200 over bin pairs
#: (Jaccard, overlap, τ, carryover), over bins (rel: Jaccard and split-half resampled together),
#: over agents (lifespan, persistent share).
REGISTRY = [
    _spec(FAMILY, "topk_jaccard_mean_k10", "bin pairs", "paper-named", "low (influence is transient)"),
    _spec(FAMILY, "topk_jaccard_mean_k50", "bin pairs", "paper-named", "low (influence is transient)"),
    _spec(FAMILY, "topk_jaccard_mean_k100", "bin pairs", "paper-named", "low (influence is transient)"),
    _spec(FAMILY, "topk_jaccard_rel_k10", "bin pairs", "paper-named", "well below 1"),
    _spec(FAMILY, "topk_overlap_lag7_k10", "bin pairs", "paper-named", "low, near the k/N floor"),
    _spec(FAMILY, "rank_tau_mean", "bin pairs", "paper-named", "low (influence is transient)"),
    _spec(FAMILY, "supernode_lifespan_mean_k10", "runs", "paper-named", "≈ 1 day (one-day lifespans)"),
    _spec(FAMILY, "persistent_supernode_share_k10", "agents", "paper-named", "≈ 0"),
    _spec(FAMILY, "post_attention_carryover_k100", "bin pairs", "proposed", "near 0",
          "median observed post lifespan 2.48 min", "P", _CLAWS),
]
REGISTRY += [
    MetricSpec(COPY_FAMILY, s.metric, s.unit, s.definition_provenance, s.ci_method, s.expected_direction,
               s.moltbook_value, s.moltbook_evidence, s.moltbook_source)
    for s in REGISTRY if s.metric in COPIED
]  # fmt: skip
