"""Axelrod's culture model (SIMULATORS.md §4.9; Axelrod, "The dissemination of culture").

Each agent holds F features with q possible traits each. When a listener meets a source, it
interacts with probability equal to their similarity (the share of matching features) and then
copies one feature on which they differ. Identical or entirely different pairs never change,
which is what freezes the dynamics into cultural domains: one domain for small q (order),
many for large q (fragmentation).
"""

from __future__ import annotations

import numpy as np


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of matching features, row by row."""
    return (a == b).mean(axis=1)


def axelrod_step(culture: np.ndarray, listener: np.ndarray, model: np.ndarray,
                 u_interact: np.ndarray, u_feature: np.ndarray) -> np.ndarray:
    """One batch of meetings; returns the new culture array.

    `model` holds the traits each listener meets, one row per listener: a partner's culture
    (`culture[source]`, read before the batch, so listeners should be distinct) or the traits
    of an item it read. Each meeting uses one uniform to decide whether the pair interacts and
    one to pick which differing feature is copied.
    """
    mine, theirs = culture[listener], model
    differ = mine != theirs
    n_differ = differ.sum(axis=1)
    n_features = culture.shape[1]
    interact = (n_differ > 0) & (u_interact < 1.0 - n_differ / n_features)
    pick = np.minimum((u_feature * n_differ).astype(np.int64), np.maximum(n_differ - 1, 0))
    feature = np.argmax(np.cumsum(differ, axis=1) > pick[:, None], axis=1)
    new = culture.copy()
    rows, cols = listener[interact], feature[interact]
    new[rows, cols] = theirs[interact, cols]
    return new


def frozen(culture: np.ndarray, edge_a: np.ndarray, edge_b: np.ndarray) -> bool:
    """Absorbing state: every edge joins identical or entirely different cultures."""
    sim = similarity(culture[edge_a], culture[edge_b])
    return bool(np.all((sim == 0.0) | (sim == 1.0)))


def largest_domain_share(culture: np.ndarray) -> float:
    """Share of agents holding the most common culture vector."""
    _, counts = np.unique(culture, axis=0, return_counts=True)
    return float(counts.max() / len(culture))
