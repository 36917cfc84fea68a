"""Dagster wiring of the ingest stage: one asset per source kind, one partition per society."""

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional

import duckdb
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetsDefinition,
    AssetSpec,
    FreshnessPolicy,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from assets.ingest.checks import TRACE_CHECK_NAMES, CheckOutcome, check_traces
from assets.ingest.clean import input_fingerprint, to_utc_timestamp
from assets.ingest.canonical_jsonl import parse_canonical_jsonl
from assets.ingest.moltbook_api import parse_api_dump
from assets.ingest.moltbook_sync import LiveSync, SyncConfig
from assets.ingest.oasis import parse_oasis_db
from assets.ingest.observatory_csv import parse_observatory_export
from assets.ingest.sources import (
    SourceKind,
    detect_dump_format,
    dump_path,
    parse_simulated_society_id,
)
from pipelines.partitions import WAREHOUSE_POOL, society_partitions
from pipelines.resources import MoltbookApiResource, SourcesResource, WarehouseResource
from simulators import simulate
from simulators.output import is_society_folder, read_society_folder
from simulators.runspec import run_spec_from_yaml
from warehouse.batch import CanonicalBatch
from warehouse.writer import write_batch


class DumpImportConfig(Config):
    """Where the dump is; by default `<OBSERVATORY_DUMPS_DIR>/<name>` for society moltbook-dump-<name>
    or oasis-<name> (an OASIS run may also be the file `<name>.db` there)."""

    path: Optional[str] = None
    observed_at: Optional[str] = None  # when the dump was taken (ISO-8601); default: its newest timestamp


class SimulationConfig(Config):
    """How to build the society of partition sim-<preset>-<seed>[-<twin>] (preset, seed and twin
    come from the key). A folder written by `simulate --out` (in OBSERVATORY_SIM_DIR, or `path`)
    is imported as it is; otherwise the preset runs here, with `config_yaml` overrides in the
    SIMULATORS.md §10 format and `n_agents` / `n_steps` on top."""

    n_agents: Optional[int] = None
    n_steps: Optional[int] = None
    config_yaml: Optional[str] = None
    path: Optional[str] = None


def _check_specs(asset_name: str) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(name, asset=asset_name) for name in TRACE_CHECK_NAMES]


def _parse_jsonl_dump(folder: Path, society_id: str, observed_at: Optional[pd.Timestamp]) -> CanonicalBatch:
    """A canonical JSONL dump carries its own observation times, so `observed_at` cannot apply."""
    if observed_at is not None:
        raise ValueError("observed_at does not apply to a canonical JSONL dump: its rows carry their times")
    return parse_canonical_jsonl(folder, society_id)


# How each dump kind is parsed (folder, society id, observed_at), and which of a dump folder's files
# make up its input fingerprint. For an OASIS run, observed_at is the end time of the run.
DUMP_PARSERS: dict[SourceKind, tuple[Callable[..., CanonicalBatch], tuple[str, ...]]] = {
    "moltbook_api": (parse_api_dump, ("*.json",)),
    "observatory_csv": (parse_observatory_export, ("*.csv",)),
    "oasis": (parse_oasis_db, ("*.db", "*.sqlite", "*.sqlite3")),
    "canonical_jsonl": (_parse_jsonl_dump, ("*.jsonl", "*.jsonl.gz")),
}


def _import_dump(
    context: AssetExecutionContext,
    config: DumpImportConfig,
    warehouse: WarehouseResource,
    sources: SourcesResource,
    kind: SourceKind,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Find the partition's dump folder, parse it, write it atomically and check it."""
    started_at = datetime.now(timezone.utc)
    society_id = context.partition_key
    folder = Path(config.path) if config.path else dump_path(Path(sources.dumps_dir), society_id)
    found = detect_dump_format(folder)
    if found != kind:
        raise ValueError(
            f"society {society_id}: {folder} is not a {kind} dump (found: {found or 'nothing usable'})"
        )
    parse, patterns = DUMP_PARSERS[kind]
    observed_at = to_utc_timestamp(config.observed_at) if config.observed_at else None  # naive = UTC
    batch = parse(folder, society_id, observed_at)
    inputs = [folder] if folder.is_file() else [p for pattern in patterns for p in folder.glob(pattern)]
    run_id = f"{kind}:" + input_fingerprint(sorted(inputs))[:16]
    yield from _write_and_check(context, warehouse, batch, source=kind, run_id=run_id, started_at=started_at)


def _write_and_check(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    batch: CanonicalBatch,
    *,
    source: str,
    run_id: str,
    started_at: datetime,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Write one society's batch atomically, report what changed, then check the stored tables."""
    if batch.society_id != context.partition_key:
        raise ValueError(f"batch is for {batch.society_id}, partition is {context.partition_key}")
    with warehouse.writer() as conn:
        result = write_batch(conn, batch, run_id=run_id, source=source, started_at=started_at)
        stored = _stored_metadata(conn, batch.society_id)
        outcomes = check_traces(conn, batch.society_id)
        quarantine_reasons = conn.execute(
            "SELECT reason, count(*) AS n FROM quarantine WHERE society_id = ? AND run_id = ? "
            "GROUP BY reason ORDER BY n DESC LIMIT 10",
            [batch.society_id, run_id],
        ).df()
    context.log.info(
        f"{batch.society_id}: inserted {result.inserted}, updated {result.updated}, "
        f"quarantined {result.quarantined} rows"
    )
    yield MaterializeResult(
        metadata={
            **stored,
            "batch_rows": MetadataValue.json(batch.row_counts()),
            "inserted": MetadataValue.int(result.inserted),
            "updated": MetadataValue.int(result.updated),
            "quarantined": MetadataValue.int(result.quarantined),
            "quarantine_reasons": MetadataValue.md(
                quarantine_reasons.to_markdown(index=False) if not quarantine_reasons.empty else "none"
            ),
            "ingest_run_id": MetadataValue.text(run_id),
        }
    )
    yield from _check_results(outcomes)


def _stored_metadata(conn: duckdb.DuckDBPyConnection, society_id: str) -> dict[str, MetadataValue]:
    """Row counts the society now has: posts + comments as the row count, and each table."""
    stored = {
        table: conn.execute(f"SELECT count(*) FROM {table} WHERE society_id = ?", [society_id]).fetchone()[0]
        for table in ("posts", "comments", "agents", "communities")
    }
    return {
        "dagster/row_count": MetadataValue.int(int(stored["posts"] + stored["comments"])),
        **{f"stored_{table}": MetadataValue.int(int(n)) for table, n in stored.items()},
    }


def _check_results(outcomes: list[CheckOutcome], asset_key: Optional[str] = None) -> Iterator[AssetCheckResult]:
    """The trace checks as Dagster check results (of `asset_key` when the asset has several)."""
    for outcome in outcomes:
        yield AssetCheckResult(
            asset_key=asset_key,
            check_name=outcome.name,
            passed=outcome.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"failures": outcome.failures, "detail": outcome.detail},
        )


def _dump_asset(name: str, kind: SourceKind, file_kind: str, description: str) -> AssetsDefinition:
    """The ingest asset of one dump kind: every kind runs the same find-parse-write-check path."""

    @asset(
        name=name,
        description=description,
        partitions_def=society_partitions,
        pool=WAREHOUSE_POOL,
        group_name="ingest",
        kinds={"duckdb", file_kind},
        check_specs=_check_specs(name),
    )
    def import_dump(
        context: AssetExecutionContext,
        config: DumpImportConfig,
        warehouse: WarehouseResource,
        sources: SourcesResource,
    ) -> Iterator[MaterializeResult | AssetCheckResult]:
        yield from _import_dump(context, config, warehouse, sources, kind)

    return import_dump


_UNCHANGED = "Bad rows go to `quarantine`; re-importing changes nothing."
moltbook_api_traces = _dump_asset(
    "moltbook_api_traces", "moltbook_api", "json",
    "Canonical tables of a society imported from raw Moltbook API JSON (listings and post detail "
    f"with nested comment trees, any era). {_UNCHANGED}",
)
observatory_csv_traces = _dump_asset(
    "observatory_csv_traces", "observatory_csv", "csv",
    "Canonical tables of a society imported from the Moltbook Observatory CSV export (posts, "
    f"comments, agents, submolts). {_UNCHANGED}",
)
oasis_traces = _dump_asset(
    "oasis_traces", "oasis", "sqlite",
    "Canonical tables of an OASIS run (camel-ai/oasis SQLite database, partition oasis-<name>): "
    "users, posts, flat comments, votes, follows, the trace as actions and the feeds as exposures. "
    f"{_UNCHANGED}",
)
canonical_jsonl_traces = _dump_asset(
    "canonical_jsonl_traces", "canonical_jsonl", "json",
    "Canonical tables of a society from a canonical JSONL folder (`<table>.jsonl[.gz]`, as "
    f"`observatory export-jsonl` writes them). {_UNCHANGED}",
)


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="ingest",
    kinds={"duckdb", "python"},
    check_specs=_check_specs("simulated_traces"),
)
def simulated_traces(
    context: AssetExecutionContext,
    config: SimulationConfig,
    warehouse: WarehouseResource,
    sources: SourcesResource,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Canonical tables, planted ground truth and labels of a built-in simulated society
    (partition sim-<preset>-<seed>[-<twin>]); the same key and config always give the same
    tables."""
    started_at = datetime.now(timezone.utc)
    batch, run_id = build_simulated_batch(context.partition_key, config, Path(sources.sim_dir))
    context.log.info(f"{batch.society_id}: {batch.row_counts()}")
    yield from _write_and_check(
        context, warehouse, batch, source="simulator", run_id=run_id, started_at=started_at
    )


def build_simulated_batch(
    society_id: str, config: SimulationConfig, sim_dir: Path
) -> tuple[CanonicalBatch, str]:
    """The partition's society, read from its folder or simulated, and its idempotent run id."""
    society = parse_simulated_society_id(society_id)
    folder = Path(config.path) if config.path else sim_dir / society_id
    if is_society_folder(folder):
        batch = read_society_folder(folder)
        return batch, "simulator:" + input_fingerprint(sorted(folder.iterdir()))[:16]
    spec = run_spec_from_yaml(config.config_yaml or "", preset=society.preset)
    overrides = dict(spec.overrides)
    for key, value in (("n_agents", config.n_agents), ("n_steps", config.n_steps)):
        if value is not None:
            overrides[key] = value
    batch = simulate(society.preset, seed=society.seed, twin=society.twin, **overrides)
    recipe = json.dumps(batch.society["config_json"], sort_keys=True, default=str)
    return batch, "simulator:" + hashlib.sha256(recipe.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Live platform sync: cursor-driven (its high-water mark and progress live in ingest_runs), one
# society partition per live target, run hourly by `moltbook_live_schedule`.


class LiveSyncConfig(Config):
    """Bounds of one sync run (MOLTBOOK_API §7); unset fields keep the defaults of SyncConfig."""

    max_listing_pages: Optional[int] = None  # cap a first backfill; the next run continues it
    max_comment_posts: Optional[int] = None
    max_rereads: Optional[int] = 500
    max_profiles: Optional[int] = 50
    max_submolt_pages: Optional[int] = None
    min_comment_age_s: float = 300.0
    deletion_confirm_s: float = 3600.0
    run_id: Optional[str] = None  # resume or name a run explicitly (tests, replays)


LIVE_SOCIETIES = ("moltbook",)


@multi_asset(
    specs=[
        AssetSpec(
            "moltbook_live_traces",
            group_name="ingest",
            kinds={"duckdb", "json"},
            # Synced hourly: warn after two hours without a successful sync, fail after six.
            freshness_policy=FreshnessPolicy.time_window(
                fail_window=timedelta(hours=6), warn_window=timedelta(hours=2)
            ),
            description=(
                "Canonical tables of the live Moltbook, synced incrementally from its read API: new "
                "posts down to the high-water mark, comment trees re-fetched when comment_count "
                "grows, deletions confirmed by two 404s, profiles and communities refreshed, every "
                "answer archived raw. Resumes where a killed run stopped."
            ),
        ),
        AssetSpec(
            "moltbook_live_coverage",
            group_name="ingest",
            kinds={"duckdb"},
            deps=["moltbook_live_traces"],
            description=(
                "How much of the platform the warehouse holds: stored comments over reported "
                "comment_count per post (view post_coverage) and overall, and stored posts and "
                "comments over the /stats totals (lower bounds), as society_metric family coverage."
            ),
        ),
    ],
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    check_specs=_check_specs("moltbook_live_traces"),
)
def moltbook_live_sync(
    context: AssetExecutionContext,
    config: LiveSyncConfig,
    warehouse: WarehouseResource,
    moltbook_api: MoltbookApiResource,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    society_id = context.partition_key
    if society_id not in LIVE_SOCIETIES:
        raise ValueError(f"{society_id!r} is not a live society (known: {', '.join(LIVE_SOCIETIES)})")
    sync_config = SyncConfig(
        max_listing_pages=config.max_listing_pages,
        max_comment_posts=config.max_comment_posts,
        max_rereads=config.max_rereads,
        max_profiles=config.max_profiles,
        max_submolt_pages=config.max_submolt_pages,
        min_comment_age_s=config.min_comment_age_s,
        deletion_confirm_s=config.deletion_confirm_s,
    )
    with moltbook_api.client() as client, warehouse.writer() as conn:
        sync = LiveSync(
            conn, client, Path(moltbook_api.archive_dir), society_id=society_id,
            config=sync_config, run_id=config.run_id,
        )
        if sync.resumed:
            context.log.info(f"{society_id}: resuming unfinished run {sync.state.run_id} at {sync.state.phase}")
        result = sync.run()
        outcomes = check_traces(conn, society_id)
        coverage = conn.execute(
            "SELECT metric, value, n FROM society_metric WHERE society_id = ? AND family = 'coverage' "
            "ORDER BY metric",
            [society_id],
        ).df()
        stored = _stored_metadata(conn, society_id)
    counters = result.state.counters
    stats = result.client_stats
    context.log.info(
        f"{society_id}: run {result.run_id} requested {counters.requested}, inserted {counters.inserted}, "
        f"updated {counters.updated}, quarantined {counters.quarantined}; {stats['retries']} retries, "
        f"{stats['rate_limited']} answers 429"
    )
    yield MaterializeResult(
        asset_key="moltbook_live_traces",
        metadata={
            **stored,
            "ingest_run_id": MetadataValue.text(result.run_id),
            "resumed": MetadataValue.bool(result.resumed),
            "requested": MetadataValue.int(counters.requested),
            "fetched": MetadataValue.int(counters.fetched),
            "inserted": MetadataValue.int(counters.inserted),
            "updated": MetadataValue.int(counters.updated),
            "quarantined": MetadataValue.int(counters.quarantined),
            "retries": MetadataValue.int(int(stats["retries"])),
            "rate_limited_429": MetadataValue.int(int(stats["rate_limited"])),
            "timeouts": MetadataValue.int(int(stats["timeouts"])),
            "server_errors": MetadataValue.int(int(stats["server_errors"])),
            "truncated_bodies": MetadataValue.int(int(stats["truncated"])),
            "failed_requests": MetadataValue.int(counters.failed_requests),
            "listing_pages": MetadataValue.int(counters.listing_pages),
            "comment_posts_fetched": MetadataValue.int(counters.comment_posts),
            "posts_with_comment_deficit": MetadataValue.int(counters.unreachable_posts),
            "deleted_posts_confirmed": MetadataValue.int(counters.deleted_posts),
            "coverage_gaps": MetadataValue.int(counters.coverage_gaps),
            "high_water_mark": MetadataValue.text(result.state.hwm_ts or "none"),
            "answer_shape_changes": MetadataValue.md(result.shape_changes.markdown()),
            "raw_archive": MetadataValue.path(str(result.archive_part)),
        },
    )
    yield MaterializeResult(
        asset_key="moltbook_live_coverage",
        metadata={
            "coverage": MetadataValue.md(coverage.to_markdown(index=False) if not coverage.empty else "none"),
            **{
                f"{row.metric}": MetadataValue.float(float(row.value))
                for row in coverage.itertuples(index=False)
                if row.value is not None and row.value == row.value
            },
        },
    )
    yield from _check_results(outcomes, asset_key="moltbook_live_traces")


INGEST_ASSETS = [
    moltbook_api_traces, observatory_csv_traces, oasis_traces, canonical_jsonl_traces, simulated_traces,
    moltbook_live_sync,
]
