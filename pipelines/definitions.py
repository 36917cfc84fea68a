"""The one Dagster code location: every asset, check, job, schedule, sensor and resource."""

from __future__ import annotations

from dagster import Definitions

from assets.enrich.defs import COMPARE_ASSETS, ENRICH_ASSETS
from assets.ingest.defs import INGEST_ASSETS
from assets.metrics.defs import METRIC_ASSETS
from assets.reports.defs import society_report
from pipelines.automation import JOBS, SCHEDULES, SENSORS
from pipelines.resources import (
    EmbedderResource,
    MoltbookApiResource,
    ReportsResource,
    SourcesResource,
    WarehouseResource,
)
from pipelines.settings import Settings, load_settings


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=[*INGEST_ASSETS, *ENRICH_ASSETS, *METRIC_ASSETS, *COMPARE_ASSETS, society_report],
        jobs=JOBS,
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
            "embedder": EmbedderResource(
                name=settings.embedder, device=settings.device, models_dir=str(settings.models_dir)
            ),
            "sources": SourcesResource(
                dumps_dir=str(settings.dumps_dir), sim_dir=str(settings.sim_dir)
            ),
            "reports": ReportsResource(directory=str(settings.reports_dir)),
            "moltbook_api": MoltbookApiResource(
                base_url=settings.moltbook_base_url,
                requests_per_minute=settings.moltbook_requests_per_minute,
                archive_dir=str(settings.raw_dir),
            ),
        },
    )


defs = build_definitions(load_settings())
