"""Importing the same real input twice through the real writer changes nothing the second time."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from assets.ingest.clean import input_fingerprint
from assets.ingest.moltbook_api import parse_api_dump
from assets.ingest.observatory_csv import parse_observatory_export
from warehouse.writer import open_writer, write_batch

TABLES = (
    "societies", "agents", "communities", "posts", "comments", "post_snapshots",
    "agent_snapshots", "quarantine", "ingest_runs",
)


def _counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.mark.parametrize("kind", ["api", "observatory_csv"])
def test_second_import_inserts_and_updates_nothing(
    moltbook_data: Path, warehouse_path: Path, kind: str
) -> None:
    if kind == "api":
        folder = moltbook_data / "api"
        files = sorted(folder.glob("*.json"))
        parse = lambda: parse_api_dump(folder, "moltbook-dump-api")  # noqa: E731
    else:
        folder = moltbook_data / "observatory_csv"
        files = sorted(folder.glob("*.csv"))
        parse = lambda: parse_observatory_export(folder, "moltbook-dump-observatory")  # noqa: E731
    run_id = f"{kind}:" + input_fingerprint(files)[:16]

    with open_writer(warehouse_path) as conn:
        first = write_batch(conn, parse(), run_id=run_id, source=kind, started_at=datetime.now(timezone.utc))
        after_first = _counts(conn)
        second = write_batch(conn, parse(), run_id=run_id, source=kind, started_at=datetime.now(timezone.utc))
        after_second = _counts(conn)
        runs = conn.execute("SELECT run_id, inserted, updated FROM ingest_runs ORDER BY run_id").fetchall()

    print(f"{kind}: first write inserted {first.inserted}, per table "
          f"{ {t: c.inserted for t, c in first.per_table.items()} }, quarantined {first.quarantined}")
    assert first.inserted > 0
    assert after_second == after_first
    assert (second.inserted, second.updated) == (0, 0)
    assert second.quarantined == first.quarantined
    assert [r[0] for r in runs] == [run_id]  # one run row, updated in place by the re-import
