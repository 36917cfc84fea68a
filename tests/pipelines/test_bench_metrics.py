"""The metrics benchmark: its growth arithmetic, the society sizing, and `run_family` - the one
read -> compute -> store path that the family assets and the benchmark share."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from assets.metrics.defs import FAMILY_COMPUTE, run_family
from pipelines.bench_metrics import growth_exponent, nlogn_exponent, society_size
from pipelines.resources import WarehouseResource
from pipelines.settings import REPO_ROOT
from simulators import simulate
from warehouse.reader import open_reader
from warehouse.writer import open_writer, write_batch


def test_growth_exponent_reads_the_power_back() -> None:
    assert growth_exponent(2.0, 20.0, 1_000, 10_000) == pytest.approx(1.0)
    assert growth_exponent(1.0, 100.0, 60_000, 600_000) == pytest.approx(2.0)
    assert growth_exponent(5.0, 5.0, 10, 1_000) == pytest.approx(0.0)
    assert growth_exponent(1.0, 8.0, 3, 6) == pytest.approx(3.0)


def test_n_log_n_sits_a_little_above_linear() -> None:
    # 60k -> 600k items: n log n grows 10 x log(600k)/log(60k) = 12.09 times, exponent 1.08
    assert nlogn_exponent(60_000, 600_000) == pytest.approx(1 + math.log10(math.log(600_000) / math.log(60_000)))
    assert 1.07 < nlogn_exponent(60_000, 600_000) < 1.09


def test_sizes_scale_agents_and_keep_three_days() -> None:
    assert society_size(100_000, seed=1) == (5_000, 4_320)  # calibrated for seed 1
    assert society_size(30_000, seed=1) == (1_600, 4_320)
    assert society_size(19_000, seed=1) == (1_000, 4_320)  # 19 posts per agent elsewhere
    assert society_size(100_000, seed=2) == (5_263, 4_320)
    assert society_size(10, seed=1) == (10, 4_320)  # the simulator's floor


def test_families_run_in_dependency_order() -> None:
    assert list(FAMILY_COMPUTE) == ["topics", "toxicity", "influence", "socialization", "moltnet",
                                    "automation", "threads"]


def test_run_family_stores_what_it_returns(tmp_path: Path) -> None:
    batch = simulate("moltbook-like", seed=4, n_agents=40, n_steps=180)
    path = tmp_path / "warehouse.duckdb"
    with open_writer(path) as conn:
        write_batch(conn, batch, run_id="test", source="simulator", started_at=datetime.now(timezone.utc))

    tables, rows = run_family(WarehouseResource(path=str(path)), batch.society_id, FAMILY_COMPUTE["threads"])

    assert {r.family for r in rows} == {"threads"}
    stats = tables["threads_thread_stats"]
    assert len(stats) == batch.tables["comments"]["post_id"].nunique()  # one row per post with comments
    with open_reader(path) as conn:
        stored = dict(conn.execute(
            "SELECT metric, value FROM society_metric WHERE society_id = ? AND family = 'threads'",
            [batch.society_id]).fetchall())
        n_stats = conn.execute("SELECT count(*) FROM threads_thread_stats WHERE society_id = ?",
                               [batch.society_id]).fetchone()[0]
        analysed = conn.execute("SELECT count(*) FROM society_analysis WHERE society_id = ?",
                                [batch.society_id]).fetchone()[0]
    assert stored == pytest.approx({r.metric: r.value for r in rows}, nan_ok=True)
    assert n_stats == len(stats)
    assert analysed == 1


@pytest.mark.slow
def test_the_benchmark_prints_a_line_per_size_and_family_and_the_growth(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pipelines.bench", "metrics", "--sizes", "200", "400", "--repeat", "1",
               "--families", "threads", "--keep", str(tmp_path)]
    out = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0].startswith("machine:")
    assert sum(line.startswith("-- ") and "prep (simulate, ingest, enrich)" in line for line in lines) == 2
    assert sum(line.split()[0] == "threads" for line in lines if line.strip()) == 3  # two sizes + growth
    assert sum(line.startswith("total") for line in lines) == 3
    assert any(line.startswith("growth exponents") for line in lines)
