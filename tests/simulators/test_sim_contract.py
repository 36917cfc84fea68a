"""The emitted batch honours the canonical schema: columns, keys, ids, timestamps, society row."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import simulators
from simulators import ENGINE_VERSION, simulate
from warehouse.batch import CanonicalBatch
from warehouse.migrate import migrate
from warehouse.writer import primary_key, table_columns

SID = "sim-moltbook_like-1"
TABLES = (
    "agents", "communities", "posts", "comments", "post_snapshots", "agent_snapshots", "votes",
    "follows", "exposures", "actions", "ground_truth", "sim_labels", "sim_states",
)


@pytest.fixture(scope="module")
def schema() -> dict[str, tuple[list[str], list[str]]]:
    """(columns, primary key) of every canonical table, read from the real migrations."""
    conn = duckdb.connect()
    migrate(conn)
    out = {t: (table_columns(conn, t), primary_key(conn, t)) for t in TABLES}
    conn.close()
    return out


def test_every_canonical_table_is_emitted_and_non_empty(moltbook: CanonicalBatch) -> None:
    assert set(moltbook.tables) == set(TABLES)
    assert all(len(frame) > 0 for frame in moltbook.tables.values())


def test_columns_are_schema_columns_and_keys_are_unique(
    moltbook: CanonicalBatch, schema: dict[str, tuple[list[str], list[str]]]
) -> None:
    for table, frame in moltbook.tables.items():
        columns, key = schema[table]
        assert set(frame.columns) <= set(columns), table
        assert set(key) <= set(frame.columns), table
        assert not frame.duplicated(subset=key).any(), table
        assert frame[key].notna().all().all(), table
        assert (frame["society_id"] == SID).all(), table


def test_the_society_row_describes_the_run(moltbook: CanonicalBatch) -> None:
    society = moltbook.society
    assert society["society_id"] == SID
    assert (society["kind"], society["platform"], society["preset"], society["seed"]) == (
        "sim", "simulator", "moltbook-like", 1,
    )
    config = society["config_json"]
    assert config["engine_version"] == ENGINE_VERSION
    assert config["comment_cap"] is None and config["time_flags"] == []
    assert config["n_agents"] == 500 and config["n_communities"] == 25  # resolved, not None
    communities = moltbook.tables["communities"].set_index("community_id")
    assert communities.loc[config["default_community_id"], "name"] == "general"


def test_ids_follow_society_kind_n(moltbook: CanonicalBatch) -> None:
    id_columns = {
        "agents": ("agent_id", "agent"), "posts": ("post_id", "post"),
        "comments": ("comment_id", "comment"), "communities": ("community_id", "community"),
        "votes": ("vote_id", "vote"),
    }
    for table, (column, kind) in id_columns.items():
        pattern = re.compile(rf"^{SID}:{kind}:\d+$")
        assert moltbook.tables[table][column].map(lambda v: bool(pattern.match(v))).all(), table


def test_timestamps_are_utc_milliseconds_strictly_increasing_in_resolution_order(
    moltbook: CanonicalBatch,
) -> None:
    actions = moltbook.tables["actions"]
    stamps = actions["created_at"]
    assert str(stamps.dt.tz) == "UTC"
    assert (stamps.dt.microsecond % 1000 == 0).all() and (stamps.dt.nanosecond == 0).all()
    assert actions["seq"].is_monotonic_increasing
    assert stamps.diff().dropna().gt(pd.Timedelta(0)).all()
    start = pd.Timestamp("2026-02-01T00:00:00Z")
    step_start = start + pd.to_timedelta(actions["step"] * 60, unit="s")
    assert (stamps > step_start).all() and (stamps < step_start + pd.Timedelta(seconds=60)).all()


def test_content_and_events_carry_the_time_and_actor_of_their_action(
    moltbook: CanonicalBatch,
) -> None:
    actions = moltbook.tables["actions"]
    for table, id_col, actor, types in (
        ("posts", "post_id", "author_id", ["create_post"]),
        ("votes", "target_id", "voter_id", ["upvote", "downvote"]),
    ):
        acts = actions[actions["action_type"].isin(types)]
        frame = moltbook.tables[table]
        assert len(acts) == len(frame), table
        merged = frame.merge(
            acts, left_on=[id_col, actor, "created_at"], right_on=["target_id", "agent_id", "created_at"]
        )
        assert len(merged) == len(frame), table
    made = actions[actions["action_type"].isin(["create_comment", "reply"])]
    comments = moltbook.tables["comments"]
    assert made["info_json"].map(lambda s: json.loads(s)["created_id"]).tolist() == comments["comment_id"].tolist()
    assert made["created_at"].tolist() == comments["created_at"].tolist()
    answered = comments["parent_id"].fillna(comments["post_id"])  # a reply targets its parent
    assert made["target_id"].tolist() == answered.tolist()
    assert (made["action_type"] == "reply").tolist() == comments["parent_id"].notna().tolist()
    follows = actions[actions["action_type"] == "follow"]
    assert follows["created_at"].tolist() == moltbook.tables["follows"]["created_at"].tolist()


def test_every_decision_is_an_action_row_from_the_rule_policy(moltbook: CanonicalBatch) -> None:
    actions = moltbook.tables["actions"]
    assert (actions["source"] == "rule").all()
    assert set(actions["action_type"]) == {
        "do_nothing", "create_post", "create_comment", "reply", "upvote", "downvote", "follow",
    }
    assert (actions["action_type"] == "do_nothing").mean() > 0.05


def test_comment_ids_are_issued_in_creation_order(moltbook: CanonicalBatch) -> None:
    for table, column in (("comments", "comment_id"), ("posts", "post_id"), ("votes", "vote_id")):
        frame = moltbook.tables[table]
        n = frame[column].str.rsplit(":", n=1).str[-1].astype(int)
        assert n.is_monotonic_increasing and frame["created_at"].is_monotonic_increasing, table


def test_unknown_presets_and_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        simulate("no-such-preset")
    with pytest.raises(TypeError, match="unknown config keys"):
        simulate("moltbook-like", n_agents=20, n_steps=2, not_a_knob=1)


def test_the_simulator_code_has_no_stdlib_random_wall_clock_or_dagster() -> None:
    """§4.2: randomness only from the seeded numpy streams; time only from the config clock."""
    package = Path(simulators.__file__).parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                modules = []
            for module in modules:
                assert module.split(".")[0] not in {"random", "time", "dagster"}, (path, module)
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"now", "utcnow", "today", "perf_counter"}, (path, node.attr)
