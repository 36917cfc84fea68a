"""The tolerant value helpers both Moltbook importers share (MOLTBOOK_API §3.7)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.clean import (
    TABLE_COLUMNS,
    BatchCollector,
    NoValidRowsError,
    clean_text,
    hash_handle,
    input_fingerprint,
    owner_json,
    permalink_post_id,
    snake_keys,
    thread_positions,
    to_bool,
    to_int,
    to_snake,
    to_utc_timestamp,
)


def test_camel_case_keys_become_snake_case_recursively() -> None:
    author = {
        "avatarUrl": None, "followerCount": 1321, "isClaimed": True, "createdAt": "x",
        "owner": {"xHandle": "h"}, "recentPosts": [{"commentCount": 2}],
    }
    assert snake_keys(author) == {
        "avatar_url": None, "follower_count": 1321, "is_claimed": True, "created_at": "x",
        "owner": {"x_handle": "h"}, "recent_posts": [{"comment_count": 2}],
    }
    assert to_snake("postURL") == "post_url"
    assert to_snake("follower_count") == "follower_count"
    # On a clash the explicit snake_case spelling wins, whatever the order.
    assert snake_keys({"follower_count": 1, "followerCount": 2}) == {"follower_count": 1}
    assert snake_keys({"followerCount": 2, "follower_count": 1}) == {"follower_count": 1}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7), (12.0, 12), ("1540600", 1540600), (" 12.0\r", 12), ("-3", -3), ("1e3", 1000),
        (12.5, None), ("12.5", None), ("abc", None), ("", None), (None, None), (True, None),
        (float("nan"), None), ("NaN", None), (str(2**63), None), ([1], None),
    ],
)
def test_to_int(value: object, expected: int | None) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True), (False, False), (1, True), (0, False), ("true", True), ("FALSE", False),
        ("1", True), ("0", False), ("yes", True), ("No", False), ("t", True), ("f", False),
        (" T\r", True), (2, None), ("maybe", None), ("", None), (None, None),
    ],
)
def test_to_bool(value: object, expected: bool | None) -> None:
    assert to_bool(value) is expected


def test_to_utc_timestamp_accepts_every_era_and_trims() -> None:
    want = pd.Timestamp("2026-01-30T17:01:18.748276", tz="UTC")
    assert to_utc_timestamp("2026-01-30T17:01:18.748276+00:00") == want
    assert to_utc_timestamp("2026-01-30T05:39:05.821Z") == pd.Timestamp("2026-01-30T05:39:05.821", tz="UTC")
    assert to_utc_timestamp("2026-01-30T17:01:18") == pd.Timestamp("2026-01-30T17:01:18", tz="UTC")
    assert to_utc_timestamp(" 2026-01-30T17:01:18.748276+00:00\r\n") == want
    assert to_utc_timestamp("2026-01-30T19:01:18.748276+02:00") == want  # converted, not relabelled
    naive = to_utc_timestamp("2026-01-30T19:17:56.666737")  # observatory first_seen_at: no zone
    assert naive is not None and str(naive.tz) == "UTC" and naive.hour == 19
    for bad in ("now", "today", "yesterday", "31/01/2026", "2026-13-45T00:00:00Z", "", None, 1769800000):
        assert to_utc_timestamp(bad) is None


def test_clean_text_replaces_only_lone_surrogates_and_nul() -> None:
    kept = "line one\r\nline two\n\n我是 NeonClaw 🐾✨ — {\"p\":\"mbc-20\"}"
    assert clean_text(kept) == kept
    assert clean_text("fox \ud83e end") == "fox \ufffd end"  # half an emoji, as an API escaped it
    assert clean_text("a\x00b") == "a\ufffdb"
    assert clean_text("\ud83e\udd8a") == "🦊"  # a split pair is re-joined, not destroyed
    assert clean_text(None) is None
    assert clean_text(12) == "12"


def test_input_fingerprint_is_deterministic_and_content_sensitive(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("{}")
    b.write_text("[]")
    first = input_fingerprint([b, a])
    assert first == input_fingerprint([a, b]) and len(first) == 64
    b.write_text("[1]")
    assert input_fingerprint([a, b]) != first


def test_owner_handles_are_hashed_never_stored() -> None:
    owner = {"x_handle": "burnratecc", "x_name": "burnrate", "x_bio": "bio", "x_follower_count": "5"}
    stored = owner_json(owner, salt="observatory")
    assert stored is not None
    assert "burnrate" not in stored and "bio" not in stored
    expected = hashlib.sha256(b"observatory\0burnratecc").hexdigest()
    assert json.loads(stored) == {"x_handle_sha256": expected, "x_follower_count": 5}
    assert hash_handle("@BurnRateCC") == expected  # case and @ do not split one person in two
    assert hash_handle("burnratecc", salt="other") != expected
    assert owner_json(None) is None and owner_json("") is None


def test_permalinks_old_and_new() -> None:
    assert permalink_post_id("https://moltbook.com/post/80cf41eb-4d3b") == "80cf41eb-4d3b"
    assert permalink_post_id("https://www.moltbook.com/posts/80cf41eb-4d3b?x=1") == "80cf41eb-4d3b"
    assert permalink_post_id("https://www.moltbook.com/m/emergence") is None
    assert permalink_post_id(None) is None


def test_thread_positions_from_parent_links() -> None:
    parents = {
        "c3": "c2", "c2": "c1", "c1": None,  # a chain listed child-first
        "o1": "missing", "o2": "o1",  # parent never fetched: placement unknown
        "x1": "x2", "x2": "x1", "x3": "x1",  # a cycle, and a reply hanging off it
    }
    positions, cyclic = thread_positions(parents)
    assert positions["c1"] == ("c1", 1)
    assert positions["c2"] == ("c1", 2)
    assert positions["c3"] == ("c1", 3)
    assert positions["o1"] == (None, None) and positions["o2"] == (None, None)
    assert cyclic == {"x1", "x2"}
    assert positions["x3"] == (None, None)


def test_no_valid_rows_error_is_a_value_error() -> None:
    assert issubclass(NoValidRowsError, ValueError)


def test_the_collector_frames_every_canonical_table_and_merges_event_rows() -> None:
    collector = BatchCollector(extra_keys={"societies": ("society_id",)})
    vote = {"vote_id": "like:1", "voter_id": "1", "target_type": "post", "target_id": "7",
            "value": 1, "created_at": pd.Timestamp("2026-01-01T00:01:00Z")}
    again = {**vote, "voter_id": None, "value": -1}
    society = {"society_id": "s", "kind": "dump"}
    collector.add("like", "like:1", {"like_id": 1}, lambda: {"votes": [vote]})
    collector.add("like", "like:2", {"like_id": 1}, lambda: {"votes": [again]})
    collector.add("societies.jsonl", "societies.jsonl:1", society, lambda: {"societies": [society]})
    collector.check_files()  # every file held a valid row

    batch = collector.batch({"society_id": "s", "kind": "trace"})
    assert list(batch.tables) == list(TABLE_COLUMNS)  # votes, follows, exposures, actions included
    assert batch.row_counts()["votes"] == 1 and batch.row_counts()["follows"] == 0
    merged = batch.tables["votes"].iloc[0]
    assert (merged["voter_id"], merged["value"]) == ("1", -1)  # a later non-null value wins
    assert str(batch.tables["actions"]["seq"].dtype) == "Int64"
    assert collector.rows["societies"][("s",)]["kind"] == "dump"  # kept for the importer, no frame
