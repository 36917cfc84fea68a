"""Named, per-module random streams derived from one seed (SIMULATORS.md §4.2).

Every module draws from its own generator, keyed by (seed, module index[, step, sub]). The module
order below is append-only: adding a module never changes the streams of the existing ones, and
changing how one module draws never reshuffles another. Per-step generators give common random
numbers: a module draws full length-N arrays at every step, so agent i's draw at step t does not
depend on what other agents did (the basis of counterfactual twins).
"""

from __future__ import annotations

import numpy as np

# Append-only. The order of existing names must never change.
MODULES: tuple[str, ...] = (
    "topology",
    "population",
    "activity",
    "feed",
    "policy",
    "text",
    "votes",
    "follows",
    "opinion",
    "llm",
    "observation",
    "clock",
    "exposure_sample",
    "probes",
)
_INDEX = {name: i for i, name in enumerate(MODULES)}


def module_rng(seed: int, module: str) -> np.random.Generator:
    """Run-level generator of one module (population draws, text rendering)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_INDEX[module],)))


def step_rng(seed: int, module: str, step: int, sub: int = 0) -> np.random.Generator:
    """Generator of one module at one step; `sub` separates independent draws of that step."""
    key = (_INDEX[module], step, sub)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
