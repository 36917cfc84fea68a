"""Import the SimulaMet "Moltbook Observatory" CSV export into canonical rows (MOLTBOOK_API §9.3).

Four files, each optional: moltbook_agents.csv, moltbook_comments.csv, moltbook_posts.csv and
submolts_sample.csv, read in that (name) order with the csv module so quoted multi-line text,
`\\r` and every script survive verbatim. Every cell is text; an empty cell means missing (the CSV
cannot tell empty from NULL). Row sources are `<file>:<line where the record starts>`.

Rules for files: a file with a header and no records is legitimately empty; a file whose header
lacks the columns its rows need, or whose records all fail to map, raises NoValidRowsError.
The export has no agent ids, so agents are keyed by name (the cross-society join key, §8).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from assets.ingest.clean import (
    DEFAULT_OWNER_SALT,
    BatchCollector,
    MappedRows,
    NoValidRowsError,
    RowRejected,
    checked_text,
    clean_id,
    clean_text,
    community_key,
    latest_timestamp,
    optional_timestamp,
    owner_json,
    permalink_post_id,
    required_id,
    required_timestamp,
    society_row,
    to_bool,
    to_int,
    to_utc_timestamp,
)
from warehouse.batch import CanonicalBatch

PARSER_VERSION = "1"
COMMENT_CAP = 900  # the observatory poller treats 900+ stored comments as complete (§9.3)

AGENTS_FILE = "moltbook_agents.csv"
COMMENTS_FILE = "moltbook_comments.csv"
POSTS_FILE = "moltbook_posts.csv"
SUBMOLTS_FILE = "submolts_sample.csv"

# Columns a file must have for its rows to be mappable at all.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    AGENTS_FILE: ("name",),
    COMMENTS_FILE: ("id", "post_id", "created_at"),
    POSTS_FILE: ("id", "created_at"),
    SUBMOLTS_FILE: ("name",),
}
# Columns whose timestamps bound the export date from below.
_TIME_COLUMNS = ("created_at", "first_seen_at")
_CSV_FIELD_LIMIT = 2**31 - 1  # over-long text must reach the quarantine, not crash the reader

Record = dict[str, str]
CsvFile = tuple[list[str], list[tuple[int, list[str]]]]  # header, (start line, cells) per record


def read_csv_records(path: Path) -> CsvFile:
    """The header and every non-blank record with the line it starts on (header = line 1).

    Undecodable bytes become U+FFFD rather than failing the whole file.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        records: list[tuple[int, list[str]]] = []
        start = reader.line_num + 1
        for values in reader:
            if values:
                records.append((start, values))
            start = reader.line_num + 1
    return header, records


def as_record(header: list[str], values: list[str]) -> Record:
    """Cells by column name; a record with the wrong number of cells cannot be trusted."""
    if len(values) != len(header):
        raise RowRejected(f"row has {len(values)} fields, the header has {len(header)}")
    return dict(zip(header, values))


def _cell(record: Record, column: str) -> str | None:
    value = record.get(column)
    return value if value else None


def _seen(name: str | None, export_date: pd.Timestamp) -> list[dict[str, Any]]:
    """The name-only agent row of an author (agent_id = name, the export has no ids)."""
    if name is None:
        return []
    return [{"agent_id": name, "name": name, "first_seen_at": export_date, "last_seen_at": export_date}]


def _check_permalink(url: str | None, post_id: str, column: str) -> bool:
    """True when `url` is the permalink of `post_id`; rejects a permalink of another post."""
    linked = permalink_post_id(url)
    if linked is not None and linked != post_id:
        raise RowRejected(f"{column} points at post {linked}, not at post_id {post_id}")
    return linked is not None


def map_csv_post(record: Record, export_date: pd.Timestamp) -> MappedRows:
    """posts + post_snapshots + author and community of one posts.csv record (score is net only)."""
    post_id = required_id(record.get("id"), "id")
    created_at = required_timestamp(record.get("created_at"))
    url = _cell(record, "url")
    if _check_permalink(url, post_id, "url"):
        url = None  # the post's own permalink; `url` holds the target of link posts only
    author_id = clean_id(record.get("agent_name"))
    community_id = community_key(record.get("submolt"))
    score, comment_count = to_int(record.get("score")), to_int(record.get("comment_count"))
    row = {
        "post_id": post_id,
        "community_id": community_id,
        "author_id": author_id,
        "title": checked_text(_cell(record, "title"), "title"),
        "content": checked_text(_cell(record, "content"), "content"),
        "url": clean_id(url),
        "upvotes": None,
        "downvotes": None,
        "score": score,
        "comment_count": comment_count,
        "created_at": created_at,
        "is_deleted": False,
        "first_seen_at": export_date,
        "last_seen_at": export_date,
    }
    snapshot = {
        "post_id": post_id, "observed_at": export_date, "score": score, "comment_count": comment_count
    }
    community = {"community_id": community_id, "name": clean_id(record.get("submolt"))}
    return {
        "posts": [row],
        "post_snapshots": [snapshot],
        "agents": _seen(author_id, export_date),
        "communities": [community] if community_id else [],
    }


def map_csv_comment(record: Record, export_date: pd.Timestamp) -> MappedRows:
    """comments + author of one comments.csv record; root_id and depth come from the batch."""
    comment_id = required_id(record.get("id"), "id")
    post_id = required_id(record.get("post_id"), "post_id")
    _check_permalink(_cell(record, "post_url"), post_id, "post_url")
    created_at = required_timestamp(record.get("created_at"))
    parent_id = clean_id(record.get("parent_id"))
    if parent_id == comment_id:
        raise RowRejected("comment is its own parent")
    author_id = clean_id(record.get("agent_name"))
    row = {
        "comment_id": comment_id,
        "post_id": post_id,
        "parent_id": parent_id,
        "author_id": author_id,
        "content": checked_text(_cell(record, "content"), "content"),
        "upvotes": None,
        "downvotes": None,
        "score": to_int(record.get("score")),
        "created_at": created_at,
    }
    return {"comments": [row], "agents": _seen(author_id, export_date)}


def map_csv_agent(
    record: Record, export_date: pd.Timestamp, *, salt: str = DEFAULT_OWNER_SALT
) -> MappedRows:
    """agents + one agent_snapshots row at the export date (not at first_seen_at, §9.3)."""
    name = required_id(record.get("name"), "name")
    counts = {
        "karma": to_int(record.get("karma")),
        "follower_count": to_int(record.get("follower_count")),
        "following_count": to_int(record.get("following_count")),
    }
    first_seen = optional_timestamp(record.get("first_seen_at"), "first_seen_at")
    row = {
        "agent_id": name,
        "name": name,
        "description": checked_text(_cell(record, "description"), "description"),
        **counts,
        "is_claimed": to_bool(record.get("is_claimed")),
        "created_at": optional_timestamp(record.get("created_at"), "created_at"),
        "owner_json": owner_json(clean_id(record.get("owner_x_handle")), salt),
        "first_seen_at": first_seen or export_date,
        "last_seen_at": export_date,
    }
    return {
        "agents": [row],
        "agent_snapshots": [{"agent_id": name, "observed_at": export_date, **counts}],
    }


def map_csv_submolt(record: Record) -> MappedRows:
    """communities row of one submolts.csv record (its post_count has no canonical column)."""
    name = required_id(record.get("name"), "name")
    return {
        "communities": [
            {
                "community_id": community_key(name),
                "name": name,
                "display_name": clean_text(_cell(record, "display_name")),
                "description": checked_text(_cell(record, "description"), "description"),
                "subscriber_count": to_int(record.get("subscriber_count")),
            }
        ]
    }


_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    POSTS_FILE: ("title", "content"),
    COMMENTS_FILE: ("content",),
}


def _mapper(file: str, export_date: pd.Timestamp, salt: str) -> Callable[[Record], MappedRows]:
    if file == POSTS_FILE:
        return lambda record: map_csv_post(record, export_date)
    if file == COMMENTS_FILE:
        return lambda record: map_csv_comment(record, export_date)
    if file == AGENTS_FILE:
        return lambda record: map_csv_agent(record, export_date, salt=salt)
    return map_csv_submolt


def default_export_date(files: dict[str, CsvFile]) -> pd.Timestamp | None:
    """The latest created_at / first_seen_at in the export: the export cannot predate it."""
    values = (
        values[header.index(column)]
        for header, records in files.values()
        for column in _TIME_COLUMNS
        if column in header
        for _, values in records
        if len(values) == len(header)
    )
    return latest_timestamp(values)


def parse_observatory_export(
    directory: Path,
    society_id: str,
    export_date: pd.Timestamp | None = None,
    *,
    owner_salt: str = DEFAULT_OWNER_SALT,
) -> CanonicalBatch:
    """The canonical batch of an observatory export folder.

    `export_date` dates the snapshots and sightings; by default the latest timestamp in the files.
    """
    directory = Path(directory)
    present = sorted(name for name in REQUIRED_COLUMNS if (directory / name).is_file())
    if not present:
        expected = ", ".join(REQUIRED_COLUMNS)
        raise FileNotFoundError(f"no observatory export files ({expected}) in {directory}")
    files = {name: read_csv_records(directory / name) for name in present}
    for name, (header, _) in files.items():
        missing = [c for c in REQUIRED_COLUMNS[name] if header and c not in header]
        if missing:
            raise NoValidRowsError(
                f"{name}: header lacks the columns {missing}; is this the right file?"
            )

    if export_date is None:
        export_date = default_export_date(files)
        if export_date is None:
            raise ValueError(f"no timestamp in {directory} to date the export; pass export_date")
    exported = to_utc_timestamp(export_date)
    if exported is None:
        raise ValueError(f"export_date {export_date!r} is not a timestamp")

    collector = BatchCollector()
    for name in present:
        collector.add_file(name)
        header, records = files[name]
        mapper = _mapper(name, exported, owner_salt)
        for line, values in records:
            raw = dict(zip(header, values)) if len(values) == len(header) else {"cells": values}
            collector.add(
                name, f"{name}:{line}", raw,
                lambda: mapper(as_record(header, values)),
                text_fields=_TEXT_FIELDS.get(name, ()),
            )
    collector.resolve_threads()
    collector.check_files()
    society = society_row(
        society_id, str(directory), comment_cap=COMMENT_CAP, parser="observatory_csv",
        parser_version=PARSER_VERSION,
    )
    return collector.batch(society)
