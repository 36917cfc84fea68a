"""The live sync as Dagster runs it: run metadata, and an API key that leaves no trace anywhere."""

from __future__ import annotations

import gzip
import logging
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from dagster import DagsterInstance, materialize
from dagster._serdes import serialize_value

from assets.ingest.defs import moltbook_live_sync
from assets.ingest.moltbook_replay import FaultPlan, ReplayServer, ReplaySite
from pipelines.partitions import society_partitions
from pipelines.resources import MoltbookApiResource, WarehouseResource

KEY = "moltbook_sk_CANARY9f3b2c7e51d04a6b8e2f"
SERVED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _warehouse_text(path: Path) -> str:
    """Every value of every table, as text."""
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()]
        return "\n".join(conn.execute(f'SELECT * FROM "{t}"').df().to_csv() for t in tables)


def test_a_keyed_run_reports_its_work_and_never_shows_the_key(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("OBSERVATORY_MOLTBOOK_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    site = ReplaySite.synthetic(40, seed=2, comments_per_post=3.0)
    faults = FaultPlan(rate=0.2, seed=0, kinds=("429", "500"))  # 429s and 500s in the first 25 requests
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(society_partitions.name, ["moltbook"])
    with ReplayServer(site, served_at=SERVED_AT, faults=faults) as server:
        result = materialize(
            [moltbook_live_sync],
            partition_key="moltbook",
            instance=instance,
            resources={
                "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
                "moltbook_api": MoltbookApiResource(
                    base_url=server.base_url, requests_per_minute=0, backoff_base_s=0.01,
                    max_retries=6, archive_dir=str(tmp_path / "raw"),
                ),
            },
            run_config={"ops": {"moltbook_live_sync": {"config": {"min_comment_age_s": 0}}}},
        )
        keyed = [r.authorized for r in server.requests]
    assert result.success
    assert any(keyed), "the key was never sent"

    materializations = result.asset_materializations_for_node("moltbook_live_sync")
    metadata = {m.asset_key.to_user_string(): m.metadata for m in materializations}
    traces = metadata["moltbook_live_traces"]
    assert traces["requested"].value + traces["retries"].value == len(server.requests)
    assert traces["rate_limited_429"].value > 0 and traces["server_errors"].value > 0
    assert traces["inserted"].value > 0 and traces["quarantined"].value == 0
    assert traces["stored_posts"].value == 40
    assert "comment_coverage" in metadata["moltbook_live_coverage"]
    assert traces["answer_shape_changes"].value == "no change"  # the first run has nothing to compare

    events = instance.all_logs(result.run_id)
    assert events
    leaks = {
        "event log": "\n".join(serialize_value(e) for e in events),
        "run config": serialize_value(instance.get_run_by_id(result.run_id)),
        "python logs": "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records),
        "warehouse": _warehouse_text(tmp_path / "w.duckdb"),
        "raw archive": "\n".join(
            gzip.decompress(p.read_bytes()).decode("ascii") for p in (tmp_path / "raw").rglob("*.gz")
        ),
    }
    assert leaks["raw archive"] and leaks["warehouse"]
    for where, text in leaks.items():
        assert KEY not in text and KEY[12:] not in text, f"the key leaked into the {where}"
