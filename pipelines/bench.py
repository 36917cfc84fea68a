"""Benchmark of the main job: wall time and peak memory of `observatory run`, cold and warm.

Cold: a fresh warehouse and Dagster home, so everything is ingested and embedded. Warm: the same
run again over the filled warehouse (embeddings cached, nothing new to insert). Each run is a
separate process, measured with os.wait4, and the medians are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed_run(home: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GiB) of one `observatory run` in its own process."""
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"observatory run failed (exit {os.waitstatus_to_exitcode(status)}); run it directly to see why")
    return wall, usage.ru_maxrss / 1024**2  # ru_maxrss is KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatory-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold/warm pairs to run (default 3)")
    parser.add_argument("run_args", nargs="*", help="extra arguments for `observatory run`")
    args = parser.parse_args(argv)

    cold, warm = [], []
    for number in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory(prefix="observatory-bench-") as tmp:
            home = Path(tmp)
            cold.append(_timed_run(home, args.run_args))
            warm.append(_timed_run(home, args.run_args))
        print(
            f"run {number}: cold {cold[-1][0]:.1f} s, {cold[-1][1]:.2f} GiB; "
            f"warm {warm[-1][0]:.1f} s, {warm[-1][1]:.2f} GiB",
            flush=True,
        )
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    for name, runs in (("cold", cold), ("warm", warm)):
        print(
            f"{name}: median wall {statistics.median(w for w, _ in runs):.1f} s, "
            f"median peak RSS {statistics.median(m for _, m in runs):.2f} GiB over {len(runs)} runs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
