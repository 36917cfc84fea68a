"""The live sync against the loopback replay server: incremental, resumable, fault-proof, replayable."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from assets.ingest.moltbook_client import MoltbookClient
from assets.ingest.moltbook_replay import FaultPlan, ReplayServer, ReplaySite
from assets.ingest.moltbook_sync import LiveSync, SyncConfig, iter_table_hashes, replay_archive
from assets.ingest.raw_archive import run_folder
from warehouse.writer import open_writer

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
CANONICAL = ("posts", "comments", "agents", "communities", "post_snapshots", "agent_snapshots")
# Everything a sync writes except its run record (which counts retries and 429s by design).
SYNCED = CANONICAL + ("quarantine", "crawl_posts", "crawl_agents", "platform_stats", "society_metric")
FAST = SyncConfig(page_limit=20, comment_page_limit=20, min_comment_age_s=0, commit_every_rows=300)


def _client(server: ReplayServer, **kwargs: object) -> MoltbookClient:
    """A client that never really waits: Retry-After and backoff are honoured as zero-length sleeps."""
    options = {"requests_per_minute": None, "timeout_s": 2.0, "max_retries": 8, "sleep": lambda s: None}
    return MoltbookClient(server.base_url, **{**options, **kwargs})  # type: ignore[arg-type]


def _sync(warehouse: Path, server: ReplayServer, archive: Path, *, config: SyncConfig = FAST,
          run_id: str = "live:test", **client_kwargs: object):
    with open_writer(warehouse) as conn, _client(server, **client_kwargs) as client:
        return LiveSync(conn, client, archive, config=config, run_id=run_id).run()


def _hashes(warehouse: Path, tables: tuple[str, ...] = SYNCED) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return dict(iter_table_hashes(conn, "moltbook", tables))


def _synthetic(n_posts: int = 120, seed: int = 3) -> ReplaySite:
    return ReplaySite.synthetic(n_posts, seed=seed, comments_per_post=4.0)


def _query(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).df()


# ------------------------------------------------------------------------------------------
# Real captures served as the API serves them


def test_sync_of_the_real_captures_stores_every_post_comment_and_author(
    moltbook_data: Path, tmp_path: Path
) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    with ReplayServer(site, served_at=SERVED_AT, inline_comments=True) as server:
        result = _sync(tmp_path / "w.duckdb", server, tmp_path / "raw")
    posts = _query(tmp_path / "w.duckdb", "SELECT * FROM posts WHERE society_id = 'moltbook'")
    assert set(posts["post_id"]) == set(site.posts)
    comments = _query(tmp_path / "w.duckdb", "SELECT * FROM comments")
    expected_comments = {comment_id for tree in site.comments.values() for comment_id in tree}
    assert set(comments["comment_id"]) == expected_comments
    assert comments["depth"].notna().all() and (comments["depth"] >= 1).all()
    # The drift capture's camelCase author landed in the agent columns.
    agent = _query(tmp_path / "w.duckdb", "SELECT * FROM agents WHERE name = 'eudaemon_0'").iloc[0]
    assert (agent["karma"], agent["follower_count"], agent["following_count"]) == (8592, 1321, 882)
    assert result.state.counters.quarantined == 0
    assert result.state.hwm_ts == max(pd.Timestamp(p["created_at"]) for p in site.posts.values()).isoformat()


# ------------------------------------------------------------------------------------------
# Incremental behaviour


def test_second_run_stops_at_the_high_water_mark_and_refetches_grown_threads(tmp_path: Path) -> None:
    site = _synthetic()
    warehouse, archive = tmp_path / "w.duckdb", tmp_path / "raw"
    config = SyncConfig(**{**FAST.__dict__, "deletion_confirm_s": 0, "overlap_s": 60})
    with ReplayServer(site, served_at=SERVED_AT) as server:
        first = _sync(warehouse, server, archive, config=config, run_id="live:1")
    by_age = sorted(site.posts.values(), key=lambda p: (p["created_at"], p["id"]), reverse=True)
    grown, gone = by_age[0]["id"], by_age[2]["id"]
    count_before = by_age[0]["comment_count"]
    site.add_post({**by_age[0], "id": "new-post-1", "title": "fresh", "comment_count": 0,
                   "created_at": "2026-03-01T12:30:00+00:00"})
    site.add_comments(grown, [{"id": "late-reply", "content": "late", "parent_id": None,
                               "created_at": "2026-03-01T12:40:00+00:00",
                               "author": {"id": "a-late", "name": "late_agent"}}])
    site.delete_post(gone)
    an_hour_later = SERVED_AT + timedelta(hours=1)
    with ReplayServer(site, served_at=an_hour_later) as server:
        second = _sync(warehouse, server, archive, config=config, run_id="live:2")
    assert first.state.counters.listing_pages > 3
    assert second.state.counters.listing_pages == 2  # the second page lies wholly below the mark
    assert second.state.hwm_ts == "2026-03-01T12:30:00+00:00"
    posts = _query(warehouse, "SELECT post_id, is_deleted, content FROM posts").set_index("post_id")
    assert "new-post-1" in posts.index
    assert bool(posts.loc[gone, "is_deleted"]) and posts.loc[gone, "content"]  # kept, only marked
    assert not posts.drop(index=gone)["is_deleted"].any()
    late = _query(warehouse, "SELECT post_id, depth FROM comments WHERE comment_id = 'late-reply'")
    assert late.to_dict("records") == [{"post_id": grown, "depth": 1}]
    snapshots = _query(warehouse, "SELECT comment_count FROM post_snapshots WHERE post_id = ? ORDER BY observed_at", [grown])
    assert list(snapshots["comment_count"]) == [count_before, count_before + 1]
    runs = _query(warehouse, "SELECT run_id, finished_at IS NOT NULL AS done FROM ingest_runs ORDER BY run_id")
    assert runs.to_dict("records") == [{"run_id": "live:1", "done": True}, {"run_id": "live:2", "done": True}]


def test_a_capped_first_walk_is_continued_by_the_next_runs(tmp_path: Path) -> None:
    site = _synthetic(100)
    capped = SyncConfig(**{**FAST.__dict__, "max_listing_pages": 3, "overlap_s": 0})
    left = []
    with ReplayServer(site, served_at=SERVED_AT) as server:
        for run in range(3):  # 5 pages: 3 from the top, then 2 re-walked above the mark + 1 older, twice
            result = _sync(tmp_path / "w.duckdb", server, tmp_path / "raw", config=capped, run_id=f"live:{run}")
            left.append(len(result.state.backfill_tokens))
    assert left == [1, 1, 0]
    stored = _query(tmp_path / "w.duckdb", "SELECT post_id FROM posts")
    assert set(stored["post_id"]) == set(site.posts)


def test_a_changed_answer_shape_is_reported_and_still_parsed(tmp_path: Path) -> None:
    site = _synthetic(30)
    warehouse, archive = tmp_path / "w.duckdb", tmp_path / "raw"
    with ReplayServer(site, served_at=SERVED_AT) as server:
        first = _sync(warehouse, server, archive, run_id="live:1")
    before = _hashes(warehouse, CANONICAL)
    every_answer_drifts = FaultPlan(rate=1.0, kinds=("drift",))
    with ReplayServer(site, served_at=SERVED_AT, faults=every_answer_drifts) as server:
        second = _sync(warehouse, server, archive, run_id="live:2")
    assert not first.shape_changes.any
    changes = second.shape_changes
    assert "posts[].comment_count: number → str" in changes.retyped["/posts"]
    assert "posts: number → str" in changes.retyped["/stats"]
    assert _hashes(warehouse, CANONICAL) == before  # same values, so the same rows


def test_offset_and_cursor_eras_give_the_same_tables(tmp_path: Path) -> None:
    site = _synthetic(80)
    hashes = []
    for era in ("cursor", "offset"):
        folder = tmp_path / era
        with ReplayServer(site, served_at=SERVED_AT, pagination=era) as server:
            _sync(folder / "w.duckdb", server, folder / "raw")
        hashes.append(_hashes(folder / "w.duckdb", CANONICAL))
    assert hashes[0] == hashes[1]


def test_capped_comment_sorts_are_unioned_and_the_deficit_recorded(tmp_path: Path) -> None:
    site = _synthetic(40)
    biggest = max(site.comments, key=lambda pid: len(site.comments[pid]))
    n = len(site.comments[biggest])
    assert n > 30
    with ReplayServer(site, served_at=SERVED_AT, comment_sort_cap=12) as server:
        _sync(tmp_path / "w.duckdb", server, tmp_path / "raw")
    state = _query(
        tmp_path / "w.duckdb",
        "SELECT k.stored_at_fetch, k.unreachable_since IS NOT NULL AS short, c.stored_comments "
        "FROM crawl_posts k JOIN post_coverage c USING (society_id, post_id) WHERE post_id = ?",
        [biggest],
    ).iloc[0]
    assert 12 < state["stored_comments"] < n  # more than one capped sort, fewer than all
    assert bool(state["short"])
    coverage = _query(tmp_path / "w.duckdb", "SELECT value FROM society_metric WHERE metric = 'comment_coverage'")
    assert 0 < coverage["value"].iloc[0] < 1


# ------------------------------------------------------------------------------------------
# Faults, crashes and replays end in the same tables


def test_twenty_percent_faults_end_in_the_same_tables_as_a_clean_run(tmp_path: Path) -> None:
    site = _synthetic(150)
    with ReplayServer(site, served_at=SERVED_AT) as clean:
        _sync(tmp_path / "clean.duckdb", clean, tmp_path / "raw-clean")
    faults = FaultPlan(rate=0.2, seed=11, stall_s=0.6)
    with ReplayServer(site, served_at=SERVED_AT, faults=faults) as faulty:
        result = _sync(tmp_path / "faulty.duckdb", faulty, tmp_path / "raw-faulty", timeout_s=0.3)
        injected = {r.fault for r in faulty.requests if r.fault}
    assert injected == {"429", "500", "timeout", "truncated", "drift"}
    stats = result.client_stats
    assert stats["rate_limited"] > 0 and stats["timeouts"] > 0 and stats["truncated"] > 0
    assert stats["server_errors"] > 0 and result.state.counters.failed_requests == 0
    assert _hashes(tmp_path / "faulty.duckdb") == _hashes(tmp_path / "clean.duckdb")


def _sync_command(warehouse: Path, archive: Path, base_url: str) -> list[str]:
    return [
        sys.executable, "-m", "assets.ingest.moltbook_sync", "--warehouse", str(warehouse),
        "--archive-dir", str(archive), "--base-url", base_url, "--rpm", "0", "--run-id", "live:crash",
        "--min-comment-age-s", "0", "--commit-every-rows", "150",
    ]


def test_a_sync_killed_at_a_random_point_resumes_to_the_same_tables(tmp_path: Path) -> None:
    site = _synthetic(150, seed=5)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with ReplayServer(site, served_at=SERVED_AT) as server:
        whole = subprocess.run(
            _sync_command(tmp_path / "whole.duckdb", tmp_path / "raw-whole", server.base_url),
            env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        )
        assert whole.returncode == 0, whole.stderr[-2000:]
        total = len(server.requests)
        kill_after = random.Random(os.getpid()).randint(total // 5, total * 4 // 5)
        before = len(server.requests)
        victim = subprocess.Popen(
            _sync_command(tmp_path / "crash.duckdb", tmp_path / "raw-crash", server.base_url),
            env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while len(server.requests) - before < kill_after and victim.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert victim.returncode == -signal.SIGKILL, "the sync finished before it could be killed"
        resumed = subprocess.run(
            _sync_command(tmp_path / "crash.duckdb", tmp_path / "raw-crash", server.base_url),
            env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["resumed"] is True
    assert _hashes(tmp_path / "crash.duckdb") == _hashes(tmp_path / "whole.duckdb"), f"killed after {kill_after} requests"


def test_an_archived_run_replays_into_a_fresh_warehouse(tmp_path: Path) -> None:
    site = _synthetic(60)
    with ReplayServer(site, served_at=SERVED_AT) as server:
        _sync(tmp_path / "live.duckdb", server, tmp_path / "raw")
    with open_writer(tmp_path / "replayed.duckdb") as conn:
        counts = replay_archive(conn, [run_folder(tmp_path / "raw", "moltbook", "live:test")], "moltbook")
    assert counts["records"] > 0
    assert _hashes(tmp_path / "replayed.duckdb", CANONICAL) == _hashes(tmp_path / "live.duckdb", CANONICAL)
