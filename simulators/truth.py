"""Planted ground truth (SIMULATORS.md §8): one row per phenomenon, written at generation time.

A row names a metric key `family.metric`, the expected value, a tolerance `<kind> [args]` with
kind in abs / rel / range / min / max / order / ci, and a reference `<derivation>: <source>`
with derivation in theory / paper / calibrated / by_construction. Keys outside the `sim` family
are scored against the analytics' `society_metric` output; `sim.*` keys need latent truth or
event tables and are scored by the simulator checker (`simulators.checker`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

TOLERANCE_KINDS = ("abs", "rel", "range", "min", "max", "order", "ci")
DERIVATIONS = ("theory", "paper", "calibrated", "by_construction", "blog")

# Sources cited by several presets.
HOLTZ = "Holtz, The Anatomy of the Moltbook Social Graph (arXiv:2602.10131)"
COLLECTIVE = (
    "De Marzo & Garcia, Collective Behavior of AI Agents: the Case of Moltbook (arXiv:2602.09270)"
)
TUNGUZ = "Tunguz, 5-day crawl of 98k posts (blog)"
PRICE = "Price et al., Let There Be Claws (arXiv:2602.20044)"
ZERHOUDI = "Zerhoudi et al., Form Without Function (arXiv:2604.13052)"
ILLUSION = "N. Li, The Moltbook Illusion (ln9527/moltbook-research)"
LI = "Li, Li & Zhou, Does Socialization Emerge in AI Agent Society? (arXiv:2602.14299)"
OASIS = "Yang et al., OASIS: Open Agent Social Interaction Simulations with One Million Agents"


@dataclass(frozen=True)
class TruthRow:
    """One planted expectation."""

    phenomenon: str
    metric: str  # `family.metric`
    expected: str
    tolerance: str
    reference: str

    def __post_init__(self) -> None:
        if "." not in self.metric:
            raise ValueError(f"metric key {self.metric!r} must read family.metric")
        if self.tolerance.split()[0] not in TOLERANCE_KINDS:
            raise ValueError(f"tolerance {self.tolerance!r}: kind must be one of {TOLERANCE_KINDS}")
        if self.reference.split(":")[0] not in DERIVATIONS:
            raise ValueError(f"reference {self.reference!r} must start with a derivation")


def truth_rows(*rows: tuple[str, str, str, str, str]) -> tuple[TruthRow, ...]:
    """Rows written as (phenomenon, metric, expected, tolerance, reference) tuples."""
    return tuple(TruthRow(*row) for row in rows)


def truth_frame(rows: tuple[TruthRow, ...] | list[TruthRow]) -> pd.DataFrame:
    """The `ground_truth` table; a (phenomenon, metric) pair appears once."""
    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows],
                         columns=[f.name for f in dataclasses.fields(TruthRow)])
    duplicated = frame.duplicated(subset=["phenomenon", "metric"])
    if duplicated.any():
        raise ValueError(f"duplicate ground-truth keys: {frame[duplicated].to_dict('records')}")
    return frame
