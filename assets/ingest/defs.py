"""Dagster wiring of the ingest stage: one asset per source kind, one partition per society."""

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.ingest.checks import TRACE_CHECK_NAMES, check_traces
from assets.ingest.clean import input_fingerprint
from assets.ingest.moltbook_api import parse_api_dump
from assets.ingest.observatory_csv import parse_observatory_export
from assets.ingest.sources import (
    SourceKind,
    detect_dump_format,
    dump_folder_name,
    parse_simulated_society_id,
)
from pipelines.partitions import WAREHOUSE_POOL, society_partitions
from pipelines.resources import SourcesResource, WarehouseResource
from simulators import simulate
from warehouse.batch import CanonicalBatch
from warehouse.writer import write_batch


class DumpImportConfig(Config):
    """Where the dump is; by default `<OBSERVATORY_DUMPS_DIR>/<name>` for society moltbook-dump-<name>."""

    path: Optional[str] = None
    observed_at: Optional[str] = None  # when the dump was taken (ISO-8601); default: its newest timestamp


class SimulationConfig(Config):
    """Size of the simulated society; preset and seed come from the partition key sim-<preset>-<seed>."""

    n_agents: Optional[int] = None
    n_steps: Optional[int] = None


def _check_specs(asset_name: str) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(name, asset=asset_name) for name in TRACE_CHECK_NAMES]


# How each dump kind is parsed, and which of its files make up its input fingerprint.
DUMP_PARSERS: dict[SourceKind, tuple[Callable[..., CanonicalBatch], str]] = {
    "moltbook_api": (parse_api_dump, "*.json"),
    "observatory_csv": (parse_observatory_export, "*.csv"),
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
    folder = Path(config.path) if config.path else Path(sources.dumps_dir) / dump_folder_name(society_id)
    found = detect_dump_format(folder)
    if found != kind:
        raise ValueError(
            f"society {society_id}: {folder} is not a {kind} dump (found: {found or 'nothing usable'})"
        )
    parse, pattern = DUMP_PARSERS[kind]
    observed_at = pd.Timestamp(config.observed_at).tz_convert("UTC") if config.observed_at else None
    batch = parse(folder, society_id, observed_at)
    run_id = f"{kind}:" + input_fingerprint(sorted(folder.glob(pattern)))[:16]
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
        stored = {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE society_id = ?", [batch.society_id]
            ).fetchone()[0]
            for table in ("posts", "comments", "agents", "communities")
        }
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
            "dagster/row_count": MetadataValue.int(int(stored["posts"] + stored["comments"])),
            **{f"stored_{table}": MetadataValue.int(int(n)) for table, n in stored.items()},
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
    for outcome in outcomes:
        yield AssetCheckResult(
            check_name=outcome.name,
            passed=outcome.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"failures": outcome.failures, "detail": outcome.detail},
        )


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="ingest",
    kinds={"duckdb", "json"},
    check_specs=_check_specs("moltbook_api_traces"),
)
def moltbook_api_traces(
    context: AssetExecutionContext,
    config: DumpImportConfig,
    warehouse: WarehouseResource,
    sources: SourcesResource,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Canonical tables of a society imported from raw Moltbook API JSON (listings and post detail
    with nested comment trees, any era). Bad rows go to `quarantine`; re-importing changes nothing."""
    yield from _import_dump(context, config, warehouse, sources, "moltbook_api")


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="ingest",
    kinds={"duckdb", "csv"},
    check_specs=_check_specs("observatory_csv_traces"),
)
def observatory_csv_traces(
    context: AssetExecutionContext,
    config: DumpImportConfig,
    warehouse: WarehouseResource,
    sources: SourcesResource,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Canonical tables of a society imported from the Moltbook Observatory CSV export (posts,
    comments, agents, submolts). Bad rows go to `quarantine`; re-importing changes nothing."""
    yield from _import_dump(context, config, warehouse, sources, "observatory_csv")


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="ingest",
    kinds={"duckdb", "python"},
    check_specs=_check_specs("simulated_traces"),
)
def simulated_traces(
    context: AssetExecutionContext, config: SimulationConfig, warehouse: WarehouseResource
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Canonical tables, planted ground truth and labels of a built-in simulated society
    (partition sim-<preset>-<seed>); the same key and size always give the same tables."""
    started_at = datetime.now(timezone.utc)
    society = parse_simulated_society_id(context.partition_key)
    batch = simulate(
        society.preset, seed=society.seed, n_agents=config.n_agents, n_steps=config.n_steps
    )
    size = f"{config.n_agents or 'default'}x{config.n_steps or 'default'}"
    run_id = f"simulator:{society.preset}:{society.seed}:{size}"
    yield from _write_and_check(
        context, warehouse, batch, source="simulator", run_id=run_id, started_at=started_at
    )


INGEST_ASSETS = [moltbook_api_traces, observatory_csv_traces, simulated_traces]
