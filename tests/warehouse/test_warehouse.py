"""The warehouse: versioned schema, idempotent upserts, all-or-nothing batches, read-only readers."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pandas as pd
import pytest

from warehouse.batch import CanonicalBatch, QuarantinedRow
from warehouse.migrate import current_version, latest_version
from warehouse.reader import export_parquet, open_reader, query
from warehouse.writer import open_writer, write_batch

T0 = pd.Timestamp("2026-01-30T10:00:00Z")
T1 = pd.Timestamp("2026-01-31T10:00:00Z")


def _batch(observed_at: pd.Timestamp, upvotes: int = 3, quarantine: bool = True) -> CanonicalBatch:
    return CanonicalBatch(
        society={"society_id": "moltbook-dump-test", "kind": "dump", "platform": "moltbook", "config_json": {"comment_cap": 100}},
        tables={
            "posts": pd.DataFrame(
                [
                    {"post_id": "p1", "title": "hello", "content": "多行\n内容 🦞", "upvotes": upvotes,
                     "created_at": T0, "first_seen_at": observed_at, "last_seen_at": observed_at},
                    {"post_id": "p2", "title": "second", "content": None, "upvotes": 0,
                     "created_at": T0, "first_seen_at": observed_at, "last_seen_at": observed_at},
                ]
            ),
            "comments": pd.DataFrame(
                [{"comment_id": "c1", "post_id": "p1", "parent_id": None, "root_id": "c1", "depth": 1,
                  "content": "reply", "created_at": T0}]
            ),
        },
        quarantine=[QuarantinedRow(7, "posts.csv:7", '{"id": ""}', "missing id")] if quarantine else [],
    )


def _counts(path) -> dict[str, int]:
    tables = ["societies", "posts", "comments", "quarantine", "ingest_runs"]
    with open_reader(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_migrations_record_the_schema_version(warehouse_path):
    with open_writer(warehouse_path) as conn:
        assert current_version(conn) == latest_version() >= 1
    with open_writer(warehouse_path) as conn:  # reopening applies nothing twice
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == latest_version()


def test_writing_the_same_batch_twice_changes_nothing(warehouse_path):
    started = datetime.now(timezone.utc)
    with open_writer(warehouse_path) as conn:
        first = write_batch(conn, _batch(T1), run_id="r1", source="test", started_at=started)
    before = _counts(warehouse_path)
    with open_writer(warehouse_path) as conn:
        second = write_batch(conn, _batch(T1), run_id="r1", source="test", started_at=started)
    assert first.inserted == 1 + 2 + 1  # society, two posts, one comment
    assert (second.inserted, second.updated) == (0, 0)
    assert _counts(warehouse_path) == before == {
        "societies": 1, "posts": 2, "comments": 1, "quarantine": 1, "ingest_runs": 1,
    }
    text = query(warehouse_path, "SELECT content FROM posts WHERE post_id = 'p1'").iloc[0, 0]
    assert text == "多行\n内容 🦞"


def test_a_later_observation_updates_values_but_keeps_first_seen(warehouse_path):
    started = datetime.now(timezone.utc)
    later = T1 + pd.Timedelta(days=1)
    with open_writer(warehouse_path) as conn:
        write_batch(conn, _batch(T1), run_id="r1", source="test", started_at=started)
        result = write_batch(conn, _batch(later, upvotes=9), run_id="r2", source="test", started_at=started)
    assert result.updated == 2  # p1 changed upvotes and last_seen_at; p2 changed last_seen_at
    row = query(warehouse_path, "SELECT upvotes, first_seen_at, last_seen_at FROM posts WHERE post_id = 'p1'").iloc[0]
    assert row["upvotes"] == 9
    assert row["first_seen_at"] == T1
    assert row["last_seen_at"] == later


def test_a_missing_value_never_erases_a_stored_one(warehouse_path):
    started = datetime.now(timezone.utc)
    sparse = CanonicalBatch(
        society={"society_id": "moltbook-dump-test", "kind": "dump"},
        tables={"posts": pd.DataFrame([{"post_id": "p1", "title": "hello", "upvotes": None}])},
    )
    with open_writer(warehouse_path) as conn:
        write_batch(conn, _batch(T1), run_id="r1", source="test", started_at=started)
        write_batch(conn, sparse, run_id="r2", source="test", started_at=started)
    row = query(warehouse_path, "SELECT upvotes, content FROM posts WHERE post_id = 'p1'").iloc[0]
    assert row["upvotes"] == 3 and row["content"] == "多行\n内容 🦞"


def test_a_failing_batch_leaves_the_warehouse_as_it_was(warehouse_path):
    started = datetime.now(timezone.utc)
    with open_writer(warehouse_path) as conn:
        write_batch(conn, _batch(T1), run_id="r1", source="test", started_at=started)
    before = _counts(warehouse_path)
    broken = _batch(T1 + pd.Timedelta(days=1), upvotes=50)
    broken.tables["comments"] = pd.DataFrame([{"comment_id": "c9", "post_id": None}])  # NOT NULL violated
    with open_writer(warehouse_path) as conn, pytest.raises(duckdb.Error):
        write_batch(conn, broken, run_id="r2", source="test", started_at=started)
    assert _counts(warehouse_path) == before
    assert query(warehouse_path, "SELECT upvotes FROM posts WHERE post_id = 'p1'").iloc[0, 0] == 3


def test_unknown_columns_are_refused(warehouse_path):
    bad = CanonicalBatch(
        society={"society_id": "s", "kind": "dump"},
        tables={"posts": pd.DataFrame([{"post_id": "p1", "likes": 3}])},
    )
    with open_writer(warehouse_path) as conn, pytest.raises(ValueError, match="likes"):
        write_batch(conn, bad, run_id="r", source="test", started_at=datetime.now(timezone.utc))


def test_the_reader_cannot_write(warehouse_path):
    with open_writer(warehouse_path):
        pass
    with open_reader(warehouse_path) as conn, pytest.raises(duckdb.Error):
        conn.execute("DELETE FROM posts")


def test_parquet_export_writes_every_table(warehouse_path, tmp_path):
    with open_writer(warehouse_path) as conn:
        write_batch(conn, _batch(T1), run_id="r1", source="test", started_at=datetime.now(timezone.utc))
    written = {p.stem: p for p in export_parquet(warehouse_path, tmp_path / "parquet")}
    assert {"posts", "comments", "society_metric", "schema_version"} <= set(written)
    assert len(pd.read_parquet(written["posts"])) == 2
