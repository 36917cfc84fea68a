"""Configuration shared by every preset: size, clock, text and observation knobs.

Each preset declares a frozen dataclass that extends `SimConfig` with its own mechanics and
redeclares the defaults it changes. The resolved config (every default filled in) is stored in
`societies.config_json`; with the seed and ENGINE_VERSION it fully determines a run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from simulators.ngram import MAX_FILLERS_PER_ITEM, corpus_sha256

# Bump whenever a change to an engine or the text generator can change any emitted row.
ENGINE_VERSION = "0.3.2"

C = TypeVar("C", bound="SimConfig")


@dataclass(frozen=True)
class SimConfig:
    """Knobs every preset has. Subclasses add mechanics; `resolved()` fills derived values."""

    # Size and clock
    n_agents: int = 500
    n_steps: int = 720
    clock_start: str = "2026-02-01T00:00:00Z"
    step_seconds: int = 60

    # Communities (None: the preset derives a count from n_agents)
    n_communities: int | None = None

    # Text (SIMULATORS.md §4.8)
    p_dup: float = 0.0
    template_pool: int = 40
    template_zipf: float = 1.0
    signal_strength: float = 0.15
    label_noise: float = 0.0
    topic_from_interest: float = 0.7  # a post's topic is its author's interest, else uniform
    comment_topic_from_post: float = 0.4  # else the commenter's own interest
    filler_rate: float = 0.5  # expected n-gram filler sentences per non-viral body (layer 4)
    filler_corpus: str | None = None  # UTF-8, one sentence per line; None: the built-in chain
    filler_corpus_sha256: str | None = None  # filled from the file when None; checked after

    # Threads and feeds
    max_depth: int = 10
    feed_size: int = 10

    # Observation (§7)
    snapshot_every: int = 15
    snapshot_horizon_steps: int = 1_440
    exposure_log_rate: float = 1.0

    def __post_init__(self) -> None:
        """Record the filler corpus's content hash beside its path (stored in config_json), so a
        run replayed on a changed corpus file is refused rather than silently different."""
        if self.filler_corpus is not None and self.filler_corpus_sha256 is None:
            object.__setattr__(self, "filler_corpus_sha256", corpus_sha256(self.filler_corpus))

    def resolved(self: C) -> C:
        """Fill size-dependent defaults so the stored config names every value used."""
        n_comm = self.n_communities
        if n_comm is None:
            n_comm = max(3, round(self.n_agents / 20))
        return dataclasses.replace(self, n_communities=int(n_comm))

    def validate(self) -> None:
        if self.n_agents < 10 or self.n_steps < 1:
            raise ValueError("need at least 10 agents and 1 step")
        start = datetime.fromisoformat(self.clock_start.replace("Z", "+00:00"))
        if start.tzinfo is None:
            raise ValueError("clock_start must carry a UTC offset, e.g. 2026-02-01T00:00:00Z")
        if not 0.0 < self.exposure_log_rate <= 1.0:
            raise ValueError("exposure_log_rate lies in (0, 1]: the share of feed slots logged")
        if self.max_depth < 1:
            raise ValueError("max_depth must be >= 1")
        if not (0.0 <= self.p_dup <= 1.0 and 0.0 <= self.signal_strength <= 1.0
                and 0.0 <= self.label_noise <= 0.5):
            raise ValueError("p_dup and signal_strength lie in [0, 1], label_noise in [0, 0.5]")
        if self.step_seconds < 1 or self.snapshot_every < 1:
            raise ValueError("step_seconds and snapshot_every must be positive")
        if not 0.0 <= self.filler_rate <= MAX_FILLERS_PER_ITEM:
            raise ValueError(f"filler_rate lies in [0, {MAX_FILLERS_PER_ITEM}]")
        if (self.filler_corpus is not None
                and corpus_sha256(self.filler_corpus) != self.filler_corpus_sha256):
            raise ValueError(f"filler corpus {self.filler_corpus} does not match "
                             "filler_corpus_sha256 (set it to None to take the file as it is)")

    def to_json(self) -> dict[str, Any]:
        return json_ready(dataclasses.asdict(self))

    @classmethod
    def from_json(cls: type[C], data: dict[str, Any]) -> C:
        """Rebuild from a stored `config_json`; keys that are not config fields are ignored."""
        values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        for f in dataclasses.fields(cls):
            default = _default_of(f)
            if f.name in values and isinstance(default, tuple):
                values[f.name] = _as_tuple(values[f.name])
        return cls(**values)


def json_ready(value: Any) -> Any:
    """Tuples become lists (JSON has no tuples); everything else as is."""
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_as_tuple(v) for v in value)
    return value


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None
