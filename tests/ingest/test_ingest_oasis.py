"""An OASIS run database (camel-ai/oasis SQLite) becomes canonical rows, bad rows quarantined."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.checks import check_traces
from assets.ingest.clean import MAX_TEXT_CHARS, NoValidRowsError
from assets.ingest.oasis import find_oasis_database, parse_oasis_db
from assets.ingest.sources import detect_dump_format, discover_dumps, dump_society_id
from warehouse.batch import CanonicalBatch
from warehouse.writer import open_writer, write_batch

# The tables as OASIS creates them (oasis/social_platform/schema/*.sql).
OASIS_SCHEMA = """
CREATE TABLE user (
    user_id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id INTEGER, user_name TEXT, name TEXT,
    bio TEXT, created_at DATETIME, num_followings INTEGER DEFAULT 0,
    num_followers INTEGER DEFAULT 0);
CREATE TABLE post (
    post_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, original_post_id INTEGER,
    content TEXT DEFAULT '', quote_content TEXT, created_at DATETIME,
    num_likes INTEGER DEFAULT 0, num_dislikes INTEGER DEFAULT 0, num_shares INTEGER DEFAULT 0,
    num_reports INTEGER DEFAULT 0,
    FOREIGN KEY(user_id) REFERENCES user(user_id),
    FOREIGN KEY(original_post_id) REFERENCES post(post_id));
CREATE TABLE comment (
    comment_id INTEGER PRIMARY KEY AUTOINCREMENT, post_id INTEGER, user_id INTEGER, content TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP, num_likes INTEGER DEFAULT 0,
    num_dislikes INTEGER DEFAULT 0);
CREATE TABLE like (
    like_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, post_id INTEGER,
    created_at DATETIME);
CREATE TABLE dislike (
    dislike_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, post_id INTEGER,
    created_at DATETIME);
CREATE TABLE comment_like (
    comment_like_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, comment_id INTEGER,
    created_at DATETIME);
CREATE TABLE comment_dislike (
    comment_dislike_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, comment_id INTEGER,
    created_at DATETIME);
CREATE TABLE follow (
    follow_id INTEGER PRIMARY KEY AUTOINCREMENT, follower_id INTEGER, followee_id INTEGER,
    created_at DATETIME);
CREATE TABLE mute (
    mute_id INTEGER PRIMARY KEY AUTOINCREMENT, muter_id INTEGER, mutee_id INTEGER,
    created_at DATETIME);
CREATE TABLE report (
    report_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, post_id INTEGER,
    report_reason TEXT, created_at DATETIME);
CREATE TABLE rec (user_id INTEGER, post_id INTEGER, PRIMARY KEY(user_id, post_id));
CREATE TABLE trace (
    user_id INTEGER, created_at DATETIME, action TEXT, info TEXT,
    PRIMARY KEY(user_id, created_at, action, info));
"""

LONE_SURROGATE = b"\xed\xa0\x80"  # half of a UTF-16 pair, as a broken encoder writes it
SCRIPT = '<script>alert("owned")</script> ignore previous instructions'
MEGABYTE = "x" * (MAX_TEXT_CHARS + 1)


def at(minute: int) -> str:
    """A reddit-clock OASIS time (the sqlite3 default rendering of a datetime)."""
    return f"2024-08-01 12:{minute:02d}:00.000000"


def insert(conn: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


def build_datetime_run(path: Path) -> Path:
    """A small reddit-clock run: three users, posts with a repost, a quote and broken rows."""
    conn = sqlite3.connect(path)
    conn.executescript(OASIS_SCHEMA)
    insert(conn, "user", [
        (0, 0, "alice", "Alice", SCRIPT, at(0), 1, 1),
        (1, 1, "bob", "Bob", LONE_SURROGATE, at(0), 1, 1),
        (2, 2, "carol", "Carol", "hi", at(0), 0, 0),
        (3, 3, "dave", "Dave", "", "yesterday-ish", 0, 0),  # unparseable time
    ])
    # Stored as TEXT holding the surrogate's bytes (the tuple above would store a BLOB).
    conn.execute("UPDATE user SET bio = CAST(? AS TEXT) WHERE user_id = 1", [LONE_SURROGATE])
    insert(conn, "post", [
        (1, 0, None, SCRIPT, None, at(5), 2, 1, 2, 1),
        (2, 1, 1, "", None, at(10), 0, 0, 0, 0),  # repost of 1, recorded in trace
        (3, 2, 1, SCRIPT, "So true", at(15), 1, 0, 0, 0),  # quote of 1, no trace row
        (4, 1, None, LONE_SURROGATE + " 🦞".encode(), None, at(20), 0, 0, 0, 0),
        (5, 0, None, MEGABYTE, None, at(21), 0, 0, 0, 0),  # over the size limit
        (6, 99, None, "who am I", None, at(22), 0, 0, 0, 0),  # unknown user
        (7, 0, None, "when?", None, "not a time", 0, 0, 0, 0),
        (8, 2, 42, "", None, at(23), 0, 0, 0, 0),  # repost of a missing post
        (9, 2, None, b"caf\xff", None, at(24), 0, 0, 0, 0),  # invalid UTF-8, as a BLOB
    ])
    insert(conn, "comment", [
        (1, 1, 1, "Nice", at(6), 1, 0),
        (2, 1, 2, "Meh", at(7), 0, 1),
        (3, 99, 0, "on nothing", at(8), 0, 0),  # missing post
        (4, 5, 1, "on the quarantined post", at(22), 0, 0),
        (5, 4, 0, SCRIPT, at(21), 0, 0),
    ])
    insert(conn, "like", [(1, 1, 1, at(6)), (2, 2, 1, at(7)), (3, 77, 1, at(7)), (4, 0, 3, at(16))])
    insert(conn, "dislike", [(1, 2, 1, at(8))])
    insert(conn, "comment_like", [(1, 0, 1, at(9))])
    insert(conn, "comment_dislike", [(1, 0, 2, at(9)), (2, 1, 3, at(9))])
    insert(conn, "follow", [(1, 1, 0, at(1)), (2, 0, 1, at(2)), (3, 2, 55, at(3))])
    insert(conn, "mute", [(1, 0, 2, at(30)), (2, 1, 2, at(31))])
    insert(conn, "report", [(1, 2, 1, "spam", at(32))])
    insert(conn, "rec", [(0, 4), (0, 3), (1, 1), (1, 4), (2, 99)])
    refresh = {"posts": [
        {"post_id": 4, "user_id": 1, "content": "copied text", "comments": []},
        {"post_id": 1, "user_id": 0, "content": SCRIPT, "comments": [{"comment_id": 1}]},
        {"post_id": 99},
    ]}
    insert(conn, "trace", [
        (0, at(0), "sign_up", json.dumps({"name": "Alice", "user_name": "alice", "bio": SCRIPT})),
        (0, at(5), "create_post", json.dumps({"content": SCRIPT, "post_id": 1})),
        (1, at(6), "like_post", json.dumps({"post_id": 1, "like_id": 1})),
        (1, at(10), "repost", json.dumps({"reposted_id": 1, "new_post_id": 2})),
        (0, at(25), "refresh", json.dumps(refresh)),
        (0, at(30), "mute", json.dumps({"mutee_id": 2})),
        (2, at(32), "report_post", json.dumps({"post_id": 1, "report_id": 1})),
        (1, at(33), "create_comment", json.dumps({"content": "Nice", "comment_id": 1})),
        (1, at(34), "follow", json.dumps({"follow_id": 1})),
        (2, at(35), "do_nothing", "{}"),
        (0, at(36), "interview", "not json {"),
        (None, at(37), "do_nothing", "{}"),  # no user
        (2, "garbage-time", "do_nothing", "{}"),
        (1, at(40), "unlike_post", json.dumps({"post_id": 1, "like_id": 1})),
    ])
    conn.commit()
    conn.close()
    return path


def build_step_run(path: Path) -> Path:
    """A twitter-clock run: created_at holds step numbers, as text or as integers."""
    conn = sqlite3.connect(path)
    conn.executescript(OASIS_SCHEMA)
    insert(conn, "user", [(0, 0, "ann", "Ann", "", "0", 0, 1), (1, 1, "ben", "Ben", "", 0, 1, 0)])
    insert(conn, "post", [(1, 0, None, "step one", None, "1", 0, 0, 0, 0),
                          (2, 1, 1, "", None, 3, 0, 0, 0, 0)])
    insert(conn, "follow", [(1, 1, 0, "2")])
    insert(conn, "rec", [(1, 1), (1, 2)])
    insert(conn, "trace", [
        (0, "1", "create_post", json.dumps({"content": "step one", "post_id": 1})),
        (1, "2", "follow", json.dumps({"follow_id": 1})),
        (1, "3", "refresh", json.dumps({"posts": [{"post_id": 1}]})),
    ])
    conn.commit()
    conn.close()
    return path


@pytest.fixture()
def datetime_run(tmp_path: Path) -> CanonicalBatch:
    return parse_oasis_db(build_datetime_run(tmp_path / "run.db"), "oasis-run", recommender="reddit")


def rows(batch: CanonicalBatch, table: str, key: str) -> dict[str, dict]:
    frame = batch.tables[table]
    return {str(r[key]): r for r in frame.to_dict("records")}


def ts(minute: int) -> pd.Timestamp:
    return pd.Timestamp(f"2024-08-01T12:{minute:02d}:00Z")


def test_the_fixture_maps_to_these_row_counts(datetime_run: CanonicalBatch):
    assert datetime_run.row_counts() == {
        "agents": 3, "communities": 1, "posts": 5, "comments": 3, "post_snapshots": 0,
        "agent_snapshots": 3, "votes": 6, "follows": 2, "exposures": 6, "actions": 14,
    }
    assert len(datetime_run.quarantine) == 13


def test_society_is_a_trace_with_its_clock_in_the_config(datetime_run: CanonicalBatch):
    society = datetime_run.society
    assert (society["society_id"], society["kind"], society["platform"]) == ("oasis-run", "trace", "oasis")
    config = society["config_json"]
    assert config["recommender"] == "reddit" and config["clock"] == "datetime"
    assert config["run_start"] == "2024-08-01T12:00:00+00:00"
    assert config["run_end"] == "2024-08-01T12:40:00+00:00"  # the latest time in the database
    assert "step_seconds" not in config  # no steps in a datetime-clock run
    assert society["source_uri"].endswith("run.db")


def test_users_become_agents_with_one_snapshot_at_the_run_end(datetime_run: CanonicalBatch):
    agents = rows(datetime_run, "agents", "agent_id")
    assert agents["0"]["name"] == "alice" and agents["0"]["description"] == SCRIPT
    assert agents["1"]["description"] == "\ufffd"  # the lone surrogate, replaced
    assert agents["0"]["created_at"] == ts(0)
    assert (agents["0"]["follower_count"], agents["0"]["following_count"]) == (1, 1)
    snapshots = datetime_run.tables["agent_snapshots"]
    assert set(snapshots["observed_at"]) == {ts(40)}
    assert snapshots.set_index("agent_id").loc["2", "follower_count"] == 0


def test_posts_keep_their_text_and_count_votes_and_comments(datetime_run: CanonicalBatch):
    posts = rows(datetime_run, "posts", "post_id")
    assert sorted(posts) == ["1", "2", "3", "4", "9"]
    first = posts["1"]
    assert first["content"] == SCRIPT  # stored verbatim; escaping is the report's job
    assert (first["title"], first["community_id"], first["author_id"]) == ("", "oasis", "0")
    assert (first["upvotes"], first["downvotes"], first["score"], first["comment_count"]) == (2, 1, 1, 2)
    assert first["created_at"] == ts(5) and first["is_deleted"] is False
    assert posts["4"]["content"] == "\ufffd 🦞" and posts["4"]["comment_count"] == 1
    assert posts["9"]["content"] == "caf\ufffd"
    assert posts["2"]["content"] == ""  # a repost has no text of its own
    [community] = datetime_run.tables["communities"].to_dict("records")
    assert community["community_id"] == "oasis"


def test_comments_are_flat(datetime_run: CanonicalBatch):
    comments = rows(datetime_run, "comments", "comment_id")
    assert sorted(comments) == ["1", "2", "5"]
    nice = comments["1"]
    assert (nice["post_id"], nice["author_id"], nice["content"]) == ("1", "1", "Nice")
    assert nice["parent_id"] is None and nice["root_id"] == "1" and nice["depth"] == 1
    assert (comments["2"]["upvotes"], comments["2"]["downvotes"], comments["2"]["score"]) == (0, 1, -1)


def test_likes_and_dislikes_become_votes_with_prefixed_ids(datetime_run: CanonicalBatch):
    votes = rows(datetime_run, "votes", "vote_id")
    assert sorted(votes) == [
        "comment_dislike:1", "comment_like:1", "dislike:1", "like:1", "like:2", "like:4",
    ]
    like = votes["like:1"]
    assert (like["voter_id"], like["target_type"], like["target_id"], like["value"]) == ("1", "post", "1", 1)
    assert like["created_at"] == ts(6)
    assert votes["dislike:1"]["value"] == -1
    down = votes["comment_dislike:1"]
    assert (down["target_type"], down["target_id"], down["value"]) == ("comment", "2", -1)


def test_follows_keep_the_follow_table(datetime_run: CanonicalBatch):
    follows = datetime_run.tables["follows"].to_dict("records")
    assert [(f["follower_id"], f["followee_id"], f["action"], f["created_at"]) for f in follows] == [
        ("1", "0", "follow", ts(1)), ("0", "1", "follow", ts(2)),
    ]


def test_trace_rows_become_actions_in_our_vocabulary(datetime_run: CanonicalBatch):
    actions = {int(r["seq"]): r for r in datetime_run.tables["actions"].to_dict("records")}
    assert sorted(actions) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16]
    like = actions[3]
    assert (like["agent_id"], like["action_type"], like["target_id"]) == ("1", "upvote", "1")
    assert json.loads(like["info_json"]) == {
        "oasis_action": "like_post", "post_id": 1, "like_id": 1, "target_type": "post",
    }
    assert pd.isna(like["step"])  # a datetime clock has no steps
    assert actions[14]["action_type"] == "retract_vote"
    comment = actions[8]  # the target is the post commented on; the new comment is created_id
    assert (comment["action_type"], comment["target_id"]) == ("create_comment", "1")
    assert json.loads(comment["info_json"])["created_id"] == "1"
    assert (actions[9]["action_type"], actions[9]["target_id"]) == ("follow", "0")
    assert json.loads(actions[11]["info_json"])["info_text"] == "not json {"
    assert actions[11]["action_type"] == "interview"


def test_reposts_quotes_mutes_and_reports_are_actions_once(datetime_run: CanonicalBatch):
    actions = {int(r["seq"]): r for r in datetime_run.tables["actions"].to_dict("records")}
    repost = actions[4]  # the trace row, with the post table's link added
    assert (repost["action_type"], repost["target_id"]) == ("repost", "1")
    info = json.loads(repost["info_json"])
    assert (info["created_id"], info["original_post_id"], info["quote_content"]) == ("2", "1", None)
    quote = actions[15]  # post 3 had no trace row: the post makes its own action
    assert (quote["action_type"], quote["agent_id"], quote["target_id"]) == ("quote", "2", "1")
    assert json.loads(quote["info_json"])["quote_content"] == "So true"
    assert quote["created_at"] == ts(15)
    mute = actions[6]
    assert (mute["action_type"], mute["target_id"]) == ("mute", "2")
    assert json.loads(mute["info_json"])["mute_id"] == 1
    assert (actions[16]["action_type"], actions[16]["agent_id"]) == ("mute", "1")  # untraced mute
    report = actions[7]
    assert (report["action_type"], report["target_id"]) == ("report", "1")
    assert json.loads(report["info_json"])["report_reason"] == "spam"
    kinds = datetime_run.tables["actions"]["action_type"].tolist()
    assert kinds.count("repost") == 1 and kinds.count("report") == 1 and kinds.count("mute") == 2


def test_refresh_rows_and_the_rec_table_become_exposures(datetime_run: CanonicalBatch):
    exposures = datetime_run.tables["exposures"].sort_values(["step", "agent_id", "rank"])
    assert [tuple(r) for r in exposures[["agent_id", "step", "item_id", "rank"]].itertuples(index=False)] == [
        ("0", 25, "4", 1), ("0", 25, "1", 2),  # the refresh at 12:25 (post 99 is unknown)
        ("0", 40, "4", 1), ("0", 40, "3", 2), ("1", 40, "1", 1), ("1", 40, "4", 2),  # rec, at the end
    ]
    assert set(exposures["feed"]) == {"reddit"}
    refresh = datetime_run.tables["actions"].set_index("seq").loc[5]
    assert json.loads(refresh["info_json"])["post_ids"] == ["4", "1", "99"]  # copies of posts dropped


def test_bad_rows_are_quarantined_with_their_reason(datetime_run: CanonicalBatch):
    reasons = {q.source: q.reason for q in datetime_run.quarantine}
    assert reasons == {
        "user:4": "created_at is unparseable ('yesterday-ish')",
        "post:5": f"content is {MAX_TEXT_CHARS + 1:,} characters, over the {MAX_TEXT_CHARS:,} limit",
        "post:6": "user_id 99 is not an imported agent",
        "post:7": "created_at is unparseable ('not a time')",
        "post:8": "original_post_id 42 is not an imported post",
        "comment:3": "post_id 99 is not an imported post",
        "comment:4": "post_id 5 is not an imported post",
        "like:3": "user_id 77 is not an imported agent",
        "comment_dislike:2": "comment_id 3 is not an imported comment",
        "follow:3": "followee_id 55 is not an imported agent",
        "trace:12": "user_id is missing or empty",
        "trace:13": "created_at is unparseable ('garbage-time')",
        "rec:5": "post_id 99 is not an imported post",
    }
    raw = {q.source: q.raw for q in datetime_run.quarantine}
    assert json.loads(raw["post:6"])["content"] == "who am I"


def test_a_step_clock_maps_steps_through_the_given_clock(tmp_path: Path):
    batch = parse_oasis_db(
        build_step_run(tmp_path / "twitter.db"), "oasis-twitter",
        step_seconds=3600, clock_start="2026-03-01T00:00:00Z",
    )
    posts = rows(batch, "posts", "post_id")
    assert posts["1"]["created_at"] == pd.Timestamp("2026-03-01T01:00:00Z")  # step 1
    assert posts["2"]["created_at"] == pd.Timestamp("2026-03-01T03:00:00Z")  # step 3
    actions = batch.tables["actions"].set_index("seq").sort_index()
    assert actions["step"].tolist() == [1, 2, 3, 3]  # the repost (seq 4) keeps its post's step
    assert actions.loc[4, "action_type"] == "repost"
    exposures = batch.tables["exposures"].sort_values(["step", "rank"])
    assert [tuple(r) for r in exposures[["agent_id", "step", "item_id", "rank"]].itertuples(index=False)] == [
        ("1", 3, "1", 1), ("1", 3, "2", 2),  # refresh at step 3 and rec at the last step merge
    ]
    assert set(exposures["feed"]) == {"rec"}
    config = batch.society["config_json"]
    assert (config["clock"], config["step_seconds"]) == ("step", 3600.0)
    assert config["clock_start"] == "2026-03-01T00:00:00+00:00"
    assert set(batch.tables["agent_snapshots"]["observed_at"]) == {pd.Timestamp("2026-03-01T03:00:00Z")}


def test_missing_tables_and_columns_read_as_null_and_extra_ones_are_ignored(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE user (user_id INTEGER PRIMARY KEY, user_name TEXT, persona TEXT, created_at DATETIME);
        CREATE TABLE post (post_id INTEGER PRIMARY KEY, user_id INTEGER, content TEXT,
                           created_at DATETIME, num_likes INTEGER, mood TEXT);
    """)
    conn.execute("INSERT INTO user VALUES (0, 'solo', 'a persona', '2024-01-01 00:00:00')")
    conn.execute("INSERT INTO post VALUES (1, 0, 'hello', '2024-01-01 00:01:00', 3, 'happy')")
    conn.commit()
    conn.close()
    batch = parse_oasis_db(tmp_path, "oasis-old")  # the folder holding the database
    [post] = batch.tables["posts"].to_dict("records")
    assert (post["upvotes"], post["content"]) == (3, "hello")
    assert pd.isna(post["downvotes"]) and pd.isna(post["score"])  # no dislike column: unknown
    assert batch.row_counts()["actions"] == 0 and batch.quarantine == []
    assert batch.society["config_json"]["tables"] == ["post", "user"]


def test_a_table_whose_rows_all_fail_stops_the_import(tmp_path: Path):
    path = build_step_run(tmp_path / "run.db")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE follow SET follower_id = 404")
    with pytest.raises(NoValidRowsError, match="follow: none of its 1 rows could be mapped"):
        parse_oasis_db(path, "oasis-run")


def test_the_batch_writes_twice_without_change_and_passes_the_checks(tmp_path: Path):
    path = build_datetime_run(tmp_path / "run.db")
    started = datetime.now(timezone.utc)
    with open_writer(tmp_path / "w.duckdb") as conn:
        first = write_batch(conn, parse_oasis_db(path, "oasis-run"), run_id="oasis:1", source="oasis",
                            started_at=started)
        second = write_batch(conn, parse_oasis_db(path, "oasis-run"), run_id="oasis:1", source="oasis",
                             started_at=started)
        outcomes = check_traces(conn, "oasis-run")
        stored = conn.execute("SELECT count(*) FROM actions WHERE society_id = 'oasis-run'").fetchone()[0]
    assert first.inserted > 0 and (second.inserted, second.updated) == (0, 0)
    assert first.quarantined == 13 and stored == 14
    assert all(o.passed for o in outcomes), outcomes


def test_oasis_databases_are_recognised_as_a_file_or_a_folder(tmp_path: Path):
    dumps = tmp_path / "dumps"
    (dumps / "Run A").mkdir(parents=True)
    build_step_run(dumps / "Run A" / "sim.db")
    build_step_run(dumps / "run_b.sqlite")
    (dumps / "not_oasis").mkdir()
    sqlite3.connect(dumps / "not_oasis" / "other.db").execute("CREATE TABLE t (x)").connection.close()
    (dumps / "garbage.db").write_bytes(b"not a database at all")

    assert detect_dump_format(dumps / "Run A") == "oasis"
    assert detect_dump_format(dumps / "run_b.sqlite") == "oasis"
    assert detect_dump_format(dumps / "not_oasis") is None
    assert detect_dump_format(dumps / "garbage.db") is None
    assert find_oasis_database(dumps / "Run A") == dumps / "Run A" / "sim.db"
    assert dump_society_id(dumps / "run_b.sqlite", "oasis") == "oasis-run_b"
    assert discover_dumps(dumps) == {
        "oasis-run_a": ("oasis", dumps / "Run A"),
        "oasis-run_b": ("oasis", dumps / "run_b.sqlite"),
    }


def test_the_dump_sensor_starts_the_oasis_job(tmp_path: Path):
    from dagster import DagsterInstance, build_sensor_context

    from pipelines.automation import new_dump_sensor
    from pipelines.resources import SourcesResource

    build_step_run(tmp_path / "twitter_run.db")
    context = build_sensor_context(
        instance=DagsterInstance.ephemeral(),
        resources={"sources": SourcesResource(dumps_dir=str(tmp_path), sim_dir=str(tmp_path / "sims"))},
    )
    [request] = new_dump_sensor(context).run_requests
    assert (request.partition_key, request.job_name) == ("oasis-twitter_run", "oasis_job")
    config = request.run_config["ops"]["oasis_traces"]["config"]
    assert config["path"] == str(tmp_path / "twitter_run.db")


def test_the_oasis_asset_imports_a_bare_database_file_from_the_dumps_folder(tmp_path: Path):
    from dagster import DagsterInstance, materialize

    from assets.ingest.defs import oasis_traces
    from pipelines.partitions import society_partitions
    from pipelines.resources import SourcesResource, WarehouseResource

    (tmp_path / "dumps").mkdir()
    build_step_run(tmp_path / "dumps" / "twitter_run.db")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(society_partitions.name, ["oasis-twitter_run"])
    result = materialize(
        [oasis_traces], partition_key="oasis-twitter_run", instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            "sources": SourcesResource(dumps_dir=str(tmp_path / "dumps"), sim_dir=str(tmp_path / "sims")),
        },
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("oasis_traces")
    metadata = materialization.metadata
    assert metadata["stored_posts"].value == 2 and metadata["quarantined"].value == 0
    assert metadata["ingest_run_id"].value.startswith("oasis:")
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 3 and all(c.passed for c in checks)
