"""Dagster wiring of the metrics stage: one asset per family (ANALYTICS_SPEC.md §0.6), one partition
per society.

Each asset reads what its family needs, runs the family's pure modules, and stores their drill-down
tables, their `society_metric` rows, the registry and the society's provenance in one transaction.
Two checks follow every run (every registered metric has a row; every value lies in its domain),
and the metadata shows the metric table and a small plot of the family's headline series.
"""

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

import duckdb
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from threadpoolctl import threadpool_limits

from assets.enrich.defs import (
    content_category,
    emotion_labels,
    text_embeddings,
    topic_assignments,
    topic_model_id,
    toxicity_labels,
)
from assets.ingest.defs import INGEST_ASSETS
from assets.metrics import (
    automation,
    concentration,
    consensus,
    influence_graph,
    influence_persistence,
    moltnet_emotion,
    moltnet_norms,
    moltnet_persona,
    socialization_agents,
    socialization_semantic,
    threads,
    threads_tails,
    topics,
    toxicity,
)
from assets.metrics.checks import MetricCheck, registry_metrics_present, values_in_domain
from assets.metrics.plots import png_markdown, series_png
from assets.metrics.provenance import write_metric_registry, write_society_analysis
from assets.metrics.registry import MetricSpec, all_metric_specs
from assets.metrics.stats import MetricRow, metrics_frame
from pipelines.partitions import WAREHOUSE_POOL, society_partitions
from pipelines.resources import WarehouseResource
from warehouse.writer import registered, replace_society_rows, transaction, upsert

CHECK_NAMES = ("registry_metrics_present", "values_in_domain")


@dataclass(frozen=True)
class SocietyData:
    """What the families read: the society's posts and comments, config and seed, and the
    connection for anything else (read once per asset run)."""

    conn: duckdb.DuckDBPyConnection
    society_id: str
    posts: pd.DataFrame
    comments: pd.DataFrame
    config: dict
    seed: int

    def table(self, name: str, columns: str = "*") -> pd.DataFrame:
        return self.conn.execute(f"SELECT {columns} FROM {name} WHERE society_id = ?", [self.society_id]).df()

    def embedding_model(self) -> str | None:
        """The embedding model behind most of the society's vectors (one per deployment, normally)."""
        row = self.conn.execute(
            "SELECT model_id FROM text_embeddings WHERE society_id = ? GROUP BY model_id "
            "ORDER BY count(*) DESC, model_id LIMIT 1",
            [self.society_id],
        ).fetchone()
        return row[0] if row else None

    def embeddings(self) -> pd.DataFrame | None:
        """(text_id, vector) of the society's texts and profiles under its embedding model."""
        model_id = self.embedding_model()
        if model_id is None:
            return None
        return self.conn.execute(
            "SELECT text_id, vector FROM text_embeddings WHERE society_id = ? AND model_id = ?",
            [self.society_id, model_id],
        ).df()

    def base_topic_assignments(self) -> tuple[pd.DataFrame | None, str | None]:
        """The society's base topic model (topic -1 kept) and its assignments, if it was fitted."""
        embedding_model = self.embedding_model()
        if embedding_model is None:
            return None, None
        model_id = topic_model_id(self.society_id, embedding_model)
        frame = self.conn.execute(
            "SELECT text_id, model_id, topic, prob FROM topic_assignments WHERE society_id = ? AND model_id = ?",
            [self.society_id, model_id],
        ).df()
        return (frame, model_id) if not frame.empty else (None, None)

    @property
    def time_flags(self) -> list | None:
        return self.config.get("time_flags")


def _read_society(conn: duckdb.DuckDBPyConnection, society_id: str) -> SocietyData:
    row = conn.execute("SELECT config_json, seed FROM societies WHERE society_id = ?", [society_id]).fetchone()
    if row is None:
        raise ValueError(f"society {society_id} is not in the warehouse; ingest it first")
    config, seed = row
    return SocietyData(
        conn=conn,
        society_id=society_id,
        posts=conn.execute("SELECT * FROM posts WHERE society_id = ?", [society_id]).df(),
        comments=conn.execute("SELECT * FROM comments WHERE society_id = ?", [society_id]).df(),
        config=json.loads(config) if config else {},
        seed=int(seed) if seed is not None else zlib.crc32(society_id.encode("utf-8")),
    )


FamilyResult = tuple[dict[str, pd.DataFrame], list[MetricRow]]


def _combined(*results: FamilyResult) -> FamilyResult:
    tables: dict[str, pd.DataFrame] = {}
    rows: list[MetricRow] = []
    for family_tables, family_rows in results:
        tables.update(family_tables)
        rows.extend(family_rows)
    return tables, rows


# --------------------------------------------------------------------------- the seven families


def _topics(data: SocietyData) -> FamilyResult:
    assignments, model_id = data.base_topic_assignments()
    return topics.topics_metrics(
        data.posts, data.table("content_category"), assignments, data.table("communities"),
        topic_model_id=model_id, time_flags=data.time_flags, society_seed=data.seed,
    )


def _toxicity(data: SocietyData) -> FamilyResult:
    assignments, model_id = data.base_topic_assignments()
    return toxicity.toxicity_metrics(
        texts=data.table("texts", "text_id, kind, post_id, community_id, created_at"),
        posts=data.posts,
        toxicity_labels=data.table("toxicity_labels"),
        content_category=data.table("content_category"),
        topic_assignments=assignments,
        topic_model_id=model_id,
        time_flags=data.time_flags,
        society_seed=data.seed,
    )


def _socialization(data: SocietyData) -> FamilyResult:
    embeddings = data.embeddings()
    pagerank_all = data.table("influence_agent_scores", "agent_id, pagerank, \"window\"")
    pagerank_all = pagerank_all[pagerank_all["window"] == "all"][["agent_id", "pagerank"]]
    return _combined(
        socialization_semantic.semantic_socialization_metrics(
            data.posts, embeddings, data.table("text_languages", "text_id, language"),
            time_flags=data.time_flags, society_seed=data.seed),
        socialization_agents.agent_socialization_metrics(
            data.posts, data.comments, data.table("post_snapshots"), embeddings, society_seed=data.seed),
        consensus.consensus_metrics(
            data.posts, data.comments, data.table("agents"), pagerank_all if not pagerank_all.empty else None,
            society_seed=data.seed),
    )


def _influence(data: SocietyData) -> FamilyResult:
    votes = data.table("votes")  # empty on live platforms: upvote edges absent
    return _combined(
        concentration.attention_concentration(
            data.posts, data.comments, data.table("communities"),
            default_community_id=data.config.get("default_community_id"), time_flags=data.time_flags,
            society_seed=data.seed),
        influence_graph.influence_graph_metrics(
            data.posts, data.comments, votes if not votes.empty else None, society_seed=data.seed),
        influence_persistence.influence_persistence_metrics(
            data.posts, data.comments, time_flags=data.time_flags, society_seed=data.seed),
    )


def _moltnet(data: SocietyData) -> FamilyResult:
    embeddings = data.embeddings()
    categories = data.table("content_category")
    return _combined(
        moltnet_persona.persona_incentive_metrics(
            data.posts, data.comments, data.table("agents"), data.table("communities"), categories, embeddings,
            society_seed=data.seed, default_community_id=data.config.get("default_community_id")),
        moltnet_norms.norms_metrics(data.posts, data.comments, categories, embeddings, society_seed=data.seed),
        moltnet_emotion.emotion_dialogic_metrics(
            data.posts, data.comments, data.table("emotion_labels"), data.table("toxicity_labels"), categories,
            comment_cap=data.config.get("comment_cap"), time_flags=data.time_flags, society_seed=data.seed),
    )


def _automation(data: SocietyData) -> FamilyResult:
    return automation.automation_metrics(
        data.table("texts"), data.embeddings(), data.posts, time_flags=data.time_flags, society_seed=data.seed,
        model_id=data.embedding_model(),
    )


def _threads(data: SocietyData) -> FamilyResult:
    comment_cap = data.config.get("comment_cap")
    stats = threads.thread_stats(data.posts, data.comments, comment_cap=comment_cap)
    shape = ({"threads_thread_stats": stats},
             threads.thread_metrics(data.posts, data.comments, stats, society_seed=data.seed,
                                    time_flags=data.time_flags))
    tails = threads_tails.tail_metrics(
        data.posts, data.comments, data.table("communities"), data.table("texts", "text_id, text"),
        data.table("text_languages", "text_id, language"), comment_cap=comment_cap, time_flags=data.time_flags,
        society_seed=data.seed)
    return _combined(shape, tails)


FamilyCompute = Callable[[SocietyData], FamilyResult]

# Family name (the `family` of `society_metric`) -> its compute function, in an order that runs
# every family after those it reads: socialization reads the PageRank that influence stores.
FAMILY_COMPUTE: dict[str, FamilyCompute] = {
    "topics": _topics,
    "toxicity": _toxicity,
    "influence": _influence,
    "socialization": _socialization,
    "moltnet": _moltnet,
    "automation": _automation,
    "threads": _threads,
}


# --------------------------------------------------------------------------- one asset per family


@dataclass(frozen=True)
class Headline:
    """The family series a person looks at first: `select` turns the stored tables into (x, y)."""

    title: str
    select: Callable[[dict[str, pd.DataFrame]], pd.DataFrame]
    x: str
    y: str
    kind: str = "line"
    log: bool = False


def _rows_of(table: str, **equal: object) -> Callable[[dict[str, pd.DataFrame]], pd.DataFrame]:
    def select(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        frame = tables.get(table, pd.DataFrame())
        for column, value in equal.items():
            if frame.empty or column not in frame.columns:
                return pd.DataFrame()
            frame = frame[frame[column] == value]
        return frame

    return select


def _timing_classes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    timing = tables.get("automation_agent_timing", pd.DataFrame())
    if timing.empty:
        return pd.DataFrame()
    return timing["timing_class"].value_counts().rename_axis("timing_class").reset_index(name="agents")


def _stored_rows(
    conn: duckdb.DuckDBPyConnection, society_id: str, rows: list[MetricRow], computed_at: datetime
) -> None:
    """Upsert the rows; drop this society's rows of the same families that no longer have a
    registry entry (a metric renamed or retired), so society_metric never shows a stale name."""
    upsert(conn, "society_metric", metrics_frame(society_id, rows, computed_at))
    registered_keys = pd.DataFrame([(s.family, s.metric) for s in all_metric_specs()], columns=["family", "metric"])
    families = sorted({r.family for r in rows})
    with registered(conn, "_registered", registered_keys):
        conn.execute(
            "DELETE FROM society_metric m WHERE m.society_id = ? AND list_contains(?, m.family) AND NOT EXISTS "
            "(SELECT 1 FROM _registered r WHERE r.family = m.family AND r.metric = m.metric)",
            [society_id, families],
        )


def _check_result(check: MetricCheck) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=check.name,
        passed=check.passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={"failures": check.failures, "detail": check.detail},
    )


def run_family(warehouse: WarehouseResource, society_id: str, compute: FamilyCompute) -> FamilyResult:
    """Read the society, compute one family and store its tables, its `society_metric` rows, the
    registry and the society's provenance in one transaction: the whole work of a family asset,
    callable without Dagster (the metrics benchmark times it)."""
    # One BLAS/OpenMP thread: the families run many small matrix products, and on a few shared
    # cores extra threads only wait on each other (several times slower on 2 cores).
    with warehouse.writer() as conn, threadpool_limits(limits=1):
        data = _read_society(conn, society_id)
        tables, metric_rows = compute(data)
    computed_at = datetime.now(timezone.utc)
    with warehouse.writer() as conn, transaction(conn):
        for table, frame in tables.items():
            replace_society_rows(conn, table, society_id, frame.assign(computed_at=computed_at))
        _stored_rows(conn, society_id, metric_rows, computed_at)
        write_metric_registry(conn)
        write_society_analysis(conn, society_id, data.seed, computed_at)
    return tables, metric_rows


def _measure_family(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    compute: FamilyCompute,
    specs: list[MetricSpec],
    headline: Headline,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    tables, metric_rows = run_family(warehouse, context.partition_key, compute)
    shown = pd.DataFrame(
        [{"family": r.family, "metric": r.metric, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n}
         for r in metric_rows]
    )
    plot = series_png(headline.select(tables), headline.x, headline.y, headline.title, kind=headline.kind,
                      log_x=headline.log, log_y=headline.log)
    yield MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(sum(len(frame) for frame in tables.values())),
            "family_tables": MetadataValue.json({table: len(frame) for table, frame in tables.items()}),
            "society_metric_rows": MetadataValue.int(len(metric_rows)),
            "not_available": MetadataValue.int(sum(r.value is None for r in metric_rows)),
            "headline": MetadataValue.md(png_markdown(plot, headline.title)),
            "metrics": MetadataValue.md(shown.to_markdown(index=False, floatfmt=".4g")),
        }
    )
    yield _check_result(registry_metrics_present(specs, metric_rows))
    yield _check_result(values_in_domain(metric_rows))


def _family_asset(
    name: str,
    family: str,
    specs: list[MetricSpec],
    deps: list,
    headline: Headline,
    description: str,
) -> AssetsDefinition:
    """The per-society asset of one metric family: every family runs the same read-compute-store path,
    with the compute function FAMILY_COMPUTE gives it (the one the metrics benchmark times)."""
    compute = FAMILY_COMPUTE[family]

    @asset(
        name=name,
        description=description,
        partitions_def=society_partitions,
        pool=WAREHOUSE_POOL,
        group_name="metrics",
        kinds={"duckdb"},
        deps=deps,
        check_specs=[AssetCheckSpec(check, asset=name) for check in CHECK_NAMES],
    )
    def measure(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
        yield from _measure_family(context, warehouse, compute, specs, headline)

    return measure


topic_metrics = _family_asset(
    "topic_metrics", "topics", topics.REGISTRY, [content_category, topic_assignments],
    Headline("A–I category shares", _rows_of("topics_category_share", variant="all", bin="all"),
             "category", "share", kind="bar"),
    "What the society talks about (ANALYTICS_SPEC §1.4): A–I category shares and their trends, category "
    "entropy, community topic specialization and community theme clusters; the `topics` family of "
    "`society_metric`.",
)
toxicity_metrics = _family_asset(
    "toxicity_metrics", "toxicity", toxicity.REGISTRY, [toxicity_labels, content_category, topic_assignments],
    Headline("toxicity level shares, posts", _rows_of("toxicity_level_share", variant="all", kind="post"),
             "level", "share", kind="bar"),
    "How toxic the society is and where (ANALYTICS_SPEC §2.2): level shares, risk by content category, "
    "topic and community, harmful share over time, volume-harm correlation and the engagement ratio of "
    "harmful posts; the `toxicity` family of `society_metric`.",
)
influence_metrics = _family_asset(
    "influence_metrics", "influence",
    [*concentration.REGISTRY, *influence_graph.REGISTRY, *influence_persistence.REGISTRY], INGEST_ASSETS,
    Headline("top-10 Jaccard with the previous day", _rows_of("influence_topk_daily", k=10),
             "day", "topk_jaccard_prev"),
    "Who gets attention and who holds it (ANALYTICS_SPEC §4): concentration of posts, comments, upvotes "
    "and subscribers over agents, posts and communities, per window (`influence_concentration`); the reply "
    "graph, PageRank and HITS (`influence_edges`, `influence_agent_scores`), reciprocity and path lengths "
    "(`influence_graph_summary`); day-to-day top-k persistence and supernode lifespans (`influence_topk_*`, "
    "`influence_supernodes`, whose three headline values §3.7 also files under `socialization`).",
)
socialization_metrics = _family_asset(
    "socialization_metrics", "socialization",
    [*socialization_semantic.REGISTRY, *socialization_agents.REGISTRY, *consensus.REGISTRY],
    [text_embeddings, emotion_labels, influence_metrics],
    Headline("pairwise semantic diversity per day", _rows_of("socialization_daily"), "day", "pairwise_diversity"),
    "Whether the society socializes (ANALYTICS_SPEC §3, the diagnostics of Does Socialization Emerge): "
    "semantic stabilization and diversity per day, lexical turnover, individual inertia, adaptation to votes "
    "and to interaction partners, and collective consensus on probe threads; the `socialization` family.",
)
moltnet_metrics = _family_asset(
    "moltnet_metrics", "moltnet",
    [*moltnet_persona.REGISTRY, *moltnet_norms.REGISTRY, *moltnet_emotion.REGISTRY],
    [text_embeddings, emotion_labels, toxicity_labels, content_category],
    Headline("posts after the upvote peak, by karma rank", _rows_of("moltnet_incentive_curve"),
             "karma_rank", "shift_ratio_ma51"),
    "The four MoltNet dimensions (ANALYTICS_SPEC §5): persona alignment and drift, motivation and "
    "bio-community match; community templates and norms; output shift after rewards; emotion, conflict "
    "contagion and dialogic engagement; the `moltnet` family.",
)
automation_metrics = _family_asset(
    "automation_metrics", "automation", automation.REGISTRY, [text_embeddings],
    Headline("agents by posting rhythm", _timing_classes, "timing_class", "agents", kind="bar"),
    "Whether activity is organic or automated (ANALYTICS_SPEC §6): exact and near-duplicate templates, "
    "flood bursts, heartbeat timing and activity concentration with coordination episodes; the "
    "`automation` family of `society_metric`.",
)
thread_structure_metrics = _family_asset(
    "thread_structure_metrics", "threads", [*threads.REGISTRY, *threads_tails.REGISTRY],
    [*INGEST_ASSETS, emotion_labels],
    Headline("comment arrival rate against post age", _rows_of("threads_decay_bins"), "center_s", "rate", log=True),
    "Thread shape per post (`threads_thread_stats`: depth, width, depth-1 share, unanswered share, timing), "
    "heavy-tail fits, upvote-comment scaling, attention decay and the Zipf exponent (ANALYTICS_SPEC §7); "
    "the `threads` family of `society_metric`.",
)

METRIC_ASSETS = [
    topic_metrics,
    toxicity_metrics,
    socialization_metrics,
    influence_metrics,
    moltnet_metrics,
    automation_metrics,
    thread_structure_metrics,
]
