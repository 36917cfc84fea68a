"""§9 reference checks for the Friedkin–Johnsen, Axelrod and voter kernels, at small N."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.kernels.culture import (
    axelrod_step, frozen, largest_domain_share, similarity,
)
from simulators.kernels.social_influence import (
    NO_PARTNER, fj_equilibrium, fj_step, partner_matrix, partner_mean, voter_step,
)


def _random_partners(rng: np.random.Generator, n: int, k: int, empty_share: float) -> np.ndarray:
    """Rings of k remembered partners (repeats allowed), some slots and some agents empty."""
    partners = rng.integers(0, n, size=(n, k))
    partners[rng.random((n, k)) < empty_share] = NO_PARTNER
    partners[:5] = NO_PARTNER  # a few agents who never interacted
    return partners


# Friedkin–Johnsen --------------------------------------------------------------------------

def test_partner_matrix_is_row_stochastic_and_matches_the_partner_mean() -> None:
    rng = np.random.default_rng(1)
    partners = _random_partners(rng, 200, 6, 0.3)
    w = partner_matrix(partners)
    assert np.allclose(np.asarray(w.sum(axis=1)).ravel(), 1.0)
    assert w[0, 0] == 1.0  # no partner: listens to itself
    u = rng.random(200)
    assert np.allclose(w @ u, partner_mean(u, partners))
    # A partner remembered twice weighs twice.
    ring = np.array([[1, 1, 2, NO_PARTNER], [0, NO_PARTNER, NO_PARTNER, NO_PARTNER],
                     [0, 1, 0, 1]])
    assert partner_matrix(ring).toarray()[0] == pytest.approx([0.0, 2 / 3, 1 / 3])


def test_fj_iteration_reaches_the_closed_form_equilibrium() -> None:
    """§9: the fixed point equals (I − ΛW)⁻¹(I − Λ)s⁰ whenever ρ(ΛW) < 1, within 1e-6."""
    rng = np.random.default_rng(2)
    n = 300
    partners = _random_partners(rng, n, 8, 0.2)
    innate = rng.random(n)
    susceptibility = rng.uniform(0.3, 0.95, size=n)
    u = rng.random(n)  # any start
    for _ in range(500):
        u = fj_step(u, innate, susceptibility, partner_mean(u, partners))
    target = fj_equilibrium(innate, susceptibility, partner_matrix(partners))
    assert np.abs(u - target).max() <= 1e-6
    # The same for uniform low stubbornness (Λ = 0.9), the high-socialization setting.
    lam = np.full(n, 0.9)
    u = rng.random(n)
    for _ in range(400):
        u = fj_step(u, innate, lam, partner_mean(u, partners))
    assert np.abs(u - fj_equilibrium(innate, lam, partner_matrix(partners))).max() <= 1e-6


def test_fj_disagreement_persists_while_any_stubbornness_remains() -> None:
    """Λ < I keeps disagreement at the fixed point; Λ = I on a connected graph is DeGroot
    averaging and reaches consensus."""
    rng = np.random.default_rng(3)
    n = 300
    partners = rng.integers(0, n, size=(n, 8))  # everyone interacts: connected, aperiodic
    innate = rng.random(n)
    w = partner_matrix(partners)
    spread = {lam: fj_equilibrium(innate, np.full(n, lam), w).std() for lam in (0.5, 0.9, 0.99)}
    assert spread[0.5] > spread[0.9] > spread[0.99] > 1e-3
    u = innate.copy()
    for _ in range(300):
        u = fj_step(u, innate, np.ones(n), partner_mean(u, partners))
    assert u.std() < 1e-6


def test_fj_equilibrium_refuses_fully_susceptible_agents() -> None:
    partners = np.array([[1], [0]])
    with pytest.raises(ValueError):
        fj_equilibrium(np.array([0.0, 1.0]), np.array([1.0, 0.5]), partner_matrix(partners))


# Axelrod -----------------------------------------------------------------------------------

def _torus_meetings(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Listener sets of one parity and their neighbour in each of the four directions, so no
    listener is a source in the same batch; plus the edge list."""
    x, y = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    site = (x * side + y).ravel()
    parity = ((x + y) % 2).ravel()
    shifts = [(1, 0), (-1, 0), (0, 1), (0, -1)]
    neighbour = np.stack([(((x + dx) % side) * side + (y + dy) % side).ravel()
                          for dx, dy in shifts])
    edge_a = np.concatenate([site, site])
    edge_b = np.concatenate([neighbour[0], neighbour[2]])
    return parity, neighbour, np.stack([edge_a, edge_b])


def _axelrod_final_share(q: int, seed: int, side: int = 10, n_features: int = 5) -> float:
    """Run the lattice Axelrod model to its absorbing state; largest domain share."""
    rng = np.random.default_rng(seed)
    parity, neighbour, edges = _torus_meetings(side)
    culture = rng.integers(0, q, size=(side * side, n_features))
    for batch in range(200_000):
        if batch % 100 == 0 and frozen(culture, edges[0], edges[1]):
            break
        listener = np.flatnonzero(parity == batch % 2)
        source = neighbour[rng.integers(0, 4, size=len(listener)), listener]
        culture = axelrod_step(culture, listener, culture[source], rng.random(len(listener)),
                               rng.random(len(listener)))
    assert frozen(culture, edges[0], edges[1])
    return largest_domain_share(culture)


def test_axelrod_copies_one_differing_feature_with_probability_equal_to_similarity() -> None:
    culture = np.array([[0, 0, 0, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]])
    listener, source = np.array([0, 2, 3]), np.array([1, 3, 0])
    # Pair 0<-1: similarity 0.4. Pair 2<-3: similarity 0 never interacts. Pair 3<-0: identical.
    after = axelrod_step(culture, listener, culture[source], np.array([0.39, 0.0, 0.0]),
                         np.array([0.99, 0.5, 0.5]))
    assert after[0].tolist() == [0, 0, 0, 0, 1]  # the last of the three differing features
    assert after[2].tolist() == [1, 1, 1, 1, 1] and after[3].tolist() == [0] * 5
    unchanged = axelrod_step(culture, listener, culture[source], np.array([0.41, 0.0, 0.0]),
                             np.array([0.0, 0.0, 0.0]))
    assert np.array_equal(unchanged, culture)
    # Over many meetings the interaction rate equals the similarity.
    rng = np.random.default_rng(4)
    m = 20_000
    pairs = np.repeat(culture[:2], m, axis=0).reshape(2, m, 5)
    stacked = np.concatenate([pairs[0], pairs[1]])
    moved = axelrod_step(stacked, np.arange(m), stacked[m:], rng.random(m), rng.random(m))
    rate = (moved[:m] != stacked[:m]).any(axis=1).mean()
    assert rate == pytest.approx(similarity(culture[:1], culture[1:2])[0], abs=0.015)


def test_axelrod_is_ordered_for_small_q_and_fragmented_for_large_q() -> None:
    """§9: a transition in q (F = 5, 10×10 torus, three seeds each). Measured here: q = 2 ends
    in one domain; q = 40 freezes into many small ones, q_c lying in between."""
    ordered = np.mean([_axelrod_final_share(2, seed) for seed in range(3)])
    fragmented = np.mean([_axelrod_final_share(40, seed) for seed in range(3)])
    assert ordered >= 0.8
    assert fragmented <= 0.2


# Voter -------------------------------------------------------------------------------------

def _voter_replicas(n: int, replicas: int, ones: int, noise: float, steps: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random sequential voter updates on the complete graph, one per replica per step.
    Returns the final traits and each replica's lowest +1 share along the way."""
    rng = np.random.default_rng(seed)
    trait = np.zeros((replicas, n), dtype=np.int8)
    trait[:, :ones] = 1
    flat = trait.ravel()
    offset = np.arange(replicas) * n
    lowest = np.full(replicas, ones / n)
    for step in range(steps):
        listener = rng.integers(0, n, size=replicas)
        source = (listener + rng.integers(1, n, size=replicas)) % n  # never oneself
        flat = voter_step(flat, offset + listener, offset + source, rng.random(replicas),
                          rng.random(replicas), noise)
        share = flat.reshape(replicas, n).mean(axis=1)
        lowest = np.minimum(lowest, share)
        if noise == 0.0 and np.all((share == 0) | (share == 1)):
            break
    return flat.reshape(replicas, n), lowest


def test_voter_consensus_probability_equals_the_initial_share() -> None:
    """§9: P(consensus on +1) = initial +1 share (0.3 here), within binomial 3σ over replicas."""
    replicas, n = 600, 20
    final, _ = _voter_replicas(n, replicas, ones=6, noise=0.0, steps=50_000, seed=5)
    share = final.mean(axis=1)
    assert np.all((share == 0) | (share == 1))
    p_hat = (share == 1).mean()
    assert abs(p_hat - 0.3) <= 3 * np.sqrt(0.3 * 0.7 / replicas)


def test_voter_noise_prevents_absorption() -> None:
    """Starting in consensus, noise > 0 pulls every replica out of it; without noise none
    ever leaves."""
    replicas, n = 200, 20
    _, noisy_lowest = _voter_replicas(n, replicas, ones=n, noise=0.1, steps=2_000, seed=6)
    assert np.all(noisy_lowest < 1.0)
    quiet, quiet_lowest = _voter_replicas(n, replicas, ones=n, noise=0.0, steps=2_000, seed=6)
    assert np.all(quiet == 1) and np.all(quiet_lowest == 1.0)
