"""What a preset is: config class, engine, planted truth and counterfactual twins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from simulators.checkpoint import Checkpoints
from simulators.config import SimConfig
from simulators.core import Trace
from simulators.observation import OBSERVED_TWIN
from simulators.truth import TruthRow


@dataclass(frozen=True)
class Preset:
    name: str
    config_class: type[SimConfig]
    run: Callable[[Any, int, Checkpoints | None], Trace]
    truth: Callable[[Any, Trace], tuple[TruthRow, ...]]
    # twin name -> the overrides that switch its one knob (several keys only when the knob is
    # a mechanism spread over several fields, e.g. "feed -> random" in echo-chamber)
    twins: dict[str, dict[str, Any]] = field(default_factory=dict)
    reference_size: tuple[int, int] = (0, 0)  # (n_agents, n_steps) the truth rows describe
    # metric key -> why its row holds only near reference_size (a harness skips it when the run
    # differs from that size by more than 2×, §5)
    scale_dependent: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if OBSERVED_TWIN in self.twins:
            raise ValueError(f"{self.name}: {OBSERVED_TWIN!r} is every preset's observation twin")

    @property
    def twin_names(self) -> list[str]:
        """Declared twins plus the observed twin (§4.10), which every preset has."""
        return sorted([*self.twins, OBSERVED_TWIN])
