"""Dagster wiring of the report stage: one HTML file comparing every society in the warehouse."""

from datetime import datetime, timezone

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.enrich.defs import ENRICH_ASSETS, joint_topic_assignments
from assets.metrics.defs import METRIC_ASSETS
from assets.metrics.findings import read_findings
from assets.reports.html_report import render_society_report, write_report
from pipelines.resources import ReportsResource, WarehouseResource
from warehouse.reader import society_overview


def load_report_inputs(conn: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Everything the report shows, read through a read-only connection."""
    societies = society_overview(conn)
    return {
        "societies": societies,
        "metrics": conn.execute(
            "SELECT * FROM society_metric ORDER BY family, metric, society_id"
        ).df(),
        "thread_stats": conn.execute(
            "SELECT society_id, post_id, max_depth, max_width, n_comments_observed, is_capped, n_orphans "
            "FROM threads_thread_stats"
        ).df(),
        "topic_info": conn.execute(
            "SELECT m.society_id, i.model_id, i.topic, i.size, i.label, i.top_terms "
            "FROM topic_info i JOIN topic_models m USING (model_id) "
            "WHERE m.scope = 'society' AND m.variant = 'base' ORDER BY m.society_id, i.size DESC"
        ).df(),
        # Posts per label of the offline labellers (LLM-judged rows, when present, are not mixed in).
        "label_counts": conn.execute(
            "SELECT society_id, 'category' AS field, category AS value, count(*) AS n FROM content_category "
            "WHERE text_id LIKE 'post:%' AND method NOT LIKE 'llm:%' GROUP BY ALL "
            "UNION ALL SELECT society_id, 'toxicity', CAST(level AS VARCHAR), count(*) FROM toxicity_labels "
            "WHERE text_id LIKE 'post:%' AND method NOT LIKE 'llm:%' GROUP BY ALL "
            "UNION ALL SELECT society_id, 'emotion', coalesce(emotion, 'not scored (language)'), count(*) "
            "FROM emotion_labels WHERE text_id LIKE 'post:%' GROUP BY ALL"
        ).df(),
        # Footnotes and provenance badges (ANALYTICS_SPEC §8.1.2) and how each society was processed (§8.1.3).
        "registry": conn.execute("SELECT * FROM metric_registry ORDER BY family, metric").df(),
        "analysis": conn.execute("SELECT * FROM society_analysis ORDER BY society_id").df(),
        "findings": society_findings(conn, [str(s) for s in societies["society_id"]]),
    }


def society_findings(conn: duckdb.DuckDBPyConnection, society_ids: list[str]) -> pd.DataFrame:
    """The §8.2 findings of every society, one frame with a society_id column."""
    tables = [read_findings(conn, sid).assign(society_id=sid) for sid in society_ids]
    if not tables:
        return pd.DataFrame(columns=["society_id", "finding", "claim", "status", "observed", "reason", "source"])
    return pd.concat(tables, ignore_index=True)


@asset(
    group_name="reports",
    kinds={"html", "plotly"},
    deps=[*METRIC_ASSETS, *ENRICH_ASSETS, joint_topic_assignments],
)
def society_report(
    context: AssetExecutionContext, warehouse: WarehouseResource, reports: ReportsResource
) -> MaterializeResult:
    """A self-contained HTML report (Plotly bundled inline, opens offline) comparing every society
    side by side: thread structure, attention concentration, topics and the shares of content
    categories, toxicity levels and emotions, each metric footnoted from metric_registry, metrics
    computed with different models or labellers greyed out, and the §8.2 published findings per
    society. Agent text is escaped."""
    with warehouse.reader() as conn:
        inputs = load_report_inputs(conn)
    html = render_society_report(
        inputs["societies"],
        inputs["metrics"],
        inputs["thread_stats"],
        inputs["topic_info"],
        generated_at=datetime.now(timezone.utc),
        label_counts=inputs["label_counts"],
        registry=inputs["registry"],
        analysis=inputs["analysis"],
        findings=inputs["findings"],
    )
    path = write_report(html, reports.society_report_path)
    context.log.info(f"report written to {path}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "dagster/row_count": MetadataValue.int(len(inputs["metrics"])),
            "societies": MetadataValue.json(inputs["societies"]["society_id"].tolist()),
            "size_bytes": MetadataValue.int(path.stat().st_size),
        }
    )
