"""The Dagster code location loads cleanly and describes itself."""

from __future__ import annotations

import subprocess
import sys
import warnings

from dagster import AssetKey, AssetsDefinition, Definitions

from pipelines.definitions import build_definitions
from pipelines.settings import REPO_ROOT, Settings


def _settings(tmp_path) -> Settings:
    return Settings(
        warehouse_path=tmp_path / "w.duckdb",
        reports_dir=tmp_path / "reports",
        dumps_dir=tmp_path / "dumps",
        sim_dir=tmp_path / "sims",
        dagster_home=tmp_path / "dagster",
        models_dir=tmp_path / "models",
        embedder="minilm",
        device=None,
        raw_dir=tmp_path / "raw",
        moltbook_base_url="https://www.moltbook.com/api/v1",
        moltbook_requests_per_minute=90.0,
    )


def test_the_code_location_imports_without_any_warning():
    # A fresh interpreter, so import-time warnings (deprecations, config problems) are seen.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import pipelines.definitions"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_definitions_load_with_jobs_schedule_and_sensor(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        defs = build_definitions(_settings(tmp_path))
        Definitions.validate_loadable(defs)
        repository = defs.get_repository_def()
    job_names = {job.name for job in repository.get_all_jobs()}
    assert {
        "moltbook_api_job", "observatory_csv_job", "simulation_job", "moltbook_live_job", "society_report_job",
    } <= job_names
    assert {s.name for s in repository.schedule_defs} == {"moltbook_live_schedule", "daily_society_report"}
    assert all(s.default_status.value == "STOPPED" for s in repository.schedule_defs)
    assert {s.name for s in repository.sensor_defs} == {"new_dump_sensor", "new_simulation_sensor"}


def test_every_asset_is_described_and_writers_share_one_pool(tmp_path):
    defs = build_definitions(_settings(tmp_path))
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "moltbook_api_traces", "observatory_csv_traces", "simulated_traces", "text_embeddings",
        "topic_assignments", "society_report",
        "moltbook_live_traces", "moltbook_live_coverage",
    } <= keys
    # one metrics asset per family of ANALYTICS_SPEC §0.6, each with its two checks
    metric_assets = {"topic_metrics", "toxicity_metrics", "socialization_metrics", "influence_metrics",
                     "moltnet_metrics", "automation_metrics", "thread_structure_metrics"}
    assert metric_assets <= keys
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert {(a, c) for a in metric_assets for c in ("registry_metrics_present", "values_in_domain")} <= checks
    for asset_def in defs.assets:
        assert isinstance(asset_def, AssetsDefinition)
        for spec in asset_def.specs:
            assert spec.description and len(spec.description) > 40, spec.key
        if asset_def.keys != {AssetKey("society_report")}:  # the report only reads
            assert asset_def.op.pool == "warehouse_writer", asset_def.keys


def test_the_live_sync_has_a_freshness_policy_and_an_hourly_stopped_schedule(tmp_path):
    defs = build_definitions(_settings(tmp_path))
    spec = next(s for a in defs.assets for s in a.specs if s.key == AssetKey("moltbook_live_traces"))
    assert spec.freshness_policy is not None
    schedule = defs.get_repository_def().get_schedule_def("moltbook_live_schedule")
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.default_status.value == "STOPPED"


def test_ingest_assets_carry_the_integrity_checks(tmp_path):
    defs = build_definitions(_settings(tmp_path))
    checks = {
        (spec.asset_key.to_user_string(), spec.name)
        for asset_def in defs.assets
        for spec in asset_def.check_specs
    }
    for asset_name in ("moltbook_api_traces", "observatory_csv_traces", "simulated_traces", "moltbook_live_traces"):
        for check in ("unique_ids", "comments_have_posts", "no_negative_counts"):
            assert (asset_name, check) in checks
