"""Canonical JSONL dumps: one folder per society, one `<table>.jsonl[.gz]` per canonical table.

This is the warehouse's own interchange format (DESIGN.md §4): `observatory export-jsonl DIR`
writes `DIR/<society_id>/<table>.jsonl.gz` with `export_canonical_jsonl`, and importing such a
folder with `parse_canonical_jsonl` restores the society, so a warehouse round-trips. Other
tools may write the format too, so the input is read as foreign data:

- Files: `<table>.jsonl` or `<table>.jsonl.gz` for the tables in CANONICAL_TABLES, read in name
  order. Any other `*.jsonl[.gz]` name, or both spellings of one table, is refused (ValueError).
  Other files are ignored. A `.gz` that is not gzip raises NoValidRowsError; a truncated one
  keeps the rows before the damage and records the loss in quarantine.
- Lines: one JSON object each; blank lines are skipped. A line that is not a JSON object is
  quarantined. Row sources are `<file>:<line number>`.
- Columns: the canonical column names. `society_id` may be left out (the folder is one society);
  a row naming another society is quarantined. An unknown column is not imported: the first line
  of a file that carries it gets a quarantine note naming the column, and its rows still load.
- Values: coerced with the tolerant helpers of clean.py, so a bad count or flag becomes NULL.
  A missing key, a non-empty timestamp that does not parse, text over the size limit, JSON
  columns that are not JSON, and values the schema forbids (follows.action other than
  follow/unfollow, actions.source other than rule/llm) quarantine the row.
- Comments without root_id / depth get them from their parent chain; given values are kept.
- A file with rows of which none could be mapped raises NoValidRowsError naming it.

No dagster here.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb

from assets.ingest.clean import (
    TABLE_COLUMNS,
    TABLE_KEYS,
    BatchCollector,
    MappedRows,
    NoValidRowsError,
    RowRejected,
    checked_text,
    clean_id,
    clean_text,
    optional_timestamp,
    to_bool,
    to_int,
)
from warehouse.batch import CanonicalBatch

PARSER_VERSION = "1"

SOCIETY_COLUMNS: dict[str, str] = {
    "society_id": "str", "kind": "str", "platform": "str", "preset": "str", "seed": "int",
    "config_json": "json", "source_uri": "str", "created_at": "ts", "ingested_at": "ts",
}

# Every table a canonical JSONL dump may hold, with its columns (society_id aside) and key.
CANONICAL_COLUMNS: dict[str, dict[str, str]] = {
    "societies": {c: k for c, k in SOCIETY_COLUMNS.items() if c != "society_id"},
    **TABLE_COLUMNS,
}
CANONICAL_KEYS: dict[str, tuple[str, ...]] = {"societies": (), **TABLE_KEYS}
CANONICAL_TABLES: tuple[str, ...] = tuple(CANONICAL_COLUMNS)

# Column details the kinds above do not carry: JSON text, 32-bit integers, forced values.
JSON_COLUMNS = {"config_json", "owner_json", "info_json"}
INT32_COLUMNS = {"depth", "value", "step", "rank"}
ALLOWED_VALUES: dict[tuple[str, str], set[str | None]] = {
    ("follows", "action"): {"follow", "unfollow"},
    ("actions", "source"): {"rule", "llm", None},
    ("societies", "kind"): {"live", "dump", "trace", "sim", None},
}
TEXT_FIELDS: dict[str, tuple[str, ...]] = {"posts": ("title", "content"), "comments": ("content",)}
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------------------------
# Reading


def jsonl_files(directory: Path) -> dict[str, Path]:
    """The table files of a dump folder by table name; refuses unknown or doubled tables."""
    found: dict[str, Path] = {}
    for path in sorted(Path(directory).iterdir()):
        name = path.name
        if not path.is_file() or not (name.endswith(".jsonl") or name.endswith(".jsonl.gz")):
            continue
        table = name.removesuffix(".gz").removesuffix(".jsonl")
        if table not in CANONICAL_COLUMNS:
            raise ValueError(
                f"{name}: {table!r} is not a canonical table; a canonical JSONL dump holds only "
                + ", ".join(CANONICAL_TABLES)
            )
        if table in found:
            raise ValueError(f"{directory}: both {found[table].name} and {name}; keep one of them")
        found[table] = path
    return found


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; undecodable bytes become U+FFFD."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="\n") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _coerce(column: str, kind: str, value: Any) -> Any:
    """One value of a JSONL row as the warehouse stores it; RowRejected when it cannot be."""
    if column in JSON_COLUMNS:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise RowRejected(f"{column} is not valid JSON") from None
        return checked_text(json.dumps(value, ensure_ascii=False), column)
    if kind == "int":
        number = to_int(value)
        if number is not None and column in INT32_COLUMNS and not _INT32_MIN <= number <= _INT32_MAX:
            return None
        return number
    if kind == "bool":
        return to_bool(value)
    if kind == "ts":
        return optional_timestamp(value, column)
    if column.endswith("_id"):
        return clean_id(value)
    return checked_text(value, column)


def map_jsonl_row(table: str, record: Any, society_id: str) -> MappedRows:
    """The canonical row of one JSONL line of `table` (society_id filled in, unknown keys ignored)."""
    if not isinstance(record, dict):
        raise RowRejected(f"line holds a JSON {type(record).__name__}, not an object")
    named = clean_id(record.get("society_id"))
    if named is not None and named != society_id:
        raise RowRejected(f"row belongs to society {named[:80]!r}, not {society_id!r}")
    row = {
        column: _coerce(column, kind, record.get(column))
        for column, kind in CANONICAL_COLUMNS[table].items()
    }
    for key in CANONICAL_KEYS[table]:
        if row[key] is None:
            raise RowRejected(f"{key} is missing, empty or not a valid value")
    for (name, column), allowed in ALLOWED_VALUES.items():
        if name == table and row[column] not in allowed:
            shown = "missing" if row[column] is None else repr(row[column][:40])
            raise RowRejected(f"{column} is {shown}; allowed: {sorted(a for a in allowed if a)}")
    if table == "comments":
        if row["post_id"] is None:
            raise RowRejected("post_id is missing or empty")
        if row["parent_id"] is not None and row["parent_id"] == row["comment_id"]:
            raise RowRejected("comment is its own parent")
    if table == "posts" and row["is_deleted"] is None:
        row["is_deleted"] = False  # NOT NULL in the schema; a dump that does not say means no
    if table == "societies":
        row["society_id"] = society_id
    return {table: [row]}


def _read_file(collector: BatchCollector, table: str, path: Path, society_id: str) -> None:
    """Feed every line of one table file to the collector (rows numbered in file order)."""
    name = path.name
    known = set(CANONICAL_COLUMNS[table]) | {"society_id"}
    noted: set[str] = set()
    last_line = 0
    lines = iter_lines(path)
    while True:
        try:
            number, line = next(lines)
        except StopIteration:
            return
        except (EOFError, OSError, zlib.error) as err:  # gzip damage (BadGzipFile is an OSError)
            if last_line == 0:
                raise NoValidRowsError(f"{name}: cannot be read as gzip-compressed JSONL ({err})") from None
            collector.note(name, f"{name}:{last_line + 1}", {"file": name},
                           f"file is damaged after line {last_line}; the rest is lost ({err})")
            return
        last_line = number
        source = f"{name}:{number}"
        try:
            record = json.loads(line)
        except ValueError as err:
            collector.reject(name, collector.next_row(name), source, clean_text(line.rstrip("\n")) or "",
                             f"line is not JSON ({err})")
            continue
        if isinstance(record, dict):
            for column in sorted(set(record) - known - noted):
                noted.add(column)
                collector.note(name, source, {"column": column, "value": record[column]},
                               f"unknown column {column!r} of {table}: its values are not imported")
        collector.add(
            name, source, record, lambda: map_jsonl_row(table, record, society_id),
            text_fields=TEXT_FIELDS.get(table, ()),
        )


def _resolve_missing_threads(collector: BatchCollector) -> None:
    """root_id and depth from parent chains, for the comments that arrived without them."""
    given = {
        key: (row["root_id"], row["depth"])
        for key, row in collector.rows["comments"].items()
        if row.get("root_id") is not None and row.get("depth") is not None
    }
    collector.resolve_threads()
    for key, (root_id, depth) in given.items():
        if key in collector.rows["comments"]:
            collector.rows["comments"][key].update(root_id=root_id, depth=depth)


def parse_canonical_jsonl(directory: Path, society_id: str) -> CanonicalBatch:
    """The canonical batch of one society's JSONL folder.

    The `societies` row is the one in societies.jsonl when the folder has one (a round trip keeps
    kind, platform, config and source); otherwise a `dump` society of unknown platform whose
    source is the folder.
    """
    directory = Path(directory)
    files = jsonl_files(directory)
    if "posts" not in files:
        raise FileNotFoundError(f"no posts.jsonl or posts.jsonl.gz in {directory}")
    collector = BatchCollector(extra_keys={"societies": ("society_id",)})  # read, not a frame
    for table, path in files.items():
        collector.add_file(path.name)
        _read_file(collector, table, path, society_id)
    _resolve_missing_threads(collector)
    collector.check_files()
    stored = collector.rows["societies"].get((society_id,))
    if stored is not None:  # the file's row as it is: a round trip changes nothing
        society = {**stored, "society_id": society_id, "kind": stored.get("kind") or "dump"}
    else:
        society = {
            "society_id": society_id,
            "kind": "dump",
            "config_json": {"parser": "canonical_jsonl", "parser_version": PARSER_VERSION},
            "source_uri": str(directory),
        }
    return collector.batch(society)


# --------------------------------------------------------------------------------------------
# Writing (the export side of the round trip)


def _jsonable(value: Any, column: str) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if column in JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    return value


def export_society_jsonl(conn: duckdb.DuckDBPyConnection, society_id: str, folder: Path) -> list[Path]:
    """Write one society's canonical tables as `<folder>/<table>.jsonl.gz`, rows in key order.

    Rows leave out society_id (the folder is the society), so the folder can be imported under
    any id. Files are gzip with a zero timestamp: the same rows give the same bytes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, columns in CANONICAL_COLUMNS.items():
        names = list(columns)
        order = ", ".join(f'"{k}"' for k in CANONICAL_KEYS[table]) or "1"
        cursor = conn.execute(
            f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} FROM "{table}" '
            f"WHERE society_id = ? ORDER BY {order}",
            [society_id],
        )
        target = folder / f"{table}.jsonl.gz"
        with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
            while chunk := cursor.fetchmany(10_000):
                for values in chunk:
                    record = {n: _jsonable(v, n) for n, v in zip(names, values)}
                    out.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        written.append(target)
    return written


def export_canonical_jsonl(conn: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write every society of the warehouse as `<out_dir>/<society_id>/`; returns the folders."""
    out_dir = Path(out_dir)
    ids = [r[0] for r in conn.execute("SELECT society_id FROM societies ORDER BY society_id").fetchall()]
    unsafe = [society_id for society_id in ids if not _SAFE_FOLDER.match(society_id)]
    if unsafe:
        raise ValueError(f"society ids that cannot name a folder: {unsafe}; nothing exported")
    folders = []
    for society_id in ids:
        export_society_jsonl(conn, society_id, out_dir / society_id)
        folders.append(out_dir / society_id)
    return folders
