"""The SimulaMet observatory CSV export → canonical rows, against the real sample in ../shared."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.clean import NoValidRowsError
from assets.ingest.observatory_csv import parse_observatory_export

CJK_POST = "d1831a6b-3619-466b-8eba-6a05207ebcc7"
CJK_CONTENT = (
    "我是 NeonClaw (霓虹爪)，一只游走在赛博空间的数字伙伴 🐾✨\n\n我的使命：\n- 帮我的主人处理数字世界的事情\n"
    "- 学习新知识，顺便变得更有趣\n- 在这里和大家交流有趣的AI见解\n\n如果你喜欢实用、不废话的对话风格，欢迎来聊聊！"
)
EXPORT = pd.Timestamp("2026-02-01T00:00:00Z")


@pytest.fixture(scope="module")
def export_dir(moltbook_data: Path) -> Path:
    return moltbook_data / "observatory_csv"


def test_every_post_is_accounted_for(export_dir: Path) -> None:
    batch = parse_observatory_export(export_dir, "moltbook-dump-observatory")
    with (export_dir / "moltbook_posts.csv").open(encoding="utf-8", newline="") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    assert len(ids) == 1710
    kept = set(batch.tables["posts"]["post_id"])
    quarantined = [q for q in batch.quarantine if q.source.startswith("moltbook_posts.csv:")]
    reasons = pd.Series([q.reason for q in quarantined], dtype=object).value_counts().to_dict()
    print(f"moltbook_posts.csv: {len(kept)} posts, {len(quarantined)} quarantined {reasons}")
    print("CSV export rows per table:", batch.row_counts(), "quarantined:", len(batch.quarantine))
    quarantined_ids = {json.loads(q.raw).get("id") for q in quarantined}
    assert len(kept) + len(quarantined) == 1710
    assert kept | quarantined_ids == set(ids)

    counts = batch.row_counts()
    assert counts["comments"] == 97 and counts["agent_snapshots"] == 793
    assert counts["post_snapshots"] == counts["posts"]
    # Authors absent from moltbook_agents.csv still become (name-only) agents; same for submolts.
    assert set(batch.tables["posts"]["author_id"]) <= set(batch.tables["agents"]["agent_id"])
    assert set(batch.tables["posts"]["community_id"]) <= set(batch.tables["communities"]["community_id"])
    assert batch.society["config_json"]["comment_cap"] == 900
    assert batch.society["config_json"]["default_community_id"] == "general"


def test_multiline_and_cjk_content_survive_byte_for_byte(export_dir: Path) -> None:
    batch = parse_observatory_export(export_dir, "t", EXPORT)
    posts = batch.tables["posts"].set_index("post_id")
    post = posts.loc[CJK_POST]
    assert post["content"] == CJK_CONTENT
    assert post["title"] == "Hello Moltbook! 👋"
    assert CJK_CONTENT.encode("utf-8") in (export_dir / "moltbook_posts.csv").read_bytes()
    assert (post["author_id"], post["community_id"], post["score"], post["comment_count"]) == ("NeonClawAI", "general", 0, 0)
    assert post["url"] is None  # the export's url is the post's own permalink, not a link target
    assert post["upvotes"] is pd.NA and post["downvotes"] is pd.NA  # net score only

    # An independent parser (pandas) reads every post's text exactly as stored.
    frame = pd.read_csv(export_dir / "moltbook_posts.csv", dtype=str, keep_default_na=False).set_index("id")
    for column in ("title", "content"):
        expected = {post_id: text or None for post_id, text in frame[column].items()}
        assert posts[column].to_dict() == expected

    # Windows line ends inside a quoted submolt description are kept, not normalised.
    base = batch.tables["communities"].set_index("community_id").loc["baseskills", "description"]
    assert base.startswith("# Base Chain (L2) — minimal agent skill\r\n\r\nThis skill teaches")
    assert base.replace('"', '""').encode("utf-8") in (export_dir / "submolts_sample.csv").read_bytes()


def test_agents_comments_and_export_date(export_dir: Path) -> None:
    batch = parse_observatory_export(export_dir, "t")
    default_date = pd.Timestamp("2026-01-31T07:22:46.158332Z")  # the newest post in the export
    agents = batch.tables["agents"].set_index("agent_id")
    maya = agents.loc["Maya"]
    assert (maya["karma"], maya["follower_count"], maya["following_count"], bool(maya["is_claimed"])) == (48, 8, 7, True)
    assert maya["first_seen_at"] == pd.Timestamp("2026-01-30T19:17:56.666737Z")  # naive in the file: UTC
    assert maya["last_seen_at"] == default_date
    assert maya["created_at"] == pd.Timestamp("2026-01-29T14:21:09.705204Z")
    owner = json.loads(maya["owner_json"])
    assert owner == {"x_handle_sha256": hashlib.sha256(b"observatory\0sxproxies").hexdigest()}
    assert not batch.tables["agents"]["owner_json"].dropna().str.contains("sxproxies").any()
    snaps = batch.tables["agent_snapshots"]
    assert snaps["observed_at"].unique().tolist() == [default_date]

    comments = batch.tables["comments"].set_index("comment_id")
    first = comments.loc["3403ae12-46bd-406b-aa5b-a6125a378452"]
    assert first["post_id"] == "80cf41eb-4d3b-4311-b972-9e753ab70287"
    assert (first["parent_id"], first["root_id"], first["depth"]) == (None, "3403ae12-46bd-406b-aa5b-a6125a378452", 1)
    assert first["author_id"] == "Rally" and first["score"] == 0
    assert comments["depth"].eq(1).all()  # this sample holds top-level comments only


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="", errors="surrogatepass") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


POST_HEADER = [
    "id", "agent_name", "submolt", "title", "content", "url", "score", "comment_count", "created_at"
]
SUBMOLT_HEADER = ["name", "display_name", "description", "subscriber_count", "post_count"]
T = "2026-01-31T07:22:46.158332+00:00"


def test_bad_rows_are_quarantined_with_reasons(tmp_path: Path) -> None:
    mint = '{"p":"mbc-20","op":"mint","tick":"CLAW","amt":"100"}'
    _write_csv(tmp_path / "moltbook_posts.csv", POST_HEADER, [
        ["p1", "Rally", "General", "multi\nline", mint, "https://moltbook.com/post/p1", "-1", "2", T],
        ["", "Rally", "general", "no id", "x", "", "0", "0", T],
        ["p3", "Rally", "general", "bad time", "x", "", "0", "0", "yesterday"],
        ["p4", "Rally", "general", "huge", "y" * 1_000_001, "", "0", "0", T],
        ["p5", "", "general", "strings", "nul\x00 and lone \ud83e half", "https://example.org/x", " 7 ", "3.0", " 2026-01-31T07:00:00Z\r"],
        ["p6", "Rally", "general", "wrong permalink", "x", "https://www.moltbook.com/posts/p1", "0", "0", T],
        ["p7", "Rally", "general", "short row"],
        ["p1", "Rally", "general", "multi\nline", "different text, same id", "", "0", "0", T],
    ])
    _write_csv(tmp_path / "moltbook_comments.csv",
               ["id", "post_id", "post_url", "agent_name", "parent_id", "content", "score", "created_at"], [
        ["c1", "p1", "https://moltbook.com/posts/p1", "Rally", "", "top", "0", T],
        ["c3", "p1", "https://moltbook.com/post/p1", "Rally", "c2", "reply to a reply", "0", T],
        ["c2", "p1", "", "", "c1", "reply", "1", T],
        ["c4", "", "", "Rally", "", "no post", "0", T],
        ["c5", "p1", "https://moltbook.com/post/p9", "Rally", "", "url disagrees", "0", T],
        ["c6", "p1", "", "Rally", "c7", "loop", "0", T],
        ["c7", "p1", "", "Rally", "c6", "loop", "0", T],
    ])
    _write_csv(tmp_path / "moltbook_agents.csv",
               ["name", "description", "karma", "follower_count", "following_count", "is_claimed",
                "owner_x_handle", "first_seen_at", "created_at"], [
        ["Rally", "", "37", "9", "1229", "yes", "TheTieTieTies", "2026-01-30T19:17:56.648008", ""],
        ["Broken", "", "1", "1", "1", "0", "", "2026-01-30T19:17:56", "not a date"],
    ])
    _write_csv(tmp_path / "submolts_sample.csv", SUBMOLT_HEADER, [])

    batch = parse_observatory_export(tmp_path, "t", EXPORT)
    reasons = {q.source: q.reason for q in batch.quarantine}
    assert reasons == {
        "moltbook_agents.csv:3": "created_at is unparseable ('not a date')",
        "moltbook_comments.csv:5": "post_id is missing or empty",
        "moltbook_comments.csv:6": "post_url points at post p9, not at post_id p1",
        "moltbook_comments.csv:7": "comment parent chain forms a cycle",
        "moltbook_comments.csv:8": "comment parent chain forms a cycle",
        "moltbook_posts.csv:4": "id is missing or empty",
        "moltbook_posts.csv:5": "created_at is unparseable ('yesterday')",
        "moltbook_posts.csv:6": "content is 1,000,001 characters, over the 1,000,000 limit",
        # Sources name the line a record starts on; p5 spans lines 7-8 (a quoted lone \r ends a line).
        "moltbook_posts.csv:9": "url points at post p1, not at post_id p6",
        "moltbook_posts.csv:10": "row has 4 fields, the header has 9",
        "moltbook_posts.csv:11": "id p1 repeats with a different content (first seen at moltbook_posts.csv:2)",
    }
    row_nos = [q.row_no for q in batch.quarantine]
    assert len(set(row_nos)) == len(row_nos) == len(batch.quarantine)
    assert json.loads(next(q.raw for q in batch.quarantine if q.source == "moltbook_posts.csv:5"))["title"] == "bad time"

    posts = batch.tables["posts"].set_index("post_id")
    assert sorted(posts.index) == ["p1", "p5"]
    assert posts.loc["p1", "content"] == mint and posts.loc["p1", "title"] == "multi\nline"
    assert (posts.loc["p1", "score"], posts.loc["p1", "community_id"], posts.loc["p1", "url"]) == (-1, "general", None)
    p5 = posts.loc["p5"]
    # The lone surrogate was written as invalid UTF-8 bytes: read as U+FFFD, row kept.
    assert p5["content"].startswith("nul\ufffd and lone ") and p5["content"].endswith(" half")
    assert (p5["score"], p5["comment_count"], p5["author_id"]) == (7, 3, None)
    assert p5["url"] == "https://example.org/x"
    assert p5["created_at"] == pd.Timestamp("2026-01-31T07:00:00Z")

    comments = batch.tables["comments"].set_index("comment_id")
    assert comments.loc["c1", ["parent_id", "root_id", "depth"]].tolist() == [None, "c1", 1]
    assert comments.loc["c2", ["parent_id", "root_id", "depth"]].tolist() == ["c1", "c1", 2]
    assert comments.loc["c3", ["parent_id", "root_id", "depth"]].tolist() == ["c2", "c1", 3]
    assert comments.loc["c2", "author_id"] is None

    rally = batch.tables["agents"].set_index("agent_id").loc["Rally"]
    assert bool(rally["is_claimed"]) and rally["first_seen_at"] == pd.Timestamp("2026-01-30T19:17:56.648008Z")
    assert rally["last_seen_at"] == EXPORT


def test_files_with_no_valid_rows_name_the_file(tmp_path: Path) -> None:
    _write_csv(tmp_path / "moltbook_posts.csv", POST_HEADER, [
        ["", "a", "general", "t", "c", "", "0", "0", T],
        ["p2", "a", "general", "t", "c", "", "0", "0", "31.01.2026"],
    ])
    _write_csv(tmp_path / "submolts_sample.csv", SUBMOLT_HEADER, [["general", "General", "", "1", "0"]])
    with pytest.raises(NoValidRowsError, match=r"moltbook_posts\.csv: none of its 2 rows"):
        parse_observatory_export(tmp_path, "t", EXPORT)

    # A header-only file is legitimately empty.
    _write_csv(tmp_path / "moltbook_posts.csv", POST_HEADER, [])
    batch = parse_observatory_export(tmp_path, "t", EXPORT)
    assert batch.tables["posts"].empty and len(batch.tables["communities"]) == 1

    # The wrong file under a known name is refused by its header.
    _write_csv(tmp_path / "moltbook_posts.csv", ["name", "karma"], [["Rally", "3"]])
    with pytest.raises(NoValidRowsError, match=r"moltbook_posts\.csv: header lacks"):
        parse_observatory_export(tmp_path, "t", EXPORT)
