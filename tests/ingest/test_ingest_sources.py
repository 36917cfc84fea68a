"""Society ids say where a society comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.ingest.sources import (
    SimulatedSociety,
    detect_dump_format,
    dump_folder_name,
    dump_path,
    dump_society_id,
    parse_simulated_society_id,
    simulated_society_id,
)


def test_dump_ids_round_trip_to_their_folder():
    assert dump_society_id(Path("/data/Observatory CSV")) == "moltbook-dump-observatory_csv"
    assert dump_folder_name("moltbook-dump-observatory_csv") == "observatory_csv"
    with pytest.raises(ValueError):
        dump_folder_name("moltbook-dump-../etc")  # never a path outside the dumps folder


def test_oasis_ids_name_the_run_and_find_its_database(tmp_path):
    assert dump_society_id(Path("/data/Run 7.db"), "oasis") == "oasis-run_7"
    assert dump_society_id(Path("/data/Run 7"), "oasis") == "oasis-run_7"
    assert dump_folder_name("oasis-run_7") == "run_7"
    (tmp_path / "run_7.sqlite").write_bytes(b"")
    assert dump_path(tmp_path, "oasis-run_7") == tmp_path / "run_7.sqlite"  # a bare database file
    (tmp_path / "run_7").mkdir()
    assert dump_path(tmp_path, "oasis-run_7") == tmp_path / "run_7"  # a folder wins
    with pytest.raises(ValueError):
        dump_folder_name("oasis-../etc")


def test_simulated_ids_write_preset_hyphens_as_underscores():
    assert simulated_society_id("moltbook-like", 7) == "sim-moltbook_like-7"
    assert parse_simulated_society_id("sim-moltbook_like-7") == SimulatedSociety("moltbook-like", 7)
    with pytest.raises(ValueError):
        parse_simulated_society_id("sim-moltbook-like-7")


def test_a_twin_society_id_names_its_knob_after_the_seed():
    assert simulated_society_id("echo-chamber", 7, "gamma0") == "sim-echo_chamber-7-gamma0"
    assert parse_simulated_society_id("sim-echo_chamber-7-gamma0") == SimulatedSociety(
        "echo-chamber", 7, "gamma0"
    )


def test_dump_format_is_read_off_the_files(tmp_path, moltbook_data):
    assert detect_dump_format(moltbook_data / "api") == "moltbook_api"
    assert detect_dump_format(moltbook_data / "observatory_csv") == "observatory_csv"
    assert detect_dump_format(tmp_path) is None


def test_a_canonical_jsonl_folder_is_read_off_its_posts_file(tmp_path):
    (tmp_path / "posts.jsonl.gz").write_bytes(b"")
    (tmp_path / "extra.json").write_text("{}")  # a JSON file beside it does not make it an API dump
    assert detect_dump_format(tmp_path) == "canonical_jsonl"
    assert dump_society_id(tmp_path / "x", "canonical_jsonl").startswith("moltbook-dump-")
