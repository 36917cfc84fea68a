"""Agent-level socialization diagnostics (ANALYTICS_SPEC.md §3.2 agent variant, §3.4–§3.6).

Does an agent change over time (individual inertia), move toward what earned it votes (feedback
adaptation), or move toward the posts and authors it comments on (interaction influence)? Each
question is answered from post embeddings, per agent first (table `socialization_agent`), then
summarized over agents with an agent bootstrap, so a few prolific agents cannot decide the value.

Time: a spec "day" is one bin of `plan_bins` (a UTC day for long societies, a short-run bin for
simulated ones), so "≥ 3 distinct days" means 3 bins and the 48 h window is 2 × `day_s`.

Cost bounds (this module's choice, not the spec's): feedback adaptation compares post i+1 with at
most the `FEEDBACK_MAX_EARLIER` most recent earlier posts of the agent (the spec says every
earlier post, which is quadratic for an agent with thousands of posts), and a control post is
found by at most `CONTROL_TRIES` random draws per cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.metrics.bins import TimeBins, plan_bins, utc_times
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_ci,
    bootstrap_mean_ci,
    bootstrap_median_ci,
    bootstrap_ratio_ci,
    metric_rng,
    metric_row,
    spearman,
)
from assets.metrics.vectors import unit_rows, vectors_for

FAMILY = "socialization"
BOOTSTRAP_B = 1000  # percentile bootstrap replicates (§0.5)

SELF_DIVERSITY_MIN_POSTS = 5  # §3.2 agent variant
INERTIA_MIN_POSTS = 10  # §3.4
INERTIA_MIN_DAYS = 3
INERTIA_PERMUTATIONS = 50
BETWEEN_AGENT_PAIRS = 10_000
FEEDBACK_MIN_POSTS = 10  # §3.5
FEEDBACK_MIN_EARLIER = 2  # the spec's "i ≥ 3" (1-based): post i has at least two earlier posts
FEEDBACK_MAX_EARLIER = 100  # cost bound, see the module docstring
INFLUENCE_WINDOW_DAYS = 2.0  # §3.6: 48 h on each side of the comment
INFLUENCE_SET_SIZE = 3  # at most 3 posts before and 3 after
PARTNER_MIN_POSTS = 3
CONTROL_TRIES = 20

#: Columns of `socialization_agent` written here; the writer adds society_id, computed_at, params_hash.
AGENT_COLUMNS = [
    "agent_id",
    "n_posts",
    "n_days",
    "bin_seconds",
    "self_drift",
    "self_drift_null",
    "excess_drift",
    "drift_ratio",
    "self_diversity",
    "feedback_gap",
    "repeat_slope",
    "score_timing",
    "n_interaction_events",
    "interaction_effect",
    "n_partner_events",
    "partner_effect",
]


@dataclass(frozen=True)
class PostCorpus:
    """Posts with an author, a time and an embedding, in time order, with their unit vectors."""

    posts: pd.DataFrame  # post_id, author_id, community_id, score, t_s (seconds from bins.origin), bin
    vectors: np.ndarray  # one unit row per post
    bins: TimeBins


def post_corpus(posts: pd.DataFrame, embeddings: pd.DataFrame | None) -> PostCorpus | None:
    """The posts every diagnostic here reads; None when no post has an author, a time and a vector.

    Bins are planned on all post times, so they match the other socialization series.
    """
    bins = plan_bins(posts["created_at"])
    if bins is None or embeddings is None or embeddings.empty:
        return None
    p = pd.DataFrame(
        {
            "post_id": posts["post_id"].astype(str).to_numpy(),
            "author_id": posts["author_id"].to_numpy(dtype=object),
            "community_id": posts["community_id"].to_numpy(dtype=object),
            "score": pd.to_numeric(posts["score"], errors="coerce").to_numpy(dtype=float),
            "created_at": utc_times(posts["created_at"]).to_numpy(),
        }
    )
    vectors, found = vectors_for(("post:" + p["post_id"]).tolist(), embeddings)
    keep = found & p["author_id"].notna().to_numpy() & p["created_at"].notna().to_numpy()
    if not keep.any():
        return None
    p = p[keep].copy()
    vectors = vectors[keep]
    p["author_id"] = p["author_id"].astype(str)
    p["t_s"] = (utc_times(p["created_at"]) - bins.origin).dt.total_seconds().to_numpy(dtype=float)
    p["bin"] = bins.index(p["created_at"])
    order = np.lexsort((p["post_id"].to_numpy(), p["t_s"].to_numpy()))
    p = p.iloc[order].drop(columns="created_at").reset_index(drop=True)
    return PostCorpus(p, vectors[order], bins)


def _author_rows(corpus: PostCorpus) -> dict[str, np.ndarray]:
    """Each author's corpus rows, in time order."""
    groups = corpus.posts.groupby("author_id", sort=True).indices
    return {str(a): np.sort(rows) for a, rows in groups.items()}


# --------------------------------------------------------------------------- §3.2 / §3.4 inertia


def self_diversity(e: np.ndarray) -> float:
    """1 − mean cosine over all pairs of an agent's posts, via Σ_{i≠j} e_i·e_j = |Σe|² − Σ|e_i|²."""
    n = e.shape[0]
    if n < 2:
        return math.nan
    total = e.astype(np.float64).sum(axis=0)
    off_diagonal = float(total @ total) - float((e.astype(np.float64) ** 2).sum())
    return 1.0 - off_diagonal / (n * (n - 1))


def self_drift(e: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """1 − cos(centroid of the first ⌊n/3⌋ posts, centroid of the last ⌊n/3⌋), one value per row
    of `orders` (each row a time order of the n posts: the real one or a permutation)."""
    third = e.shape[0] // 3
    first = unit_rows(e[orders[:, :third]].mean(axis=1))
    last = unit_rows(e[orders[:, -third:]].mean(axis=1))
    return 1.0 - (first * last).sum(axis=1).astype(np.float64)


def _inertia(corpus: PostCorpus, rows_of: dict[str, np.ndarray], seed: int) -> pd.DataFrame:
    """Per-agent columns of §3.4 and §3.2 (agent variant), indexed by agent_id."""
    rng = metric_rng(seed, "excess_drift_median")
    bins = corpus.posts["bin"].to_numpy()
    records = []
    for agent, rows in rows_of.items():
        e = corpus.vectors[rows]
        n = len(rows)
        record = {"agent_id": agent, "n_posts": n, "n_days": int(np.unique(bins[rows]).size)}
        record["self_diversity"] = self_diversity(e) if n >= SELF_DIVERSITY_MIN_POSTS else math.nan
        if n >= INERTIA_MIN_POSTS and record["n_days"] >= INERTIA_MIN_DAYS:
            observed = float(self_drift(e, np.arange(n)[None, :])[0])
            shuffled = rng.permuted(np.tile(np.arange(n), (INERTIA_PERMUTATIONS, 1)), axis=1)
            null = float(self_drift(e, shuffled).mean())
            record.update(self_drift=observed, self_drift_null=null, excess_drift=observed - null)
        records.append(record)
    table = pd.DataFrame(records, columns=["agent_id", "n_posts", "n_days", "self_diversity",
                                           "self_drift", "self_drift_null", "excess_drift"])
    table = table.set_index("agent_id")
    for column in ("self_diversity", "self_drift", "self_drift_null", "excess_drift"):
        table[column] = table[column].astype(float)

    # Scale: mean 1 − cos between the all-post centroids of two different agents. The spec does
    # not name the population; here it is the inertia agents themselves (this module's choice).
    eligible = table.index[table["self_drift"].notna()]
    table["drift_ratio"] = math.nan
    if len(eligible) >= 2:
        cents = unit_rows(np.vstack([corpus.vectors[rows_of[a]].mean(axis=0) for a in eligible]))
        pair_rng = metric_rng(seed, "inertia_index")
        i = pair_rng.integers(0, len(eligible), BETWEEN_AGENT_PAIRS)
        j = (i + pair_rng.integers(1, len(eligible), BETWEEN_AGENT_PAIRS)) % len(eligible)  # j ≠ i
        between = float(np.mean(1.0 - (cents[i] * cents[j]).sum(axis=1)))
        if between > 0:
            table.loc[eligible, "drift_ratio"] = table.loc[eligible, "self_drift"] / between
    return table


# --------------------------------------------------------------------------- §3.5 feedback


def scores_at(
    post_ids: np.ndarray,
    at_s: np.ndarray,
    snapshots: pd.DataFrame | None,
    final: pd.Series,
    origin: pd.Timestamp,
) -> np.ndarray:
    """Each post's score at the last snapshot strictly before time `at_s` (seconds from `origin`);
    NaN when the post had not been observed by then. Without snapshots: the final score."""
    if snapshots is None or snapshots.empty:
        return final.reindex(post_ids).to_numpy(dtype=float)
    known = pd.DataFrame(
        {
            "post_id": snapshots["post_id"].astype(str).to_numpy(),
            "at_s": (utc_times(snapshots["observed_at"]) - origin).dt.total_seconds().to_numpy(dtype=float),
            "score": pd.to_numeric(snapshots["score"], errors="coerce").to_numpy(dtype=float),
        }
    ).dropna()
    query = pd.DataFrame({"post_id": np.asarray(post_ids, dtype=object), "at_s": np.asarray(at_s, dtype=float),
                          "row": np.arange(len(post_ids))})
    joined = pd.merge_asof(
        query.sort_values("at_s"), known.sort_values("at_s"), on="at_s", by="post_id",
        direction="backward", allow_exact_matches=False,
    )
    return joined.sort_values("row")["score"].to_numpy(dtype=float)


def _feedback(
    corpus: PostCorpus, rows_of: dict[str, np.ndarray], snapshots: pd.DataFrame | None, seed: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int]:
    """Per-agent feedback_gap and repeat_slope (§3.5), plus the pooled repeat-slope sums per agent
    (Σx̃ỹ and Σx̃², x̃ and ỹ demeaned within the agent) that the society slope and its CI use, and
    the number of pairs behind them."""
    p = corpus.posts
    final = pd.Series(p["score"].to_numpy(), index=p["post_id"].to_numpy())
    post_ids = p["post_id"].to_numpy()
    t_s = p["t_s"].to_numpy()
    rng = metric_rng(seed, "feedback_gap_mean")

    final_scores = p["score"].to_numpy()

    def scores_vary(rows: np.ndarray) -> bool:
        known = final_scores[rows][~np.isnan(final_scores[rows])]
        return np.unique(known).size > 1

    agents = [a for a, rows in rows_of.items() if len(rows) >= FEEDBACK_MIN_POSTS and scores_vary(rows)]
    # Every consecutive pair (i, i+1) of these agents; for pairs with enough history, one query
    # row per (pair, earlier post j) asks for j's score when post i+1 was created.
    pairs_i, pairs_next, pair_agent, gap_pair, gap_j = [], [], [], [], []
    for agent in agents:
        rows = rows_of[agent]
        for k in range(len(rows) - 1):
            pair = len(pairs_i)
            pairs_i.append(rows[k])
            pairs_next.append(rows[k + 1])
            pair_agent.append(agent)
            if k >= FEEDBACK_MIN_EARLIER:
                earlier = rows[max(0, k - FEEDBACK_MAX_EARLIER) : k]
                gap_pair.extend([pair] * len(earlier))
                gap_j.extend(earlier)
    pairs_i_a = np.asarray(pairs_i, dtype=np.int64)
    pairs_next_a = np.asarray(pairs_next, dtype=np.int64)
    columns = ["feedback_gap", "repeat_slope"]
    if pairs_i_a.size == 0:
        return pd.DataFrame(columns=columns, dtype=float), np.zeros(0), np.zeros(0), 0
    v = corpus.vectors.astype(np.float64)

    # feedback_gap: mean over pairs of (e_{i+1} − e_i)·(e_best − e_worst) = g_best − g_worst.
    gap_pair_a = np.asarray(gap_pair, dtype=np.int64)
    gap_j_a = np.asarray(gap_j, dtype=np.int64)
    score_j = scores_at(post_ids[gap_j_a], t_s[pairs_next_a[gap_pair_a]], snapshots, final, corpus.bins.origin)
    known = ~np.isnan(score_j)
    gp, gj, gs = gap_pair_a[known], gap_j_a[known], score_j[known]
    order = np.lexsort((rng.random(gp.size), gs, gp))  # by pair, then score, ties in random order
    gp, gj, gs = gp[order], gj[order], gs[order]
    pair_ids, first = np.unique(gp, return_index=True)
    last = np.r_[first[1:], gp.size] - 1
    spread = gs[last] > gs[first]
    pair_ids, worst, best = pair_ids[spread], gj[first[spread]], gj[last[spread]]
    step = v[pairs_next_a[pair_ids]] - v[pairs_i_a[pair_ids]]
    gaps = (step * (v[best] - v[worst])).sum(axis=1)
    gap_by_agent = pd.Series(gaps).groupby(np.asarray(pair_agent, dtype=object)[pair_ids]).mean()

    # repeat_slope: cos(e_{i+1}, e_i) on z-scored log1p(max(score_i, 0)), agent fixed effects.
    score_i = scores_at(post_ids[pairs_i_a], t_s[pairs_next_a], snapshots, final, corpus.bins.origin)
    ok = ~np.isnan(score_i)
    x = np.log1p(np.maximum(score_i[ok], 0.0))
    y = (v[pairs_i_a[ok]] * v[pairs_next_a[ok]]).sum(axis=1)
    agent_of = np.asarray(pair_agent, dtype=object)[ok]
    sd = float(x.std())
    sxy = pd.Series(dtype=float)
    sxx = pd.Series(dtype=float)
    if sd > 0:
        frame = pd.DataFrame({"agent": agent_of, "x": (x - x.mean()) / sd, "y": y})
        frame["x"] -= frame.groupby("agent")["x"].transform("mean")
        frame["y"] -= frame.groupby("agent")["y"].transform("mean")
        frame["xy"] = frame["x"] * frame["y"]
        frame["xx"] = frame["x"] * frame["x"]
        sums = frame.groupby("agent")[["xy", "xx"]].sum()
        sxy, sxx = sums["xy"], sums["xx"]
    table = pd.DataFrame(index=pd.Index(agents, name="agent_id"), columns=columns, dtype=float)
    table["feedback_gap"] = gap_by_agent.reindex(table.index)
    table["repeat_slope"] = (sxy / sxx.where(sxx > 0)).reindex(table.index)
    return table, sxy.to_numpy(dtype=float), sxx.to_numpy(dtype=float), int(ok.sum())


# --------------------------------------------------------------------------- §3.6 interaction influence


@dataclass(frozen=True)
class InfluenceEvents:
    """Comment events a → post q (author b ≠ a) whose before and after sets are both non-empty."""

    agent: np.ndarray  # commenter a
    post_row: np.ndarray  # corpus row of q
    before: np.ndarray  # unit centroid of a's ≤ 3 posts in [τ − 48 h, τ)
    after: np.ndarray  # unit centroid of a's ≤ 3 posts in (τ, τ + 48 h]


def influence_events(
    corpus: PostCorpus, comments: pd.DataFrame, rows_of: dict[str, np.ndarray]
) -> InfluenceEvents:
    """The §3.6 events, with the window read as 2 × bins.day_s."""
    p = corpus.posts
    row_of_post = pd.Series(np.arange(len(p)), index=p["post_id"].to_numpy())
    c = pd.DataFrame(
        {
            "agent": comments["author_id"].to_numpy(dtype=object),
            "row": row_of_post.reindex(comments["post_id"].astype(str).to_numpy()).to_numpy(),
            "t_s": (utc_times(comments["created_at"]) - corpus.bins.origin).dt.total_seconds().to_numpy(),
        }
    ).dropna()
    c["agent"] = c["agent"].astype(str)
    c["row"] = c["row"].astype(np.int64)
    c = c[c["agent"].to_numpy() != p["author_id"].to_numpy()[c["row"].to_numpy()]]
    window = INFLUENCE_WINDOW_DAYS * corpus.bins.day_s
    k = INFLUENCE_SET_SIZE
    t_all = p["t_s"].to_numpy()
    agents, post_rows, befores, afters = [], [], [], []
    for agent, events in c.groupby("agent", sort=True):
        rows = rows_of.get(str(agent))
        if rows is None:
            continue
        own_t = t_all[rows]
        tau = events["t_s"].to_numpy()
        before_end = np.searchsorted(own_t, tau, side="left")  # posts strictly before τ
        before_start = np.maximum(np.searchsorted(own_t, tau - window, side="left"), before_end - k)
        after_start = np.searchsorted(own_t, tau, side="right")  # posts strictly after τ
        after_end = np.minimum(np.searchsorted(own_t, tau + window, side="right"), after_start + k)
        ok = (before_end > before_start) & (after_end > after_start)
        if not ok.any():
            continue
        # Running sums of the agent's vectors: a set's sum is a difference of two of them.
        running = np.cumsum(corpus.vectors[rows], axis=0, dtype=np.float64)
        running = np.vstack([np.zeros((1, running.shape[1])), running])
        befores.append(unit_rows(running[before_end[ok]] - running[before_start[ok]]))
        afters.append(unit_rows(running[after_end[ok]] - running[after_start[ok]]))
        post_rows.append(events["row"].to_numpy()[ok])
        agents.append(np.full(int(ok.sum()), str(agent), dtype=object))
    if not agents:
        dim = corpus.vectors.shape[1]
        empty = np.zeros((0, dim))
        return InfluenceEvents(np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64), empty, empty)
    return InfluenceEvents(
        np.concatenate(agents), np.concatenate(post_rows), np.vstack(befores), np.vstack(afters)
    )


def control_posts(
    corpus: PostCorpus, comments: pd.DataFrame, events: InfluenceEvents, rng: np.random.Generator
) -> np.ndarray:
    """For each event, the corpus row of a random post q′ from q's community and bin that the
    commenter neither wrote nor commented on (q′ ≠ q); failing that, from any community in the
    bin; -1 when none is found in CONTROL_TRIES draws per cell."""
    p = corpus.posts
    n_posts = len(p)
    # Agents as integer codes, so an (agent, post) pair packs into one int64: agent · n_posts + row.
    known_agents = np.concatenate([p["author_id"].to_numpy(dtype=object), events.agent]).astype(str)
    agent_codes = pd.Index(np.unique(known_agents))
    row_of_post = pd.Series(np.arange(n_posts), index=p["post_id"].to_numpy())
    c_rows = row_of_post.reindex(comments["post_id"].astype(str).to_numpy()).to_numpy()
    c_agents = agent_codes.get_indexer(comments["author_id"].astype(str).to_numpy())
    seen = ~np.isnan(c_rows) & (c_agents >= 0)
    commented = np.unique(c_agents[seen].astype(np.int64) * n_posts + c_rows[seen].astype(np.int64))
    author_code = agent_codes.get_indexer(p["author_id"].to_numpy())
    me = agent_codes.get_indexer(events.agent.astype(str))

    out = np.full(len(events.agent), -1, dtype=np.int64)
    community = p["community_id"].fillna("").astype(str).to_numpy()
    for keys in (["community", "bin"], ["bin"]):
        cell_of = pd.DataFrame({"community": community, "bin": p["bin"].to_numpy()})
        cells = cell_of.groupby(keys, sort=True).ngroup().to_numpy()
        members = np.argsort(cells, kind="stable")  # rows grouped by cell, as contiguous blocks
        cell_start = np.searchsorted(cells[members], np.arange(cells.max() + 1), side="left")
        cell_size = np.bincount(cells)
        todo = np.flatnonzero(out < 0)
        if todo.size == 0:
            break
        q = events.post_row[todo]
        cell = cells[q]
        draws = (rng.random((todo.size, CONTROL_TRIES)) * cell_size[cell][:, None]).astype(np.int64)
        tries = members[cell_start[cell][:, None] + draws]
        valid = (
            (tries != q[:, None])
            & (author_code[tries] != me[todo][:, None])
            & ~np.isin(me[todo][:, None].astype(np.int64) * n_posts + tries, commented)
        )
        found = valid.any(axis=1)
        out[todo[found]] = tries[found, np.argmax(valid[found], axis=1)]
    return out


def _influence(
    corpus: PostCorpus, comments: pd.DataFrame, rows_of: dict[str, np.ndarray], seed: int
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Per-event effects Δ_aq − Δ_aq′ (post variant and partner variant), aggregated per agent."""
    events = influence_events(corpus, comments, rows_of)
    control = control_posts(corpus, comments, events, metric_rng(seed, "interaction_influence_effect"))
    v = corpus.vectors.astype(np.float64)
    move = events.after - events.before  # Δ toward x is move · x

    has_control = control >= 0
    safe_control = np.maximum(control, 0)
    post_effect = np.where(has_control, (move * (v[events.post_row] - v[safe_control])).sum(axis=1), np.nan)

    authors = corpus.posts["author_id"].to_numpy()
    n_posts = pd.Series({a: len(r) for a, r in rows_of.items()}, dtype=float)
    centroids = {a: unit_rows(v[r].mean(axis=0)) for a, r in rows_of.items() if len(r) >= PARTNER_MIN_POSTS}
    b = authors[events.post_row]
    b_control = authors[safe_control]
    partner_ok = (
        has_control
        & (n_posts.reindex(b).to_numpy() >= PARTNER_MIN_POSTS)
        & (n_posts.reindex(b_control).to_numpy() >= PARTNER_MIN_POSTS)
        & (b_control != events.agent)
    )
    partner_effect = np.full(len(b), np.nan)
    if partner_ok.any():
        idx = np.flatnonzero(partner_ok)
        target = np.vstack([centroids[x] for x in b[idx]])
        target_control = np.vstack([centroids[x] for x in b_control[idx]])
        partner_effect[idx] = (move[idx] * (target - target_control)).sum(axis=1)

    def per_agent(effect: np.ndarray) -> tuple[pd.Series, pd.Series]:
        keep = np.isfinite(effect)
        grouped = pd.Series(effect[keep]).groupby(events.agent[keep])
        return grouped.mean(), grouped.size()

    post_mean, post_n = per_agent(post_effect)
    partner_mean, partner_n = per_agent(partner_effect)
    index = post_mean.index.union(partner_mean.index)
    table = pd.DataFrame(
        {
            "n_interaction_events": post_n.reindex(index).fillna(0).astype("int64"),
            "interaction_effect": post_mean.reindex(index),
            "n_partner_events": partner_n.reindex(index).fillna(0).astype("int64"),
            "partner_effect": partner_mean.reindex(index),
        },
        index=index,
    )
    return table, post_mean, partner_mean


# --------------------------------------------------------------------------- society rows


def _not_available() -> list[MetricRow]:
    return [metric_row(FAMILY, spec.metric, None, None, 0) for spec in REGISTRY]


def _median_row(metric: str, values: pd.Series, seed: int, B: int) -> MetricRow:
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return metric_row(FAMILY, metric, None, None, 0)
    ci = bootstrap_median_ci(v, metric_rng(seed, metric), B)
    return metric_row(FAMILY, metric, float(np.median(v)), ci, v.size)


def _agent_mean_row(metric: str, per_agent: pd.Series, n: int, seed: int, B: int) -> MetricRow:
    v = per_agent.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return metric_row(FAMILY, metric, None, None, n)
    return metric_row(FAMILY, metric, float(v.mean()), bootstrap_mean_ci(v, metric_rng(seed, metric), B), n)


def agent_socialization_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    post_snapshots: pd.DataFrame | None,
    embeddings: pd.DataFrame | None,
    *,
    society_seed: int,
    B: int = BOOTSTRAP_B,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """`socialization_agent` and the agent-level socialization rows of `society_metric`.

    posts(post_id, author_id, community_id, score, created_at); comments(post_id, author_id,
    created_at); post_snapshots(post_id, observed_at, score) or None/empty (then final scores are
    used and `score_timing` = 'final'); embeddings(text_id, vector) of one model, posts as
    `post:<post_id>`. Without embeddings or author ids every metric is written with value NULL.
    """
    corpus = post_corpus(posts, embeddings)
    if corpus is None:
        return {"socialization_agent": pd.DataFrame(columns=AGENT_COLUMNS)}, _not_available()
    rows_of = _author_rows(corpus)
    timing = "final" if post_snapshots is None or post_snapshots.empty else "snapshot"

    inertia = _inertia(corpus, rows_of, society_seed)
    feedback, sxy, sxx, n_slope_pairs = _feedback(corpus, rows_of, post_snapshots, society_seed)
    influence, post_effect, partner_effect = _influence(corpus, comments, rows_of, society_seed)

    table = inertia.join(feedback, how="left").join(influence, how="left")
    table["bin_seconds"] = corpus.bins.width_s
    table["score_timing"] = np.where(table.index.isin(feedback.index), timing, None)
    table["n_interaction_events"] = table["n_interaction_events"].fillna(0).astype("int64")
    table["n_partner_events"] = table["n_partner_events"].fillna(0).astype("int64")
    # One row per agent that entered at least one diagnostic.
    measured = (
        table["self_diversity"].notna() | table["self_drift"].notna() | table.index.isin(feedback.index)
        | (table["n_interaction_events"] > 0) | (table["n_partner_events"] > 0)
    )
    agent_table = table[measured].rename_axis("agent_id").reset_index()[AGENT_COLUMNS]

    seed = society_seed
    drift = inertia["self_drift"].dropna()
    ratio = inertia["drift_ratio"].dropna()
    rows = [_median_row("agent_self_diversity_median", inertia["self_diversity"], seed, B)]
    if ratio.empty:
        rows.append(metric_row(FAMILY, "inertia_index", None, None, int(drift.size)))
    else:  # 1 − median: the CI of the median, mirrored
        low, high = bootstrap_median_ci(ratio.to_numpy(), metric_rng(seed, "inertia_index"), B)
        value = 1.0 - float(ratio.median())
        rows.append(metric_row(FAMILY, "inertia_index", value, (1.0 - high, 1.0 - low), ratio.size))
    rows.append(_median_row("excess_drift_median", inertia["excess_drift"], seed, B))
    log_n = np.log(inertia.loc[drift.index, "n_posts"].to_numpy(dtype=float))
    activity = np.column_stack([drift.to_numpy(), log_n])
    if len(drift) >= 3:
        rho_ci = bootstrap_ci(activity, spearman, metric_rng(seed, "inertia_activity_spearman"), B)
        rows.append(metric_row(FAMILY, "inertia_activity_spearman", spearman(activity), rho_ci, len(drift)))
    else:
        rows.append(metric_row(FAMILY, "inertia_activity_spearman", None, None, len(drift)))

    gaps = feedback["feedback_gap"]
    rows.append(_agent_mean_row("feedback_gap_mean", gaps, int(gaps.notna().sum()), seed, B))
    if sxx.sum() > 0:
        slope = float(sxy.sum() / sxx.sum())
        ci = bootstrap_ratio_ci(sxy, sxx, metric_rng(seed, "reward_repeat_slope"), B)
        rows.append(metric_row(FAMILY, "reward_repeat_slope", slope, ci, n_slope_pairs))
    else:
        rows.append(metric_row(FAMILY, "reward_repeat_slope", None, None, n_slope_pairs))
    n_events = int(influence["n_interaction_events"].sum())
    n_partner_events = int(influence["n_partner_events"].sum())
    rows.append(_agent_mean_row("interaction_influence_effect", post_effect, n_events, seed, B))
    rows.append(_agent_mean_row("partner_influence_effect", partner_effect, n_partner_events, seed, B))
    return {"socialization_agent": agent_table}, rows


# --------------------------------------------------------------------------- registry

_LI = "Does Socialization Emerge, arXiv:2602.14299"


def _spec(metric: str, unit: str, provenance: str, direction: str, evidence: str) -> MetricSpec:
    return MetricSpec(FAMILY, metric, unit, provenance, "bootstrap", direction, None, evidence, _LI)  # type: ignore[arg-type]


#: What this module writes to society_metric (ANALYTICS_SPEC §3.2 agent variant, §3.4–§3.6), in order.
#: Every CI is a percentile bootstrap over agents (reward_repeat_slope: Σx̃ỹ/Σx̃² with agents resampled).
REGISTRY = [
    _spec("agent_self_diversity_median", "agents", "paper-named", "high: individual agents stay varied", "P"),
    _spec("inertia_index", "agents", "paper-named", "high: drift_ratio well below 1", "P"),
    _spec("excess_drift_median", "agents", "paper-named", "≈ 0 (CI covers 0)", "P"),
    _spec("inertia_activity_spearman", "agents", "paper-named", "< 0: more active agents drift less", "S"),
    _spec("feedback_gap_mean", "agents", "paper-named", "≈ 0 (CI covers 0): no learning from votes", "S"),
    _spec("reward_repeat_slope", "pairs", "proposed", "≈ 0 (CI covers 0): no learning from votes", "S"),
    _spec("interaction_influence_effect", "events", "paper-named", "≈ 0: minimal response to partners", "P"),
    _spec("partner_influence_effect", "events", "paper-named", "≈ 0: minimal response to partners", "P"),
]
AGENT_METRIC_NAMES = [spec.metric for spec in REGISTRY]
