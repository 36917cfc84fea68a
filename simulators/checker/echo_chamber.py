"""Independent checker for `echo-chamber` (SIMULATORS.md §5.2), reading only the emitted tables.

Everything here is measured from a `CanonicalBatch`'s tables: latent stance from `sim_states`,
item stance and tone from `sim_labels`, community camps from `sim_labels`, and the event tables.
Stances are read on u = (s + 1)/2; the camps are the two sides of u = ½. Where a measure needs an
agent's stance at the time of an event (a vote, an exposure), it takes the latest `sim_states`
record at or before the event's step.

- `measure(batch)`: the rows one society can answer.
- `measure_pair(treatment, twin)`: rows that compare the treatment with its `gamma0` twin.
- `measure_arms(homophilic, random, cross_cutting)`: the exposure-arm ordering.
- `verdicts(treatment, twins)`: every ground-truth row of the treatment, scored against the
  society its reference names (a row "measured on twin <id>" against that twin; a row naming
  "twin <id>" against the pair or the arms).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from simulators.checker.common import (
    Measured, Verdict, final_follow_edges, labels, score, stance_clusters,
)
from warehouse.batch import CanonicalBatch

CLUSTER_MIN_SHARE = 0.05  # §5.2: clusters holding at least 5% of agents
CLUSTER_GAP = 0.05  # on u: sorted stances split where neighbours differ by more
SETTLED_MEAN_GAP = 0.005  # on u: settled once mean |u_t − u_final| stays below this
MORE_EXTREME_BY = 0.1  # §5.2: |u − ½| up by at least this much
_MEASURED_ON = re.compile(r"measured on twin (\S+)")
_TWIN = re.compile(r"twin (\S+?)[;,)]?(?:\s|$)")


# Stances ----------------------------------------------------------------------------------------

def stance_history(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Latent stance on u, one row per recorded step, one column per agent."""
    states = tables["sim_states"]
    states = states[states["dimension"] == "stance"]
    wide = states.pivot(index="step", columns="agent_id", values="value").sort_index()
    return (wide + 1.0) / 2.0


def settling_step(history: pd.DataFrame, tolerance: float = SETTLED_MEAN_GAP) -> int:
    """First recorded step from which the mean |u_t − u_final| stays below `tolerance`."""
    gap = (history - history.iloc[-1]).abs().mean(axis=1).to_numpy()
    unsettled = np.flatnonzero(gap >= tolerance)
    if len(unsettled) == 0:
        return int(history.index[0])
    return int(history.index[min(unsettled[-1] + 1, len(history) - 1)])


def more_extreme_share(history: pd.DataFrame) -> float:
    """Share of agents whose |u − ½| grew by at least MORE_EXTREME_BY from start to end."""
    start, end = history.iloc[0], history.iloc[-1]
    return float(((end - 0.5).abs() - (start - 0.5).abs() >= MORE_EXTREME_BY).mean())


def _item_stance_u(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """The stance each post and comment carries (its author's at the time), on u."""
    stance = pd.concat([labels(tables, "post", "stance"), labels(tables, "comment", "stance")])
    return (stance.astype(float) + 1.0) / 2.0


def _event_steps(times: pd.Series, society: dict) -> np.ndarray:
    """Step index of each event time (steps start at clock_start, step_seconds long)."""
    config = society["config_json"]
    start = pd.Timestamp(config["clock_start"])
    elapsed = (pd.to_datetime(times, utc=True) - start).dt.total_seconds().to_numpy()
    return np.floor(elapsed / config["step_seconds"]).astype(np.int64)


def _stance_at(tables: dict[str, pd.DataFrame], agent: pd.Series, step: np.ndarray) -> np.ndarray:
    """Each agent's latest recorded stance (on u) at or before the given step."""
    states = tables["sim_states"]
    states = states[states["dimension"] == "stance"]
    records = pd.DataFrame({"agent_id": states["agent_id"].to_numpy(),
                            "step": states["step"].to_numpy().astype(np.int64),
                            "u": (states["value"].to_numpy() + 1.0) / 2.0})
    events = pd.DataFrame({"agent_id": agent.to_numpy(), "step": step.astype(np.int64),
                           "order": np.arange(len(step))})
    merged = pd.merge_asof(events.sort_values("step", kind="stable"),
                           records.sort_values("step", kind="stable"),
                           on="step", by="agent_id", direction="backward")
    return merged.sort_values("order")["u"].to_numpy()


def _side(u: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(u) >= 0.5


# Single-society measures --------------------------------------------------------------------------

def _undirected_follow_pairs(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Distinct unordered pairs (a < b) joined by a standing follow edge."""
    edges = final_follow_edges(tables["follows"])
    a, b = edges["follower_id"].to_numpy(), edges["followee_id"].to_numpy()
    pairs = pd.DataFrame({"a": np.where(a < b, a, b), "b": np.where(a < b, b, a)})
    return pairs[pairs["a"] != pairs["b"]].drop_duplicates()


def neighbour_leaning_corr(tables: dict[str, pd.DataFrame]) -> float:
    """Rank (Spearman) correlation of each agent's final stance with the mean final stance of
    its neighbours in the final follow graph, taken as undirected (Cinelli et al.'s measure).

    Ranks, not values: in a consensus a handful of extremists stay stranded beyond ε (Deffuant's
    minor clusters) while everyone else agrees to machine precision, and a Pearson coefficient
    would be decided by those few outliers alone.
    """
    u = stance_history(tables).iloc[-1]
    pairs = _undirected_follow_pairs(tables)
    both = pd.DataFrame({"agent": np.concatenate([pairs["a"], pairs["b"]]),
                         "neighbour": np.concatenate([pairs["b"], pairs["a"]])})
    both["u"] = u.reindex(both["neighbour"]).to_numpy()
    neighbour_mean = both.groupby("agent")["u"].mean()
    own = u.reindex(neighbour_mean.index)
    if len(own) < 3:
        return float("nan")
    return float(own.corr(neighbour_mean, method="spearman"))


def camp_modularity(tables: dict[str, pd.DataFrame]) -> float:
    """Newman modularity of the final follow graph (undirected, simple) split by final camp."""
    u = stance_history(tables).iloc[-1]
    pairs = _undirected_follow_pairs(tables)
    if pairs.empty:
        return float("nan")
    camp_a, camp_b = _side(u.reindex(pairs["a"])), _side(u.reindex(pairs["b"]))
    n_edges = len(pairs)
    within = np.array([(camp_a & camp_b).sum(), (~camp_a & ~camp_b).sum()])
    degree_sum = np.array([camp_a.sum() + camp_b.sum(), (~camp_a).sum() + (~camp_b).sum()])
    return float((within / n_edges - (degree_sum / (2.0 * n_edges)) ** 2).sum())


def within_camp_edge_share(tables: dict[str, pd.DataFrame], society: dict) -> float:
    """Share of reply and vote edges (actor → the answered or voted item's author, self-edges
    left out) whose two ends are in the same camp. A reply's camps are those of the stances
    its comment and the answered item carry; a voter's camp is its recorded stance then."""
    item_u = _item_stance_u(tables)
    comments = tables["comments"]
    authors = pd.concat([tables["posts"].set_index("post_id")["author_id"],
                         comments.set_index("comment_id")["author_id"]])
    answered = comments["parent_id"].fillna(comments["post_id"])
    reply_ok = comments["author_id"].to_numpy() != authors.reindex(answered).to_numpy()
    reply_same = _side(item_u.reindex(comments["comment_id"])) == _side(item_u.reindex(answered))
    votes = tables["votes"]
    votes = votes[votes["value"] != 0]
    voter_u = _stance_at(tables, votes["voter_id"], _event_steps(votes["created_at"], society))
    vote_same = _side(voter_u) == _side(item_u.reindex(votes["target_id"]))
    vote_ok = votes["voter_id"].to_numpy() != authors.reindex(votes["target_id"]).to_numpy()
    same = np.concatenate([reply_same[reply_ok], vote_same[vote_ok]])
    return float(same.mean()) if len(same) else float("nan")


def camp_community_alignment(tables: dict[str, pd.DataFrame]) -> float:
    """Share of the posts in camp-aligned communities whose stance is on the community's side."""
    camp_of = labels(tables, "community", "camp")
    posts = tables["posts"]
    in_camp = posts[posts["community_id"].isin(camp_of.index)]
    if in_camp.empty:
        return float("nan")
    high = _side(_item_stance_u(tables).reindex(in_camp["post_id"]))
    return float((high == (camp_of.reindex(in_camp["community_id"]) == "high").to_numpy()).mean())


def exposure_stance_gap(tables: dict[str, pd.DataFrame], society: dict) -> float:
    """Mean |u_viewer − u_item| over the feed exposures of posts (thread views left out) in
    the first state-record interval, with the viewer's stance at step 0.

    A twin starts from the same stances (same seed and population stream), so over that first
    interval the two arms differ in what their feeds show and hardly yet in who is viewing; a
    whole-run mean would mostly compare how far each population has converged.
    """
    first_interval = int(society["config_json"]["snapshot_every"])
    exposures = tables["exposures"]
    exposures = exposures[(exposures["feed"] != "thread") & (exposures["step"] < first_interval)]
    start_u = stance_history(tables).iloc[0]
    viewer_u = start_u.reindex(exposures["agent_id"]).to_numpy()
    item_u = _item_stance_u(tables).reindex(exposures["item_id"]).to_numpy()
    return float(np.nanmean(np.abs(viewer_u - item_u)))


def cross_camp_downvote_share(tables: dict[str, pd.DataFrame], society: dict) -> float:
    """Share of downvotes cast across camps (voter's recorded stance vs the item's stance)."""
    votes = tables["votes"]
    down = votes[votes["value"] == -1]
    if down.empty:
        return float("nan")
    voter_u = _stance_at(tables, down["voter_id"], _event_steps(down["created_at"], society))
    item_u = _item_stance_u(tables).reindex(down["target_id"]).to_numpy()
    return float((_side(voter_u) != _side(item_u)).mean())


def cross_camp_hostility_ratio(tables: dict[str, pd.DataFrame]) -> float:
    """Hostile-tone share of cross-camp replies ÷ that of within-camp replies (a reply: any
    comment, against the post or comment it answers)."""
    comments = tables["comments"]
    item_u = _item_stance_u(tables)
    answered = comments["parent_id"].fillna(comments["post_id"])
    across = _side(item_u.reindex(comments["comment_id"])) != _side(item_u.reindex(answered))
    hostile = (labels(tables, "comment", "tone").reindex(comments["comment_id"])
               == "hostile").to_numpy()
    if across.sum() == 0 or (~across).sum() == 0 or hostile[~across].mean() == 0:
        return float("nan")
    return float(hostile[across].mean() / hostile[~across].mean())


def measure(batch: CanonicalBatch) -> dict[str, Measured]:
    """The §5.2 rows one society answers on its own."""
    t, society = batch.tables, batch.society
    final_u = stance_history(t).iloc[-1].to_numpy()
    return {
        "sim.stance_clusters": Measured(float(stance_clusters(final_u, CLUSTER_MIN_SHARE,
                                                              CLUSTER_GAP))),
        "sim.neighbour_leaning_corr": Measured(neighbour_leaning_corr(t)),
        "sim.within_camp_edge_share": Measured(within_camp_edge_share(t, society)),
        "sim.camp_community_alignment": Measured(camp_community_alignment(t)),
        "sim.cross_camp_downvote_share": Measured(cross_camp_downvote_share(t, society)),
        "sim.cross_camp_hostility_ratio": Measured(cross_camp_hostility_ratio(t)),
    }


# Paired and multi-arm measures -------------------------------------------------------------------

def measure_pair(treatment: CanonicalBatch, twin: CanonicalBatch) -> dict[str, Measured]:
    """Rows comparing the treatment with its γ = 0, random-feed twin."""
    t_steps = settling_step(stance_history(treatment.tables))
    w_steps = settling_step(stance_history(twin.tables))
    t_gap = exposure_stance_gap(treatment.tables, treatment.society)
    w_gap = exposure_stance_gap(twin.tables, twin.society)
    t_q, w_q = camp_modularity(treatment.tables), camp_modularity(twin.tables)
    return {
        "sim.convergence_steps_ratio": Measured(
            t_steps / max(w_steps, 1), note=f"settled at step {t_steps} vs {w_steps}"),
        "sim.follow_modularity_gain": Measured(
            t_q - w_q, note=f"camp modularity {t_q:.3f} vs {w_q:.3f}"),
        "sim.exposure_stance_gap": Measured(
            float(t_gap < w_gap), note=f"mean |Δu| {t_gap:.3f} vs {w_gap:.3f}"),
    }


def measure_arms(homophilic: CanonicalBatch, random: CanonicalBatch,
                 cross_cutting: CanonicalBatch) -> dict[str, Measured]:
    """The exposure-arm row: 1 when more_extreme_share orders homophilic > random >
    cross_cutting, else 0; the three shares are in the note."""
    shares = [more_extreme_share(stance_history(b.tables))
              for b in (homophilic, random, cross_cutting)]
    holds = shares[0] > shares[1] > shares[2]
    note = "more extreme: homophilic {:.3f}, random {:.3f}, cross_cutting {:.3f}".format(*shares)
    return {"sim.more_extreme_share": Measured(float(holds), note=note)}


def verdicts(treatment: CanonicalBatch, twins: dict[str, CanonicalBatch]) -> list[Verdict]:
    """Every ground-truth row of the treatment society, scored against the society or pair its
    reference names. `twins` maps society id to batch; rows whose twins are absent are left
    out, as `score` leaves out unmeasured rows."""
    truth = treatment.tables["ground_truth"]
    cache: dict[tuple[str, ...], dict[str, Measured]] = {}

    def measured_for(reference: str, metric: str) -> dict[str, Measured] | None:
        on_twin = _MEASURED_ON.search(reference)
        named = tuple(_TWIN.findall(reference))
        if on_twin:
            key: tuple[str, ...] = ("on", on_twin.group(1))
        elif metric == "sim.more_extreme_share":
            key = ("arms",) + named[:2]
        elif named:
            key = ("pair", named[0])
        else:
            key = ("own",)
        if any(name not in twins for name in key[1:]):
            return None
        if key not in cache:
            kind, ids = key[0], [twins[name] for name in key[1:]]
            cache[key] = (measure(ids[0]) if kind == "on" else measure_arms(treatment, *ids)
                          if kind == "arms" else measure_pair(treatment, ids[0])
                          if kind == "pair" else measure(treatment))
        return cache[key]

    out: list[Verdict] = []
    for i in range(len(truth)):
        row = truth.iloc[[i]]
        measured = measured_for(str(row["reference"].iloc[0]), str(row["metric"].iloc[0]))
        if measured is not None:
            out.extend(score(row, measured))
    return out
