"""Classic-model reference checks of SIMULATORS.md §9: Hawkes and Barabási–Albert.

Hawkes: `simulators.activity` (discretised exponential kernel) with Poisson counts by inverse
CDF on per-step uniforms, as the presets use it. Independent agents serve as independent
replicas: the branching ratio n = α/β, the stationary rate μ/(1 − n) and the mean cluster size
1/(1 − n) must each hold within 3 standard errors.

Barabási–Albert: `simulators.graphs` (the networkx attachment rule in numpy, edges oriented at
random). Degree tail exponent 3 ± 0.3 and a friendship-paradox share ≥ 0.85 at small N.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from simulators.activity import HawkesExcitation, HawkesParams
from simulators.checker.common import discrete_power_law_alpha, friendship_paradox_share
from simulators.core import poisson_counts
from simulators.graphs import barabasi_albert_edges, follower_graph
from simulators.rng import module_rng, step_rng

PARAMS = HawkesParams(alpha_self=0.25, alpha_notif=0.0, beta=0.5, notifications_per_action=0.0)
N_BRANCHING = 0.5  # α/β
MAX_COUNT = 15  # P(Poisson(λ) > 15) is negligible at these intensities


def hawkes_counts(params: HawkesParams, base_rate: float, n_agents: int, n_steps: int, *,
                  seed: int, kicked: bool, feedback: bool) -> np.ndarray:
    """Actions per agent per step, shape (n_steps, n_agents). `kicked`: every agent acted once
    just before step 0; `feedback`: actions excite further actions (off: only the kick does)."""
    excitation = HawkesExcitation(n_agents, params)
    no_notifications = np.zeros(n_agents)
    if kicked:
        excitation.update(np.ones(n_agents), no_notifications)
    counts = np.zeros((n_steps, n_agents), dtype=np.int64)
    for t in range(n_steps):
        u = step_rng(seed, "activity", t).random(n_agents)
        counts[t] = poisson_counts(u, base_rate + excitation.level, MAX_COUNT)
        excitation.update(counts[t] if feedback else np.zeros(n_agents), no_notifications)
    return counts


def within_3_se(values: np.ndarray, expected: float) -> bool:
    se = values.std(ddof=1) / np.sqrt(len(values))
    return abs(values.mean() - expected) <= 3 * se


# Hawkes -----------------------------------------------------------------------------------------

def test_the_branching_ratio_is_alpha_over_beta_for_both_channels() -> None:
    params = HawkesParams(alpha_self=0.3, alpha_notif=0.2, beta=0.8, notifications_per_action=0.5)
    assert params.branching_ratio() == pytest.approx((0.3 + 0.2 * 0.5) / 0.8)
    # The discretised kernel integrates to α/β: one event's excitation summed over later steps.
    for own, notified, expected in ((1.0, 0.0, 0.3 / 0.8), (0.0, 1.0, 0.2 / 0.8)):
        excitation = HawkesExcitation(1, params)
        excitation.update(np.array([own]), np.array([notified]))
        total = 0.0
        for _ in range(200):
            total += float(excitation.level[0])
            excitation.update(np.zeros(1), np.zeros(1))
        assert total == pytest.approx(expected, rel=1e-9)


def test_one_event_triggers_poisson_n_direct_children() -> None:
    counts = hawkes_counts(PARAMS, 0.0, 40_000, 80, seed=11, kicked=True, feedback=False)
    children = counts.sum(axis=0)
    assert within_3_se(children, N_BRANCHING)
    p_none = np.exp(-N_BRANCHING)
    assert abs((children == 0).mean() - p_none) <= 3 * np.sqrt(p_none * (1 - p_none) / 40_000)


def test_the_stationary_rate_is_mu_over_one_minus_n() -> None:
    mu, burn_in = 0.05, 100
    counts = hawkes_counts(PARAMS, mu, 5_000, 600, seed=12, kicked=False, feedback=True)
    per_agent_rate = counts[burn_in:].mean(axis=0)  # agents are independent replicas
    assert within_3_se(per_agent_rate, mu / (1 - N_BRANCHING))
    assert per_agent_rate.mean() == pytest.approx(PARAMS.stationary_rate(mu), rel=0.02)


def test_the_mean_cluster_size_is_one_over_one_minus_n() -> None:
    """A kicked agent with no base rate produces exactly one cluster: Borel(n) events."""
    counts = hawkes_counts(PARAMS, 0.0, 40_000, 150, seed=13, kicked=True, feedback=True)
    assert counts[-20:].sum() == 0  # every cluster has died out
    sizes = 1 + counts.sum(axis=0)
    assert within_3_se(sizes, 1 / (1 - N_BRANCHING))
    assert sizes.var() == pytest.approx(N_BRANCHING / (1 - N_BRANCHING) ** 3, rel=0.15)


def test_near_critical_excitation_is_refused() -> None:
    HawkesParams(0.47, 0.0, 0.5, 0.0).check()  # n = 0.94
    with pytest.raises(ValueError, match="branching ratio"):
        HawkesParams(0.5, 0.0, 0.5, 0.0).check()


# Barabási–Albert ------------------------------------------------------------------------------

def degrees(n: int, m: int, seed: int) -> np.ndarray:
    edges = barabasi_albert_edges(n, m, module_rng(seed, "topology"))
    return np.bincount(edges.ravel(), minlength=n)


def test_the_graph_has_the_attachment_rule_structure() -> None:
    n, m = 3_000, 3
    edges = barabasi_albert_edges(n, m, module_rng(1, "topology"))
    assert edges.shape == (m * (n - m), 2)
    assert (edges[:, 0] > edges[:, 1]).all()  # a new node links to earlier ones
    assert len(np.unique(edges[:, 0] * n + edges[:, 1])) == len(edges)  # no multi-edges
    assert np.bincount(edges.ravel(), minlength=n).min() >= m


def test_edges_are_oriented_by_a_fair_coin_and_indexed_by_followee() -> None:
    graph = follower_graph(3_000, 3, module_rng(2, "topology"))
    newer_follows = (graph.follower > graph.followee).mean()
    assert abs(newer_follows - 0.5) <= 3 * np.sqrt(0.25 / len(graph.follower))
    agent = int(np.argmax(graph.follower_counts()))
    expected = np.sort(graph.follower[graph.followee == agent])
    assert np.array_equal(graph.followers(agent), expected)


def test_the_same_seed_gives_the_same_graph() -> None:
    first = barabasi_albert_edges(2_000, 3, module_rng(5, "topology"))
    assert np.array_equal(first, barabasi_albert_edges(2_000, 3, module_rng(5, "topology")))
    assert not np.array_equal(first, barabasi_albert_edges(2_000, 3, module_rng(6, "topology")))


def test_the_degree_tail_exponent_is_three() -> None:
    """Discrete MLE above 4m, where the BA pmf 2m(m+1)/(k(k+1)(k+2)) is near its k^-3 tail
    (approaching it from below, so the estimate reads about 2.85 at N = 10,000 over seeds
    1-8: 2.80-2.92); and the exact share of degree-m nodes, 2/(m + 2)."""
    n, m = 10_000, 3
    degree = degrees(n, m, seed=2)
    assert discrete_power_law_alpha(degree, 4 * m) == pytest.approx(3.0, abs=0.3)
    share_min = (degree == m).mean()
    assert abs(share_min - 2 / (m + 2)) <= 3 * np.sqrt(0.24 / n)


def test_degrees_match_the_networkx_generator() -> None:
    ours = degrees(3_000, 3, seed=8)
    reference = np.array([d for _, d in nx.barabasi_albert_graph(3_000, 3, seed=8).degree()])
    assert stats.ks_2samp(ours, reference).pvalue > 0.01


@pytest.mark.parametrize("m", [2, 3, 5])
def test_most_agents_have_fewer_neighbours_than_their_neighbours(m: int) -> None:
    graph = follower_graph(2_000, m, module_rng(9, "topology"))
    assert friendship_paradox_share(graph.follower, graph.followee) >= 0.85
