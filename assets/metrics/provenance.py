"""Provenance stored beside the metrics (ANALYTICS_SPEC §8.1.2–3): the registry the numbers were
computed under, and the models and label methods behind each society's numbers, so reports can
footnote a metric and grey out comparisons across different models or labellers."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

import duckdb

from assets.metrics.registry import registry_frame
from warehouse.writer import registered


def pipeline_version() -> str:
    try:
        return version("agent-society-observatory")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def write_metric_registry(conn: duckdb.DuckDBPyConnection) -> int:
    """Replace metric_registry with the code's registry; must run inside the caller's transaction."""
    frame = registry_frame().assign(pipeline_version=pipeline_version())
    conn.execute("DELETE FROM metric_registry")
    with registered(conn, "_registry", frame):
        conn.execute(f"INSERT INTO metric_registry ({', '.join(frame.columns)}) SELECT * FROM _registry")
    return len(frame)


def _methods(conn: duckdb.DuckDBPyConnection, sql: str, society_id: str) -> str | None:
    values = [row[0] for row in conn.execute(sql, [society_id]).fetchall() if row[0] is not None]
    return ",".join(sorted(values)) or None


def write_society_analysis(
    conn: duckdb.DuckDBPyConnection, society_id: str, seed: int, computed_at: datetime
) -> None:
    """One society_analysis row from what the enrichment tables say was used for this society."""
    row = [
        society_id,
        pipeline_version(),
        _methods(conn, "SELECT DISTINCT model_id FROM text_embeddings WHERE society_id = ?", society_id),
        _methods(conn, "SELECT DISTINCT method FROM content_category WHERE society_id = ?", society_id),
        _methods(conn, "SELECT DISTINCT method FROM toxicity_labels WHERE society_id = ?", society_id),
        _methods(conn, "SELECT DISTINCT method FROM emotion_labels WHERE society_id = ?", society_id),
        seed,
        computed_at,
    ]
    conn.execute("INSERT OR REPLACE INTO society_analysis VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
