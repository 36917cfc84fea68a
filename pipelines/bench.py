"""Benchmarks: the main job (`main`), the built-in simulators (`sim`), enrichment (`enrich`,
in pipelines/bench_enrich.py), live ingestion (`ingest`, in pipelines/bench_ingest.py) and the
metric families (`metrics`, in pipelines/bench_metrics.py).

main: wall time and peak memory of `observatory run`, cold and warm. Cold is a fresh warehouse
and Dagster home, so everything is ingested and embedded; warm is the same run again over the
filled warehouse (embeddings cached, nothing new to insert).

sim: for each preset and size, events per second and peak memory of `simulate()` (engine plus
canonical tables). An event is one `actions` row: every decision of an awake agent, including
votes, follows, reposts and do_nothing.

Every measurement runs in its own process, measured with os.wait4; medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed_process(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak resident memory (GiB) and stdout of one command in its own process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        stdout = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {os.waitstatus_to_exitcode(status)}); run it directly to see why")
    return wall, usage.ru_maxrss / 1024**2, stdout  # ru_maxrss is KiB on Linux


def _timed_run(home: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory of one `observatory run` against the warehouse in `home`."""
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    wall, peak, _ = _timed_process([sys.executable, "-m", "pipelines.cli", "run", *extra], env)
    return wall, peak


def _machine() -> str:
    return f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def simulate_once(preset: str, n_agents: int, n_steps: int, seed: int) -> dict[str, float]:
    """One simulate() call in this process: its wall time and the rows it emitted."""
    from simulators import simulate

    started = time.perf_counter()
    batch = simulate(preset, seed=seed, n_agents=n_agents, n_steps=n_steps)
    wall = time.perf_counter() - started
    counts = batch.row_counts()
    return {"wall_s": wall, "events": counts["actions"], "exposures": counts["exposures"],
            "items": counts["posts"] + counts["comments"]}


def bench_simulators(presets: list[str], sizes: list[int], steps: int | None, repeat: int, seed: int) -> None:
    """Events/s and peak memory per preset and size; steps default to the preset's reference
    length (at most 1,000), and to at most 100 at 100,000 agents and above."""
    from simulators import PRESETS

    print(f"{'preset':20s} {'agents':>8s} {'steps':>6s} {'events':>11s} {'items':>10s} "
          f"{'wall s':>8s} {'events/s':>10s} {'peak GiB':>9s}", flush=True)
    for preset in presets:
        reference_steps = PRESETS[preset].reference_size[1] or 1_000
        for n_agents in sizes:
            n_steps = steps or min(reference_steps, 1_000 if n_agents < 100_000 else 100)
            runs = []
            for _ in range(repeat):
                command = [sys.executable, "-m", "pipelines.bench", "sim-once", preset,
                           str(n_agents), str(n_steps), str(seed)]
                _, peak, stdout = _timed_process(command)
                runs.append((json.loads(stdout.strip().splitlines()[-1]), peak))
            wall = statistics.median(r["wall_s"] for r, _ in runs)
            events = runs[0][0]["events"]
            print(f"{preset:20s} {n_agents:>8,d} {n_steps:>6,d} {events:>11,d} "
                  f"{runs[0][0]['items']:>10,d} {wall:>8.1f} {events / wall:>10,.0f} "
                  f"{statistics.median(p for _, p in runs):>9.2f}", flush=True)
    print(_machine() + f"; medians of {repeat} runs, each in its own process")


def bench_main(repeat: int, run_args: list[str]) -> None:
    """Cold and warm runs of the main job in fresh temporary homes."""
    cold, warm = [], []
    for number in range(1, repeat + 1):
        with tempfile.TemporaryDirectory(prefix="observatory-bench-") as tmp:
            home = Path(tmp)
            cold.append(_timed_run(home, run_args))
            warm.append(_timed_run(home, run_args))
        print(
            f"run {number}: cold {cold[-1][0]:.1f} s, {cold[-1][1]:.2f} GiB; "
            f"warm {warm[-1][0]:.1f} s, {warm[-1][1]:.2f} GiB",
            flush=True,
        )
    print(_machine())
    for name, runs in (("cold", cold), ("warm", warm)):
        print(
            f"{name}: median wall {statistics.median(w for w, _ in runs):.1f} s, "
            f"median peak RSS {statistics.median(m for _, m in runs):.2f} GiB over {len(runs)} runs"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatory-bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    main_job = commands.add_parser("main", help="the main job, cold and warm")
    main_job.add_argument("--repeat", type=int, default=3, help="cold/warm pairs to run (default 3)")
    main_job.add_argument("run_args", nargs="*", help="extra arguments for `observatory run`")
    sim = commands.add_parser("sim", help="the simulator presets at several sizes")
    sim.add_argument("--presets", nargs="+", help="default: every preset")
    sim.add_argument("--sizes", nargs="+", type=int, default=[1_000, 10_000, 100_000])
    sim.add_argument("--steps", type=int, help="default: the preset's reference length, capped")
    sim.add_argument("--repeat", type=int, default=3)
    sim.add_argument("--seed", type=int, default=1)
    enrich = commands.add_parser("enrich", help="embedders, the embedding cache, BERTopic and the offline scorers")
    enrich.add_argument("--only", nargs="+", help="run the measurements whose label contains any of these words")
    enrich.add_argument("--repeat", type=int, default=3)
    ingest = commands.add_parser("ingest", help="a live sync of a synthetic site from the local replay server")
    ingest.add_argument("--posts", type=int, default=100_000)
    ingest.add_argument("--repeat", type=int, default=3)
    ingest.add_argument("--seed", type=int, default=1)
    metrics = commands.add_parser("metrics", help="the seven metric families on simulated societies of three sizes")
    metrics.add_argument("--sizes", nargs="+", type=int, default=[10_000, 30_000, 100_000],
                         help="posts per society (comments come out about 5x)")
    metrics.add_argument("--repeat", type=int, default=3)
    metrics.add_argument("--seed", type=int, default=1)
    metrics.add_argument("--families", nargs="+", help="default: all seven")
    metrics.add_argument("--keep", type=Path, help="keep the prepared warehouses in this folder and reuse them")
    once = commands.add_parser("sim-once", help=argparse.SUPPRESS)
    for name in ("preset", "n_agents", "n_steps", "seed"):
        once.add_argument(name)
    metrics_prep = commands.add_parser("metrics-prep", help=argparse.SUPPRESS)
    for name in ("workdir", "n_agents", "n_steps", "seed"):
        metrics_prep.add_argument(name)
    metrics_once = commands.add_parser("metrics-once", help=argparse.SUPPRESS)
    for name in ("warehouse", "society_id", "family"):
        metrics_once.add_argument(name)
    args = parser.parse_args(argv)
    if args.command == "main":
        bench_main(args.repeat, args.run_args)
    elif args.command == "sim":
        from simulators import PRESETS

        bench_simulators(args.presets or list(PRESETS), args.sizes, args.steps, args.repeat, args.seed)
    elif args.command == "ingest":
        from pipelines.bench_ingest import bench_ingest

        bench_ingest(args.posts, args.repeat, args.seed)
    elif args.command == "enrich":
        from pipelines.bench_enrich import bench_enrich

        bench_enrich(args.only, args.repeat)
    elif args.command == "metrics":
        from pipelines.bench_metrics import bench_metrics

        bench_metrics(args.sizes, args.repeat, args.seed, args.families, args.keep)
    elif args.command == "metrics-prep":
        from pipelines.bench_metrics import prepare_society

        print(json.dumps(prepare_society(Path(args.workdir), int(args.n_agents), int(args.n_steps), int(args.seed))))
    elif args.command == "metrics-once":
        from pipelines.bench_metrics import family_once

        print(json.dumps(family_once(args.warehouse, args.society_id, args.family)))
    else:
        print(json.dumps(simulate_once(args.preset, int(args.n_agents), int(args.n_steps), int(args.seed))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
