"""Bounded-confidence opinion kernels (SIMULATORS.md §4.9, checked against §9).

All kernels work on u = (s + 1)/2 ∈ [0, 1], so published thresholds apply unchanged.

- Deffuant et al., "Mixing beliefs among interacting agents": when two opinions lie closer than
  ε, they move μ of the way toward each other. Reading is not mutual, so the engine uses the
  one-sided form (`deffuant_read`: only the reader moves); the unit tests use the symmetric
  pairwise form (`deffuant_pair`).
- Algorithmic bias (Sîrbu et al., "Algorithmic bias amplifies opinion fragmentation and
  polarization"): the same update, with the partner drawn with weight (|uᵢ − uⱼ| + δ)^(−γ), so
  close partners are preferred; γ = 0 is the unbiased model. `log_bias_weights` is also
  the opinion part of the `personalized` feed's ranking (simulators.feeds).
- Hegselmann–Krause: every agent moves at once to the mean of the opinions within ε of its own.
- Backfire (optional): beyond a distance ρ the reader moves away from what it read.
"""

from __future__ import annotations

import numpy as np


def deffuant_read(u_reader: np.ndarray, u_item: np.ndarray, epsilon: float, mu: float, *,
                  backfire_rho: float | None = None, backfire_mu: float = 0.0) -> np.ndarray:
    """New reader opinions: a reader closer than ε to what it read moves μ of the way to it.
    With backfire (§4.9, off by default), a reader farther than ρ moves μ_b of the gap away
    from it, staying inside [0, 1]."""
    gap = np.asarray(u_item, dtype=float) - u_reader
    moved = np.where(np.abs(gap) < epsilon, u_reader + mu * gap, u_reader)
    if backfire_rho is None:
        return moved
    return np.where(np.abs(gap) > backfire_rho, np.clip(u_reader - backfire_mu * gap, 0.0, 1.0),
                    moved)


def deffuant_pair(u_i: np.ndarray, u_j: np.ndarray, epsilon: float,
                  mu: float) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric Deffuant meeting: both move μ of the way toward each other when closer than ε."""
    gap = np.asarray(u_j, dtype=float) - u_i
    step = np.where(np.abs(gap) < epsilon, mu * gap, 0.0)
    return u_i + step, u_j - step


def log_bias_weights(u_viewer: np.ndarray, u_other: np.ndarray, gamma: float,
                     delta: float) -> np.ndarray:
    """log of the partner weights (|u_viewer − u_other| + δ)^(−γ), broadcast; γ = 0 gives 0."""
    if gamma == 0:
        return np.zeros(np.broadcast_shapes(np.shape(u_viewer), np.shape(u_other)))
    return -gamma * np.log(np.abs(u_viewer - u_other) + delta)


def algorithmic_bias_partners(u: np.ndarray, initiators: np.ndarray, gamma: float, delta: float,
                              uniforms: np.ndarray) -> np.ndarray:
    """One partner per initiator among all other agents, drawn with the biased weights by
    inverse CDF on one uniform per initiator (the ndlib `AlgorithmicBiasModel` rule).

    Work is len(initiators) × len(u): the small-N reference form; the engine draws partners
    through the `personalized` feed (simulators.feeds).
    """
    weights = np.exp(log_bias_weights(u[initiators, None], u[None, :], gamma, delta))
    weights[np.arange(len(initiators)), initiators] = 0.0
    cdf = np.cumsum(weights, axis=1)
    below = cdf < (uniforms * cdf[:, -1])[:, None]
    return np.minimum(below.sum(axis=1), len(u) - 1)


def algorithmic_bias_round(u: np.ndarray, epsilon: float, mu: float, gamma: float,
                           delta: float, rng: np.random.Generator) -> np.ndarray:
    """One round of the Sîrbu et al. model: every agent, in random order, initiates one
    symmetric Deffuant meeting with a biased partner. Partners are drawn from the opinions at
    the start of the round; each meeting then uses the current opinions."""
    out = np.array(u, dtype=float)
    order = rng.permutation(len(out))
    partners = algorithmic_bias_partners(out, order, gamma, delta, rng.random(len(out)))
    for i, j in zip(order.tolist(), partners.tolist()):
        gap = out[j] - out[i]
        if abs(gap) < epsilon:
            out[i] += mu * gap
            out[j] -= mu * gap
    return out


def hegselmann_krause_step(u: np.ndarray, epsilon: float) -> np.ndarray:
    """Synchronous Hegselmann–Krause on the complete graph: each agent takes the mean of all
    opinions within ε of its own (itself included). Sorted prefix sums make it O(N log N)."""
    u = np.asarray(u, dtype=float)
    order = np.argsort(u, kind="stable")
    v = u[order]
    prefix = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.searchsorted(v, v - epsilon, side="right")  # strictly closer than ε, as Deffuant
    hi = np.searchsorted(v, v + epsilon, side="left")
    out = np.empty_like(u)
    out[order] = (prefix[hi] - prefix[lo]) / (hi - lo)
    return out
