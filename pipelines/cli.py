"""Command line: run the main job, import a dump, simulate a society, render the report.

Every command executes the same Dagster jobs the UI shows, against the instance in DAGSTER_HOME,
so runs made here appear in `dagster dev` with their lineage and metadata.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml
from dagster import DagsterInstance, Definitions

from assets.ingest.sources import (
    SourceKind,
    detect_dump_format,
    discover_dumps,
    dump_society_id,
    simulated_society_id,
)
from pipelines.settings import Settings, load_settings

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")
DEFAULT_SIMULATIONS = ("moltbook-like:1",)


@dataclass(frozen=True)
class SocietyRun:
    """One society to bring into the warehouse and through enrichment and metrics."""

    society_id: str
    source: SourceKind
    ingest_config: dict[str, Any]


def prepare_instance(settings: Settings) -> DagsterInstance:
    """The persistent Dagster instance in DAGSTER_HOME, with the single-writer pool configured."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config_file = settings.dagster_home / "dagster.yaml"
    if not config_file.exists():
        config_file.write_text(DAGSTER_YAML.read_text())
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return DagsterInstance.get()


def dump_run(folder: Path, society_id: str | None = None) -> SocietyRun:
    kind = detect_dump_format(folder)
    if kind is None:
        raise SystemExit(
            f"{folder}: not a dump this importer knows (Moltbook API JSON, observatory CSV export, "
            "OASIS SQLite database, canonical JSONL folder)"
        )
    return SocietyRun(society_id or dump_society_id(folder, kind), kind, {"path": str(folder.resolve())})


def simulation_run(
    spec: str, n_agents: int | None, n_steps: int | None, overrides: dict[str, Any] | None = None
) -> SocietyRun:
    """`PRESET:SEED[:TWIN]` as one society partition; overrides travel as the run's YAML config."""
    preset, _, rest = spec.partition(":")
    seed, _, twin = rest.partition(":")
    society_id = simulated_society_id(preset, int(seed or 1), twin or None)
    config = {"n_agents": n_agents, "n_steps": n_steps,
              "config_yaml": yaml.safe_dump(overrides) if overrides else None}
    return SocietyRun(society_id, "simulator", config)


def simulate_command(args: argparse.Namespace) -> int | SocietyRun:
    """`simulate`: resolve the run from --config, --set and the flags. With --out or --check it runs
    here, without the pipeline (--out writes the society folder that the simulation sensor picks
    up) and returns an exit status; otherwise it returns the society run for the pipeline."""
    from simulators import simulate
    from simulators.checker import check_society
    from simulators.checker.common import failures
    from simulators.checkpoint import DEFAULT_EVERY, CheckpointMismatch, newest_header
    from simulators.output import write_society_folder
    from simulators.runspec import RunSpec, parse_assignments, run_spec_from_yaml

    spec = run_spec_from_yaml(args.config.read_text(), preset=args.preset) if args.config \
        else RunSpec(preset=args.preset or "moltbook-like")
    overrides = {**spec.overrides, **parse_assignments(args.set or [])}
    seed = args.seed if args.seed is not None else spec.seed
    twin = args.twin or spec.twin
    if args.agents is not None:
        overrides["n_agents"] = args.agents
    if args.steps is not None:
        overrides["n_steps"] = args.steps
    if args.checkpoint_dir is None and args.checkpoint_every is not None:
        raise SystemExit("--checkpoint-every needs --checkpoint-dir")
    if args.out is None and not args.check:
        if args.checkpoint_dir is not None:
            raise SystemExit("--checkpoint-dir applies to a run made here: add --out or --check")
        return simulation_run(f"{spec.preset}:{seed}:{twin or ''}", None, None, overrides)
    checkpointing: dict[str, Any] = {}
    if args.checkpoint_dir is not None:
        every = args.checkpoint_every or spec.checkpoint_every or DEFAULT_EVERY
        checkpointing = {"checkpoint_dir": args.checkpoint_dir, "checkpoint_every": every}
        found = newest_header(args.checkpoint_dir)
        if found is not None:
            print(f"found a checkpoint after step {found['step']} in {args.checkpoint_dir}: "
                  f"resuming from step {found['step'] + 1}")
    started = time.perf_counter()
    try:
        batch = simulate(spec.preset, seed=seed, twin=twin, **checkpointing, **overrides)
    except CheckpointMismatch as err:
        raise SystemExit(f"error: {err}") from None
    print(f"{batch.society_id}: simulated in {time.perf_counter() - started:.1f} s")
    for table, n in batch.row_counts().items():
        print(f"  {table:16s} {n:>10,d}")
    status = 0
    if args.check:
        verdicts = check_society(batch)
        print(f"\nground truth: {sum(v.passed for v in verdicts)}/{len(verdicts)} measured rows pass")
        for line in failures(verdicts):
            print(f"  FAIL {line}")
        status = 0 if all(v.passed for v in verdicts) else 1
    if args.out is not None:
        print(f"written: {write_society_folder(batch, args.out)}")
    return status


def execute(
    defs: Definitions,
    instance: DagsterInstance,
    runs: Sequence[SocietyRun],
    *,
    log_level: str = "WARNING",
) -> None:
    """Register each society as a partition, run its source's job on it, then render the report."""
    from pipelines.automation import INGEST_ASSET_BY_SOURCE, JOB_BY_SOURCE, society_report_job
    from pipelines.partitions import society_partitions

    loggers = {"console": {"config": {"log_level": log_level}}}
    instance.add_dynamic_partitions(society_partitions.name, [run.society_id for run in runs])
    for number, run in enumerate(runs, start=1):
        started = time.perf_counter()
        print(f"[{number}/{len(runs)}] {run.society_id}: ingest, enrich, measure ...", flush=True)
        job = defs.resolve_job_def(JOB_BY_SOURCE[run.source])
        config = {k: v for k, v in run.ingest_config.items() if v is not None}
        job.execute_in_process(
            partition_key=run.society_id,
            instance=instance,
            run_config={"ops": {INGEST_ASSET_BY_SOURCE[run.source]: {"config": config}}, "loggers": loggers},
        )
        print(f"      done in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    print("[report] society_report ...", flush=True)
    defs.resolve_job_def(society_report_job.name).execute_in_process(
        instance=instance, run_config={"loggers": loggers}
    )
    print(f"      done in {time.perf_counter() - started:.1f} s", flush=True)


def print_summary(settings: Settings) -> None:
    from warehouse.reader import open_reader, society_overview

    with open_reader(settings.warehouse_path) as conn:
        overview = society_overview(conn)
    counts = overview[["society_id", "n_posts", "n_comments", "n_agents", "n_quarantined", "n_metrics"]]
    print()
    print(counts.to_string(index=False))
    print()
    print(f"warehouse: {settings.warehouse_path}")
    if settings.report_path.exists():
        print(f"report:    {settings.report_path}")
    print(f"dagster:   DAGSTER_HOME={settings.dagster_home}  (make dev opens the UI)")


def evaluate_command(args: argparse.Namespace, settings: Settings) -> int:
    """`evaluate`: print agreement per field; exit status 2 with one line when the CSV cannot be scored."""
    import json

    from assets.enrich.evaluation import EvaluationInputError, evaluate_csv, format_scores

    fields = {None: None, "both": ["level", "category"]}.get(args.field, [args.field])
    try:
        results = evaluate_csv(
            args.csv,
            fields=fields,
            predicted_column=args.predicted_column,
            embedder=args.embedder or settings.embedder,
            device=settings.device,
            models_dir=settings.models_dir,
        )
    except EvaluationInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"csv": str(args.csv), "fields": {name: s.to_dict() for name, s in results.items()}}, indent=2))
    else:
        print("\n\n".join(format_scores(name, scores) for name, scores in results.items()))
    return 0


def sync_command(args: argparse.Namespace, settings: Settings) -> int:
    """`sync`: the live job on partition moltbook; with --demo, against a loopback replay server."""
    from contextlib import ExitStack
    from dataclasses import replace
    from datetime import timedelta

    from assets.ingest.moltbook_replay import ReplayServer, ReplaySite
    from pipelines.definitions import build_definitions

    config: dict[str, Any] = {"max_listing_pages": args.max_listing_pages, "max_comment_posts": args.max_comment_posts}
    with ExitStack() as stack:
        if args.demo:
            if args.demo_synthetic:
                site = ReplaySite.synthetic(args.demo_synthetic, seed=1)
            else:
                captures = settings.dumps_dir / "api"
                if not captures.is_dir():
                    raise SystemExit(f"--demo serves the captures in {captures}, which is missing; use --demo-synthetic N")
                site = ReplaySite.from_captures(captures)
            newest = site.newest_created_at()
            served_at = newest + timedelta(hours=1) if newest else None  # every post old enough for its comments
            server = stack.enter_context(ReplayServer(site, served_at=served_at, inline_comments=True))
            print(f"demo: replay server at {server.base_url} ({len(site.posts)} posts)", flush=True)
            settings = replace(settings, moltbook_base_url=server.base_url, moltbook_requests_per_minute=0)
        elif args.base_url:
            settings = replace(settings, moltbook_base_url=args.base_url)
        started = time.perf_counter()
        execute(
            build_definitions(settings),
            prepare_instance(settings),
            [SocietyRun("moltbook", "moltbook_live", config)],
            log_level="DEBUG" if args.verbose else "WARNING",
        )
    print(f"\nfinished in {time.perf_counter() - started:.1f} s")
    print_summary(settings)
    return 0


def validate_command(args: argparse.Namespace, settings: Settings) -> int:
    """`validate`: the blind validation of one simulated society; exit 1 when a row fails."""
    import tempfile

    import pandas as pd

    from pipelines.validation import run_blind, verdict_table
    from simulators import simulate
    from simulators.runspec import parse_assignments

    preset, _, rest = args.society.partition(":")
    seed, _, twin = rest.partition(":")
    overrides = parse_assignments(args.set or [])
    if args.agents is not None:
        overrides["n_agents"] = args.agents
    if args.steps is not None:
        overrides["n_steps"] = args.steps
    started = time.perf_counter()
    batch = simulate(preset, seed=int(seed or 1), twin=twin or None, **overrides)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="observatory-validate-"))
    print(f"{batch.society_id}: {len(batch.tables['posts']):,} posts, {len(batch.tables['comments']):,} comments; "
          f"analytics run blind in {workdir} ...", flush=True)
    blind = run_blind(batch, workdir, embedder=args.embedder or settings.embedder,
                      models_dir=settings.models_dir, device=settings.device)
    with pd.option_context("display.width", 250, "display.max_colwidth", 70):
        print(verdict_table(blind.verdicts).to_string(index=False))
    counts = {s: sum(v.status == s for v in blind.verdicts) for s in ("pass", "fail", "skip")}
    print(f"\n{counts['pass']} pass, {counts['fail']} fail, {counts['skip']} skipped "
          f"({time.perf_counter() - started:.0f} s)")
    return 0 if counts["fail"] == 0 else 1


def findings_command(args: argparse.Namespace, settings: Settings) -> int:
    """`findings`: the §8.2 published findings on societies already in the warehouse."""
    import pandas as pd

    from assets.metrics.findings import read_findings
    from warehouse.reader import open_reader

    with open_reader(settings.warehouse_path) as conn:
        society_ids = args.society_ids or [
            r[0] for r in conn.execute("SELECT society_id FROM societies ORDER BY society_id").fetchall()]
        tables = {sid: read_findings(conn, sid) for sid in society_ids}
    for society_id, table in tables.items():
        print(f"\n{society_id}")
        with pd.option_context("display.width", 250, "display.max_colwidth", 90):
            print(table[["finding", "status", "claim", "observed", "reason"]].to_string(index=False))
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="observatory", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show Dagster's step logs")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="the main job: every dump in the dumps folder plus the default simulation, then the report")
    run.add_argument("--dumps-dir", type=Path, help="folder whose sub-folders are dumps (default OBSERVATORY_DUMPS_DIR)")
    run.add_argument("--sim", action="append", metavar="PRESET:SEED[:TWIN]", help=f"simulated societies (default {', '.join(DEFAULT_SIMULATIONS)})")
    run.add_argument("--no-sim", action="store_true", help="import dumps only")
    run.add_argument("--sim-agents", type=int)
    run.add_argument("--sim-steps", type=int)

    imp = commands.add_parser("import", help="import one dump (API JSON or observatory CSV folder, OASIS database, canonical JSONL folder) as a society, then refresh the report")
    imp.add_argument("path", type=Path)
    imp.add_argument("--society-id", help="default moltbook-dump-<folder name>, or oasis-<name> for an OASIS run")

    sim = commands.add_parser(
        "simulate",
        help="run one simulated society through the pipeline (or, with --out, write its folder), then refresh the report",
    )
    sim.add_argument("--preset", help="moltbook-like, echo-chamber, high-socialization, herd-effect or cascade")
    sim.add_argument("--seed", type=int, help="default 1, or the config file's")
    sim.add_argument("--agents", type=int)
    sim.add_argument("--steps", type=int)
    sim.add_argument("--twin", help="a counterfactual twin of the preset, e.g. nodup (SIMULATORS.md §6)")
    sim.add_argument("--config", type=Path, help="YAML run config (SIMULATORS.md §10 format)")
    sim.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config key (repeatable)")
    sim.add_argument("--out", type=Path, help="write the society folder (one Parquet file per table) here instead of running the pipeline")
    sim.add_argument("--check", action="store_true", help="score the planted ground truth with the independent checker")
    sim.add_argument("--checkpoint-dir", type=Path, help="save the run state here and resume from it when it holds a checkpoint of this run (with --out or --check; one folder per run)")
    sim.add_argument("--checkpoint-every", type=int, metavar="K", help="steps between checkpoints (default: the config's output.checkpoint_every, else 100)")

    ev = commands.add_parser(
        "evaluate",
        help="score the offline category/toxicity labellers (or a prediction column) against a labelled CSV",
    )
    ev.add_argument("csv", type=Path, help="UTF-8 CSV with a text column and gold level and/or category columns")
    ev.add_argument("--field", choices=("level", "category", "both"), help="default: every gold column in the CSV")
    ev.add_argument("--predicted-column", metavar="COL", help="score this column of the CSV instead of running a model")
    ev.add_argument("--embedder", help="embedder for the labellers (default OBSERVATORY_EMBEDDER, else minilm)")
    ev.add_argument("--json", action="store_true", help="print machine-readable JSON")

    sync = commands.add_parser(
        "sync",
        help="one incremental sync of the live Moltbook (society moltbook), then enrich, measure and refresh the report",
    )
    sync.add_argument("--base-url", help="API root (default OBSERVATORY_MOLTBOOK_BASE_URL, else https://www.moltbook.com/api/v1)")
    sync.add_argument("--demo", action="store_true", help="offline: sync from a local replay server serving the real captures in the dumps folder's api/ (or --demo-synthetic)")
    sync.add_argument("--demo-synthetic", type=int, metavar="N", help="with --demo: serve a generated site of N posts instead")
    sync.add_argument("--max-listing-pages", type=int, help="cap this run's listing pages (a first backfill of a large platform)")
    sync.add_argument("--max-comment-posts", type=int, help="cap this run's comment-tree fetches")

    validate = commands.add_parser(
        "validate",
        help="blind validation: simulate a society, run the analytics with its planted truth withheld, score every ground-truth row",
    )
    validate.add_argument("society", metavar="PRESET[:SEED[:TWIN]]")
    validate.add_argument("--agents", type=int)
    validate.add_argument("--steps", type=int)
    validate.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config key (repeatable)")
    validate.add_argument("--embedder", help="minilm or static (default OBSERVATORY_EMBEDDER, else minilm)")
    validate.add_argument("--workdir", type=Path, help="an empty folder for the private warehouse (default a new temporary folder)")

    findings = commands.add_parser(
        "findings",
        help="the published Moltbook findings (ANALYTICS_SPEC §8.2) as reproduced / not reproduced / not available, per society",
    )
    findings.add_argument("society_ids", nargs="*", help="default: every society in the warehouse")

    commands.add_parser("report", help="render the comparative report from the warehouse")
    export = commands.add_parser("export-parquet", help="write every warehouse table as Parquet")
    export.add_argument("out_dir", type=Path)
    export_jsonl = commands.add_parser(
        "export-jsonl",
        help="write each society's canonical tables as OUT_DIR/<society_id>/<table>.jsonl.gz (observatory import reads them back)",
    )
    export_jsonl.add_argument("out_dir", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    settings = load_settings()
    if args.command == "export-parquet":
        from warehouse.reader import export_parquet

        for path in export_parquet(settings.warehouse_path, args.out_dir):
            print(path)
        return 0
    if args.command == "export-jsonl":
        from assets.ingest.canonical_jsonl import export_canonical_jsonl
        from warehouse.reader import open_reader

        with open_reader(settings.warehouse_path) as conn:
            for folder in export_canonical_jsonl(conn, args.out_dir):
                print(folder)
        return 0
    if args.command == "evaluate":
        return evaluate_command(args, settings)
    if args.command == "validate":
        return validate_command(args, settings)
    if args.command == "findings":
        return findings_command(args, settings)

    runs: list[SocietyRun] = []
    if args.command == "run":
        dumps_dir = args.dumps_dir.resolve() if args.dumps_dir else settings.dumps_dir
        dumps = discover_dumps(dumps_dir)
        if not dumps:
            print(f"note: no dump folders under {dumps_dir}; running the simulated society only", file=sys.stderr)
        runs += [SocietyRun(sid, kind, {"path": str(folder)}) for sid, (kind, folder) in dumps.items()]
        if not args.no_sim:
            runs += [simulation_run(spec, args.sim_agents, args.sim_steps) for spec in (args.sim or DEFAULT_SIMULATIONS)]
    elif args.command == "import":
        runs.append(dump_run(args.path, args.society_id))
    elif args.command == "simulate":
        outcome = simulate_command(args)
        if isinstance(outcome, int):
            return outcome
        runs.append(outcome)

    if args.command == "sync":
        return sync_command(args, settings)

    from pipelines.definitions import build_definitions

    started = time.perf_counter()
    instance = prepare_instance(settings)
    execute(
        build_definitions(settings),
        instance,
        runs,
        log_level="DEBUG" if args.verbose else "WARNING",
    )
    print(f"\nfinished in {time.perf_counter() - started:.1f} s")
    print_summary(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
