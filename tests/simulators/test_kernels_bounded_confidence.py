"""Bounded-confidence kernels against the classic results of SIMULATORS.md §9, at small N.

Deffuant (symmetric, μ = 0.5, N = 500): ⌊1/(2ε)⌋ major clusters, the reference run giving
ε 0.15 → 3, 0.2 → 2, ≥ 0.3 → 1. Algorithmic bias (Sîrbu et al., ε = 0.3): γ = 0 → 1 cluster,
γ = 1.5 → ≥ 5, and the time to settle rises with γ. Hegselmann–Krause (synchronous, N = 500):
ε ≥ 0.25 → consensus within ~25 steps, ε = 0.2 → 2 clusters, ε = 0.1 → 4–5. A cluster is a run
of sorted opinions with no gap above 0.01; "major" means holding at least 5% of the agents.
The optional ndlib cross-check is not run (ndlib is not a dependency).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from simulators.checker.common import stance_clusters
from simulators.checker.echo_chamber import settling_step
from simulators.kernels.bounded_confidence import (
    algorithmic_bias_partners, algorithmic_bias_round, deffuant_pair, deffuant_read,
    hegselmann_krause_step, log_bias_weights,
)

GAP = 0.01


def major_clusters(u: np.ndarray) -> int:
    return stance_clusters(u, min_share=0.05, gap=GAP)


def deffuant_run(epsilon: float, seed: int, n: int = 500, rounds: int = 600) -> np.ndarray:
    """Symmetric Deffuant, μ = 0.5: each round pairs every agent with a random other."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.0, 1.0, n)
    for _ in range(rounds):
        order = rng.permutation(n)
        i, j = order[: n // 2], order[n // 2 :]
        u[i], u[j] = deffuant_pair(u[i], u[j], epsilon, 0.5)
    return u


@lru_cache(maxsize=None)
def bias_history(gamma: float, seed: int, n: int = 200, rounds: int = 300) -> np.ndarray:
    """Opinions after each round of the Sîrbu et al. model (ε = 0.3, μ = 0.5, δ = 1e-4)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.0, 1.0, n)
    history = [u]
    for _ in range(rounds):
        u = algorithmic_bias_round(u, 0.3, 0.5, gamma, 1e-4, rng)
        history.append(u)
    return np.array(history)


def test_a_reader_moves_mu_of_the_way_only_when_closer_than_epsilon() -> None:
    reader = np.array([0.5, 0.5, 0.5, 0.5])
    item = np.array([0.6, 0.2, 0.79, 0.81])
    moved = deffuant_read(reader, item, 0.3, 0.3)
    np.testing.assert_allclose(moved, [0.53, 0.5, 0.587, 0.5])


def test_with_backfire_a_reader_farther_than_rho_moves_away_inside_the_unit_interval() -> None:
    reader = np.array([0.5, 0.5, 0.2, 0.05])
    item = np.array([0.6, 0.9, 0.9, 0.95])  # attract, indifferent band, repel, repel to the wall
    moved = deffuant_read(reader, item, 0.3, 0.3, backfire_rho=0.5, backfire_mu=0.1)
    np.testing.assert_allclose(moved, [0.53, 0.5, 0.13, 0.0])
    np.testing.assert_allclose(deffuant_read(reader, item, 0.3, 0.3), [0.53, 0.5, 0.2, 0.05])


def test_a_symmetric_meeting_conserves_the_pair_mean() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1, 1_000), rng.uniform(0, 1, 1_000)
    new_a, new_b = deffuant_pair(a, b, 0.3, 0.5)
    np.testing.assert_allclose(new_a + new_b, a + b)
    close = np.abs(a - b) < 0.3
    np.testing.assert_allclose(new_a[close], new_b[close])  # μ = 0.5 meets in the middle
    np.testing.assert_array_equal(new_a[~close], a[~close])


@pytest.mark.parametrize(("epsilon", "expected"), [(0.15, 3), (0.2, 2), (0.3, 1), (0.4, 1)])
def test_deffuant_gives_one_major_cluster_per_two_epsilon(epsilon: float, expected: int) -> None:
    for seed in (0, 1):
        count = major_clusters(deffuant_run(epsilon, seed))
        assert abs(count - int(1 / (2 * epsilon))) <= 1
        assert count == expected, (seed, count)


def test_biased_partners_are_drawn_in_proportion_to_the_bias_weights() -> None:
    u = np.array([0.5, 0.55, 0.8, 0.9])
    initiators = np.zeros(40_000, dtype=np.int64)
    rng = np.random.default_rng(3)
    partners = algorithmic_bias_partners(u, initiators, 1.5, 1e-4, rng.random(len(initiators)))
    assert not (partners == 0).any()  # never oneself
    weights = np.exp(log_bias_weights(0.5, u[1:], 1.5, 1e-4))
    expected = weights / weights.sum()
    observed = np.bincount(partners, minlength=4)[1:] / len(partners)
    assert (np.abs(observed - expected) <= 4 * np.sqrt(expected / len(partners))).all()


def test_without_bias_the_model_reaches_consensus() -> None:
    rng = np.random.default_rng(0)
    u = rng.uniform(0.0, 1.0, 500)
    for _ in range(80):
        u = algorithmic_bias_round(u, 0.3, 0.5, 0.0, 1e-4, rng)
    assert major_clusters(u) == 1


def test_strong_bias_fragments_the_opinions() -> None:
    for seed in (0, 1):
        assert major_clusters(bias_history(1.5, seed)[-1]) >= 5


def test_the_time_to_settle_rises_with_the_bias() -> None:
    """Settled: the first round from which the mean distance to the final opinions stays below
    0.005 (the echo-chamber checker's definition). Observed: about 15, 60 and 270 rounds."""
    steps = [settling_step(pd.DataFrame(bias_history(gamma, 0))) for gamma in (0.0, 1.0, 1.5)]
    assert steps[0] < steps[1] < steps[2], steps
    assert steps[2] >= 2 * steps[1]


def hk_run(epsilon: float, seed: int, n: int = 500, max_steps: int = 100) -> tuple[np.ndarray, int]:
    """Synchronous HK from a uniform start until nothing moves; returns opinions and steps."""
    u = np.random.default_rng(seed).uniform(0.0, 1.0, n)
    for step in range(1, max_steps + 1):
        new = hegselmann_krause_step(u, epsilon)
        if np.abs(new - u).max() < 1e-12:
            return new, step
        u = new
    return u, max_steps


def test_hegselmann_krause_matches_a_direct_computation() -> None:
    u = np.random.default_rng(5).uniform(0, 1, 200)
    direct = np.array([u[np.abs(u - x) < 0.2].mean() for x in u])
    np.testing.assert_allclose(hegselmann_krause_step(u, 0.2), direct)


@pytest.mark.parametrize("epsilon", [0.25, 0.3])
def test_hegselmann_krause_reaches_consensus_within_about_25_steps(epsilon: float) -> None:
    for seed in (0, 1, 2):
        u, steps = hk_run(epsilon, seed)
        assert stance_clusters(u, min_share=0.0, gap=GAP) == 1
        assert steps <= 25


def test_hegselmann_krause_splits_in_two_at_epsilon_0_2() -> None:
    for seed in (0, 1, 2):
        assert stance_clusters(hk_run(0.2, seed)[0], min_share=0.0, gap=GAP) == 2


def test_hegselmann_krause_leaves_four_or_five_clusters_at_epsilon_0_1() -> None:
    for seed in (0, 1, 2):
        assert 4 <= stance_clusters(hk_run(0.1, seed)[0], min_share=0.0, gap=GAP) <= 5
