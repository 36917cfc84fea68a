"""Jobs, the schedule and the sensor: how societies enter the warehouse and the report stays fresh."""

from pathlib import Path

from dagster import (
    AssetSelection,
    AssetsDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    define_asset_job,
    schedule,
    sensor,
)

from assets.enrich.defs import joint_topic_assignments
from assets.ingest.defs import (
    canonical_jsonl_traces,
    moltbook_api_traces,
    moltbook_live_sync,
    oasis_traces,
    observatory_csv_traces,
    simulated_traces,
)
from assets.ingest.sources import SourceKind, discover_dumps, discover_simulations
from assets.reports.defs import society_report
from pipelines.partitions import society_partitions
from pipelines.resources import SourcesResource

_PER_SOCIETY_STAGES = AssetSelection.groups("enrich", "metrics")


def _society_job(name: str, ingest_asset: AssetsDefinition, description: str):  # dagster's job type is private
    """A job that brings one society in through `ingest_asset`, then enriches and measures it."""
    return define_asset_job(
        name, selection=AssetSelection.assets(ingest_asset) | _PER_SOCIETY_STAGES, description=description
    )


moltbook_api_job = _society_job(
    "moltbook_api_job",
    moltbook_api_traces,
    "Import one raw Moltbook API JSON dump as a society, then enrich and measure it.",
)
observatory_csv_job = _society_job(
    "observatory_csv_job",
    observatory_csv_traces,
    "Import one Moltbook Observatory CSV export as a society, then enrich and measure it.",
)
oasis_job = _society_job(
    "oasis_job",
    oasis_traces,
    "Import one OASIS run (its SQLite trace database) as a society oasis-<name>, then enrich and measure it.",
)
canonical_jsonl_job = _society_job(
    "canonical_jsonl_job",
    canonical_jsonl_traces,
    "Import one canonical JSONL folder (as export-jsonl writes them) as a society, then enrich and measure it.",
)
simulation_job = _society_job(
    "simulation_job",
    simulated_traces,
    "Run (or import the folder of) one built-in simulated society sim-<preset>-<seed>[-<twin>], then enrich and measure it.",
)
society_report_job = define_asset_job(
    "society_report_job",
    selection=AssetSelection.assets(joint_topic_assignments, society_report),
    description="Fit the joint topic model across societies, then render the comparative report over every society in the warehouse.",
)

moltbook_live_job = _society_job(
    "moltbook_live_job",
    moltbook_live_sync,
    "Sync the live Moltbook incrementally from its read API (partition moltbook), then enrich and measure it.",
)


JOB_BY_SOURCE: dict[SourceKind, str] = {
    "moltbook_api": moltbook_api_job.name,
    "observatory_csv": observatory_csv_job.name,
    "oasis": oasis_job.name,
    "canonical_jsonl": canonical_jsonl_job.name,
    "simulator": simulation_job.name,
    "moltbook_live": moltbook_live_job.name,
}
INGEST_ASSET_BY_SOURCE: dict[SourceKind, str] = {
    "moltbook_api": moltbook_api_traces.key.to_user_string(),
    "observatory_csv": observatory_csv_traces.key.to_user_string(),
    "oasis": oasis_traces.key.to_user_string(),
    "canonical_jsonl": canonical_jsonl_traces.key.to_user_string(),
    "simulator": simulated_traces.key.to_user_string(),
    "moltbook_live": moltbook_live_sync.node_def.name,
}

@schedule(
    job=moltbook_live_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Hourly incremental sync of the live Moltbook (stopped by default: it reaches the network).",
)
def moltbook_live_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Every hour, one run on partition `moltbook`; the partition is registered on first use."""
    if not context.instance.has_dynamic_partition(society_partitions.name, "moltbook"):
        context.instance.add_dynamic_partitions(society_partitions.name, ["moltbook"])
    return RunRequest(partition_key="moltbook")


daily_report_schedule = ScheduleDefinition(
    name="daily_society_report",
    job=society_report_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Re-render the comparative report every morning (UTC).",
)


def _import_new_societies(
    context: SensorEvaluationContext, found: dict[str, tuple[SourceKind, Path]]
) -> SensorResult:
    """Each found folder whose society is not yet a partition becomes one, plus a run of its
    source's job that imports that folder."""
    known = set(context.instance.get_dynamic_partitions(society_partitions.name))
    new = {society_id: source for society_id, source in found.items() if society_id not in known}
    run_requests = [
        RunRequest(
            run_key=society_id,
            job_name=JOB_BY_SOURCE[kind],
            partition_key=society_id,
            run_config={"ops": {INGEST_ASSET_BY_SOURCE[kind]: {"config": {"path": str(folder)}}}},
        )
        for society_id, (kind, folder) in new.items()
    ]
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[society_partitions.build_add_request(sorted(new))] if new else [],
    )


@sensor(
    jobs=[moltbook_api_job, observatory_csv_job, oasis_job, canonical_jsonl_job],
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
)
def new_dump_sensor(context: SensorEvaluationContext, sources: SourcesResource) -> SensorResult:
    """Watch OBSERVATORY_DUMPS_DIR: a new dump folder (or OASIS database file) becomes a society
    partition and is imported by the job of its format."""
    return _import_new_societies(context, discover_dumps(Path(sources.dumps_dir)))


@sensor(
    jobs=[simulation_job],
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
)
def new_simulation_sensor(context: SensorEvaluationContext, sources: SourcesResource) -> SensorResult:
    """Watch OBSERVATORY_SIM_DIR: each society folder written by `simulate --out` becomes a society
    partition and is imported by simulation_job, then enriched and measured like any other."""
    found = discover_simulations(Path(sources.sim_dir))
    return _import_new_societies(context, {sid: ("simulator", folder) for sid, folder in found.items()})


JOBS = [
    moltbook_api_job, observatory_csv_job, oasis_job, canonical_jsonl_job, simulation_job,
    moltbook_live_job, society_report_job,
]
SCHEDULES = [moltbook_live_schedule, daily_report_schedule]
SENSORS = [new_dump_sensor, new_simulation_sensor]
