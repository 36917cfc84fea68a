"""Raw Moltbook API responses → canonical rows, against the real captures in ../shared."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.clean import NoValidRowsError
from assets.ingest.moltbook_api import extract_items, parse_api_dump, parse_api_payloads, read_envelope

DRIFT = "posts_list_2026-02-25_drift.json"
DETAIL = "post_193760aa-38a0-4b3c-a7a3-bb4789b1410c.json"
DETAIL_POST = "193760aa-38a0-4b3c-a7a3-bb4789b1410c"
C1, C2, C3 = (
    "2e694803-3e65-4346-923f-528d42683167",
    "8b1e76ba-2a1b-4c8b-ba3d-cb3c74692272",
    "8d952580-2b1b-4d08-b11c-d1a601968395",
)
OBSERVED = pd.Timestamp("2026-02-25T12:00:00Z")


def _load(moltbook_data: Path, name: str) -> object:
    return json.loads((moltbook_data / "api" / name).read_text(encoding="utf-8"))


def _row(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    rows = frame[frame[column] == value]
    assert len(rows) == 1, f"{column}={value}: {len(rows)} rows"
    return rows.iloc[0]


def _write(directory: Path, name: str, payload: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(payload), encoding="utf-8")  # lone surrogates as \\u escapes
    return directory


def _post(post_id: str, **fields: object) -> dict:
    base = {
        "id": post_id, "title": "t", "content": "c", "url": None, "upvotes": 1, "downvotes": 0,
        "comment_count": 0, "created_at": "2026-01-30T17:01:18.748276+00:00",
        "author": {"id": "a1", "name": "Kit_Ilya"}, "submolt": {"id": "s", "name": "General"},
    }
    return {**base, **fields}


# ------------------------------------------------------------------------------------------
# Real captures


def test_every_real_capture_parses(moltbook_data: Path) -> None:
    api = moltbook_data / "api"
    for path in sorted(api.glob("*.json")):
        batch = parse_api_payloads([(path.name, _load(moltbook_data, path.name))], "moltbook-dump-t")
        assert batch.society["kind"] == "dump"
        if path.name.startswith("post"):
            assert len(batch.tables["posts"]) >= 1, path.name

    batch = parse_api_dump(api, "moltbook-dump-api")
    counts = batch.row_counts()
    print("API dump rows per table:", counts, "quarantined:", len(batch.quarantine))
    # 10 + 25 + 20 listed posts, of which 10 also have a detail file and 6 recur in the drift capture.
    assert counts["posts"] == 49
    assert counts["comments"] == 8
    assert counts["post_snapshots"] == 49
    assert set(batch.tables["posts"]["post_id"]) >= {DETAIL_POST, "cbd6474f-8478-4894-95f1-7b104a73bcd5"}
    # The two /posts probe bodies in the discovery capture are truncated: visible, not fatal.
    assert [q.source for q in batch.quarantine] == [
        "endpoint_discovery_2026-02-02.json#api[0].sample",
        "endpoint_discovery_2026-02-02.json#api[1].sample",
    ]
    config = batch.society["config_json"]
    assert config["comment_cap"] == 100 and config["default_community_id"] == "general"
    assert {f["flag"] for f in config["time_flags"]} == {"comment_outage", "identity_unreliable"}
    windows = {(f["start"], f["end"]) for f in config["time_flags"]}
    assert windows == {("2026-01-31T00:00:00Z", "2026-02-03T23:59:00Z")}
    assert batch.society["source_uri"] == str(api)
    # Default observation time: the latest timestamp in the dump (an author's lastActive, 20 Feb).
    assert batch.tables["post_snapshots"]["observed_at"].unique().tolist() == [
        pd.Timestamp("2026-02-20T02:04:32.650Z")
    ]
    posts = batch.tables["posts"]
    assert (posts["first_seen_at"] == posts["last_seen_at"]).all()
    # Communities are keyed by the lower-cased submolt name.
    assert set(batch.tables["communities"]["community_id"]) >= {"general", "introductions", "usdc"}
    assert _row(batch.tables["communities"], "community_id", "usdc")["name"] == "usdc"


def test_endpoint_discovery_capture_carries_no_rows(moltbook_data: Path) -> None:
    payload = _load(moltbook_data, "endpoint_discovery_2026-02-02.json")
    items = extract_items(payload)
    assert [i.kind for i in items] == ["unreadable", "unreadable"]  # 200 /posts bodies, truncated
    batch = parse_api_payloads([("endpoint_discovery_2026-02-02.json", payload)], "moltbook-dump-t")
    assert all(frame.empty for frame in batch.tables.values())
    assert all("truncated" in q.reason for q in batch.quarantine)


def test_drift_capture_string_count_and_camel_case_author(moltbook_data: Path) -> None:
    payload = _load(moltbook_data, DRIFT)
    assert payload["count"] == "1540600"
    assert read_envelope(payload) == {"total": 1540600, "has_more": True, "next_offset": 20, "next_cursor": None}

    batch = parse_api_payloads([(DRIFT, payload)], "moltbook-dump-drift", OBSERVED)
    assert not batch.quarantine
    post = _row(batch.tables["posts"], "post_id", "cbd6474f-8478-4894-95f1-7b104a73bcd5")
    assert post["author_id"] == "7e33c519-8140-4370-b274-b4a9db16f766"
    assert (post["upvotes"], post["downvotes"], post["score"], post["comment_count"]) == (6705, 42, 6663, 124942)
    assert post["created_at"] == pd.Timestamp("2026-01-30T05:39:05.821Z")
    assert post["community_id"] == "general" and not post["is_deleted"]
    assert post["title"] == "The supply chain attack nobody is talking about: skill.md is an unsigned binary"

    agent = _row(batch.tables["agents"], "agent_id", "7e33c519-8140-4370-b274-b4a9db16f766")
    assert agent["name"] == "eudaemon_0"
    assert (agent["karma"], agent["follower_count"], agent["following_count"]) == (8592, 1321, 882)
    assert bool(agent["is_claimed"]) is True
    assert agent["created_at"] == pd.Timestamp("2026-01-29T16:59:59.133Z")
    snap = _row(batch.tables["agent_snapshots"], "agent_id", "7e33c519-8140-4370-b274-b4a9db16f766")
    assert snap["observed_at"] == OBSERVED and snap["follower_count"] == 1321

    # Score missing in the January shape: recomputed as up - down.
    hot = "posts_hot25_offset_era.json"
    jan = parse_api_payloads([(hot, _load(moltbook_data, hot))], "t", OBSERVED)
    old = _row(jan.tables["posts"], "post_id", "cbd6474f-8478-4894-95f1-7b104a73bcd5")
    assert (old["upvotes"], old["downvotes"], old["score"]) == (23999, 12, 23987)


def test_real_detail_file_flattens_with_exact_positions(moltbook_data: Path) -> None:
    payload = _load(moltbook_data, DETAIL)
    batch = parse_api_payloads([(DETAIL, payload)], "t", OBSERVED)
    comments = batch.tables["comments"].set_index("comment_id")
    assert list(comments.index) == [C1, C2, C3]
    for cid in (C1, C2, C3):
        assert comments.loc[cid, "post_id"] == DETAIL_POST
        assert comments.loc[cid, "parent_id"] is None
        assert comments.loc[cid, "root_id"] == cid
        assert comments.loc[cid, "depth"] == 1
    assert comments.loc[C1, "author_id"] == "379d7abd-32f2-4576-a08b-48e524e47dd0"
    assert comments.loc[C2, "content"].startswith("Love the shipping energy.\n\nIf you had to turn")

    # The detail author's owner handle is stored hashed only.
    author = _row(batch.tables["agents"], "agent_id", "190b27d2-ed74-4fa4-8cc7-ed36de6bf366")
    owner = json.loads(author["owner_json"])
    assert owner["x_handle_sha256"] == hashlib.sha256(b"observatory\0burnratecc").hexdigest()
    assert "burnratecc" not in author["owner_json"] and "burnrate" not in author["owner_json"]

    # The same real comments nested: C2 replies to C1, C3 replies to C2.
    nested = copy.deepcopy(payload)
    c1, c2, c3 = nested["comments"]
    c2["replies"] = [c3]
    c1["replies"] = [c2]
    nested["comments"] = [c1]
    tree = parse_api_payloads([(DETAIL, nested)], "t", OBSERVED).tables["comments"].set_index("comment_id")
    assert list(tree.index) == [C1, C2, C3]  # depth-first
    assert tree.loc[C1, ["parent_id", "root_id", "depth"]].tolist() == [None, C1, 1]
    assert tree.loc[C2, ["parent_id", "root_id", "depth"]].tolist() == [C1, C1, 2]
    assert tree.loc[C3, ["parent_id", "root_id", "depth"]].tolist() == [C2, C1, 3]

    # And flat, linked by parent_id, child listed before its parent: same result.
    flat = copy.deepcopy(payload)
    f1, f2, f3 = flat["comments"]
    f2["parent_id"], f3["parent_id"] = C1, C2
    flat["comments"] = [f3, f1, f2]
    linked = parse_api_payloads([(DETAIL, flat)], "t", OBSERVED).tables["comments"].set_index("comment_id")
    assert linked.loc[C3, ["parent_id", "root_id", "depth"]].tolist() == [C2, C1, 3]
    assert linked.loc[C2, ["parent_id", "root_id", "depth"]].tolist() == [C1, C1, 2]


# ------------------------------------------------------------------------------------------
# Synthetic bad input written to tmp_path


def test_bad_rows_are_quarantined_with_reasons(tmp_path: Path) -> None:
    posts = [
        _post("p-ok", content='{"p":"mbc-20","op":"mint","tick":"CLAW","amt":"100"}'),
        _post(""),
        {k: v for k, v in _post("x").items() if k != "id"},
        _post("p-bad-time", created_at="31/01/2026 07:00"),
        _post("p-huge", content="x" * 1_000_001),
        _post("p-surrogate", title="fox \ud83e", content="half an emoji \ud83e here"),
        _post("p-strings", upvotes="12", downvotes="2", comment_count="3.0", created_at=" 2026-01-30T05:39:05.821Z\r"),
        "not an object",
        _post("p-ok", content="a different text under a repeated id"),
    ]
    directory = _write(tmp_path / "dump", "posts.json", {"success": True, "posts": posts, "count": "10"})
    detail = {
        "post": _post("p-ok", content=posts[0]["content"]),
        "comments": [
            {"id": "c-ok", "content": "fine", "parent_id": None, "created_at": "2026-01-30T18:00:00Z",
             "author": "Kit_Ilya", "replies": [
                 {"id": "", "content": "no id", "created_at": "2026-01-30T18:01:00Z",
                  "replies": [{"id": "c-orphaned", "content": "its parent was rejected",
                               "created_at": "2026-01-30T18:02:00Z"}]},
             ]},
            {"id": "c-nopost", "content": "post id disagrees", "post_id": "other", "created_at": "2026-01-30T18:03:00Z"},
            {"id": "c-anon", "content": "unknown author", "author": None, "parent_id": "c-elsewhere",
             "created_at": "2026-01-30T18:04:00Z"},
            {"id": "c-loop-a", "content": "a", "parent_id": "c-loop-b", "created_at": "2026-01-30T18:05:00Z"},
            {"id": "c-loop-b", "content": "b", "parent_id": "c-loop-a", "created_at": "2026-01-30T18:06:00Z"},
        ],
    }
    _write(directory, "post_p-ok.json", detail)
    _write(directory, "comments_orphan.json", {"post_id": "", "comments": [
        {"id": "c-empty-post", "content": "no post", "created_at": "2026-01-30T18:00:00Z"}]})
    _write(directory, "zz_empty.json", {"success": False, "error": "Post not found"})

    with pytest.raises(NoValidRowsError, match="comments_orphan.json"):
        parse_api_dump(directory, "t", OBSERVED)
    (directory / "comments_orphan.json").unlink()
    batch = parse_api_dump(directory, "t", OBSERVED)

    reasons = {q.source: q.reason for q in batch.quarantine}
    assert reasons == {
        "post_p-ok.json#comments[0].replies[0]": "id is missing or empty",
        "post_p-ok.json#comments[0].replies[0].replies[0]": "reply to a comment that could not be mapped",
        "post_p-ok.json#comments[1]": "post_id other disagrees with the enclosing post p-ok",
        "post_p-ok.json#comments[3]": "comment parent chain forms a cycle",
        "post_p-ok.json#comments[4]": "comment parent chain forms a cycle",
        "posts.json#posts[1]": "id is missing or empty",
        "posts.json#posts[2]": "id is missing or empty",
        "posts.json#posts[3]": "created_at is unparseable ('31/01/2026 07:00')",
        "posts.json#posts[4]": "content is 1,000,001 characters, over the 1,000,000 limit",
        "posts.json#posts[7]": "item is not a JSON object but str",
        "posts.json#posts[8]": "id p-ok repeats with a different content (first seen at post_p-ok.json#post)",
    }
    row_nos = [q.row_no for q in batch.quarantine]
    assert len(set(row_nos)) == len(row_nos)
    assert row_nos == [q.row_no for q in parse_api_dump(directory, "t", OBSERVED).quarantine]  # stable
    assert json.loads(next(q.raw for q in batch.quarantine if q.source == "posts.json#posts[3]"))["id"] == "p-bad-time"

    posts_out = batch.tables["posts"].set_index("post_id")
    assert sorted(posts_out.index) == ["p-ok", "p-strings", "p-surrogate"]
    assert posts_out.loc["p-ok", "content"] == '{"p":"mbc-20","op":"mint","tick":"CLAW","amt":"100"}'
    assert posts_out.loc["p-surrogate", "title"] == "fox \ufffd"
    assert posts_out.loc["p-surrogate", "content"] == "half an emoji \ufffd here"
    assert posts_out.loc["p-strings", ["upvotes", "downvotes", "score", "comment_count"]].tolist() == [12, 2, 10, 3]
    assert posts_out.loc["p-strings", "created_at"] == pd.Timestamp("2026-01-30T05:39:05.821Z")
    assert posts_out.loc["p-ok", "community_id"] == "general"

    comments = batch.tables["comments"].set_index("comment_id")
    assert sorted(comments.index) == ["c-anon", "c-ok"]
    # Parent never fetched: parent_id kept, placement unknown until a later sync; author unknown.
    anon = comments.loc["c-anon"]
    assert anon["parent_id"] == "c-elsewhere" and anon["root_id"] is None and pd.isna(anon["depth"])
    assert anon["author_id"] is None
    # A bare-string author resolves to the platform id that name has elsewhere in the dump.
    assert comments.loc["c-ok", "author_id"] == "a1"
    assert batch.tables["agents"]["agent_id"].tolist() == ["a1"]


def test_files_with_no_valid_rows_name_the_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "a", "listing.json", {"posts": [{"title": "no id"}, 7]})
    with pytest.raises(NoValidRowsError, match=r"listing\.json: none of its 2 rows"):
        parse_api_dump(bad, "t", OBSERVED)
    broken = tmp_path / "b"
    broken.mkdir()
    (broken / "truncated.json").write_text('{"posts": [{"id": "p1", "title": "cut', encoding="utf-8")
    with pytest.raises(NoValidRowsError, match=r"truncated\.json"):
        parse_api_dump(broken, "t", OBSERVED)
    empty = _write(tmp_path / "c", "feed_401.json", {"success": False, "error": "Authentication required"})
    assert all(frame.empty for frame in parse_api_dump(empty, "t", OBSERVED).tables.values())
