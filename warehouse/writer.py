"""The single writer of the warehouse: migrations, idempotent upserts, one transaction per batch.

DuckDB allows one writing process per file. Dagster serialises the writing assets through the
`warehouse_writer` concurrency pool (size 1); everything else reads through `warehouse.reader`.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from warehouse.batch import CanonicalBatch, QuarantinedRow
from warehouse.migrate import migrate

# Columns whose stored value is combined with a new observation instead of overwritten.
_KEEP_EARLIEST = {"first_seen_at"}
_KEEP_LATEST = {"last_seen_at"}
_STICKY_TRUE = {"is_deleted"}


@dataclass
class UpsertCounts:
    """What one upsert did: rows new to the table, and existing rows whose values changed."""

    inserted: int = 0
    updated: int = 0


@dataclass
class BatchResult:
    run_id: str
    per_table: dict[str, UpsertCounts] = field(default_factory=dict)
    quarantined: int = 0

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.per_table.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.per_table.values())


@contextmanager
def open_writer(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for writing, creating it and applying migrations as needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    try:
        conn.execute("SET TimeZone = 'UTC'")
        migrate(conn)
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def registered(conn: duckdb.DuckDBPyConnection, name: str, data: object) -> Iterator[None]:
    """`data` (a DataFrame or Arrow table) readable by SQL as view `name` inside the block."""
    conn.register(name, data)
    try:
        yield
    finally:
        conn.unregister(name)


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    if not rows:
        raise KeyError(f"no warehouse table named {table!r}")
    return [r[0] for r in rows]


def primary_key(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchall()
    if not rows:
        raise KeyError(f"table {table!r} has no primary key to upsert on")
    return list(rows[0][0])


def _merge_expression(column: str) -> str:
    if column in _KEEP_EARLIEST:
        return f'"{column}" = least(EXCLUDED."{column}", "{column}")'
    if column in _KEEP_LATEST:
        return f'"{column}" = greatest(EXCLUDED."{column}", "{column}")'
    if column in _STICKY_TRUE:
        return f'"{column}" = EXCLUDED."{column}" OR "{column}"'
    # A value missing from a new observation never erases one already stored.
    return f'"{column}" = coalesce(EXCLUDED."{column}", "{column}")'


def upsert(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    *,
    ignore_in_change_count: tuple[str, ...] = ("computed_at",),
) -> UpsertCounts:
    """Insert new keys and merge existing ones; the same rows twice leave the table unchanged.

    Must run inside the caller's transaction. Duplicate keys inside `frame` keep their last row.
    """
    if frame.empty:
        return UpsertCounts()
    columns = table_columns(conn, table)
    unknown = set(frame.columns) - set(columns)
    if unknown:
        raise ValueError(f"{table}: columns not in the schema: {sorted(unknown)}")
    key = primary_key(conn, table)
    missing_key = [k for k in key if k not in frame.columns]
    if missing_key:
        raise ValueError(f"{table}: rows lack key columns {missing_key}")

    present = [c for c in columns if c in frame.columns]
    staged = frame[present].drop_duplicates(subset=key, keep="last")
    stage_name = f"_stage_{table}"
    column_list = ", ".join(f'"{c}"' for c in present)
    with registered(conn, "_incoming", staged):
        conn.execute(f'CREATE OR REPLACE TEMP TABLE "{stage_name}" AS SELECT * FROM "{table}" LIMIT 0')
        conn.execute(
            f'INSERT INTO "{stage_name}" ({column_list}) SELECT {column_list} FROM _incoming'
        )

    key_match = " AND ".join(f's."{k}" = t."{k}"' for k in key)
    inserted = conn.execute(
        f'SELECT count(*) FROM "{stage_name}" s WHERE NOT EXISTS '
        f'(SELECT 1 FROM "{table}" t WHERE {key_match})'
    ).fetchone()[0]
    value_columns = [c for c in present if c not in key]
    compared = [c for c in value_columns if c not in ignore_in_change_count]
    updated = 0
    if compared:
        changed = " OR ".join(
            f's."{c}" IS NOT NULL AND s."{c}" IS DISTINCT FROM t."{c}"' for c in compared
        )
        updated = conn.execute(
            f'SELECT count(*) FROM "{stage_name}" s JOIN "{table}" t ON {key_match} WHERE {changed}'
        ).fetchone()[0]

    conflict = ", ".join(f'"{k}"' for k in key)
    if value_columns:
        merge = ", ".join(_merge_expression(c) for c in value_columns)
        action = f"DO UPDATE SET {merge}"
    else:
        action = "DO NOTHING"
    conn.execute(
        f'INSERT INTO "{table}" ({column_list}) SELECT {column_list} FROM "{stage_name}" '
        f"ON CONFLICT ({conflict}) {action}"
    )
    conn.execute(f'DROP TABLE "{stage_name}"')
    return UpsertCounts(inserted=int(inserted), updated=int(updated))


def replace_society_rows(
    conn: duckdb.DuckDBPyConnection, table: str, society_id: str, frame: pd.DataFrame
) -> UpsertCounts:
    """Swap a derived table's rows for one society (metrics, topic assignments) for new ones.

    A drill-down table without a primary key (its natural key holds a NULL, such as the window
    start of window `all`) takes the new rows as they are.
    """
    conn.execute(f'DELETE FROM "{table}" WHERE society_id = ?', [society_id])
    frame = frame.assign(society_id=society_id)
    try:
        primary_key(conn, table)
    except KeyError:
        if frame.empty:
            return UpsertCounts()
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        with registered(conn, "_rows", frame):
            conn.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM _rows')
        return UpsertCounts(inserted=len(frame))
    return upsert(conn, table, frame)


def upsert_canonical(conn: duckdb.DuckDBPyConnection, batch: CanonicalBatch) -> dict[str, UpsertCounts]:
    """Upsert a batch's society row and canonical tables; must run inside the caller's transaction."""
    society = dict(batch.society)
    if isinstance(society.get("config_json"), (dict, list)):
        society["config_json"] = json.dumps(society["config_json"], sort_keys=True)
    counts = {"societies": upsert(conn, "societies", pd.DataFrame([society]))}
    for table, frame in batch.tables.items():
        if frame.empty:
            continue
        if "society_id" not in frame.columns:
            frame = frame.assign(society_id=batch.society_id)
        counts[table] = upsert(conn, table, frame)
    return counts


def upsert_quarantine(
    conn: duckdb.DuckDBPyConnection,
    society_id: str,
    run_id: str,
    rows: list[QuarantinedRow],
    *,
    row_offset: int = 0,
) -> int:
    """Store quarantined rows under (run_id, row_offset + row_no); inside the caller's transaction.

    A run written in several batches numbers each batch's rows after the previous ones.
    """
    frame = pd.DataFrame(
        [
            {
                "society_id": society_id,
                "run_id": run_id,
                "row_no": row_offset + row.row_no,
                "source": row.source,
                "raw": row.raw,
                "reason": row.reason,
            }
            for row in rows
        ],
        columns=["society_id", "run_id", "row_no", "source", "raw", "reason"],
    )
    upsert(conn, "quarantine", frame)
    return len(frame)


def write_batch(
    conn: duckdb.DuckDBPyConnection,
    batch: CanonicalBatch,
    *,
    run_id: str,
    source: str,
    started_at: datetime,
    requested: int | None = None,
) -> BatchResult:
    """Write a batch, its ingest_runs row and its quarantine in one transaction.

    Either everything lands or nothing does: a failure leaves the warehouse as it was.
    """
    society_id = batch.society_id
    result = BatchResult(run_id=run_id)
    with transaction(conn):
        result.per_table = upsert_canonical(conn, batch)
        result.quarantined = upsert_quarantine(conn, society_id, run_id, batch.quarantine)
        fetched = sum(len(f) for f in batch.tables.values()) + len(batch.quarantine)
        run_row = pd.DataFrame(
            [
                {
                    "society_id": society_id,
                    "run_id": run_id,
                    "source": source,
                    "started_at": started_at,
                    "finished_at": datetime.now(timezone.utc),
                    "requested": requested if requested is not None else fetched,
                    "fetched": fetched,
                    "inserted": result.inserted,
                    "updated": result.updated,
                    "quarantined": result.quarantined,
                }
            ]
        )
        upsert(conn, "ingest_runs", run_row, ignore_in_change_count=("started_at", "finished_at"))
    return result
