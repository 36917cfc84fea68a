"""The simulated batch lands in the real warehouse with every key constraint satisfied."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from warehouse.batch import CanonicalBatch
from warehouse.writer import open_writer, write_batch


def test_the_batch_writes_through_the_real_writer(
    moltbook: CanonicalBatch, warehouse_path: Path
) -> None:
    started = datetime(2026, 2, 1, tzinfo=timezone.utc)
    with open_writer(warehouse_path) as conn:
        result = write_batch(conn, moltbook, run_id="sim-run-1", source="simulator", started_at=started)
        # Every row is new: the writer silently keeps one row per key, so equal counts mean
        # that no two emitted rows share a primary key.
        for table, frame in moltbook.tables.items():
            assert result.per_table[table].inserted == len(frame), table
            stored = conn.execute(
                f"SELECT count(*) FROM {table} WHERE society_id = ?", [moltbook.society_id]
            ).fetchone()[0]
            assert stored == len(frame), table
        society = conn.execute(
            "SELECT kind, preset, seed, json_extract_string(config_json, '$.default_community_id') "
            "FROM societies"
        ).fetchone()
        assert society == ("sim", "moltbook-like", 1, f"{moltbook.society_id}:community:0")
        top_level = conn.execute(
            "SELECT count(*) FROM comments WHERE parent_id IS NULL AND depth = 1"
        ).fetchone()[0]
        assert top_level == int(moltbook.tables["comments"]["parent_id"].isna().sum())
        orphans = conn.execute(
            "SELECT count(*) FROM comments c LEFT JOIN comments p "
            "ON p.society_id = c.society_id AND p.comment_id = c.parent_id "
            "WHERE c.parent_id IS NOT NULL AND p.comment_id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        ms = conn.execute(
            "SELECT count(*) FROM actions WHERE epoch_us(created_at) % 1000 <> 0"
        ).fetchone()[0]
        assert ms == 0

        again = write_batch(conn, moltbook, run_id="sim-run-1", source="simulator", started_at=started)
        assert again.inserted == 0 and again.updated == 0  # idempotent re-delivery
