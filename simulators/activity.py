"""Activity processes (SIMULATORS.md §4.4): Poisson wake-ups and discretised Hawkes excitation.

Hawkes: each agent's excitation E decays by e^(−β) per step and jumps for each own action
(α_self) and each reply or vote received (α_notif, the notification pull-back); the wake-up
intensity is c(t)·(μ + E). The jump is scaled by (1 − e^(−β))/β so that, in discrete time, the
expected number of actions one action triggers is exactly the continuous-time branching ratio
n = (α_self + α_notif·r̄)/β, where r̄ is the expected notifications per action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BRANCHING_RATIO = 0.95


@dataclass(frozen=True)
class HawkesParams:
    alpha_self: float
    alpha_notif: float
    beta: float
    notifications_per_action: float  # r̄

    def branching_ratio(self) -> float:
        return (self.alpha_self + self.alpha_notif * self.notifications_per_action) / self.beta

    def check(self) -> None:
        """Refuse explosive or near-critical configs (n ≥ 0.95), where the rate diverges."""
        if self.beta <= 0 or self.alpha_self < 0 or self.alpha_notif < 0:
            raise ValueError("Hawkes needs beta > 0 and non-negative alphas")
        n = self.branching_ratio()
        if n >= MAX_BRANCHING_RATIO:
            raise ValueError(
                f"Hawkes branching ratio n = {n:.3f} must stay below {MAX_BRANCHING_RATIO}"
            )

    def stationary_rate(self, base_rate: np.ndarray | float) -> np.ndarray | float:
        """Long-run actions per step of an agent with base rate μ: μ / (1 − n)."""
        return base_rate / (1.0 - self.branching_ratio())


class HawkesExcitation:
    """Per-agent excitation levels, updated once per step from that step's events."""

    def __init__(self, n_agents: int, params: HawkesParams) -> None:
        params.check()
        self.params = params
        self.level = np.zeros(n_agents, dtype=np.float64)
        self._decay = float(np.exp(-params.beta))
        self._jump = (1.0 - self._decay) / params.beta

    def update(self, own_actions: np.ndarray, notifications: np.ndarray) -> None:
        p = self.params
        kick = p.alpha_self * own_actions + p.alpha_notif * notifications
        self.level = self.level * self._decay + self._jump * kick
