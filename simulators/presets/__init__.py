"""Preset registry and the public `simulate()` entry point.

A preset is a config class (a `SimConfig` subclass), a `run(cfg, seed, checkpoints) -> Trace`
engine on the common core (its steps driven by `simulators.checkpoint.run_steps`), the ground-truth
rows it plants (SIMULATORS.md §5, §8), and its counterfactual twins
(§6): named one-knob overrides. Twins share the seed and every random stream, so
`simulate(p, seed=s, twin=name)` differs from `simulate(p, seed=s)` by that knob and its
consequences only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from simulators.checkpoint import DEFAULT_EVERY, Checkpoints, run_identity
from simulators.config import ENGINE_VERSION, SimConfig
from simulators.observation import (OBSERVED_TWIN, ObservationSettings, observe,
                                   split_observation)
from simulators.presets import cascade, herd_effect, high_socialization, moltbook_like
from simulators.presets import echo_chamber
from simulators.presets.spec import Preset
from simulators.tables import build_batch, society_id_for
from simulators.truth import truth_frame
from warehouse.batch import CanonicalBatch


PRESETS: dict[str, Preset] = {
    spec.name: spec
    for spec in (
        moltbook_like.PRESET,
        herd_effect.PRESET,
        high_socialization.PRESET,
        cascade.PRESET,
        echo_chamber.PRESET,
    )
}


def resolve_config(
    preset: str = "moltbook-like",
    *,
    n_agents: int | None = None,
    n_steps: int | None = None,
    twin: str | None = None,
    **overrides: Any,
) -> SimConfig:
    """The preset's defaults with overrides (then the twin's knob) applied, resolved, validated."""
    spec = preset_spec(preset)
    known = {f.name for f in dataclasses.fields(spec.config_class)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"{preset}: unknown config keys {unknown}")
    if n_agents is not None:
        overrides["n_agents"] = n_agents
    if n_steps is not None:
        overrides["n_steps"] = n_steps
    if twin is not None:
        overrides.update(twin_knob(preset, twin))
    cfg = spec.config_class(**overrides).resolved()
    cfg.validate()
    return cfg


def preset_spec(preset: str) -> Preset:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    return PRESETS[preset]


def twin_knob(preset: str, twin: str) -> dict[str, Any]:
    """The config overrides of a twin; none for the observed twin, which is the base run seen
    through the crawler's eye (§4.10)."""
    spec = preset_spec(preset)
    if twin not in spec.twin_names:
        raise ValueError(f"{preset} has no twin {twin!r}; known: {spec.twin_names}")
    return dict(spec.twins.get(twin, {}))


def simulate(
    preset: str = "moltbook-like",
    *,
    seed: int = 1,
    n_agents: int | None = None,
    n_steps: int | None = None,
    twin: str | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = DEFAULT_EVERY,
    **overrides: Any,
) -> CanonicalBatch:
    """Run a preset and return its society as one CanonicalBatch for `warehouse.writer`.

    Same preset, seed, overrides, twin and ENGINE_VERSION give identical tables. With
    `checkpoint_dir`, the run state is saved there every `checkpoint_every` steps and a run that
    finds a checkpoint of itself there resumes from it, with the same tables (neither argument
    is part of the config).
    """
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    overrides, observation = split_observation(overrides)
    if observation is not None and twin != OBSERVED_TWIN:
        raise ValueError(f"observed_* settings apply to twin {OBSERVED_TWIN!r} only")
    cfg = resolve_config(preset, n_agents=n_agents, n_steps=n_steps, twin=twin, **overrides)
    spec = PRESETS[preset]
    checkpoints = None
    if checkpoint_dir is not None:
        checkpoints = Checkpoints(Path(checkpoint_dir), checkpoint_every,
                                  run_identity(preset, seed, twin, cfg))
    trace = spec.run(cfg, seed, checkpoints)
    base_id = society_id_for(preset, seed)
    extra = {
        "engine_version": ENGINE_VERSION,
        "preset": preset,
        "seed": seed,
        "twin_group": base_id if twin else None,
        "twin": {"name": twin, "knob": twin_knob(preset, twin)} if twin else None,
        "llm": dict(trace.llm),
        "comment_cap": None,
        "time_flags": [],
        # Scale-dependent truth rows describe this size; a harness skips them when a run
        # differs from it by more than 2× (§5).
        "truth_reference_size": {"n_agents": spec.reference_size[0],
                                 "n_steps": spec.reference_size[1]},
        "truth_scale_dependent": sorted(spec.scale_dependent),
    }
    truth = truth_frame(spec.truth(cfg, trace))
    batch = build_batch(trace, preset=preset, twin=twin, ground_truth=truth, extra_config=extra)
    if twin == OBSERVED_TWIN:
        return observe(batch, observation or ObservationSettings())
    return batch


__all__ = ["PRESETS", "Preset", "preset_spec", "resolve_config", "simulate", "society_id_for",
           "twin_knob"]
