"""Dagster wiring of the ingest stage: one asset per source kind, one partition per society."""

import hashlib
import json
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
from simulators.output import is_society_folder, read_society_folder
from simulators.runspec import run_spec_from_yaml
from warehouse.batch import CanonicalBatch
from warehouse.writer import write_batch


class DumpImportConfig(Config):
    """Where the dump is; by default `<OBSERVATORY_DUMPS_DIR>/<name>` for society moltbook-dump-<name>."""

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


INGEST_ASSETS = [moltbook_api_traces, observatory_csv_traces, simulated_traces]
