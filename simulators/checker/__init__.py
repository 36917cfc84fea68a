"""Independent checker: measures planted phenomena from emitted tables and scores ground truth.

Each preset has a module `simulators.checker.<preset with underscores>` whose
`measure(batch) -> dict[str, Measured]` reads only the batch's tables.
"""

from __future__ import annotations

import importlib

from simulators.checker.common import Verdict, score
from warehouse.batch import CanonicalBatch


def check_society(batch: CanonicalBatch) -> list[Verdict]:
    """Score a simulated society's ground-truth rows that its preset's checker can measure."""
    preset = str(batch.society["preset"])
    module = importlib.import_module(f"simulators.checker.{preset.replace('-', '_')}")
    return score(batch.tables["ground_truth"], module.measure(batch))
