"""Initial follower graphs (SIMULATORS.md §4.6): Barabási–Albert, with edges oriented at random.

`barabasi_albert_edges` is the preferential-attachment rule of `networkx.barabasi_albert_graph`
(a star on m + 1 nodes, then each new node links to m distinct existing nodes picked with
probability proportional to their degree), written with numpy so that it draws only from a
`simulators.rng` stream and stays fast at 100,000 nodes. `follower_graph` orients each edge with
a fair coin: a follows b, or b follows a.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Uniforms drawn per refill of the attachment loop (picks are rejected when they repeat a target).
_BLOCK = 65_536


def barabasi_albert_edges(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Undirected BA edges as an (E, 2) array of (new node, earlier node), E = m·(n − m).

    Degree-proportional picks come from the list of edge endpoints, where each node appears
    once per unit of degree; a pick that repeats a target of the same new node is redrawn.
    """
    if not 1 <= m < n:
        raise ValueError("Barabási–Albert needs 1 <= m < n")
    n_edges = m * (n - m)
    endpoints = np.empty(2 * n_edges, dtype=np.int64)  # each edge adds both of its ends
    edges = np.empty((n_edges, 2), dtype=np.int64)
    # The star: node 0 linked to nodes 1..m.
    edges[:m, 0] = np.arange(1, m + 1)
    edges[:m, 1] = 0
    endpoints[: 2 * m] = np.concatenate([np.arange(1, m + 1), np.zeros(m, dtype=np.int64)])
    n_ends, n_done = 2 * m, m
    uniforms = rng.random(_BLOCK)
    next_u = 0
    targets: list[int] = []
    for source in range(m + 1, n):
        targets.clear()
        while len(targets) < m:
            if next_u == _BLOCK:
                uniforms, next_u = rng.random(_BLOCK), 0
            pick = int(endpoints[int(uniforms[next_u] * n_ends)])
            next_u += 1
            if pick not in targets:
                targets.append(pick)
        edges[n_done : n_done + m, 0] = source
        edges[n_done : n_done + m, 1] = targets
        endpoints[n_ends : n_ends + m] = targets
        endpoints[n_ends + m : n_ends + 2 * m] = source
        n_ends += 2 * m
        n_done += m
    return edges


@dataclass(frozen=True)
class FollowerGraph:
    """Directed follow edges (follower → followee) and, per agent, its followers in CSR form."""

    follower: np.ndarray
    followee: np.ndarray
    followers_start: np.ndarray  # agent a's followers are followers_of[start[a]:start[a + 1]]
    followers_of: np.ndarray  # sorted by followee, then follower id

    def followers(self, agent: int) -> np.ndarray:
        return self.followers_of[self.followers_start[agent] : self.followers_start[agent + 1]]

    def follower_counts(self) -> np.ndarray:
        return np.diff(self.followers_start)


def follower_graph(n: int, m: int, rng: np.random.Generator) -> FollowerGraph:
    """A BA graph on n agents whose edges are oriented at random (one fair coin per edge)."""
    edges = barabasi_albert_edges(n, m, rng)
    flip = rng.random(len(edges)) < 0.5
    follower = np.where(flip, edges[:, 1], edges[:, 0])
    followee = np.where(flip, edges[:, 0], edges[:, 1])
    order = np.lexsort((follower, followee))
    counts = np.bincount(followee, minlength=n)
    start = np.concatenate([[0], np.cumsum(counts)])
    return FollowerGraph(follower=follower, followee=followee, followers_start=start,
                         followers_of=follower[order])
