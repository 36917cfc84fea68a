"""Independent checker: measures planted phenomena from emitted tables and scores ground truth.

Each preset has a module `simulators.checker.<preset with underscores>` whose
`measure(batch) -> dict[str, Measured]` reads only the batch's tables.
"""

from __future__ import annotations

import dataclasses
import importlib

from simulators.checker.common import Measured, Verdict, score
from simulators.presets import preset_spec, simulate
from warehouse.batch import CanonicalBatch


def check_society(batch: CanonicalBatch) -> list[Verdict]:
    """Score a simulated society's ground-truth rows that its preset's checker can measure.

    An observed twin (SIMULATORS.md §4.10) lacks the event tables its truth rows are measured on;
    its truth belongs to the underlying run, so that run is rebuilt and scored instead.
    """
    full = full_run(batch)
    return score(full.tables["ground_truth"], measure_society(full))


def measure_society(batch: CanonicalBatch) -> dict[str, Measured]:
    """What the preset's checker measures on a full (not observed) run, keyed by metric."""
    preset = str(batch.society["preset"])
    module = importlib.import_module(f"simulators.checker.{preset.replace('-', '_')}")
    return module.measure(batch)


def full_run(batch: CanonicalBatch) -> CanonicalBatch:
    """The batch itself, or for an observed twin the full run it was derived from."""
    return underlying_run(batch) if batch.society["config_json"].get("observed") is not None else batch


def underlying_run(observed: CanonicalBatch) -> CanonicalBatch:
    """The full run an observed twin was derived from: same preset, seed and resolved config."""
    society = observed.society
    cfg = preset_spec(society["preset"]).config_class.from_json(society["config_json"])
    values = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    return simulate(society["preset"], seed=int(society["seed"]), **values)
