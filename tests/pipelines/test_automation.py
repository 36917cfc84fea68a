"""The sensor turns new dump folders into society partitions and runs of the matching job."""

from __future__ import annotations

from dagster import DagsterInstance, build_sensor_context

from pipelines.automation import new_dump_sensor
from pipelines.partitions import society_partitions
from pipelines.resources import SourcesResource


def _dumps(tmp_path):
    (tmp_path / "api_2026").mkdir()
    (tmp_path / "api_2026" / "posts.json").write_text('{"success": true, "posts": []}')
    (tmp_path / "Export May").mkdir()
    (tmp_path / "Export May" / "moltbook_posts.csv").write_text("id,agent_name\n")
    (tmp_path / "notes").mkdir()  # not a dump: ignored
    return tmp_path


def test_new_dump_folders_become_partitions_and_runs(tmp_path):
    instance = DagsterInstance.ephemeral()
    context = build_sensor_context(instance=instance, resources={"sources": SourcesResource(dumps_dir=str(_dumps(tmp_path)), sim_dir=str(tmp_path / "sims"))})
    result = new_dump_sensor(context)
    requests = {r.partition_key: r for r in result.run_requests}
    assert set(requests) == {"moltbook-dump-api_2026", "moltbook-dump-export_may"}
    assert requests["moltbook-dump-api_2026"].job_name == "moltbook_api_job"
    assert requests["moltbook-dump-export_may"].job_name == "observatory_csv_job"
    config = requests["moltbook-dump-export_may"].run_config["ops"]["observatory_csv_traces"]["config"]
    assert config["path"] == str(tmp_path / "Export May")
    [add] = result.dynamic_partitions_requests
    assert add.partitions_def_name == society_partitions.name
    assert sorted(add.partition_keys) == sorted(requests)


def test_known_societies_are_not_imported_again(tmp_path):
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(society_partitions.name, ["moltbook-dump-api_2026", "moltbook-dump-export_may"])
    context = build_sensor_context(instance=instance, resources={"sources": SourcesResource(dumps_dir=str(_dumps(tmp_path)), sim_dir=str(tmp_path / "sims"))})
    result = new_dump_sensor(context)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []


def test_simulator_output_folders_become_partitions_and_simulation_runs(tmp_path):
    from pipelines.automation import new_simulation_sensor
    from simulators import simulate
    from simulators.output import write_society_folder

    sims = tmp_path / "sims"
    write_society_folder(simulate("moltbook-like", seed=4, n_agents=30, n_steps=20), sims)
    (sims / ".sim-moltbook_like-5.partial").mkdir()  # a folder still being written: ignored
    (sims / "notes").mkdir()  # not a society folder: ignored
    instance = DagsterInstance.ephemeral()
    resources = {"sources": SourcesResource(dumps_dir=str(tmp_path / "dumps"), sim_dir=str(sims))}
    result = new_simulation_sensor(build_sensor_context(instance=instance, resources=resources))
    [request] = result.run_requests
    assert (request.partition_key, request.job_name) == ("sim-moltbook_like-4", "simulation_job")
    config = request.run_config["ops"]["simulated_traces"]["config"]
    assert config["path"] == str(sims / "sim-moltbook_like-4")
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == ["sim-moltbook_like-4"]


def test_the_live_schedule_registers_its_partition_and_requests_it():
    from dagster import build_schedule_context, instance_for_test

    from pipelines.automation import moltbook_live_schedule

    with instance_for_test() as instance:  # a schedule context reaches its instance by reference
        request = moltbook_live_schedule(build_schedule_context(instance=instance))
        assert request.partition_key == "moltbook"
        assert instance.has_dynamic_partition(society_partitions.name, "moltbook")
