"""Tolerant value parsing and row bookkeeping shared by the Moltbook importers (MOLTBOOK_API §3.7).

Every importer turns foreign records into canonical rows the same way: normalise keys, coerce
values leniently (a bad count becomes NULL, never an exception), quarantine rows that cannot be
keyed or dated, merge repeated sightings, and resolve comment threads from parent links. No dagster.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from warehouse.batch import CanonicalBatch, QuarantinedRow

MAX_TEXT_CHARS = 1_000_000  # longer text is treated as an attack or a broken row, not as content
DEFAULT_OWNER_SALT = "observatory"  # per-deployment salt for hashing owner handles (§7.8)

# §6.3: both windows deliberately wide so that either account of the early-February outage is covered.
MOLTBOOK_TIME_FLAGS: tuple[dict[str, str], ...] = (
    {"flag": "comment_outage", "start": "2026-01-31T00:00:00Z", "end": "2026-02-03T23:59:00Z"},
    {"flag": "identity_unreliable", "start": "2026-01-31T00:00:00Z", "end": "2026-02-03T23:59:00Z"},
)


class NoValidRowsError(ValueError):
    """An input file held rows but none could be mapped: almost surely the wrong file or format."""


class RowRejected(ValueError):
    """Raised by a row mapper; the message becomes the quarantine reason."""


# --------------------------------------------------------------------------------------------
# Keys


# Known camelCase → snake_case pairs (§3.2, §3.7); the generic rule below covers the rest.
KEY_ALIASES: dict[str, str] = {
    "avatarUrl": "avatar_url",
    "followerCount": "follower_count",
    "followingCount": "following_count",
    "isClaimed": "is_claimed",
    "isActive": "is_active",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "lastActive": "last_active",
    "recentPosts": "recent_posts",
    "recentComments": "recent_comments",
    "authorId": "author_id",
    "postId": "post_id",
    "parentId": "parent_id",
    "commentCount": "comment_count",
    "displayName": "display_name",
    "subscriberCount": "subscriber_count",
    "isDeleted": "is_deleted",
    "hotScore": "hot_score",
    "nextCursor": "next_cursor",
    "nextOffset": "next_offset",
    "hasMore": "has_more",
    "xHandle": "x_handle",
}

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def to_snake(key: str) -> str:
    """`followerCount` → `follower_count`, `postURL` → `post_url`; snake_case keys pass unchanged."""
    if key in KEY_ALIASES:
        return KEY_ALIASES[key]
    return _CAMEL_BOUNDARY.sub("_", key).lower()


def snake_keys(value: Any) -> Any:
    """Recursively snake_case every dict key; on a clash the key already in snake_case wins."""
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = to_snake(key) if isinstance(key, str) else key
        if name in out and key != name:
            continue  # the explicit snake_case spelling was already stored
        out[name] = snake_keys(item)
    return out


# --------------------------------------------------------------------------------------------
# Values

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def to_int(value: Any) -> int | None:
    """An integer from int, integral float or numeric string ("1540600", " 12.0\\r"); else None.

    Booleans, fractional numbers, NaN and values beyond BIGINT are None: they are not counts.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        number: int | None = value
    elif isinstance(value, float):
        number = int(value) if math.isfinite(value) and value.is_integer() else None
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:
                dec = Decimal(text)
            except InvalidOperation:
                return None
            number = int(dec) if dec.is_finite() and dec == dec.to_integral_value() else None
    else:
        return None
    if number is None or not _INT64_MIN <= number <= _INT64_MAX:
        return None
    return number


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def to_bool(value: Any) -> bool | None:
    """true/false, 0/1 and their string spellings (yes/no, t/f, any case); anything else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


# ISO-8601 only: pd.Timestamp alone would also accept "now", "today" or bare years.
_ISO_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$"
)


def to_utc_timestamp(value: Any) -> pd.Timestamp | None:
    """A tz-aware UTC timestamp from µs `+00:00`, ms `Z` or fractionless ISO text; naive = UTC.

    Surrounding whitespace and stray `\\r` are trimmed; anything unparseable is None.
    """
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        stamp = pd.Timestamp(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _ISO_TIMESTAMP.match(text):
            return None
        try:
            stamp = pd.Timestamp(text)
        except (ValueError, OverflowError):
            return None
    else:
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")


def clean_text(value: Any) -> str | None:
    """Text as stored: lone UTF-16 surrogates and NUL become U+FFFD, all else is kept verbatim.

    Such code points cannot be encoded as UTF-8 (DuckDB VARCHAR) and appear when an API escapes
    half of an emoji; multi-line text, emoji and every script pass through untouched.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    if not _SURROGATE_OR_NUL.search(value):
        return value
    # A UTF-16 round trip re-pairs split surrogate pairs and replaces the lone ones.
    value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value.replace("\x00", "\ufffd")


def clean_id(value: Any) -> str | None:
    """A platform id as a trimmed string; empty, missing or structured values are None."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = clean_text(value)
    text = text.strip() if text is not None else None
    return text or None


def checked_text(value: Any, field: str) -> str | None:
    """`clean_text`, rejecting the row when the text exceeds MAX_TEXT_CHARS."""
    text = clean_text(value)
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise RowRejected(f"{field} is {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit")
    return text


def required_timestamp(value: Any, field: str = "created_at") -> pd.Timestamp:
    stamp = to_utc_timestamp(value)
    if stamp is None:
        shown = "missing" if value in (None, "") else f"unparseable ({str(value)[:60]!r})"
        raise RowRejected(f"{field} is {shown}")
    return stamp


def optional_timestamp(value: Any, field: str) -> pd.Timestamp | None:
    """None for an empty value; a non-empty value that is not a timestamp rejects the row."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return required_timestamp(value, field)


def required_id(value: Any, field: str) -> str:
    ident = clean_id(value)
    if ident is None:
        raise RowRejected(f"{field} is missing or empty")
    return ident


def latest_timestamp(values: Iterable[Any]) -> pd.Timestamp | None:
    """The latest parseable timestamp among `values`: the deterministic stand-in for a fetch time."""
    stamps = [s for s in map(to_utc_timestamp, values) if s is not None]
    return max(stamps) if stamps else None


def input_fingerprint(paths: Iterable[Path]) -> str:
    """sha256 over the sorted file names and their bytes: the same input gives the same run id."""
    digest = hashlib.sha256()
    for path in sorted((Path(p) for p in paths), key=lambda p: (p.name, str(p))):
        data = path.read_bytes()
        digest.update(path.name.encode("utf-8") + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


def raw_json(value: Any) -> str:
    """A quarantined row as JSON text; escaped to ASCII only when it holds lone surrogates."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return json.dumps(value, ensure_ascii=True, default=str) if _SURROGATE_OR_NUL.search(text) else text


# --------------------------------------------------------------------------------------------
# Moltbook specifics shared by both importers


def hash_handle(handle: Any, salt: str = DEFAULT_OWNER_SALT) -> str | None:
    """Salted sha256 of an X handle, case- and `@`-insensitive, so one person hashes the same."""
    text = clean_id(handle)
    if text is None:
        return None
    normalised = text.lstrip("@").lower()
    return hashlib.sha256(f"{salt}\0{normalised}".encode("utf-8")).hexdigest() if normalised else None


# Owner fields safe to keep: counts and flags. Names, bios and avatars identify a person (§7.8).
_OWNER_KEEP = ("x_follower_count", "x_following_count", "x_verified")


def owner_json(owner: Any, salt: str = DEFAULT_OWNER_SALT) -> str | None:
    """The `owner_json` of an agent: hashed handle plus non-identifying counts, never raw x_*."""
    if isinstance(owner, str):
        owner = {"x_handle": owner}
    if not isinstance(owner, dict):
        return None
    owner = snake_keys(owner)
    record: dict[str, Any] = {}
    hashed = hash_handle(owner.get("x_handle"), salt)
    if hashed is not None:
        record["x_handle_sha256"] = hashed
    for key in _OWNER_KEEP:
        if owner.get(key) is not None:
            record[key] = to_bool(owner[key]) if key == "x_verified" else to_int(owner[key])
    return json.dumps(record, sort_keys=True) if record else None


_PERMALINK = re.compile(r"moltbook\.com/posts?/([^/?#\s]+)", re.IGNORECASE)


def permalink_post_id(url: Any) -> str | None:
    """The post id in a Moltbook permalink (`/posts/<id>` or the later `/post/<id>`), else None."""
    if not isinstance(url, str):
        return None
    match = _PERMALINK.search(url)
    return match.group(1) if match else None


def community_key(name: Any) -> str | None:
    """community_id = lower-cased submolt name, the one key every Moltbook source carries (§8)."""
    text = clean_id(name)
    return text.lower() if text else None


def society_row(
    society_id: str,
    source_uri: str,
    *,
    comment_cap: int,
    parser: str,
    parser_version: str,
    kind: str = "dump",
) -> dict[str, Any]:
    """The `societies` row of a Moltbook source; no ingest time, so re-imports leave it unchanged."""
    return {
        "society_id": society_id,
        "kind": kind,
        "platform": "moltbook",
        "config_json": {
            "comment_cap": comment_cap,
            "default_community_id": "general",
            "time_flags": [dict(flag) for flag in MOLTBOOK_TIME_FLAGS],
            "parser": parser,
            "parser_version": parser_version,
        },
        "source_uri": source_uri,
    }


# --------------------------------------------------------------------------------------------
# Comment threads


def thread_positions(
    parents: Mapping[str, str | None],
) -> tuple[dict[str, tuple[str | None, int | None]], set[str]]:
    """(root_id, depth) of every comment from its parent link, and the ids that sit on a cycle.

    A top-level comment (parent None) is its own root at depth 1; a reply is one deeper than its
    parent. When the chain reaches a parent that is not in `parents` (not fetched, or rejected),
    root and depth are unknown (None) so a later sync can resolve them (§3.7).
    """
    unknown: tuple[str | None, int | None] = (None, None)
    positions: dict[str, tuple[str | None, int | None]] = {}
    cyclic: set[str] = set()
    for start in parents:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node = start
        while True:
            if node in positions:
                anchor = positions[node]
                break
            if node not in parents:
                anchor = unknown
                break
            if node in on_path:
                cycle = path[on_path[node]:]
                cyclic.update(cycle)
                positions.update({member: unknown for member in cycle})
                del path[on_path[node]:]
                anchor = unknown
                break
            on_path[node] = len(path)
            path.append(node)
            parent = parents[node]
            if parent is None:
                positions[path.pop()] = (node, 1)
                anchor = positions[node]
                break
            node = parent
        for member in reversed(path):
            root, depth = anchor
            positions[member] = (root, depth + 1) if depth is not None else unknown
            anchor = positions[member]
    return positions, cyclic


# --------------------------------------------------------------------------------------------
# Canonical tables and the collector that fills them

# Column kinds of the canonical tables the importers fill (warehouse/migrations/001_schema_v1.sql).
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "agents": {
        "agent_id": "str", "name": "str", "description": "str", "karma": "int",
        "follower_count": "int", "following_count": "int", "is_claimed": "bool",
        "created_at": "ts", "owner_json": "str", "first_seen_at": "ts", "last_seen_at": "ts",
    },
    "communities": {
        "community_id": "str", "name": "str", "display_name": "str", "description": "str",
        "subscriber_count": "int", "created_at": "ts", "created_by": "str",
    },
    "posts": {
        "post_id": "str", "community_id": "str", "author_id": "str", "title": "str",
        "content": "str", "url": "str", "upvotes": "int", "downvotes": "int", "score": "int",
        "comment_count": "int", "created_at": "ts", "is_deleted": "bool",
        "first_seen_at": "ts", "last_seen_at": "ts",
    },
    "comments": {
        "comment_id": "str", "post_id": "str", "parent_id": "str", "root_id": "str",
        "depth": "int", "author_id": "str", "content": "str", "upvotes": "int",
        "downvotes": "int", "score": "int", "created_at": "ts",
    },
    "post_snapshots": {
        "post_id": "str", "observed_at": "ts", "upvotes": "int", "downvotes": "int",
        "score": "int", "comment_count": "int",
    },
    "agent_snapshots": {
        "agent_id": "str", "observed_at": "ts", "karma": "int", "follower_count": "int",
        "following_count": "int",
    },
    "votes": {
        "vote_id": "str", "voter_id": "str", "target_type": "str", "target_id": "str",
        "value": "int", "created_at": "ts",
    },
    "follows": {"follower_id": "str", "followee_id": "str", "created_at": "ts", "action": "str"},
    "exposures": {"agent_id": "str", "step": "int", "item_id": "str", "feed": "str", "rank": "int"},
    "actions": {
        "seq": "int", "agent_id": "str", "step": "int", "created_at": "ts", "action_type": "str",
        "target_id": "str", "info_json": "json", "source": "str",
    },
}
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "agents": ("agent_id",),
    "communities": ("community_id",),
    "posts": ("post_id",),
    "comments": ("comment_id",),
    "post_snapshots": ("post_id", "observed_at"),
    "agent_snapshots": ("agent_id", "observed_at"),
    "votes": ("vote_id",),
    "follows": ("follower_id", "followee_id", "created_at"),
    "exposures": ("agent_id", "step", "item_id"),
    "actions": ("seq",),
}
# Same merge rules as warehouse.writer, applied to repeated sightings inside one batch.
# What one input row maps to: rows per canonical table, the row's own table first.
MappedRows = dict[str, list[dict[str, Any]]]

_KEEP_EARLIEST = {"first_seen_at"}
_KEEP_LATEST = {"last_seen_at"}
_STICKY_TRUE = {"is_deleted"}
# Event rows carry no text to conflict over and are never withdrawn, so the collector keeps no
# origin (raw row text) for them: an OASIS trace holds one per action.
_EVENT_TABLES = frozenset({"votes", "follows", "exposures", "actions"})


def to_frame(table: str, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A typed frame with exactly the table's columns: nullable ints/bools, µs UTC timestamps,
    text (JSON columns as text)."""
    rows = list(rows)
    data: dict[str, Any] = {}
    for column, kind in TABLE_COLUMNS[table].items():
        values = [row.get(column) for row in rows]
        if kind == "int":
            data[column] = pd.array(values, dtype="Int64")
        elif kind == "bool":
            data[column] = pd.array(values, dtype="boolean")
        elif kind == "ts":
            data[column] = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(
                "datetime64[us, UTC]"
            )
        else:
            data[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


class BatchCollector:
    """Accumulates canonical rows and quarantine for one import, one running row number.

    Rows are numbered in input order (files sorted by name), so a re-import of the same input gives
    every quarantined row the same `row_no`. Repeated keys merge: a later non-null value wins,
    except the first/last-seen and is_deleted rules the writer also applies.

    `extra_keys` names tables outside TABLE_COLUMNS (table → key columns) whose rows are collected
    the same way for the importer to read, but are no frame of the batch (a dump's societies row).
    """

    def __init__(self, extra_keys: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.keys: dict[str, tuple[str, ...]] = {**TABLE_KEYS, **(extra_keys or {})}
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {t: {} for t in self.keys}
        self.quarantine: list[QuarantinedRow] = []
        self._row_no = 0
        self._origin: dict[tuple[str, tuple[Any, ...]], tuple[int, str, str, str]] = {}
        self._rows_in: Counter[str] = Counter()
        self._valid_in: Counter[str] = Counter()
        self._reasons_in: dict[str, Counter[str]] = {}
        self._files: list[str] = []

    def add_file(self, name: str) -> None:
        self._files.append(name)

    @property
    def rows_numbered(self) -> int:
        """Input rows numbered so far (valid or not): the next import continues after them."""
        return self._row_no

    def next_row(self, file: str) -> int:
        """Number the next input row of `file` (valid or not)."""
        self._row_no += 1
        self._rows_in[file] += 1
        return self._row_no

    def reject(self, file: str, row_no: int, source: str, raw: str, reason: str) -> None:
        self.quarantine.append(QuarantinedRow(row_no=row_no, source=source, raw=raw, reason=reason))
        self._reasons_in.setdefault(file, Counter())[reason] += 1

    def add(
        self,
        file: str,
        source: str,
        raw: Any,
        build: Callable[[], MappedRows],
        *,
        text_fields: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        """Map one input row: either all its canonical rows land or it is quarantined with why.

        `build` returns the rows it yields per table, main table first; a main row whose key was
        already seen with different `text_fields` is a conflicting duplicate and is quarantined.
        """
        row_no = self.next_row(file)
        raw_text = raw_json(raw)
        try:
            mapped = build()
            table, rows = next(iter(mapped.items()))
            main = rows[0]
            reason = self.conflict(table, main, text_fields)
            if reason:
                raise RowRejected(reason)
        except RowRejected as err:
            self.reject(file, row_no, source, raw_text, str(err))
            return None
        for name, table_rows in mapped.items():
            for row in table_rows:
                self.put(name, row)
        self.accept(file, row_no, source, raw_text, table, main)
        return main

    def note(self, file: str, source: str, raw: Any, reason: str) -> None:
        """Quarantine something that is not an input row of `file` (e.g. an unreadable probe body)."""
        self._row_no += 1
        self.reject(file, self._row_no, source, raw_json(raw), reason)

    def conflict(self, table: str, row: Mapping[str, Any], fields: Iterable[str]) -> str | None:
        """Why `row` cannot merge with an earlier row of the same key (its text differs), or None."""
        key = tuple(row[k] for k in self.keys[table])
        existing = self.rows[table].get(key)
        if existing is None:
            return None
        for field in fields:
            old, new = existing.get(field), row.get(field)
            if old is not None and new is not None and old != new:
                first = self._origin.get((table, key))
                where = f" (first seen at {first[1]})" if first else ""
                return f"id {key[0]} repeats with a different {field}{where}"
        return None

    def put(self, table: str, row: Mapping[str, Any]) -> None:
        key = tuple(row[k] for k in self.keys[table])
        existing = self.rows[table].get(key)
        if existing is None:
            self.rows[table][key] = dict(row)
            return
        for column, value in row.items():
            if value is None:
                continue
            old = existing.get(column)
            if old is None:
                existing[column] = value
            elif column in _KEEP_EARLIEST:
                existing[column] = min(old, value)
            elif column in _KEEP_LATEST:
                existing[column] = max(old, value)
            elif column in _STICKY_TRUE:
                existing[column] = bool(old) or bool(value)
            else:
                existing[column] = value

    def accept(
        self, file: str, row_no: int, source: str, raw: str, table: str, row: Mapping[str, Any]
    ) -> None:
        """Count a valid input row of `file` and remember where its main row came from."""
        self._valid_in[file] += 1
        if table in _EVENT_TABLES:
            return
        key = tuple(row[k] for k in self.keys[table])
        self._origin.setdefault((table, key), (row_no, source, raw, file))

    def withdraw(self, table: str, key: tuple[Any, ...], reason: str) -> None:
        """Move an accepted row back to quarantine (e.g. a comment found to sit on a cycle)."""
        self.rows[table].pop(key, None)
        row_no, source, raw, file = self._origin[(table, key)]
        self._valid_in[file] -= 1
        self.reject(file, row_no, source, raw, reason)

    def resolve_threads(self) -> None:
        """Fill root_id and depth of every comment from the parent chain; quarantine cycles."""
        comments = self.rows["comments"]
        parents = {key[0]: row.get("parent_id") for key, row in comments.items()}
        positions, cyclic = thread_positions(parents)
        for comment_id in sorted(cyclic):
            self.withdraw("comments", (comment_id,), "comment parent chain forms a cycle")
        for (comment_id,), row in comments.items():
            row["root_id"], row["depth"] = positions[comment_id]

    def check_files(self) -> None:
        """Raise NoValidRowsError for the first file that held rows of which none could be mapped."""
        for file in self._files:
            if self._rows_in[file] and not self._valid_in[file]:
                reasons = self._reasons_in.get(file, Counter())
                common = "; ".join(f"{reason} ({n})" for reason, n in reasons.most_common(3))
                raise NoValidRowsError(
                    f"{file}: none of its {self._rows_in[file]} rows could be mapped"
                    + (f": {common}" if common else "")
                )

    def batch(self, society: dict[str, Any]) -> CanonicalBatch:
        self.quarantine.sort(key=lambda q: q.row_no)
        tables = {table: to_frame(table, self.rows[table].values()) for table in TABLE_COLUMNS}
        return CanonicalBatch(society=society, tables=tables, quarantine=list(self.quarantine))
