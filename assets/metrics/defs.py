"""Dagster wiring of the metrics stage: one asset per family, one partition per society."""

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.ingest.defs import INGEST_ASSETS
from assets.metrics.concentration import concentration_metrics, concentration_table
from assets.metrics.provenance import write_metric_registry, write_society_analysis
from assets.metrics.stats import MetricRow, metrics_frame
from assets.metrics.threads import thread_metrics, thread_stats
from pipelines.partitions import WAREHOUSE_POOL, society_partitions
from pipelines.resources import WarehouseResource
from warehouse.writer import replace_society_rows, transaction, upsert


@dataclass(frozen=True)
class SocietyTraces:
    """What every metric family reads: the society's posts and comments, config and seed."""

    posts: pd.DataFrame
    comments: pd.DataFrame
    config: dict
    seed: int


def _read_society(conn: duckdb.DuckDBPyConnection, society_id: str) -> SocietyTraces:
    row = conn.execute(
        "SELECT config_json, seed FROM societies WHERE society_id = ?", [society_id]
    ).fetchone()
    if row is None:
        raise ValueError(f"society {society_id} is not in the warehouse; ingest it first")
    config, seed = row
    return SocietyTraces(
        posts=conn.execute("SELECT * FROM posts WHERE society_id = ?", [society_id]).df(),
        comments=conn.execute("SELECT * FROM comments WHERE society_id = ?", [society_id]).df(),
        config=json.loads(config) if config else {},
        seed=int(seed) if seed is not None else zlib.crc32(society_id.encode("utf-8")),
    )


def _measure_family(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    family_table: str,
    compute: Callable[[SocietyTraces], tuple[pd.DataFrame, list[MetricRow]]],
) -> MaterializeResult:
    """Read the society, compute a family (drill-down table + society_metric rows), store both."""
    society_id = context.partition_key
    with warehouse.writer() as conn:
        traces = _read_society(conn, society_id)
    family_rows, metric_rows = compute(traces)
    computed_at = datetime.now(timezone.utc)
    with warehouse.writer() as conn, transaction(conn):
        replace_society_rows(conn, family_table, society_id, family_rows.assign(computed_at=computed_at))
        upsert(conn, "society_metric", metrics_frame(society_id, metric_rows, computed_at))
        write_metric_registry(conn)
        write_society_analysis(conn, society_id, traces.seed, computed_at)
    shown = pd.DataFrame(
        [{"metric": r.metric, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n} for r in metric_rows]
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(family_rows)),
            "society_metric_rows": MetadataValue.int(len(metric_rows)),
            "metrics": MetadataValue.md(shown.to_markdown(index=False, floatfmt=".4g")),
        }
    )


def _thread_family(traces: SocietyTraces) -> tuple[pd.DataFrame, list[MetricRow]]:
    stats = thread_stats(traces.posts, traces.comments, comment_cap=traces.config.get("comment_cap"))
    return stats, thread_metrics(traces.posts, traces.comments, stats, society_seed=traces.seed)


def _concentration_family(traces: SocietyTraces) -> tuple[pd.DataFrame, list[MetricRow]]:
    table = concentration_table(traces.posts, traces.comments, traces.config.get("default_community_id"))
    return table, concentration_metrics(traces.posts, traces.comments, table, society_seed=traces.seed)


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="metrics",
    kinds={"duckdb"},
    deps=INGEST_ASSETS,
)
def thread_structure_metrics(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Thread shape per post (`threads_thread_stats`: depth, width, depth-1 share, unanswered share,
    timing) and the `threads` family of `society_metric` (ANALYTICS_SPEC §7.1)."""
    return _measure_family(context, warehouse, "threads_thread_stats", _thread_family)


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="metrics",
    kinds={"duckdb"},
    deps=INGEST_ASSETS,
)
def attention_concentration_metrics(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Inequality of attention (`influence_concentration`: Gini, HHI, top-k shares of posts,
    comments and upvotes over agents, posts and communities) and the `influence` family of
    `society_metric` (ANALYTICS_SPEC §4.4)."""
    return _measure_family(context, warehouse, "influence_concentration", _concentration_family)


METRIC_ASSETS = [thread_structure_metrics, attention_concentration_metrics]
