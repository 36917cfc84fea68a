"""Ingestion benchmark: a live sync of a synthetic N-post site from the local replay server.

The server runs in its own process (it holds the whole site in memory; its memory is not the
ingester's). Each repeat syncs into a fresh warehouse with the token bucket off, measured with
os.wait4 in a process of its own: wall time, peak resident memory, and posts + comments stored per
second. A warm run (the same sync again, nothing new on the site) follows each cold one.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from pipelines.bench import _machine, _timed_process


def _start_server(n_posts: int, seed: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "assets.ingest.moltbook_replay", "--synthetic", str(n_posts),
               "--seed", str(seed)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1"):
        server.terminate()
        raise SystemExit(f"the replay server did not start: {base_url!r}")
    return server, base_url


def _sync(home: Path, base_url: str) -> tuple[float, float, dict]:
    command = [
        sys.executable, "-m", "assets.ingest.moltbook_sync", "--warehouse", str(home / "w.duckdb"),
        "--archive-dir", str(home / "raw"), "--base-url", base_url, "--rpm", "0",
        "--min-comment-age-s", "0",
    ]
    wall, peak, stdout = _timed_process(command)
    return wall, peak, json.loads(stdout.strip().splitlines()[-1])


def bench_ingest(n_posts: int, repeat: int, seed: int) -> None:
    server, base_url = _start_server(n_posts, seed)
    rows = []
    try:
        for number in range(1, repeat + 1):
            with tempfile.TemporaryDirectory(prefix="observatory-bench-ingest-") as tmp:
                home = Path(tmp)
                wall, peak, report = _sync(home, base_url)
                with duckdb.connect(str(home / "w.duckdb"), read_only=True) as conn:
                    posts, comments = conn.execute(
                        "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)"
                    ).fetchone()
                archive_mb = sum(p.stat().st_size for p in (home / "raw").rglob("*.gz")) / 1024**2
                warm_wall, warm_peak, warm_report = _sync(home, base_url)
            requests = report["counters"]["requested"]
            rows.append((wall, peak, posts + comments, requests, warm_wall))
            print(
                f"run {number}: {posts:,} posts + {comments:,} comments in {wall:.1f} s "
                f"({(posts + comments) / wall:,.0f} items/s, {requests / wall:,.0f} requests/s), "
                f"peak {peak:.2f} GiB, archive {archive_mb:.0f} MiB; warm rerun {warm_wall:.1f} s "
                f"({warm_report['counters']['requested']} requests)",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait()
    print(_machine())
    print(
        f"cold: median {statistics.median(r[2] / r[0] for r in rows):,.0f} posts+comments/s, "
        f"median wall {statistics.median(r[0] for r in rows):.1f} s, "
        f"median peak RSS {statistics.median(r[1] for r in rows):.2f} GiB over {len(rows)} runs; "
        f"warm: median wall {statistics.median(r[4] for r in rows):.1f} s"
    )
