"""Which source a society comes from, read off its id (the society partition key) or its folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assets.ingest.oasis import DATABASE_SUFFIXES, find_oasis_database
from simulators.output import is_society_folder
from simulators.tables import society_id_for as simulated_society_id

SourceKind = Literal["moltbook_api", "observatory_csv", "oasis", "canonical_jsonl", "simulator", "moltbook_live"]

DUMP_PREFIX = "moltbook-dump-"
OASIS_PREFIX = "oasis-"  # foreign traces are named after their platform (MOLTBOOK_API §0)
_DUMP_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SIM_ID = re.compile(r"^sim-(?P<preset>[a-z0-9_]+)-(?P<seed>\d+)(?:-(?P<twin>[a-z0-9_]+))?$")
OBSERVATORY_POSTS_FILE = "moltbook_posts.csv"
JSONL_POSTS_FILES = ("posts.jsonl", "posts.jsonl.gz")


@dataclass(frozen=True)
class SimulatedSociety:
    preset: str  # as the simulators name it, e.g. "moltbook-like"
    seed: int
    twin: str | None = None  # a counterfactual twin's name, e.g. "gamma0"


def dump_society_id(folder: Path, kind: SourceKind = "moltbook_api") -> str:
    """`moltbook-dump-<name>` (`oasis-<name>` for an OASIS run), name = the folder's or database
    file's name without suffix, lower-cased with anything unusual turned into `_`."""
    stem = folder.stem if folder.suffix.lower() in DATABASE_SUFFIXES else folder.name
    name = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_")
    if not name:
        raise ValueError(f"cannot name a society after the folder {folder}")
    return (OASIS_PREFIX if kind == "oasis" else DUMP_PREFIX) + name


def dump_folder_name(society_id: str) -> str:
    for prefix in (DUMP_PREFIX, OASIS_PREFIX):
        if society_id.startswith(prefix) and _DUMP_NAME.match(society_id[len(prefix):]):
            return society_id[len(prefix):]
    raise ValueError(f"{society_id!r} is not a dump society id (moltbook-dump-<name> or oasis-<name>)")


def dump_path(dumps_dir: Path, society_id: str) -> Path:
    """Where a dump society's input lies by default: `<dumps_dir>/<name>`, or for an OASIS run
    kept as a bare file, `<dumps_dir>/<name>.db` (or .sqlite, .sqlite3) when that exists."""
    name = dump_folder_name(society_id)
    folder = dumps_dir / name
    if not folder.exists() and society_id.startswith(OASIS_PREFIX):
        for suffix in DATABASE_SUFFIXES:
            if (dumps_dir / f"{name}{suffix}").is_file():
                return dumps_dir / f"{name}{suffix}"
    return folder


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
    """Recognise a dump by its files: the observatory CSV export, a canonical JSONL folder, an
    OASIS database (the file, or a folder holding exactly one), or raw API JSON."""
    if folder.is_file():
        return "oasis" if find_oasis_database(folder) is not None else None
    if not folder.is_dir():
        return None
    if (folder / OBSERVATORY_POSTS_FILE).is_file():
        return "observatory_csv"
    if any((folder / name).is_file() for name in JSONL_POSTS_FILES):
        return "canonical_jsonl"
    if find_oasis_database(folder) is not None:
        return "oasis"
    if any(folder.glob("*.json")):
        return "moltbook_api"
    return None


def discover_dumps(dumps_dir: Path) -> dict[str, tuple[SourceKind, Path]]:
    """Every recognisable dump directly under `dumps_dir` (folders, and OASIS database files),
    by society id."""
    found: dict[str, tuple[SourceKind, Path]] = {}
    if not dumps_dir.is_dir():
        return found
    candidates = (
        p for p in dumps_dir.iterdir()
        if p.is_dir() or (p.is_file() and p.suffix.lower() in DATABASE_SUFFIXES)
    )
    for path in sorted(candidates):
        kind = detect_dump_format(path)
        if kind is not None:
            found[dump_society_id(path, kind)] = (kind, path)
    return found
