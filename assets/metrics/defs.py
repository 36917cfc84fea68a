"""Dagster wiring of the metrics stage: one asset per family, one partition per society."""

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset

from assets.ingest.defs import INGEST_ASSETS
from assets.enrich.defs import content_category, text_embeddings, topic_assignments, topic_model_id, toxicity_labels
from assets.metrics import automation, influence_graph, topics, toxicity
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


FamilyTables = dict[str, pd.DataFrame]
FamilyCompute = Callable[[duckdb.DuckDBPyConnection, str, SocietyTraces], tuple[FamilyTables, list[MetricRow]]]


def _measure_family(
    context: AssetExecutionContext, warehouse: WarehouseResource, compute: FamilyCompute
) -> MaterializeResult:
    """Read the society, compute a family (drill-down tables + society_metric rows), store both
    with the registry and the society's provenance in one transaction."""
    society_id = context.partition_key
    with warehouse.writer() as conn:
        traces = _read_society(conn, society_id)
        tables, metric_rows = compute(conn, society_id, traces)
    computed_at = datetime.now(timezone.utc)
    with warehouse.writer() as conn, transaction(conn):
        for table, frame in tables.items():
            replace_society_rows(conn, table, society_id, frame.assign(computed_at=computed_at))
        upsert(conn, "society_metric", metrics_frame(society_id, metric_rows, computed_at))
        write_metric_registry(conn)
        write_society_analysis(conn, society_id, traces.seed, computed_at)
    shown = pd.DataFrame(
        [{"metric": r.metric, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n} for r in metric_rows]
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(sum(len(frame) for frame in tables.values())),
            "family_tables": MetadataValue.json({table: len(frame) for table, frame in tables.items()}),
            "society_metric_rows": MetadataValue.int(len(metric_rows)),
            "not_available": MetadataValue.int(sum(r.value is None for r in metric_rows)),
            "metrics": MetadataValue.md(shown.to_markdown(index=False, floatfmt=".4g")),
        }
    )


def _society_frame(conn: duckdb.DuckDBPyConnection, table: str, society_id: str, columns: str = "*") -> pd.DataFrame:
    return conn.execute(f"SELECT {columns} FROM {table} WHERE society_id = ?", [society_id]).df()


def _embedding_model(conn: duckdb.DuckDBPyConnection, society_id: str) -> str | None:
    """The embedding model behind most of the society's vectors (one per deployment, normally)."""
    row = conn.execute(
        "SELECT model_id FROM text_embeddings WHERE society_id = ? GROUP BY model_id "
        "ORDER BY count(*) DESC, model_id LIMIT 1",
        [society_id],
    ).fetchone()
    return row[0] if row else None


def _base_topic_assignments(conn: duckdb.DuckDBPyConnection, society_id: str) -> tuple[pd.DataFrame | None, str | None]:
    """The society's base topic model (topic -1 kept) and its assignments, if it was fitted."""
    embedding_model = _embedding_model(conn, society_id)
    if embedding_model is None:
        return None, None
    model_id = topic_model_id(society_id, embedding_model)
    frame = conn.execute(
        "SELECT text_id, model_id, topic, prob FROM topic_assignments WHERE society_id = ? AND model_id = ?",
        [society_id, model_id],
    ).df()
    return (frame, model_id) if not frame.empty else (None, None)


def _thread_family(conn: duckdb.DuckDBPyConnection, society_id: str, traces: SocietyTraces) -> tuple[FamilyTables, list[MetricRow]]:
    stats = thread_stats(traces.posts, traces.comments, comment_cap=traces.config.get("comment_cap"))
    return {"threads_thread_stats": stats}, thread_metrics(traces.posts, traces.comments, stats, society_seed=traces.seed)


def _concentration_family(conn: duckdb.DuckDBPyConnection, society_id: str, traces: SocietyTraces) -> tuple[FamilyTables, list[MetricRow]]:
    table = concentration_table(traces.posts, traces.comments, traces.config.get("default_community_id"))
    rows = concentration_metrics(traces.posts, traces.comments, table, society_seed=traces.seed)
    return {"influence_concentration": table}, rows


def _influence_graph_family(conn: duckdb.DuckDBPyConnection, society_id: str, traces: SocietyTraces) -> tuple[FamilyTables, list[MetricRow]]:
    votes = _society_frame(conn, "votes", society_id)  # empty on live platforms: upvote edges absent
    return influence_graph.influence_graph_metrics(
        traces.posts, traces.comments, votes if not votes.empty else None, society_seed=traces.seed
    )


def _toxicity_family(conn: duckdb.DuckDBPyConnection, society_id: str, traces: SocietyTraces) -> tuple[FamilyTables, list[MetricRow]]:
    assignments, model_id = _base_topic_assignments(conn, society_id)
    return toxicity.toxicity_metrics(
        texts=_society_frame(conn, "texts", society_id, "text_id, kind, post_id, community_id, created_at"),
        posts=traces.posts,
        toxicity_labels=_society_frame(conn, "toxicity_labels", society_id),
        content_category=_society_frame(conn, "content_category", society_id),
        topic_assignments=assignments,
        topic_model_id=model_id,
        time_flags=traces.config.get("time_flags"),
        society_seed=traces.seed,
    )


def _topics_family(conn: duckdb.DuckDBPyConnection, society_id: str, traces: SocietyTraces) -> tuple[FamilyTables, list[MetricRow]]:
    assignments, model_id = _base_topic_assignments(conn, society_id)
    return topics.topics_metrics(
        traces.posts,
        _society_frame(conn, "content_category", society_id),
        assignments,
        _society_frame(conn, "communities", society_id),
        topic_model_id=model_id,
        time_flags=traces.config.get("time_flags"),
        society_seed=traces.seed,
    )


def _automation_family(conn: duckdb.DuckDBPyConnection, society_id: str, traces: SocietyTraces) -> tuple[FamilyTables, list[MetricRow]]:
    model_id = _embedding_model(conn, society_id)
    vectors = None
    if model_id is not None:
        vectors = conn.execute(
            "SELECT text_id, model_id, vector FROM text_embeddings WHERE society_id = ? AND model_id = ?",
            [society_id, model_id],
        ).df()
    return automation.automation_metrics(
        _society_frame(conn, "texts", society_id),
        vectors,
        traces.posts,
        time_flags=traces.config.get("time_flags"),
        society_seed=traces.seed,
        model_id=model_id,
    )


def _family_asset(name: str, compute: FamilyCompute, deps: list, description: str) -> AssetsDefinition:
    """The per-society asset of one metric family: every family runs the same read-compute-store path."""

    @asset(
        name=name,
        description=description,
        partitions_def=society_partitions,
        pool=WAREHOUSE_POOL,
        group_name="metrics",
        kinds={"duckdb"},
        deps=deps,
    )
    def measure(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        return _measure_family(context, warehouse, compute)

    return measure


topic_metrics = _family_asset(
    "topic_metrics", _topics_family, [content_category, topic_assignments],
    "What the society talks about (ANALYTICS_SPEC §1.4): A–I category shares and their trends, category "
    "entropy, community topic specialization and community theme clusters; the `topics` family of "
    "`society_metric`.",
)
toxicity_metrics = _family_asset(
    "toxicity_metrics", _toxicity_family, [toxicity_labels, content_category, topic_assignments],
    "How toxic the society is and where (ANALYTICS_SPEC §2.2): level shares, risk by content category, "
    "topic and community, harmful share over time, volume-harm correlation and the engagement ratio of "
    "harmful posts; the `toxicity` family of `society_metric`.",
)
attention_concentration_metrics = _family_asset(
    "attention_concentration_metrics", _concentration_family, INGEST_ASSETS,
    "Inequality of attention (`influence_concentration`: Gini, HHI, top-k shares of posts, comments and "
    "upvotes over agents, posts and communities) and the `influence` family of `society_metric` "
    "(ANALYTICS_SPEC §4.4).",
)
influence_graph_metrics = _family_asset(
    "influence_graph_metrics", _influence_graph_family, INGEST_ASSETS,
    "Who answers whom (ANALYTICS_SPEC §4.1, 4.2, 4.5): the reply graph by post author and by parent "
    "author (`influence_edges`), agent in/out strength, PageRank and HITS (`influence_agent_scores`), "
    "reciprocity, reply-back rate and path lengths (`influence_graph_summary`); `influence` metrics.",
)
automation_metrics = _family_asset(
    "automation_metrics", _automation_family, [text_embeddings],
    "Whether activity is organic or automated (ANALYTICS_SPEC §6): exact and near-duplicate templates, "
    "flood bursts, heartbeat timing and activity concentration with coordination episodes; the "
    "`automation` family of `society_metric`.",
)
thread_structure_metrics = _family_asset(
    "thread_structure_metrics", _thread_family, INGEST_ASSETS,
    "Thread shape per post (`threads_thread_stats`: depth, width, depth-1 share, unanswered share, timing) "
    "and the `threads` family of `society_metric` (ANALYTICS_SPEC §7.1).",
)

METRIC_ASSETS = [
    topic_metrics,
    toxicity_metrics,
    attention_concentration_metrics,
    influence_graph_metrics,
    automation_metrics,
    thread_structure_metrics,
]
