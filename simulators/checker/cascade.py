"""Measures for the `cascade` preset (SIMULATORS.md §5.5), read from the emitted tables only.

Cascades are rebuilt from the posts and their `reshare_of` labels (each reshare names the post it
reshares, as its `repost` action's target does); a cascade is the tree under a post labelled with
a `veracity`. The organic post process is every other post that reshares nothing. The follower
graph is the standing `follows` edges. Run parameters (μ, α, β, m, steps) come from the
societies config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulators.checker.common import (
    Measured, bootstrap_mean, discrete_power_law_alpha, final_follow_edges,
    friendship_paradox_share, labels,
)
from warehouse.batch import CanonicalBatch

# Steps left out at the start of the organic process, where excitation is still building up
# (relaxation time 1/(β(1 − n)) is a few steps at the defaults).
BURN_IN_STEPS = 60
# The degree tail is fitted above DEGREE_XMIN_PER_M · m, where the BA pmf
# 2m(m + 1)/(k(k + 1)(k + 2)) is close to its k^-3 asymptote.
DEGREE_XMIN_PER_M = 4


def cascade_trees(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cascade post: post_id, seed (root post id), veracity, generation."""
    posts = tables["posts"]
    ids = pd.Index(posts["post_id"])
    parent_id = labels(tables, "post", "reshare_of").reindex(posts["post_id"])
    parent = ids.get_indexer(parent_id.to_numpy())  # -1 where the post reshares nothing
    root = np.arange(len(posts))
    generation = np.zeros(len(posts), dtype=np.int64)
    while (parent[root] >= 0).any():
        up = parent[root] >= 0
        generation += up
        root = np.where(up, parent[root], root)
    veracity = labels(tables, "post", "veracity").reindex(posts["post_id"].to_numpy()[root])
    frame = pd.DataFrame({"post_id": posts["post_id"].to_numpy(),
                          "seed": posts["post_id"].to_numpy()[root],
                          "veracity": veracity.to_numpy(), "generation": generation})
    return frame[frame["veracity"].notna()].reset_index(drop=True)


def cascade_shapes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per cascade: veracity, size (posts), scale (distinct participants), depth (deepest
    generation, the seed being 0) and max breadth (most posts in one generation) — the
    OASIS propagation metrics."""
    trees = cascade_trees(tables)
    author = tables["posts"].set_index("post_id")["author_id"]
    trees["author"] = author.reindex(trees["post_id"]).to_numpy()
    by_seed = trees.groupby("seed")
    shapes = pd.DataFrame({
        "veracity": by_seed["veracity"].first(),
        "size": by_seed.size(),
        "scale": by_seed["author"].nunique(),
        "depth": by_seed["generation"].max(),
        "max_breadth": trees.groupby(["seed", "generation"]).size().groupby(level=0).max(),
    })
    return shapes


def _ordering(shapes: pd.DataFrame, column: str) -> Measured:
    """1 when false items' mean exceeds true items' mean, else 0; the means in the note."""
    means = shapes.groupby("veracity")[column].mean()
    true_mean, false_mean = float(means.get("true", np.nan)), float(means.get("false", np.nan))
    return Measured(float(false_mean > true_mean),
                    note=f"false {false_mean:.3f} vs true {true_mean:.3f}")


def organic_rate_ratio(tables: dict[str, pd.DataFrame], config: dict) -> Measured:
    """Organic posts per agent-step after the burn-in, over the Hawkes stationary rate
    μ/(1 − α/β). Agents excite only themselves, so their counts are independent: the standard
    error comes from their spread."""
    actions = tables["actions"]
    seeds = labels(tables, "post", "veracity").index
    organic = actions[(actions["action_type"] == "create_post") & ~actions["target_id"].isin(seeds)
                      & (actions["step"] >= BURN_IN_STEPS)]
    n_agents, n_steps = int(config["n_agents"]), int(config["n_steps"]) - BURN_IN_STEPS
    counts = organic.groupby("agent_id").size().reindex(tables["agents"]["agent_id"],
                                                         fill_value=0).to_numpy()
    n_bg = float(config["hawkes_alpha_self"]) / float(config["hawkes_beta"])
    expected = float(config["background_rate"]) / (1.0 - n_bg) * n_steps
    if expected <= 0:
        return Measured(float("nan"), note="no background activity")
    ratio = counts.mean() / expected
    se = counts.std(ddof=1) / np.sqrt(n_agents) / expected
    return Measured(float(ratio), ratio - 1.96 * se, ratio + 1.96 * se, float(se))


def follow_degrees(tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    edges = final_follow_edges(tables["follows"])
    return edges["follower_id"].to_numpy(), edges["followee_id"].to_numpy()


def measure(batch: CanonicalBatch) -> dict[str, Measured]:
    """Every §5.5 metric that one society's tables determine."""
    tables, config = batch.tables, batch.society["config_json"]
    shapes = cascade_shapes(tables)
    out: dict[str, Measured] = {}
    for veracity in ("true", "false"):
        sizes = shapes.loc[shapes["veracity"] == veracity, "size"].to_numpy()
        out[f"sim.cascade_mean_size_{veracity}"] = bootstrap_mean(sizes)
    for column in ("scale", "depth", "max_breadth"):
        out[f"sim.cascade_{column}"] = _ordering(shapes, column)
    out["sim.stationary_rate_ratio"] = organic_rate_ratio(tables, config)
    follower, followee = follow_degrees(tables)
    degree = pd.Series(np.concatenate([follower, followee])).value_counts().to_numpy()
    xmin = DEGREE_XMIN_PER_M * int(config["m"])
    out["sim.follow_degree_alpha"] = Measured(discrete_power_law_alpha(degree, xmin),
                                              note=f"xmin {xmin}")
    out["sim.friendship_paradox_share"] = Measured(friendship_paradox_share(follower, followee))
    return out


def cascade_posts(batch: CanonicalBatch) -> int:
    """Posts in all cascades (seeds and reshares)."""
    return len(cascade_trees(batch.tables))


def measure_moderation(off: list[CanonicalBatch], node: list[CanonicalBatch],
                       edge: list[CanonicalBatch]) -> dict[str, Measured]:
    """`sim.moderation_reduction` over paired seeds: the share of cascade posts each moderated
    arm removed relative to the unmoderated twins (pooled); 1 when node removes more than edge."""
    base = sum(cascade_posts(b) for b in off)
    node_cut = 1.0 - sum(cascade_posts(b) for b in node) / base
    edge_cut = 1.0 - sum(cascade_posts(b) for b in edge) / base
    return {"sim.moderation_reduction": Measured(
        float(node_cut > edge_cut), note=f"node {node_cut:.4f} vs edge {edge_cut:.4f}")}
