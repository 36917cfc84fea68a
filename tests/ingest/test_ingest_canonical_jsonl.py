"""Canonical JSONL folders: what export-jsonl writes, the importer reads back; foreign ones are vetted."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.canonical_jsonl import (
    CANONICAL_KEYS,
    CANONICAL_TABLES,
    export_canonical_jsonl,
    parse_canonical_jsonl,
)
from assets.ingest.clean import NoValidRowsError
from assets.ingest.oasis import parse_oasis_db
from simulators import simulate
from tests.ingest.test_ingest_oasis import build_datetime_run
from warehouse.batch import CanonicalBatch
from warehouse.reader import open_reader
from warehouse.writer import open_writer, write_batch


def write(path: Path, lines: list) -> Path:
    """A JSONL file: dicts are dumped, strings are written as they are (broken lines too)."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def store(path: Path, *batches: CanonicalBatch) -> None:
    with open_writer(path) as conn:
        for batch in batches:
            write_batch(conn, batch, run_id=f"test:{batch.society_id}", source="test",
                        started_at=datetime.now(timezone.utc))


def table_rows(path: Path, society_id: str) -> dict[str, pd.DataFrame]:
    """Every canonical table of one society, in key order."""
    with open_reader(path) as conn:
        return {
            table: conn.execute(
                f'SELECT * FROM "{table}" WHERE society_id = ? ORDER BY '
                + (", ".join(CANONICAL_KEYS[table]) or "society_id"),
                [society_id],
            ).df()
            for table in CANONICAL_TABLES
        }


def test_a_warehouse_round_trips_through_export_and_import(tmp_path: Path):
    simulated = simulate("moltbook-like", seed=4, n_agents=40, n_steps=150)
    oasis = parse_oasis_db(build_datetime_run(tmp_path / "run.db"), "oasis-run")
    store(tmp_path / "a.duckdb", simulated, oasis)
    with open_reader(tmp_path / "a.duckdb") as conn:
        folders = export_canonical_jsonl(conn, tmp_path / "export")
    assert [f.name for f in folders] == ["oasis-run", simulated.society_id]
    assert sorted(p.name for p in folders[0].iterdir()) == sorted(f"{t}.jsonl.gz" for t in CANONICAL_TABLES)

    batches = [parse_canonical_jsonl(folder, folder.name) for folder in folders]
    assert all(batch.quarantine == [] for batch in batches)
    store(tmp_path / "b.duckdb", *batches)
    for society_id in ("oasis-run", simulated.society_id):
        before, after = table_rows(tmp_path / "a.duckdb", society_id), table_rows(tmp_path / "b.duckdb", society_id)
        for table in CANONICAL_TABLES:
            pd.testing.assert_frame_equal(after[table], before[table], obj=f"{society_id}.{table}")
    assert len(table_rows(tmp_path / "b.duckdb", simulated.society_id)["votes"]) == len(simulated.tables["votes"]) > 0


def test_the_export_is_byte_stable(tmp_path: Path):
    store(tmp_path / "a.duckdb", parse_oasis_db(build_datetime_run(tmp_path / "run.db"), "oasis-run"))
    with open_reader(tmp_path / "a.duckdb") as conn:
        [first] = export_canonical_jsonl(conn, tmp_path / "one")
        [second] = export_canonical_jsonl(conn, tmp_path / "two")
    assert (first / "posts.jsonl.gz").read_bytes() == (second / "posts.jsonl.gz").read_bytes()
    post = json.loads(gzip.decompress((first / "posts.jsonl.gz").read_bytes()).splitlines()[0])
    assert "society_id" not in post and post["post_id"] == "1"
    assert post["created_at"] == "2024-08-01T12:05:00+00:00"


@pytest.fixture()
def foreign(tmp_path: Path) -> Path:
    """A hand-written dump: good rows, broken ones and adversarial text."""
    folder = tmp_path / "foreign"
    folder.mkdir()
    write(folder / "posts.jsonl", [
        {"post_id": "p1", "author_id": "a1", "title": "<script>alert(1)</script>", "content": "hi 🦞",
         "upvotes": "12", "downvotes": "x", "created_at": "2026-02-01T10:00:00Z", "mood": "happy"},
        '{"post_id": "p2", "content": "\\ud83e lone half", "created_at": "2026-02-01 11:00:00+00:00", "is_deleted": "yes"}',
        {"content": "no id", "created_at": "2026-02-01T10:00:00Z"},
        {"post_id": "p4", "created_at": "last tuesday"},
        {"post_id": "p5", "society_id": "moltbook", "created_at": "2026-02-01T10:00:00Z"},
        "this is not json",
        "[1, 2, 3]",
        "",
        {"post_id": "p1", "title": "another title", "created_at": "2026-02-01T10:00:00Z"},
    ])
    write(folder / "comments.jsonl.gz", [
        {"comment_id": "c1", "post_id": "p1", "parent_id": None, "created_at": "2026-02-01T10:01:00Z"},
        {"comment_id": "c2", "post_id": "p1", "parent_id": "c1"},
        {"comment_id": "c3", "post_id": "p1", "parent_id": "c2"},
        {"comment_id": "c9", "post_id": "p1", "parent_id": "gone", "root_id": "c0", "depth": 4},
        {"comment_id": "c5", "parent_id": None},
    ])
    write(folder / "follows.jsonl", [
        {"follower_id": "a1", "followee_id": "a2", "created_at": "2026-02-01T10:00:00Z", "action": "follow"},
        {"follower_id": "a2", "followee_id": "a1", "created_at": "2026-02-01T10:00:00Z", "action": "like"},
    ])
    write(folder / "actions.jsonl", [
        {"seq": 1, "agent_id": "a1", "step": "3", "action_type": "create_post", "target_id": "p1",
         "info_json": {"created": "p1"}, "source": "llm"},
        {"seq": 2, "agent_id": "a1", "step": 2**40, "info_json": "{not json"},
        {"seq": 3, "agent_id": "a1", "source": "human"},
    ])
    write(folder / "exposures.jsonl", [
        {"agent_id": "a1", "step": 3, "item_id": "p1", "feed": "hot", "rank": 1},
        {"agent_id": "a1", "step": 2**40, "item_id": "p1"},
    ])
    write(folder / "societies.jsonl", [{"kind": "sim", "platform": "moltbook", "config_json": {"comment_cap": 5}}])
    (folder / "README.md").write_text("not a table; ignored")
    return folder


def test_foreign_rows_are_coerced_or_quarantined(foreign: Path):
    batch = parse_canonical_jsonl(foreign, "moltbook-dump-foreign")
    posts = batch.tables["posts"].set_index("post_id")
    assert sorted(posts.index) == ["p1", "p2"]
    p1 = posts.loc["p1"]
    assert (p1["title"], p1["content"], p1["upvotes"]) == ("<script>alert(1)</script>", "hi 🦞", 12)
    assert pd.isna(p1["downvotes"]) and p1["is_deleted"] == False  # noqa: E712 (numpy bool)
    assert posts.loc["p2", "content"] == "\ufffd lone half" and posts.loc["p2", "is_deleted"] == True  # noqa: E712
    assert posts.loc["p1", "created_at"] == pd.Timestamp("2026-02-01T10:00:00Z")

    reasons = {q.source: q.reason for q in batch.quarantine}
    assert reasons == {
        "posts.jsonl:1": "unknown column 'mood' of posts: its values are not imported",
        "posts.jsonl:3": "post_id is missing, empty or not a valid value",
        "posts.jsonl:4": "created_at is unparseable ('last tuesday')",
        "posts.jsonl:5": "row belongs to society 'moltbook', not 'moltbook-dump-foreign'",
        "posts.jsonl:6": "line is not JSON (Expecting value: line 1 column 1 (char 0))",
        "posts.jsonl:7": "line holds a JSON list, not an object",
        "posts.jsonl:9": "id p1 repeats with a different title (first seen at posts.jsonl:1)",
        "comments.jsonl.gz:5": "post_id is missing or empty",
        "follows.jsonl:2": "action is 'like'; allowed: ['follow', 'unfollow']",
        "actions.jsonl:2": "info_json is not valid JSON",
        "actions.jsonl:3": "source is 'human'; allowed: ['llm', 'rule']",
        "exposures.jsonl:2": "step is missing, empty or not a valid value",
    }

    [action] = batch.tables["actions"].to_dict("records")
    assert (action["seq"], action["step"], action["source"]) == (1, 3, "llm")
    assert json.loads(action["info_json"]) == {"created": "p1"}
    assert batch.tables["follows"]["action"].tolist() == ["follow"]
    assert batch.society["kind"] == "sim" and json.loads(batch.society["config_json"]) == {"comment_cap": 5}
    assert batch.society["society_id"] == "moltbook-dump-foreign"


def test_comment_threads_are_filled_in_only_where_missing(foreign: Path):
    comments = parse_canonical_jsonl(foreign, "moltbook-dump-foreign").tables["comments"].set_index("comment_id")
    assert comments.loc["c3", "root_id"] == "c1" and comments.loc["c3", "depth"] == 3
    assert comments.loc["c1", "root_id"] == "c1" and comments.loc["c1", "depth"] == 1
    assert comments.loc["c9", "root_id"] == "c0" and comments.loc["c9", "depth"] == 4  # as given


def test_without_a_societies_file_the_society_is_a_dump(tmp_path: Path):
    write(tmp_path / "posts.jsonl", [{"post_id": "p1", "created_at": "2026-02-01T10:00:00Z"}])
    society = parse_canonical_jsonl(tmp_path, "moltbook-dump-x").society
    assert (society["kind"], society.get("platform")) == ("dump", None)
    assert society["config_json"]["parser"] == "canonical_jsonl"


def test_unknown_or_doubled_tables_are_refused(tmp_path: Path):
    write(tmp_path / "posts.jsonl", [{"post_id": "p1", "created_at": "2026-02-01T10:00:00Z"}])
    write(tmp_path / "ground_truth.jsonl", [{"phenomenon": "x"}])
    with pytest.raises(ValueError, match="ground_truth.jsonl: 'ground_truth' is not a canonical table"):
        parse_canonical_jsonl(tmp_path, "moltbook-dump-x")
    (tmp_path / "ground_truth.jsonl").unlink()
    write(tmp_path / "posts.jsonl.gz", [{"post_id": "p1", "created_at": "2026-02-01T10:00:00Z"}])
    with pytest.raises(ValueError, match="both posts.jsonl and posts.jsonl.gz"):
        parse_canonical_jsonl(tmp_path, "moltbook-dump-x")


def test_a_truncated_gzip_keeps_the_rows_before_the_damage(tmp_path: Path):
    lines = [{"post_id": f"p{i}", "content": f"post {i} " * 2000, "created_at": "2026-02-01T10:00:00Z"}
             for i in range(40)]
    whole = write(tmp_path / "posts.jsonl.gz", lines).read_bytes()
    (tmp_path / "posts.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    batch = parse_canonical_jsonl(tmp_path, "moltbook-dump-x")
    assert 0 < len(batch.tables["posts"]) < 40
    [note] = batch.quarantine
    assert note.reason.startswith(f"file is damaged after line {len(batch.tables['posts'])}; the rest is lost")


def test_files_that_cannot_be_read_or_hold_no_valid_row_stop_the_import(tmp_path: Path):
    (tmp_path / "posts.jsonl.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(NoValidRowsError, match="posts.jsonl.gz: cannot be read as gzip"):
        parse_canonical_jsonl(tmp_path, "moltbook-dump-x")
    (tmp_path / "posts.jsonl.gz").unlink()
    write(tmp_path / "posts.jsonl", [{"post_id": "p1", "created_at": "2026-02-01T10:00:00Z"}])
    write(tmp_path / "votes.jsonl", [{"voter_id": "a1"}, "garbage"])
    with pytest.raises(NoValidRowsError, match="votes.jsonl: none of its 2 rows could be mapped"):
        parse_canonical_jsonl(tmp_path, "moltbook-dump-x")


def test_export_jsonl_command_writes_one_folder_per_society(tmp_path: Path, monkeypatch, capsys):
    from pipelines.cli import main

    store(tmp_path / "w.duckdb", parse_oasis_db(build_datetime_run(tmp_path / "run.db"), "oasis-run"))
    monkeypatch.setenv("OBSERVATORY_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert main(["export-jsonl", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "oasis-run")
    assert (tmp_path / "out" / "oasis-run" / "actions.jsonl.gz").is_file()


def test_the_jsonl_asset_imports_an_exported_folder(tmp_path: Path):
    from dagster import DagsterInstance, materialize

    from assets.ingest.defs import canonical_jsonl_traces
    from pipelines.partitions import society_partitions
    from pipelines.resources import SourcesResource, WarehouseResource

    store(tmp_path / "a.duckdb", parse_oasis_db(build_datetime_run(tmp_path / "run.db"), "oasis-run"))
    with open_reader(tmp_path / "a.duckdb") as conn:
        [folder] = export_canonical_jsonl(conn, tmp_path / "dumps")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(society_partitions.name, ["moltbook-dump-copy"])
    result = materialize(
        [canonical_jsonl_traces], partition_key="moltbook-dump-copy", instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "b.duckdb")),
            "sources": SourcesResource(dumps_dir=str(tmp_path / "dumps"), sim_dir=str(tmp_path / "sims")),
        },
        run_config={"ops": {"canonical_jsonl_traces": {"config": {"path": str(folder)}}}},
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("canonical_jsonl_traces")
    assert materialization.metadata["stored_posts"].value == 5
    assert materialization.metadata["ingest_run_id"].value.startswith("canonical_jsonl:")
    with open_reader(tmp_path / "b.duckdb") as conn:
        kind = conn.execute("SELECT kind FROM societies WHERE society_id = 'moltbook-dump-copy'").fetchone()
    assert kind == ("trace",)  # the exported society's own row, under the new id
