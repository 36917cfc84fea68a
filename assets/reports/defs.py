"""Dagster wiring of the report stage: one HTML file comparing every society in the warehouse."""

from datetime import datetime, timezone

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.enrich.defs import topic_assignments
from assets.metrics.defs import METRIC_ASSETS
from assets.reports.html_report import render_society_report, write_report
from pipelines.resources import ReportsResource, WarehouseResource
from warehouse.reader import society_overview


def load_report_inputs(conn: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Everything the report shows, read through a read-only connection."""
    return {
        "societies": society_overview(conn),
        "metrics": conn.execute(
            "SELECT * FROM society_metric ORDER BY family, metric, society_id"
        ).df(),
        "thread_stats": conn.execute(
            "SELECT society_id, post_id, max_depth, max_width, n_comments_observed, is_capped, n_orphans "
            "FROM threads_thread_stats"
        ).df(),
        "topic_info": conn.execute(
            "SELECT m.society_id, i.model_id, i.topic, i.size, i.label, i.top_terms "
            "FROM topic_info i JOIN topic_models m USING (model_id) ORDER BY m.society_id, i.size DESC"
        ).df(),
    }


@asset(group_name="reports", kinds={"html", "plotly"}, deps=[*METRIC_ASSETS, topic_assignments])
def society_report(
    context: AssetExecutionContext, warehouse: WarehouseResource, reports: ReportsResource
) -> MaterializeResult:
    """A self-contained HTML report (Plotly bundled inline, opens offline) comparing every society
    side by side: thread structure, attention concentration and topics. Agent text is escaped."""
    with warehouse.reader() as conn:
        inputs = load_report_inputs(conn)
    html = render_society_report(
        inputs["societies"],
        inputs["metrics"],
        inputs["thread_stats"],
        inputs["topic_info"],
        generated_at=datetime.now(timezone.utc),
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
