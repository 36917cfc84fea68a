"""Independent checker: measures planted phenomena from emitted tables and scores ground truth.

Each preset has a module `simulators.checker.<preset with underscores>` whose
`measure(batch) -> dict[str, Measured]` reads only the batch's tables.
"""

from __future__ import annotations

import dataclasses
import importlib

from simulators.checker.common import Verdict, score
from simulators.presets import preset_spec, simulate
from warehouse.batch import CanonicalBatch


def check_society(batch: CanonicalBatch) -> list[Verdict]:
    """Score a simulated society's ground-truth rows that its preset's checker can measure.

    An observed twin (SIMULATORS.md §4.10) lacks the event tables its truth rows are measured on;
    its truth belongs to the underlying run, so that run is rebuilt and scored instead.
    """
    if batch.society["config_json"].get("observed") is not None:
        batch = underlying_run(batch)
    preset = str(batch.society["preset"])
    module = importlib.import_module(f"simulators.checker.{preset.replace('-', '_')}")
    return score(batch.tables["ground_truth"], module.measure(batch))


def underlying_run(observed: CanonicalBatch) -> CanonicalBatch:
    """The full run an observed twin was derived from: same preset, seed and resolved config."""
    society = observed.society
    cfg = preset_spec(society["preset"]).config_class.from_json(society["config_json"])
    values = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    return simulate(society["preset"], seed=int(society["seed"]), **values)
