"""Friedkin–Johnsen opinion dynamics and the voter model (SIMULATORS.md §4.9, §9).

Friedkin–Johnsen: u ← ΛWu + (I − Λ)s⁰, where W is row-normalised over each agent's recent
interaction partners, Λ = diag(susceptibility) = diag(1 − stubbornness) and s⁰ the innate
stance. Whenever ρ(ΛW) < 1 (any Λ < I does, W being row-stochastic) the iteration converges to
(I − ΛW)⁻¹(I − Λ)s⁰, and disagreement persists because every agent keeps a share of its innate
stance. The kernel is linear, so it works on stances in [−1, 1] and on u = (s + 1)/2 alike.

Voter: a listener copies a binary trait of a source; with probability `noise` it takes a fresh
random value instead, which keeps the chain from ever being absorbed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

NO_PARTNER = -1


def partner_matrix(partners: np.ndarray) -> sp.csr_matrix:
    """Row-normalised W from each agent's ring of recent partners.

    `partners` has one row per agent and one column per remembered interaction (NO_PARTNER for
    an empty slot). A partner remembered twice weighs twice; an agent with no partner listens
    only to itself (W_ii = 1), so its stance relaxes to the innate one.
    """
    n, k = partners.shape
    rows = np.repeat(np.arange(n), k)
    cols = partners.ravel()
    alone = (partners == NO_PARTNER).all(axis=1)
    rows = np.concatenate([rows[cols >= 0], np.flatnonzero(alone)])
    cols = np.concatenate([cols[cols >= 0], np.flatnonzero(alone)])
    counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    row_sum = np.asarray(counts.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(1.0 / row_sum) @ counts)


def partner_mean(u: np.ndarray, partners: np.ndarray) -> np.ndarray:
    """(Wu)ᵢ for W = partner_matrix(partners), without building W: the mean over remembered
    partner slots, or uᵢ itself when none is remembered."""
    valid = partners != NO_PARTNER
    n_valid = valid.sum(axis=1)
    total = np.where(valid, u[np.maximum(partners, 0)], 0.0).sum(axis=1)
    return np.where(n_valid > 0, total / np.maximum(n_valid, 1), u)


def fj_step(u: np.ndarray, innate: np.ndarray, susceptibility: np.ndarray,
            neighbour_mean: np.ndarray) -> np.ndarray:
    """One synchronous Friedkin–Johnsen update, given (Wu) from `partner_mean` or W @ u."""
    return susceptibility * neighbour_mean + (1.0 - susceptibility) * innate


def fj_equilibrium(innate: np.ndarray, susceptibility: np.ndarray, w: sp.spmatrix) -> np.ndarray:
    """The fixed point (I − ΛW)⁻¹(I − Λ)s⁰, solved sparsely. Needs susceptibility < 1."""
    if np.any(susceptibility >= 1.0):
        raise ValueError("the closed form needs every susceptibility below 1 (stubbornness > 0)")
    n = len(innate)
    system = sp.identity(n, format="csc") - sp.diags(susceptibility) @ w
    return np.asarray(spsolve(sp.csc_matrix(system), (1.0 - susceptibility) * innate))


def voter_step(trait: np.ndarray, listener: np.ndarray, source: np.ndarray,
               u_noise: np.ndarray, u_value: np.ndarray, noise: float = 0.0) -> np.ndarray:
    """Listeners copy their source's binary trait (or, with probability `noise`, draw a fair
    coin from `u_value`). Reads use the state before the step, so listeners should be distinct;
    one uniform of each stream per listener."""
    new = trait.copy()
    fresh = (u_value < 0.5).astype(trait.dtype)
    new[listener] = np.where(u_noise < noise, fresh, trait[source])
    return new
