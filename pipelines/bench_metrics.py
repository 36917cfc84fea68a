"""Metrics benchmark: wall time and peak memory of each metric family (ANALYTICS_SPEC §0.6) on
simulated societies of three sizes, so that each family's cost growth shows.

The society: the moltbook-like preset over three simulated days (4,320 one-minute steps), with
the number of agents scaled to the wanted number of posts. Its default action mix writes about
1.6 comments per post; the benchmark shifts it (`SOCIETY_YAML`: fewer posts, more comments, fewer
posting heartbeats) to about 5 comments per post, the ratio of the 100,000-post, 500,000-comment
target. Activity is heavy-tailed (a few capped flooders write much of the volume), so the post
count of neighbouring agent counts jumps by ±30%; for the default sizes and seed 1 the agent
counts come from a sweep (`CALIBRATED_AGENTS`), other sizes assume 19 posts per agent. The
printed counts are the real ones.

Prep (timed, reported apart): a child process materializes, in a fresh warehouse with an
ephemeral Dagster instance, the simulator's ingest asset and the offline enrichment assets
(static embedder, topics, categories, toxicity, emotion and language) - the simulation job
without its metric assets, the LLM judge (it would call an endpoint) and the report. A selection
rather than the whole job, because the whole job would also run every family once, untimed.
With `--keep DIR` the prepared warehouses stay in DIR and a later run reuses them.

Family runs: each family and repeat in its own process (`metrics-once`), which calls
`run_family` of assets.metrics.defs - the asset's own read -> compute -> store path - in the
order of FAMILY_COMPUTE (socialization reads the PageRank that influence stores). `wall s` is
run_family alone; `proc s` adds interpreter start and imports; `peak GiB` is the process's
peak resident memory (os.wait4), imports included.

Growth exponent of a family between two sizes: log(time ratio) / log(items ratio), items =
posts + comments. Linear work gives 1; n log n a little more (printed as the reference).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.bench import _machine, _timed_process

PRESET = "moltbook-like"
N_STEPS = 4_320  # three days of one-minute steps
POSTS_PER_AGENT = 19.0  # mean over a sweep of 400 to 5,000 agents with SOCIETY_YAML over N_STEPS
# Seed 1, wanted posts -> agents: 9,821 posts + 50,922 comments; 29,115 + 143,585; 100,062 + 499,703.
CALIBRATED_AGENTS = {10_000: 400, 30_000: 1_600, 100_000: 5_000}
SOCIETY_YAML = """\
action_weights: {post: 0.095, comment: 0.585, follow: 0.02, nothing: 0.30}
heartbeat_post_prob: 0.33
"""


def society_size(posts: int, seed: int) -> tuple[int, int]:
    """(agents, steps) of the society with about `posts` posts."""
    if seed == 1 and posts in CALIBRATED_AGENTS:
        return CALIBRATED_AGENTS[posts], N_STEPS
    return max(10, round(posts / POSTS_PER_AGENT)), N_STEPS


def growth_exponent(time_small: float, time_large: float, items_small: int, items_large: int) -> float:
    """The k of time ∝ items^k through two measurements."""
    return math.log(time_large / time_small) / math.log(items_large / items_small)


def nlogn_exponent(items_small: int, items_large: int) -> float:
    """The growth exponent n log n work would show between the same two sizes."""
    return growth_exponent(items_small * math.log(items_small), items_large * math.log(items_large),
                           items_small, items_large)


# --------------------------------------------------------------------------- child processes


def prepare_society(workdir: Path, n_agents: int, n_steps: int, seed: int) -> dict:
    """Simulate, ingest and enrich one society into workdir/warehouse.duckdb (see the module
    docstring); its id and row counts."""
    from dagster import DagsterInstance, materialize

    from assets.enrich.defs import content_category, emotion_labels, text_embeddings, topic_assignments, toxicity_labels
    from assets.ingest.defs import simulated_traces
    from pipelines.partitions import society_partitions
    from pipelines.resources import EmbedderResource, SourcesResource, WarehouseResource
    from pipelines.settings import load_settings
    from simulators.tables import society_id_for

    warehouse_path = workdir / "warehouse.duckdb"
    society_id = society_id_for(PRESET, seed)
    settings = load_settings()
    resources = {
        "warehouse": WarehouseResource(path=str(warehouse_path)),
        "embedder": EmbedderResource(name="static", models_dir=str(settings.models_dir)),
        "sources": SourcesResource(dumps_dir=str(workdir / "dumps"), sim_dir=str(workdir / "simulations")),
    }
    config = {"n_agents": n_agents, "n_steps": n_steps, "config_yaml": SOCIETY_YAML}
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(society_partitions.name, [society_id])
        result = materialize(
            [simulated_traces, text_embeddings, topic_assignments, content_category, toxicity_labels, emotion_labels],
            partition_key=society_id, instance=instance, resources=resources,
            run_config={"ops": {simulated_traces.node_def.name: {"config": config}},
                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        if not result.success:
            raise RuntimeError(f"{society_id}: the prep run failed")
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        posts, comments = conn.execute(
            "SELECT (SELECT count(*) FROM posts WHERE society_id = ?), "
            "(SELECT count(*) FROM comments WHERE society_id = ?)",
            [society_id, society_id]).fetchone()
    return {"society_id": society_id, "posts": posts, "comments": comments}


def family_once(warehouse_path: str, society_id: str, family: str) -> dict:
    """One run of one family, as its asset runs it; its wall time and what it stored."""
    from assets.metrics.defs import FAMILY_COMPUTE, run_family
    from pipelines.resources import WarehouseResource

    started = time.perf_counter()
    tables, rows = run_family(WarehouseResource(path=warehouse_path), society_id, FAMILY_COMPUTE[family])
    wall = time.perf_counter() - started
    return {"wall_s": wall, "table_rows": sum(len(frame) for frame in tables.values()), "metric_rows": len(rows)}


# --------------------------------------------------------------------------- the benchmark


def _child(*args: str) -> tuple[float, float, dict]:
    wall, peak, stdout = _timed_process([sys.executable, "-m", "pipelines.bench", *args])
    return wall, peak, json.loads(stdout.strip().splitlines()[-1])


@contextmanager
def _workdir(keep: Path | None, posts_wanted: int, seed: int) -> Iterator[Path]:
    """Where one size's warehouse lives: a folder of `keep`, or a temporary one removed after."""
    if keep is not None:
        yield keep / f"posts-{posts_wanted}-seed-{seed}"
        return
    with tempfile.TemporaryDirectory(prefix="observatory-bench-metrics-") as tmp:
        yield Path(tmp)


def _prepared(workdir: Path, posts_wanted: int, seed: int) -> dict:
    """The society of this size in workdir: reused when a kept warehouse holds it, else prepared."""
    marker = workdir / "society.json"
    if marker.exists():
        return {**json.loads(marker.read_text()), "prep_s": None, "prep_gib": None}
    n_agents, n_steps = society_size(posts_wanted, seed)
    workdir.mkdir(parents=True, exist_ok=True)
    wall, peak, society = _child("metrics-prep", str(workdir), str(n_agents), str(n_steps), str(seed))
    society = {**society, "n_agents": n_agents, "n_steps": n_steps}
    marker.write_text(json.dumps(society))
    return {**society, "prep_s": wall, "prep_gib": peak}


def bench_metrics(sizes: list[int], repeat: int, seed: int, families: list[str] | None = None,
                  keep: Path | None = None) -> None:
    """Per size: prep, then every family `repeat` times, each in its own process; medians
    printed as they come, growth exponents at the end."""
    from assets.metrics.defs import FAMILY_COMPUTE

    unknown = set(families or []) - set(FAMILY_COMPUTE)
    if unknown:
        raise SystemExit(f"unknown families {sorted(unknown)}; known: {list(FAMILY_COMPUTE)}")
    chosen = [f for f in FAMILY_COMPUTE if families is None or f in families]
    if "socialization" in chosen and "influence" not in chosen:
        chosen.insert(chosen.index("socialization"), "influence")  # socialization reads its PageRank
    print(_machine() + f"; medians of {repeat} runs, each in its own process", flush=True)
    print(f"{'family':14s} {'posts':>9s} {'comments':>9s} {'wall s':>8s} {'proc s':>8s} {'peak GiB':>9s}", flush=True)
    measured: dict[int, tuple[int, dict[str, float]]] = {}  # posts wanted -> (items, family -> wall)
    for posts_wanted in sizes:
        with _workdir(keep, posts_wanted, seed) as workdir:
            society = _prepared(workdir, posts_wanted, seed)
            posts, comments = society["posts"], society["comments"]
            prep = ("reused" if society["prep_s"] is None
                    else f"{society['prep_s']:.1f} s, {society['prep_gib']:.2f} GiB")
            print(f"-- {posts:,} posts, {comments:,} comments ({society['n_agents']:,} agents x "
                  f"{society['n_steps']:,} steps); prep (simulate, ingest, enrich): {prep}", flush=True)
            walls: dict[str, float] = {}
            for family in chosen:
                runs = [_child("metrics-once", str(workdir / "warehouse.duckdb"), society["society_id"], family)
                        for _ in range(repeat)]
                walls[family] = statistics.median(r["wall_s"] for _, _, r in runs)
                print(f"{family:14s} {posts:>9,d} {comments:>9,d} {walls[family]:>8.1f} "
                      f"{statistics.median(w for w, _, _ in runs):>8.1f} "
                      f"{statistics.median(p for _, p, _ in runs):>9.2f}", flush=True)
            print(f"{'total':14s} {posts:>9,d} {comments:>9,d} {sum(walls.values()):>8.1f}", flush=True)
            measured[posts_wanted] = (posts + comments, walls)
    _print_growth(measured, chosen)


def _print_growth(measured: dict[int, tuple[int, dict[str, float]]], families: list[str]) -> None:
    if len(measured) < 2:
        return
    ordered = [measured[size] for size in sorted(measured)]
    pairs = [("smallest->largest", ordered[0], ordered[-1])]
    if len(ordered) > 2:
        pairs.append(("middle->largest", ordered[len(ordered) // 2], ordered[-1]))
    print("growth exponents, time ∝ (posts + comments)^k; n log n work gives "
          + ", ".join(f"{nlogn_exponent(small[0], large[0]):.2f} ({label})" for label, small, large in pairs))
    print(f"{'family':14s} " + " ".join(f"{label:>18s}" for label, _, _ in pairs))
    for family in [*families, "total"]:
        cells = []
        for _, (items_small, small), (items_large, large) in pairs:
            t_small = sum(small.values()) if family == "total" else small[family]
            t_large = sum(large.values()) if family == "total" else large[family]
            cells.append(f"{growth_exponent(t_small, t_large, items_small, items_large):>18.2f}")
        print(f"{family:14s} " + " ".join(cells))
