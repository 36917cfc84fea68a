"""Which source a society comes from, read off its id (the society partition key) or its folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from simulators.output import is_society_folder
from simulators.tables import society_id_for as simulated_society_id

SourceKind = Literal["moltbook_api", "observatory_csv", "simulator"]

DUMP_PREFIX = "moltbook-dump-"
_DUMP_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SIM_ID = re.compile(r"^sim-(?P<preset>[a-z0-9_]+)-(?P<seed>\d+)(?:-(?P<twin>[a-z0-9_]+))?$")
OBSERVATORY_POSTS_FILE = "moltbook_posts.csv"


@dataclass(frozen=True)
class SimulatedSociety:
    preset: str  # as the simulators name it, e.g. "moltbook-like"
    seed: int
    twin: str | None = None  # a counterfactual twin's name, e.g. "gamma0"


def dump_society_id(folder: Path) -> str:
    """`moltbook-dump-<folder name>`, lower-cased with anything unusual turned into `_`."""
    name = re.sub(r"[^a-z0-9_]+", "_", folder.name.lower()).strip("_")
    if not name:
        raise ValueError(f"cannot name a society after the folder {folder}")
    return DUMP_PREFIX + name


def dump_folder_name(society_id: str) -> str:
    if not society_id.startswith(DUMP_PREFIX) or not _DUMP_NAME.match(society_id[len(DUMP_PREFIX):]):
        raise ValueError(f"{society_id!r} is not a dump society id (moltbook-dump-<name>)")
    return society_id[len(DUMP_PREFIX):]


def parse_simulated_society_id(society_id: str) -> SimulatedSociety:
    match = _SIM_ID.match(society_id)
    if not match:
        raise ValueError(
            f"{society_id!r} is not a simulated society id (sim-<preset>-<seed>[-<twin>])"
        )
    return SimulatedSociety(
        preset=match["preset"].replace("_", "-"), seed=int(match["seed"]), twin=match["twin"]
    )


def discover_simulations(sim_dir: Path) -> dict[str, Path]:
    """Society folders written by `simulate --out` directly under `sim_dir`, by society id."""
    found: dict[str, Path] = {}
    if not sim_dir.is_dir():
        return found
    for folder in sorted(p for p in sim_dir.iterdir() if is_society_folder(p)):
        if _SIM_ID.match(folder.name):
            found[folder.name] = folder
    return found


def detect_dump_format(folder: Path) -> SourceKind | None:
    """Recognise a dump folder by its files: the observatory CSV export or raw API JSON."""
    if not folder.is_dir():
        return None
    if (folder / OBSERVATORY_POSTS_FILE).is_file():
        return "observatory_csv"
    if any(folder.glob("*.json")):
        return "moltbook_api"
    return None


def discover_dumps(dumps_dir: Path) -> dict[str, tuple[SourceKind, Path]]:
    """Every recognisable dump folder directly under `dumps_dir`, by society id."""
    found: dict[str, tuple[SourceKind, Path]] = {}
    if not dumps_dir.is_dir():
        return found
    for folder in sorted(p for p in dumps_dir.iterdir() if p.is_dir()):
        kind = detect_dump_format(folder)
        if kind is not None:
            found[dump_society_id(folder)] = (kind, folder)
    return found
