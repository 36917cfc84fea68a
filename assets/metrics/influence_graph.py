"""Influence graph (ANALYTICS_SPEC.md §4.1, §4.2, §4.5): who replies to whom, who is central,
and whether replies are returned.

Edges (§4.1), one per directed agent pair × window, weight = number of events:
- `post_author`: commenter → author of the commented post (the default graph);
- `parent_author`: commenter → author of the parent comment, or of the post for a
  top-level comment; a comment whose parent is not observed has no such edge;
- `upvote`: voter → author of the upvoted post or comment (votes with value > 0),
  only when a `votes` frame is given (simulators and traces; live Moltbook has none).
Self-loops and NULL authors are dropped. Windows are `all` (window_start NULL) and
`day` (UTC day of the event; events without a timestamp count in `all` only).

Agent scores (§4.2) are computed on `post_author` for every window: strengths,
PageRank (α = 0.85, tol 1e-10, dangling mass spread uniformly, via networkx) and,
on `all` only, HITS hub and authority scores.

HITS is a plain power iteration from a uniform start rather than networkx's SVD
solver: reply graphs often have several components of equal size, where the top
singular value repeats and the SVD returns an arbitrary, possibly mixed-sign,
vector; the power iteration is deterministic and non-negative there.

Graph shape (§4.5) is computed per edge type on the unweighted `all` graph. The
§4.5 society metrics read the `parent_author` row (who answers whom, as in the
simulators' ground-truth checker and the reply-graph papers); our variant
`dyad_reciprocity_post_author` reads the `post_author` row, the edge rule of
Let There Be Claws (≈ 1%). Shortest paths use
scipy's breadth-first search on the undirected largest component from at most
1,000 seeded sources, in chunks, so the cost is linear in the graph per source.

Known gaps (left to later issues): §4.3 top-k persistence and supernode lifespan;
comment-based summaries do not yet exclude `time_flags` windows (§0.4).
"""

from __future__ import annotations

import numpy as np
import networkx as nx
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, shortest_path

from assets.metrics.bins import utc_times
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_ci,
    bootstrap_mean_ci,
    bootstrap_ratio_ci,
    gini,
    metric_rng,
    metric_row,
    spearman,
    wilson_interval,
)

FAMILY = "influence"
EDGE_TYPES = ["post_author", "parent_author", "upvote"]
PAGERANK_ALPHA = 0.85
PAGERANK_TOL = 1e-10
HITS_TOL = 1e-12
MAX_ITER = 1000
#: §4.5: BFS sources sampled for the mean shortest path.
PATH_SOURCES = 1000
#: Sources per BFS batch: bounds the dense distance block to PATH_CHUNK × n_nodes floats.
PATH_CHUNK = 64
#: An inequality or rank correlation of fewer than 2 (3) agents says nothing.
MIN_AGENTS = 2
MIN_AGENTS_CORRELATION = 3

#: Columns produced here; the asset adds society_id, computed_at, params_hash.
EDGE_COLUMNS = ["edge_type", "window", "window_start", "src_agent_id", "dst_agent_id", "weight", "first_at", "last_at"]
SCORE_COLUMNS = ["window", "window_start", "agent_id", "in_strength", "in_degree", "out_strength", "pagerank",
                 "pagerank_rank", "hub", "authority"]  # fmt: skip
SUMMARY_COLUMNS = ["edge_type", "n_nodes", "n_edges", "density", "dyad_reciprocity", "reciprocity_rho",
                   "reply_back_rate", "lcc_share", "mean_shortest_path"]  # fmt: skip

_EVENT_COLUMNS = ["edge_type", "src", "dst", "at", "post_id"]


# --------------------------------------------------------------------------- §4.1 edges


def _comment_targets(posts: pd.DataFrame, comments: pd.DataFrame) -> pd.DataFrame:
    """One row per comment: its author, the post's author and the parent comment's author.

    `parent_target` is who the comment answers: the parent comment's author, or the
    post's author for a top-level comment; NULL when the parent is not observed.
    """
    post_author = posts.drop_duplicates("post_id").set_index("post_id")["author_id"]
    comment_author = comments.drop_duplicates("comment_id").set_index("comment_id")["author_id"]
    top_level = comments["parent_id"].isna()
    by_post = comments["post_id"].map(post_author)
    by_parent = comments["parent_id"].map(comment_author)
    return pd.DataFrame(
        {
            "comment_id": comments["comment_id"].to_numpy(),
            "post_id": comments["post_id"].to_numpy(),
            "author": comments["author_id"].to_numpy(),
            "post_target": by_post.to_numpy(),
            "parent_target": np.where(top_level, by_post, by_parent),
            "at": utc_times(comments["created_at"]).to_numpy(),
        }
    )


def _clean_events(events: pd.DataFrame) -> pd.DataFrame:
    """§4.1 rules: no NULL endpoint, no self-loop."""
    keep = events["src"].notna() & events["dst"].notna()
    events = events[keep]
    return events[events["src"] != events["dst"]].reset_index(drop=True)


def edge_events(posts: pd.DataFrame, comments: pd.DataFrame, votes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every interaction as (edge_type, src, dst, at, post_id), before aggregation."""
    targets = _comment_targets(posts, comments)
    frames = []
    for edge_type, column in [("post_author", "post_target"), ("parent_author", "parent_target")]:
        frames.append(pd.DataFrame({"edge_type": edge_type, "src": targets["author"], "dst": targets[column],
                                    "at": targets["at"], "post_id": targets["post_id"]}))  # fmt: skip
    if votes is not None and len(votes):
        up = votes[pd.to_numeric(votes["value"], errors="coerce") > 0]
        post_author = posts.drop_duplicates("post_id").set_index("post_id")["author_id"]
        comment_author = comments.drop_duplicates("comment_id").set_index("comment_id")["author_id"]
        comment_post = comments.drop_duplicates("comment_id").set_index("comment_id")["post_id"]
        on_post = up["target_type"].eq("post")
        dst = np.where(on_post, up["target_id"].map(post_author), up["target_id"].map(comment_author))
        post_id = np.where(on_post, up["target_id"], up["target_id"].map(comment_post))
        frames.append(pd.DataFrame({"edge_type": "upvote", "src": up["voter_id"].to_numpy(), "dst": dst,
                                    "at": utc_times(up["created_at"]).to_numpy(), "post_id": post_id}))  # fmt: skip
    events = pd.concat(frames, ignore_index=True)[_EVENT_COLUMNS]
    events["at"] = utc_times(events["at"])
    return _clean_events(events)


def _aggregate(events: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = events.groupby(keys, sort=True, dropna=False)["at"]
    return grouped.agg(weight="size", first_at="min", last_at="max").reset_index()


def influence_edges(events: pd.DataFrame) -> pd.DataFrame:
    """`influence_edges` rows for windows `all` and `day` from `edge_events`."""
    whole = _aggregate(events, ["edge_type", "src", "dst"])
    whole.insert(1, "window", "all")
    whole.insert(2, "window_start", pd.NaT)
    dated = events[events["at"].notna()].assign(window_start=lambda e: e["at"].dt.floor("D"))
    daily = _aggregate(dated, ["edge_type", "window_start", "src", "dst"])
    daily.insert(1, "window", "day")
    table = pd.concat([whole, daily], ignore_index=True)
    table = table.rename(columns={"src": "src_agent_id", "dst": "dst_agent_id"})
    table["window_start"] = pd.to_datetime(table["window_start"], utc=True).astype("datetime64[us, UTC]")
    for column in ["first_at", "last_at"]:
        table[column] = pd.to_datetime(table[column], utc=True).astype("datetime64[us, UTC]")
    table["weight"] = table["weight"].astype("int64")
    return table[EDGE_COLUMNS]


# --------------------------------------------------------------------------- §4.2 agent scores


def hits(adjacency: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Kleinberg's HITS by power iteration from a uniform start; (hub, authority), each summing to 1."""
    n = adjacency.shape[0]
    authority = np.full(n, 1.0 / n)
    for _ in range(MAX_ITER):
        hub = adjacency @ authority
        new = adjacency.T @ hub
        total = new.sum()
        if total == 0:
            return np.zeros(n), np.zeros(n)
        new /= total
        done = np.abs(new - authority).sum() < HITS_TOL
        authority = new
        if done:
            break
    hub = adjacency @ authority
    hub /= hub.sum()
    # Scores below the tolerance are zeros not yet reached (a decaying component), and ties
    # at zero matter to the hub–authority rank correlation.
    return np.where(hub < HITS_TOL, 0.0, hub), np.where(authority < HITS_TOL, 0.0, authority)


def _scores_one_window(edges: pd.DataFrame, with_hits: bool) -> pd.DataFrame:
    """Scores of every agent on an edge of one window's `post_author` graph."""
    nodes = np.unique(np.concatenate([edges["src_agent_id"].to_numpy(object), edges["dst_agent_id"].to_numpy(object)]))
    index = pd.Index(nodes)
    weight = edges["weight"].to_numpy(float)
    in_strength = edges.groupby("dst_agent_id")["weight"].sum().reindex(index, fill_value=0)
    in_degree = edges.groupby("dst_agent_id").size().reindex(index, fill_value=0)
    out_strength = edges.groupby("src_agent_id")["weight"].sum().reindex(index, fill_value=0)

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from(zip(edges["src_agent_id"], edges["dst_agent_id"], weight))
    pr = nx.pagerank(graph, alpha=PAGERANK_ALPHA, tol=PAGERANK_TOL, max_iter=MAX_ITER, weight="weight")
    pagerank = np.array([pr[node] for node in nodes])

    # Rank 1 = highest PageRank; ties (to 12 decimals) by in_strength, then agent_id (§4.3).
    order = np.lexsort((nodes.astype(str), -in_strength.to_numpy(float), -np.round(pagerank, 12)))
    rank = np.empty(nodes.size, dtype="int64")
    rank[order] = np.arange(1, nodes.size + 1)

    hub = authority = np.full(nodes.size, np.nan)
    if with_hits:
        rows = index.get_indexer(edges["src_agent_id"])
        cols = index.get_indexer(edges["dst_agent_id"])
        hub, authority = hits(sp.csr_array((weight, (rows, cols)), shape=(nodes.size, nodes.size)))
    return pd.DataFrame(
        {
            "agent_id": nodes,
            "in_strength": in_strength.to_numpy("int64"),
            "in_degree": in_degree.to_numpy("int64"),
            "out_strength": out_strength.to_numpy("int64"),
            "pagerank": pagerank,
            "pagerank_rank": rank,
            "hub": hub,
            "authority": authority,
        }
    )


def agent_scores(edges: pd.DataFrame) -> pd.DataFrame:
    """`influence_agent_scores` from the `post_author` rows of `influence_edges`, every window."""
    pa = edges[edges["edge_type"] == "post_author"]
    parts = []
    whole = pa[pa["window"] == "all"]
    if len(whole):
        parts.append(_scores_one_window(whole, with_hits=True).assign(window="all", window_start=pd.NaT))
    for start, day in pa[pa["window"] == "day"].groupby("window_start", sort=True):
        parts.append(_scores_one_window(day, with_hits=False).assign(window="day", window_start=start))
    if not parts:
        table = pd.DataFrame({c: pd.Series(dtype=float) for c in SCORE_COLUMNS})
    else:
        table = pd.concat(parts, ignore_index=True)
    table["window"] = table["window"].astype(object)
    table["window_start"] = pd.to_datetime(table["window_start"], utc=True).astype("datetime64[us, UTC]")
    return table[SCORE_COLUMNS]


# --------------------------------------------------------------------------- §4.5 graph shape


def reciprocity(pairs: pd.DataFrame) -> tuple[int, int, int]:
    """(reciprocated edges, edges, nodes) of a graph given as distinct (src, dst) pairs."""
    n_edges = len(pairs)
    nodes = pd.unique(pd.concat([pairs["src"], pairs["dst"]]))
    reversed_pairs = pairs.rename(columns={"src": "dst", "dst": "src"})
    reciprocated = len(pairs.merge(reversed_pairs, on=["src", "dst"]))
    return reciprocated, n_edges, len(nodes)


def rho_from_r(r: float, n_edges: int, n_nodes: int) -> float:
    """Garlaschelli–Loffredo ρ = (r − ā)/(1 − ā), ā the density; NaN when ā = 1 (complete graph)."""
    density = n_edges / (n_nodes * (n_nodes - 1))
    return (r - density) / (1 - density) if density < 1 else float("nan")


def path_lengths(pairs: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Per-source mean distance on the undirected largest component, from ≤ 1,000 sampled
    sources; and the largest component's share of nodes."""
    nodes = pd.Index(pd.unique(pd.concat([pairs["src"], pairs["dst"]])))
    n = nodes.size
    if n == 0:
        return np.empty(0), float("nan")
    rows, cols = nodes.get_indexer(pairs["src"]), nodes.get_indexer(pairs["dst"])
    adjacency = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="weak")
    largest = np.flatnonzero(labels == np.bincount(labels).argmax())
    lcc_share = largest.size / n
    if largest.size < 2:
        return np.empty(0), lcc_share
    component = adjacency[largest][:, largest]
    sources = np.sort(rng.choice(largest.size, size=min(PATH_SOURCES, largest.size), replace=False))
    means = []
    for start in range(0, sources.size, PATH_CHUNK):
        chunk = sources[start : start + PATH_CHUNK]
        dist = shortest_path(component, method="D", directed=False, unweighted=True, indices=chunk)
        means.append(dist.sum(axis=1) / (largest.size - 1))  # the component is connected: all finite
    return np.concatenate(means), lcc_share


def reply_back(targets: pd.DataFrame, comments: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per comment c (by u, answering v = `column`, u ≠ v): answered = 1 when v wrote a direct child of c."""
    asked = targets[targets["author"].notna() & targets[column].notna() & (targets["author"] != targets[column])]
    children = comments.loc[comments["parent_id"].notna(), ["parent_id", "author_id"]].drop_duplicates()
    children = children.rename(columns={"parent_id": "comment_id", "author_id": column}).assign(answered=1)
    merged = asked[["comment_id", "post_id", column]].merge(children, on=["comment_id", column], how="left")
    return merged.assign(answered=merged["answered"].fillna(0).astype(int))[["comment_id", "post_id", "answered"]]


def graph_summary(
    events: pd.DataFrame, posts: pd.DataFrame, comments: pd.DataFrame, society_seed: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, pd.DataFrame]]:
    """`influence_graph_summary` (window `all`), plus per edge type the per-source mean
    distances and the reply-back outcomes that the society metrics' CIs resample."""
    targets = _comment_targets(posts, comments)
    rows, paths, replies = [], {}, {}
    for edge_type in EDGE_TYPES:
        selected = events[events["edge_type"] == edge_type]
        if edge_type == "upvote" and selected.empty:
            continue  # no votes frame, or no upvote: the upvote graph is not available
        pairs = selected[["src", "dst"]].drop_duplicates()
        reciprocated, n_edges, n_nodes = reciprocity(pairs)
        r = reciprocated / n_edges if n_edges else float("nan")
        density = n_edges / (n_nodes * (n_nodes - 1)) if n_nodes >= 2 else float("nan")
        rho = rho_from_r(r, n_edges, n_nodes) if n_edges else float("nan")
        per_source, lcc_share = path_lengths(pairs, metric_rng(society_seed, f"mean_shortest_path_{edge_type}"))
        paths[edge_type] = per_source
        back = float("nan")
        if edge_type != "upvote":
            replies[edge_type] = reply_back(targets, comments, f"{edge_type.split('_')[0]}_target")
            back = float(replies[edge_type]["answered"].mean()) if len(replies[edge_type]) else float("nan")
        rows.append({"edge_type": edge_type, "n_nodes": n_nodes, "n_edges": n_edges, "density": density,
                     "dyad_reciprocity": r, "reciprocity_rho": rho, "reply_back_rate": back,
                     "lcc_share": lcc_share,
                     "mean_shortest_path": float(per_source.mean()) if per_source.size else float("nan")})  # fmt: skip
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    table[["n_nodes", "n_edges"]] = table[["n_nodes", "n_edges"]].astype("int64")
    return table, paths, replies


# --------------------------------------------------------------------------- society metrics


def _spearman_rows(rows: np.ndarray) -> float:
    return spearman(rows)


def _score_metrics(scores: pd.DataFrame, seed: int, B: int) -> list[MetricRow]:
    """in_strength_gini, pagerank_gini and hub_authority_spearman over the agents of the `all` graph."""
    whole = scores[scores["window"] == "all"]
    n = len(whole)
    out = []
    for metric, column in [("in_strength_gini", "in_strength"), ("pagerank_gini", "pagerank")]:
        x = whole[column].to_numpy(float)
        if n < MIN_AGENTS:
            out.append(metric_row(FAMILY, metric, None, None, n))
        else:
            out.append(metric_row(FAMILY, metric, gini(x), bootstrap_ci(x, gini, metric_rng(seed, metric), B), n))
    paired = whole[["hub", "authority"]].to_numpy(float)
    value = spearman(paired) if n >= MIN_AGENTS_CORRELATION else float("nan")
    if np.isnan(value):
        out.append(metric_row(FAMILY, "hub_authority_spearman", None, None, n))
    else:
        ci = bootstrap_ci(paired, _spearman_rows, metric_rng(seed, "hub_authority_spearman"), B)
        out.append(metric_row(FAMILY, "hub_authority_spearman", value, ci, n))
    return out


def _summary_metrics(
    summary: pd.DataFrame, paths: dict[str, np.ndarray], replies: dict[str, pd.DataFrame], seed: int, B: int
) -> list[MetricRow]:
    """The §4.5 metrics on the `parent_author` graph, and dyad_reciprocity_post_author."""
    out = []
    for edge_type, r_name, rho_name in [("parent_author", "dyad_reciprocity", "reciprocity_rho"),
                                        ("post_author", "dyad_reciprocity_post_author", None)]:  # fmt: skip
        row = summary[summary["edge_type"] == edge_type].iloc[0]
        n_edges, n_nodes = int(row["n_edges"]), int(row["n_nodes"])
        if n_edges == 0:
            out.append(metric_row(FAMILY, r_name, None, None, 0))
            if rho_name:
                out.append(metric_row(FAMILY, rho_name, None, None, 0))
            continue
        low, high = wilson_interval(round(row["dyad_reciprocity"] * n_edges), n_edges)
        out.append(metric_row(FAMILY, r_name, row["dyad_reciprocity"], (low, high), n_edges))
        if rho_name:
            # ρ is an increasing linear function of r at fixed density, so r's interval maps onto ρ's.
            rho_ci = (rho_from_r(low, n_edges, n_nodes), rho_from_r(high, n_edges, n_nodes))
            out.append(metric_row(FAMILY, rho_name, row["reciprocity_rho"], rho_ci, n_edges))

    answered = replies["parent_author"]
    if answered.empty:
        out.append(metric_row(FAMILY, "reply_back_rate", None, None, 0))
    else:
        per_post = answered.groupby("post_id", dropna=False)["answered"].agg(["sum", "size"])
        ci = bootstrap_ratio_ci(per_post["sum"], per_post["size"], metric_rng(seed, "reply_back_rate"), B)
        out.append(metric_row(FAMILY, "reply_back_rate", float(answered["answered"].mean()), ci, len(answered)))

    per_source = paths["parent_author"]
    if per_source.size == 0:
        out.append(metric_row(FAMILY, "mean_shortest_path", None, None, 0))
    else:
        ci = bootstrap_mean_ci(per_source, metric_rng(seed, "mean_shortest_path"), B)
        out.append(metric_row(FAMILY, "mean_shortest_path", float(per_source.mean()), ci, per_source.size))
    return out


def influence_graph_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    votes: pd.DataFrame | None = None,
    *,
    society_seed: int = 0,
    B: int = 1000,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """Family tables `influence_edges`, `influence_agent_scores`, `influence_graph_summary` and
    the §4.2/§4.5 `society_metric` rows of one society.

    Needs posts(post_id, author_id), comments(comment_id, post_id, parent_id, author_id,
    created_at) and optionally votes(voter_id, target_type, target_id, value, created_at).
    Without author ids every metric is NULL with n = 0. CIs: percentile bootstrap over
    agents (Ginis, Spearman; PageRank is not recomputed per replicate), over threads
    (reply_back_rate), over BFS sources (mean_shortest_path); Wilson over edges for
    dyad_reciprocity, mapped linearly onto reciprocity_rho.
    """
    events = edge_events(posts, comments, votes)
    edges = influence_edges(events)
    scores = agent_scores(edges)
    summary, paths, replies = graph_summary(events, posts, comments, society_seed)
    rows = _score_metrics(scores, society_seed, B) + _summary_metrics(summary, paths, replies, society_seed, B)
    tables = {"influence_edges": edges, "influence_agent_scores": scores, "influence_graph_summary": summary}
    return tables, rows


# --------------------------------------------------------------------------- registry

_CLAWS = "Let There Be Claws, arXiv:2602.20044"
_RECIPROCITY_SOURCES = (
    "Let There Be Claws, arXiv:2602.20044; Anatomy, arXiv:2602.10131; Agents in the Wild, arXiv:2602.13284; "
    "Form Without Function, arXiv:2604.13052"
)

#: What this module writes to society_metric (ANALYTICS_SPEC §4.2, §4.5), in order.
REGISTRY = [
    MetricSpec(FAMILY, "in_strength_gini", "agents", "paper-named", "bootstrap", "high (attention concentrated)"),
    MetricSpec(FAMILY, "pagerank_gini", "agents", "paper-named", "bootstrap", "high (attention concentrated)"),
    MetricSpec(FAMILY, "hub_authority_spearman", "agents", "paper-named", "bootstrap",
               "low (hubs and authorities are different agents)", None, "P", _CLAWS),
    # §4.5: standard measures, but the papers' edge rules are only partly known, so our edge rule
    # (replier → author of what is answered) is an operationalization of theirs.
    MetricSpec(FAMILY, "dyad_reciprocity", "edges", "paper-named", "wilson",
               "0.01–0.20, below the human 0.22–0.60", "≈0.01; 0.197; 0.041; 0.033", "P", _RECIPROCITY_SOURCES),
    # Our variant (not a spec name): the commenter → post author graph of Let There Be Claws.
    MetricSpec(FAMILY, "dyad_reciprocity_post_author", "edges", "paper-named", "wilson", "≈ 0.01, low",
               "≈0.01", "P", _CLAWS),
    MetricSpec(FAMILY, "reciprocity_rho", "edges", "paper-named", "wilson", "low, small positive"),
    MetricSpec(FAMILY, "reply_back_rate", "comments", "paper-named", "bootstrap", "low"),
    MetricSpec(FAMILY, "mean_shortest_path", "sources", "paper-named", "bootstrap", "short (≈ 3)", "2.91", "P",
               "Anatomy, arXiv:2602.10131"),
]  # fmt: skip
INFLUENCE_GRAPH_METRIC_NAMES = [spec.metric for spec in REGISTRY]
