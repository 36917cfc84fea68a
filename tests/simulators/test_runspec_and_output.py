"""Runs are described in YAML (SIMULATORS.md §10) and written as one folder per society (§7)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.cli import main
from simulators import simulate
from simulators.output import read_society_folder, write_society_folder
from simulators.runspec import parse_assignments, run_spec_from_yaml
from tests.simulators.helpers import table_fingerprints

SECTION_10_STYLE = """
preset: moltbook-like
seed: 7
n_agents: 120
clock: {start: "2026-03-01T00:00:00Z", step_seconds: 30}
feeds: {size: 8}
output: {snapshot_every: 10}
"""


def test_yaml_sections_map_onto_flat_config_fields() -> None:
    spec = run_spec_from_yaml(SECTION_10_STYLE)
    assert (spec.preset, spec.seed, spec.twin) == ("moltbook-like", 7, None)
    assert spec.overrides == {
        "n_agents": 120, "clock_start": "2026-03-01T00:00:00Z", "step_seconds": 30,
        "feed_size": 8, "snapshot_every": 10,
    }


def test_a_typo_is_refused_with_the_valid_keys() -> None:
    with pytest.raises(ValueError, match="unknown config key 'pdup'.*p_dup"):
        run_spec_from_yaml("p_dup: 0.1\npdup: 0.2")
    with pytest.raises(ValueError, match="clock.tick"):
        run_spec_from_yaml("clock: {tick: 5}")
    with pytest.raises(ValueError, match="seed must be an integer"):
        run_spec_from_yaml("seed: '7'")


def test_command_line_assignments_are_yaml_scalars() -> None:
    assert parse_assignments(["p_dup=0.2", "activity=hawkes", "feed_mix={hot: 1.0}"]) == {
        "p_dup": 0.2, "activity": "hawkes", "feed_mix": {"hot": 1.0},
    }
    with pytest.raises(ValueError):
        parse_assignments(["p_dup"])


def test_a_society_folder_round_trips_every_table(tmp_path) -> None:
    batch = simulate("moltbook-like", seed=5, n_agents=40, n_steps=30)
    folder = write_society_folder(batch, tmp_path)
    assert folder.name == "sim-moltbook_like-5"
    assert not list(tmp_path.glob(".*"))  # the staging folder is gone
    again = read_society_folder(folder)
    assert again.society["config_json"] == batch.society["config_json"]
    assert table_fingerprints(again) == table_fingerprints(batch)
    with pytest.raises(FileExistsError):
        write_society_folder(batch, tmp_path)


def test_simulate_out_writes_the_twin_folder_without_the_pipeline(tmp_path, capsys) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("preset: moltbook-like\nseed: 3\nn_agents: 60\nn_steps: 40\n")
    status = main(["simulate", "--config", str(config), "--twin", "nodup", "--set", "max_depth=4",
                   "--out", str(tmp_path / "sims")])
    assert status == 0
    batch = read_society_folder(tmp_path / "sims" / "sim-moltbook_like-3-nodup")
    config_json = batch.society["config_json"]
    assert (config_json["p_dup"], config_json["max_depth"], config_json["n_agents"]) == (0.0, 4, 60)
    assert config_json["twin"] == {"name": "nodup", "knob": {"p_dup": 0.0}}
    assert config_json["twin_group"] == "sim-moltbook_like-3"
    assert isinstance(batch.tables["posts"], pd.DataFrame) and len(batch.tables["posts"]) > 0
    assert "written:" in capsys.readouterr().out
