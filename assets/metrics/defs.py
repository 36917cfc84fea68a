"""Dagster wiring of the metrics stage: one asset per family, one partition per society."""

import json
import zlib
from datetime import datetime, timezone

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.ingest.defs import INGEST_ASSETS
from assets.metrics.concentration import concentration_metrics, concentration_table
from assets.metrics.stats import MetricRow, metrics_frame
from assets.metrics.threads import thread_metrics, thread_stats
from pipelines.partitions import WAREHOUSE_POOL, society_partitions
from pipelines.resources import WarehouseResource
from warehouse.writer import replace_society_rows, transaction, upsert


def _society_config(conn: duckdb.DuckDBPyConnection, society_id: str) -> tuple[dict, int]:
    """The society's config (comment cap, default community) and the seed its metrics draw from."""
    row = conn.execute(
        "SELECT config_json, seed FROM societies WHERE society_id = ?", [society_id]
    ).fetchone()
    if row is None:
        raise ValueError(f"society {society_id} is not in the warehouse; ingest it first")
    seed = int(row[1]) if row[1] is not None else zlib.crc32(society_id.encode("utf-8"))
    return (json.loads(row[0]) if row[0] else {}), seed


def _society_frame(conn: duckdb.DuckDBPyConnection, table: str, society_id: str) -> pd.DataFrame:
    return conn.execute(f"SELECT * FROM {table} WHERE society_id = ?", [society_id]).df()


def _metric_metadata(rows: list[MetricRow], n_table_rows: int) -> dict:
    shown = pd.DataFrame(
        [{"metric": r.metric, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n} for r in rows]
    )
    return {
        "dagster/row_count": MetadataValue.int(n_table_rows),
        "society_metric_rows": MetadataValue.int(len(rows)),
        "metrics": MetadataValue.md(shown.to_markdown(index=False, floatfmt=".4g")),
    }


def _store(
    conn: duckdb.DuckDBPyConnection,
    society_id: str,
    family_table: str,
    family_rows: pd.DataFrame,
    metric_rows: list[MetricRow],
) -> None:
    computed_at = datetime.now(timezone.utc)
    with transaction(conn):
        replace_society_rows(conn, family_table, society_id, family_rows.assign(computed_at=computed_at))
        upsert(conn, "society_metric", metrics_frame(society_id, metric_rows, computed_at))


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
    society_id = context.partition_key
    with warehouse.writer() as conn:
        config, seed = _society_config(conn, society_id)
        posts = _society_frame(conn, "posts", society_id)
        comments = _society_frame(conn, "comments", society_id)
        stats = thread_stats(posts, comments, comment_cap=config.get("comment_cap"))
        rows = thread_metrics(posts, comments, stats, society_seed=seed)
        _store(conn, society_id, "threads_thread_stats", stats, rows)
    return MaterializeResult(metadata=_metric_metadata(rows, len(stats)))


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
    society_id = context.partition_key
    with warehouse.writer() as conn:
        config, seed = _society_config(conn, society_id)
        posts = _society_frame(conn, "posts", society_id)
        comments = _society_frame(conn, "comments", society_id)
        table = concentration_table(posts, comments, config.get("default_community_id"))
        rows = concentration_metrics(posts, comments, table, society_seed=seed)
        _store(conn, society_id, "influence_concentration", table, rows)
    return MaterializeResult(metadata=_metric_metadata(rows, len(table)))


METRIC_ASSETS = [thread_structure_metrics, attention_concentration_metrics]
