"""A simulation run described in YAML (SIMULATORS.md §10), resolved to `simulate()` arguments.

Accepted: top-level `preset`, `seed`, `twin` and any config field of the preset (`n_agents`,
`p_dup`, ...), plus the §10 sections, whose keys map onto flat config fields: a key `k` under
section `s` is the field `k` if the preset has it, else `s_k` (`clock: {step_seconds: 30}`,
`opinion: {epsilon: 0.3}`, `output: {exposure_log_rate: 1.0}`, `observed: {comment_cap: 1000}`
for the observed twin), with the aliases below for the names §10 shortens. Unknown keys are
refused with the preset's valid keys, so a typo never silently runs the default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import yaml

from simulators.observation import OBSERVATION_KEYS
from simulators.presets import preset_spec

_ALIASES = {
    ("clock", "start"): "clock_start",
    ("feeds", "size"): "feed_size",
    ("feeds", "mix"): "feed_mix",
    ("llm", "mode"): "llm_mode",
}
_RUN_KEYS = ("preset", "seed", "twin")


@dataclass(frozen=True)
class RunSpec:
    preset: str = "moltbook-like"
    seed: int = 1
    twin: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    checkpoint_every: int | None = None  # `output: {checkpoint_every: K}`; not a config field

    def simulate_kwargs(self) -> dict[str, Any]:
        kwargs = {"seed": self.seed, "twin": self.twin, **self.overrides}
        if self.checkpoint_every is not None:
            kwargs["checkpoint_every"] = self.checkpoint_every
        return kwargs


def parse_run_spec(data: dict[str, Any] | None, *, preset: str | None = None) -> RunSpec:
    """A RunSpec from parsed YAML; `preset` (e.g. from a partition key) wins over the file's."""
    data = dict(data or {})
    chosen = preset or data.get("preset") or "moltbook-like"
    fields = {f.name for f in dataclasses.fields(preset_spec(chosen).config_class)}
    fields |= set(OBSERVATION_KEYS)  # the observed twin's settings (`observed: {...}`)
    checkpoint_every = _pop_checkpoint_every(data)
    overrides: dict[str, Any] = {}
    for key, value in data.items():
        if key in _RUN_KEYS:
            continue
        if isinstance(value, dict) and key not in fields:
            for sub, sub_value in value.items():
                overrides[_field_name(chosen, fields, key, sub)] = sub_value
        elif key in fields:
            overrides[key] = value
        else:
            raise ValueError(_unknown(chosen, key, fields))
    seed = data.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return RunSpec(preset=chosen, seed=seed, twin=data.get("twin"), overrides=overrides,
                   checkpoint_every=checkpoint_every)


def run_spec_from_yaml(text: str, *, preset: str | None = None) -> RunSpec:
    """Parse a YAML document (a file's content, or Dagster run config's `config_yaml`)."""
    data = yaml.safe_load(text)
    if data is not None and not isinstance(data, dict):
        raise ValueError("a simulation config is a YAML mapping")
    return parse_run_spec(data, preset=preset)


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs from the command line, values read as YAML scalars (0.3, true, [1, 2])."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _pop_checkpoint_every(data: dict[str, Any]) -> int | None:
    """Take `output.checkpoint_every` out of `data`: how often a run saves its state changes no
    table, so it stays out of the config (and its hash)."""
    output = data.get("output")
    if not isinstance(output, dict) or "checkpoint_every" not in output:
        return None
    data["output"] = {k: v for k, v in output.items() if k != "checkpoint_every"}
    every = output["checkpoint_every"]
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"output.checkpoint_every must be an integer >= 1, got {every!r}")
    return every


def _field_name(preset: str, fields: set[str], section: str, key: str) -> str:
    for candidate in (_ALIASES.get((section, key)), key, f"{section}_{key}"):
        if candidate in fields:
            return candidate
    raise ValueError(_unknown(preset, f"{section}.{key}", fields))


def _unknown(preset: str, key: str, fields: set[str]) -> str:
    return f"{preset}: unknown config key {key!r}; valid keys: {', '.join(sorted(fields))}"
