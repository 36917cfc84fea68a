"""One folder per simulated society, one Parquet file per canonical table (SIMULATORS.md §7).

`simulate --out DIR` writes these folders; the pipeline's simulation sensor turns each new
folder into a society partition and imports it unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from warehouse.batch import CanonicalBatch

SOCIETY_FILE = "society.json"


def write_society_folder(batch: CanonicalBatch, out_dir: Path) -> Path:
    """Write `<out_dir>/<society_id>/` atomically: files land in a temporary folder first, so a
    watcher never sees half a society."""
    final = Path(out_dir) / batch.society_id
    staging = Path(out_dir) / f".{batch.society_id}.partial"
    staging.mkdir(parents=True, exist_ok=False)
    for name, frame in batch.tables.items():
        frame.to_parquet(staging / f"{name}.parquet", index=False)
    society = json.dumps(batch.society, sort_keys=True, default=str, indent=1)
    (staging / SOCIETY_FILE).write_text(society)
    if final.exists():
        raise FileExistsError(f"{final} exists; remove it or choose another seed or twin")
    staging.rename(final)
    return final


def read_society_folder(folder: Path) -> CanonicalBatch:
    society = json.loads((Path(folder) / SOCIETY_FILE).read_text())
    if society.get("created_at"):
        society["created_at"] = pd.Timestamp(society["created_at"])
    tables = {path.stem: pd.read_parquet(path) for path in sorted(Path(folder).glob("*.parquet"))}
    return CanonicalBatch(society=society, tables=tables)


def is_society_folder(folder: Path) -> bool:
    return folder.is_dir() and (folder / SOCIETY_FILE).is_file() and not folder.name.startswith(".")
