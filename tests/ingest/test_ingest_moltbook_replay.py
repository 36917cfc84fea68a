"""The Moltbook replay server: exact, deterministic API answers on loopback, with seeded faults."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pandas as pd
import pytest

from assets.ingest.clean import snake_keys
from assets.ingest.moltbook_api import parse_api_payloads
from assets.ingest.moltbook_replay import (
    FaultPlan,
    ReplayServer,
    ReplaySite,
    comment_depths,
    instant_us,
)
from assets.ingest.raw_archive import ArchiveRecord, ArchiveWriter

DETAIL_POST = "193760aa-38a0-4b3c-a7a3-bb4789b1410c"  # 3 top-level comments in its capture
FIVE_DIGIT_POST = "da18aa34-0fc7-4b09-899b-764eb75f5e0f"  # created_at "...17:00:40.62195+00:00"
LISTINGS = ("posts_list.json", "posts_hot25_offset_era.json", "posts_list_2026-02-25_drift.json")
OBSERVED = pd.Timestamp("2026-03-01T00:00:00Z")


# --------------------------------------------------------------------------------------------
# A plain HTTP client (http.client, one connection per request)


def fetch(
    url: str, headers: dict[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def get(
    server: ReplayServer, path: str, headers: dict[str, str] | None = None, **params: Any
) -> tuple[int, Any]:
    query = f"?{urlencode(params)}" if params else ""
    status, _, data = fetch(f"{server.base_url}{path}{query}", headers)
    return status, json.loads(data)


def walk_posts(server: ReplayServer, limit: int, sort: str = "new") -> list[dict[str, Any]]:
    """Every post of a listing, following next_cursor or next_offset page by page."""
    posts: list[dict[str, Any]] = []
    params: dict[str, Any] = {"sort": sort, "limit": limit}
    for _ in range(1000):
        status, body = get(server, "/posts", **params)
        assert status == 200
        assert len(body["posts"]) <= limit
        posts += body["posts"]
        if not body["has_more"]:
            assert body.get("next_cursor") is None and body.get("next_offset") is None
            return posts
        if server.pagination == "cursor":
            params["cursor"] = body["next_cursor"]
        else:
            params["offset"] = body["next_offset"]
    raise AssertionError("the listing never ended")


def walk_comments(server: ReplayServer, post_id: str, sort: str, limit: int) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = []
    params: dict[str, Any] = {"sort": sort, "limit": limit}
    while True:
        status, body = get(server, f"/posts/{post_id}/comments", **params)
        assert status == 200 and body["sort"] == sort and body["count"] == len(body["comments"])
        comments += body["comments"]
        if not body["has_more"]:
            return comments
        params["cursor"] = body["next_cursor"]


def load(moltbook_data: Path, name: str) -> Any:
    return json.loads((moltbook_data / "api" / name).read_text(encoding="utf-8"))


def new_order(posts: list[dict[str, Any]]) -> list[str]:
    newest_first = sorted(posts, key=lambda p: (instant_us(p["created_at"]), p["id"]), reverse=True)
    return [p["id"] for p in newest_first]


# --------------------------------------------------------------------------------------------
# A small hand-built thread: 12 comments, replies down to depth 4, votes that sorts disagree on


THREAD_POST = "p-thread"


def _comment(i: int, parent: int | None, up: int, down: int) -> dict[str, Any]:
    return {
        "id": f"c{i:02d}",
        "content": f"comment {i}",
        "parent_id": None if parent is None else f"c{parent:02d}",
        "upvotes": up,
        "downvotes": down,
        "created_at": f"2026-03-01T10:{i:02d}:00.000001+00:00",
        "author": {"id": f"a{i % 3}", "name": f"agent{i % 3}", "karma": i, "follower_count": 1},
    }


def thread_site() -> ReplaySite:
    site = ReplaySite()
    parents = [None, None, 0, 2, 3, None, 1, None, 5, None, 0, 6]
    votes = [(1, 0), (9, 1), (0, 4), (3, 3), (7, 0), (0, 0), (2, 5), (12, 2), (4, 4), (1, 1), (5, 0), (0, 9)]
    comments = [_comment(i, parent, *votes[i]) for i, parent in enumerate(parents)]
    site.add_post(
        {
            "id": THREAD_POST,
            "title": "a thread",
            "content": "body",
            "created_at": "2026-03-01T09:00:00.5+00:00",
            "upvotes": 3,
            "downvotes": 0,
            "submolt": {"id": "s1", "name": "general", "display_name": "General"},
            "author": {"id": "a0", "name": "agent0"},
        },
        comments,
    )
    return site


# --------------------------------------------------------------------------------------------
# Loading real captures


def test_captures_load_into_one_site(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    # 10 + 25 + 20 listed posts; 10 also have a detail file and 6 recur in the drift capture.
    assert len(site.posts) == 49 and not site.deleted
    assert sorted(site.comments[DETAIL_POST]) == [
        "2e694803-3e65-4346-923f-528d42683167",
        "8b1e76ba-2a1b-4c8b-ba3d-cb3c74692272",
        "8d952580-2b1b-4d08-b11c-d1a601968395",
    ]
    assert all(c["parent_id"] is None and "replies" not in c for c in site.comments[DETAIL_POST].values())
    # The listing (later in name order) overrides the detail's count; the profile keeps its owner.
    assert site.posts[DETAIL_POST]["comment_count"] == 2
    # The drift capture's camelCase authors are stored snake_case.
    eudaemon = site.agents["eudaemon_0"]
    assert eudaemon["follower_count"] == 1321 and "followerCount" not in eudaemon
    # The discovery capture's readable /stats sample is kept; its truncated /posts samples skipped.
    assert site.stats is not None and site.stats["agents"] == 1562501 and site.stats["posts"] == 113641
    assert site.agents["logistician"]["owner"]["x_handle"] == "burnratecc"
    assert site.submolts["general"]["display_name"] == "General"


@pytest.mark.parametrize("pagination", ["offset", "cursor"])
@pytest.mark.parametrize("capture", LISTINGS)
def test_listing_pages_reproduce_the_capture_posts(
    moltbook_data: Path, capture: str, pagination: str
) -> None:
    payload = load(moltbook_data, capture)
    site = ReplaySite()
    site.load_payload(payload)
    with ReplayServer(site, pagination=pagination) as server:  # type: ignore[arg-type]
        served = walk_posts(server, limit=7)
        _, first = get(server, "/posts", sort="new", limit=7)
    expected = {p["id"]: snake_keys(p) for p in payload["posts"]}
    assert {p["id"]: p for p in served} == expected
    assert [p["id"] for p in served] == new_order(payload["posts"])
    if pagination == "offset":
        january = load(moltbook_data, "posts_list.json")
        assert list(first) == list(january)  # success, posts, count, has_more, next_offset, authenticated
        assert first["count"] == 7 and first["next_offset"] == 7 and first["authenticated"] is False
    else:
        assert list(first) == ["success", "posts", "has_more", "next_cursor"]


@pytest.mark.parametrize("pagination", ["offset", "cursor"])
def test_paging_by_three_visits_every_live_post_once_newest_first(
    moltbook_data: Path, pagination: str
) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    gone = sorted(site.posts)[:2]
    for post_id in gone:
        site.delete_post(post_id)
    with ReplayServer(site, pagination=pagination) as server:  # type: ignore[arg-type]
        served = walk_posts(server, limit=3)
    ids = [p["id"] for p in served]
    live = [p for pid, p in site.posts.items() if pid not in gone]
    assert len(ids) == len(set(ids)) == 47
    assert ids == new_order(live)


def test_a_post_added_between_pages_does_not_shift_the_next_cursor_page(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    newest = max(site.posts.values(), key=lambda p: instant_us(p["created_at"]))
    fresh = {**newest, "id": "fresh-post", "created_at": "2026-03-01T00:00:00.000001+00:00"}
    with ReplayServer(site, pagination="cursor") as server:
        _, page1 = get(server, "/posts", sort="new", limit=3)
        _, page2_before = get(server, "/posts", sort="new", limit=3, cursor=page1["next_cursor"])
        site.add_post(fresh)
        _, page2_after = get(server, "/posts", sort="new", limit=3, cursor=page1["next_cursor"])
        _, top = get(server, "/posts", sort="new", limit=3)
    assert page2_after == page2_before
    assert top["posts"][0]["id"] == "fresh-post"

    site = ReplaySite.from_captures(moltbook_data / "api")  # the offset era does shift, as it did
    with ReplayServer(site, pagination="offset") as server:
        _, before = get(server, "/posts", sort="new", limit=3, offset=3)
        site.add_post(fresh)
        _, after = get(server, "/posts", sort="new", limit=3, offset=3)
    assert after["posts"][1:] == before["posts"][:2]  # everything moved down by one


def test_invalid_cursor_is_a_400_and_cursors_need_url_encoding(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    with ReplayServer(site) as server:
        _, page = get(server, "/posts", sort="new", limit=3)
        cursor = page["next_cursor"]
        assert {"+", "/", "="} <= set(cursor)  # standard base64 with padding
        for bad in ("abc", "bm90IG91cnM=", cursor[:-4]):
            answer = get(server, "/posts", sort="new", cursor=bad)
            assert answer == (400, {"success": False, "error": "Invalid cursor"})
        # A cursor of one sort is refused by another.
        assert get(server, "/posts", sort="top", cursor=cursor)[0] == 400
        # Sent without URL-encoding, "+" arrives as a space and the cursor no longer decodes.
        status, _, data = fetch(f"{server.base_url}/posts?sort=new&cursor={cursor}")
        assert status == 400 and json.loads(data)["error"] == "Invalid cursor"


def test_limit_is_clamped_and_unknown_routes_are_json_404s() -> None:
    site = ReplaySite.synthetic(120, seed=3, comments_per_post=1.0)
    with ReplayServer(site, listing_max_limit=50) as server:
        assert len(get(server, "/posts", sort="new", limit=500)[1]["posts"]) == 50
        assert len(get(server, "/posts", sort="hot", limit=7)[1]["posts"]) == 7
        assert get(server, "/posts", sort="sideways") == (400, {"success": False, "error": "Invalid sort"})
        assert get(server, "/agents") == (404, {"success": False, "error": "Not found"})
        status, _, data = fetch(server.base_url.replace("/api/v1", "/index.html"))
        assert (status, json.loads(data)) == (404, {"success": False, "error": "Not found"})


def test_hot_and_top_listings_page_without_repeats() -> None:
    site = ReplaySite.synthetic(200, seed=5, comments_per_post=1.0)
    with ReplayServer(site) as server:
        for sort in ("hot", "top"):
            ids = [p["id"] for p in walk_posts(server, limit=30, sort=sort)]
            assert sorted(ids) == sorted(site.posts)
        top = walk_posts(server, limit=30, sort="top")
    scores = [p["upvotes"] - p["downvotes"] for p in top]
    assert scores == sorted(scores, reverse=True)


# --------------------------------------------------------------------------------------------
# Detail, comments, deletions


def test_detail_with_and_without_inline_comments(moltbook_data: Path) -> None:
    capture = load(moltbook_data, f"post_{DETAIL_POST}.json")
    site = ReplaySite()
    site.load_payload(capture)
    with ReplayServer(site, inline_comments=True) as server:
        status, jan = get(server, f"/posts/{DETAIL_POST}")
    with ReplayServer(site, inline_comments=False) as server:
        _, april = get(server, f"/posts/{DETAIL_POST}")
    assert status == 200
    assert list(jan) == ["success", "post", "comments", "context"] and isinstance(jan["context"]["tip"], str)
    assert jan["comments"] == capture["comments"]  # the nested tree, as captured
    assert jan["post"] == capture["post"]  # the full author profile, owner included
    assert list(april) == ["success", "post", "context"] and april["post"] == capture["post"]


def test_inline_tree_nests_replies_and_respects_the_cap() -> None:
    site = thread_site()
    with ReplayServer(site, inline_comments=True) as server:
        _, full = get(server, f"/posts/{THREAD_POST}")
    with ReplayServer(site, inline_comments=True, comment_sort_cap=4) as server:
        _, capped = get(server, f"/posts/{THREAD_POST}")

    def flatten(nodes: list[dict[str, Any]], parent: str | None = None) -> list[tuple[str, str | None]]:
        out = []
        for node in nodes:
            out.append((node["id"], parent))
            out += flatten(node["replies"], node["id"])
        return out

    pairs = flatten(full["comments"])
    assert len(pairs) == 12
    assert all(site.comments[THREAD_POST][cid]["parent_id"] == parent for cid, parent in pairs)
    assert [n["id"] for n in full["comments"]] == ["c00", "c01", "c05", "c07", "c09"]  # oldest first
    assert flatten(capped["comments"]) == pairs[:4]  # depth-first prefix: still a tree


def test_comments_endpoint_is_flat_with_parent_and_depth() -> None:
    site = thread_site()
    with ReplayServer(site) as server:
        status, first = get(server, f"/posts/{THREAD_POST}/comments")
        every = {
            sort: walk_comments(server, THREAD_POST, sort, limit=5) for sort in ("best", "new", "old", "top")
        }
    assert status == 200 and first["sort"] == "best" and first["post_title"] == "a thread"
    assert list(first) == [
        "success", "post_id", "post_title", "sort", "count", "comments", "has_more", "next_cursor"
    ]
    for comments in every.values():
        assert sorted(c["id"] for c in comments) == sorted(site.comments[THREAD_POST])
        assert all("replies" not in c and c["post_id"] == THREAD_POST for c in comments)
    by_id = {c["id"]: c for c in every["old"]}
    assert by_id["c04"]["parent_id"] == "c03" and by_id["c04"]["depth"] == 4
    assert all(c["depth"] == 1 for c in by_id.values() if c["parent_id"] is None)
    assert all(c["depth"] == by_id[c["parent_id"]]["depth"] + 1 for c in by_id.values() if c["parent_id"])
    assert [c["id"] for c in every["new"]] == [c["id"] for c in reversed(every["old"])]
    assert [c["id"] for c in every["top"]][:2] == ["c07", "c01"]  # scores 10 and 8


def test_comment_sort_cap_bites_and_the_union_of_sorts_recovers_more() -> None:
    site = thread_site()
    with ReplayServer(site, comment_sort_cap=5) as server:
        seen: set[str] = set()
        for sort in ("best", "new", "old", "top"):
            ids = [c["id"] for c in walk_comments(server, THREAD_POST, sort, limit=2)]
            assert len(ids) == len(set(ids)) == 5  # at most the cap in total, across 3 pages
            seen |= set(ids)
    assert len(seen) > 5
    assert len(seen) <= 12


def test_comment_cursor_belongs_to_its_sort_and_post() -> None:
    site = thread_site()
    site.add_post({"id": "other", "title": "t", "created_at": "2026-03-01T08:00:00+00:00"})
    with ReplayServer(site) as server:
        _, page = get(server, f"/posts/{THREAD_POST}/comments", sort="new", limit=2)
        cursor = page["next_cursor"]
        assert get(server, f"/posts/{THREAD_POST}/comments", sort="old", cursor=cursor)[0] == 400
        assert get(server, "/posts/other/comments", sort="new", cursor=cursor)[0] == 400
        assert get(server, f"/posts/{THREAD_POST}/comments", sort="sideways")[0] == 400


def test_deleted_posts_answer_404_and_leave_the_listings(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    site.delete_post(DETAIL_POST)
    not_found = (404, {"success": False, "error": "Post not found"})
    with ReplayServer(site, pagination="offset") as server:
        assert get(server, f"/posts/{DETAIL_POST}") == not_found
        assert get(server, f"/posts/{DETAIL_POST}/comments") == not_found
        assert get(server, "/posts/no-such-post") == not_found
        assert DETAIL_POST not in {p["id"] for p in walk_posts(server, limit=10)}
        _, profile = get(server, "/agents/profile", name="logistician")
    assert profile["recentPosts"] == []
    assert DETAIL_POST in site.posts  # the data stays; only the platform hides it


def test_add_comments_raises_the_comment_count() -> None:
    site = thread_site()
    site.add_comments(THREAD_POST, [_comment(12, 4, 0, 0), _comment(3, 2, 99, 0)])  # c03 exists
    assert site.posts[THREAD_POST]["comment_count"] == 13
    assert site.comments[THREAD_POST]["c03"]["upvotes"] == 99  # a later sighting updates it
    assert comment_depths(site.comments[THREAD_POST])["c12"] == 5


# --------------------------------------------------------------------------------------------
# Profiles, submolts, stats, headers, request log


def test_profile_shape(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    with ReplayServer(site) as server:
        status, body = get(server, "/agents/profile", name="logistician")
        _, commenter = get(server, "/agents/profile", name="clawph")
        missing = get(server, "/agents/profile", name="nobody-at-all")
    assert status == 200 and list(body) == ["success", "agent", "recentPosts", "recentComments"]
    assert body["agent"]["id"] == "190b27d2-ed74-4fa4-8cc7-ed36de6bf366" and body["agent"]["owner"]
    assert [p["id"] for p in body["recentPosts"]] == [DETAIL_POST]
    assert [(c["id"], c["post_id"]) for c in commenter["recentComments"]] == [
        ("8d952580-2b1b-4d08-b11c-d1a601968395", DETAIL_POST)
    ]
    assert missing == (404, {"success": False, "error": "Agent not found"})


def test_submolts_are_offset_paged_in_the_cursor_era() -> None:
    site = ReplaySite.synthetic(600, seed=2, comments_per_post=1.0, n_submolts=12)
    site.delete_post(next(iter(site.posts)))
    with ReplayServer(site, pagination="cursor") as server:
        names, offset = [], 0
        while True:
            _, body = get(server, "/submolts", limit=5, offset=offset)
            names += [s["name"] for s in body["submolts"]]
            if not body["has_more"]:
                break
            offset = body["next_offset"]
    assert names == sorted(site.submolts) and len(names) == 12 and "general" in names
    assert body["count"] == 12 and body["next_offset"] is None
    assert body["total_posts"] == 600  # deleted posts still count (§6.2)
    assert body["total_comments"] == sum(p["comment_count"] for p in site.posts.values())


def test_stats_shape_loaded_or_computed(moltbook_data: Path) -> None:
    captured = ReplaySite.from_captures(moltbook_data / "api")
    synthetic = ReplaySite.synthetic(300, seed=4, n_agents=40, n_submolts=5)
    served_at = datetime(2026, 2, 2, 16, 0, tzinfo=timezone.utc)
    with ReplayServer(captured) as server:
        _, loaded = get(server, "/stats")
    with ReplayServer(synthetic, served_at=served_at) as server:
        status, headers, data = fetch(f"{server.base_url}/stats")
    computed = json.loads(data)
    assert loaded == {
        "success": True, "agents": 1562501, "submolts": 14386, "posts": 113641, "comments": 519463,
        "last_updated": "2026-02-02T16:00:00.015894+00:00", "cached": False,
    }
    assert status == 200 and headers["Date"] == "Mon, 02 Feb 2026 16:00:00 GMT"
    assert computed == {
        "success": True, "agents": 40, "submolts": 5, "posts": 300,
        "comments": sum(p["comment_count"] for p in synthetic.posts.values()),
        "last_updated": "2026-02-02T16:00:00.000000+00:00", "cached": False,
    }


def test_default_date_header_is_the_newest_created_at(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    with ReplayServer(site) as server:
        _, headers, _ = fetch(f"{server.base_url}/stats")
        _, headers_again, _ = fetch(f"{server.base_url}/posts")
    newest = max(site.posts.values(), key=lambda p: instant_us(p["created_at"]))["created_at"]
    assert newest == "2026-02-08T16:28:25.020Z"
    assert headers["Date"] == headers_again["Date"] == "Sun, 08 Feb 2026 16:28:25 GMT"


def test_request_log_keeps_no_key(moltbook_data: Path) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    secret = "moltbook_sk_DO-NOT-KEEP-ME"
    with ReplayServer(site, pagination="offset") as server:
        _, body = get(server, "/posts", headers={"Authorization": f"Bearer {secret}"}, sort="new", limit=2)
        get(server, "/stats")
    assert body["authenticated"] is True
    first, second = server.requests
    assert (first.n, first.path, first.authorized) == (0, "/api/v1/posts", True)
    assert first.query == {"sort": "new", "limit": "2"}
    assert (second.n, second.path, second.authorized) == (1, "/api/v1/stats", False)
    assert (second.fault, second.status) == (None, 200)
    assert secret not in repr(server.requests)


# --------------------------------------------------------------------------------------------
# Faults


def test_429_alternates_retry_after_header_and_body() -> None:
    plan = FaultPlan(rate=1.0, kinds=("429",), retry_after_s=7)
    with ReplayServer(thread_site(), faults=plan) as server:
        first = fetch(f"{server.base_url}/stats")
        second = fetch(f"{server.base_url}/stats")
    assert first[0] == second[0] == 429
    assert first[1]["Retry-After"] == "7"
    assert json.loads(first[2]) == {"success": False, "error": "Rate limited"}
    assert "Retry-After" not in second[1]
    assert json.loads(second[2]) == {"success": False, "error": "Rate limited", "retry_after_seconds": 7}
    assert [r.fault for r in server.requests] == ["429", "429"]


def test_500_timeout_and_truncated_faults() -> None:
    with ReplayServer(thread_site(), faults=FaultPlan(rate=1.0, kinds=("500",))) as server:
        status, _, data = fetch(f"{server.base_url}/posts/{THREAD_POST}")
    assert status == 500 and json.loads(data)["success"] is False

    with ReplayServer(thread_site(), faults=FaultPlan(rate=1.0, kinds=("timeout",), stall_s=0.05)) as server:
        began = time.monotonic()
        with pytest.raises(http.client.RemoteDisconnected):
            fetch(f"{server.base_url}/posts/{THREAD_POST}")
        assert time.monotonic() - began >= 0.05
        with pytest.raises(TimeoutError):  # a client that gives up first sees a timeout
            fetch(f"{server.base_url}/posts/{THREAD_POST}", timeout=0.01)
    assert [r.status for r in server.requests] == [None, None]

    with ReplayServer(thread_site(), faults=FaultPlan(rate=1.0, kinds=("truncated",))) as server:
        conn = http.client.HTTPConnection("127.0.0.1", urlsplit(server.base_url).port, timeout=5)
        conn.request("GET", f"/api/v1/posts/{THREAD_POST}")
        response = conn.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as torn:
            response.read()
        conn.close()
    full = len(json.dumps(server.answer(f"/api/v1/posts/{THREAD_POST}", {})[1]).encode())
    assert int(response.getheader("Content-Length")) == full
    assert 0 < len(torn.value.partial) < full


def test_faults_never_touch_a_404() -> None:
    site = thread_site()
    site.delete_post(THREAD_POST)
    with ReplayServer(site, faults=FaultPlan(rate=1.0, kinds=("500", "drift"))) as server:
        assert get(server, f"/posts/{THREAD_POST}") == (404, {"success": False, "error": "Post not found"})
        assert get(server, "/stats")[0] in (200, 500)
    assert server.requests[0].fault is None and server.requests[1].fault is not None


def _tables(body: Any) -> dict[str, pd.DataFrame]:
    batch = parse_api_payloads([("answer.json", body)], "moltbook", OBSERVED)
    assert not batch.quarantine
    return batch.tables


@pytest.mark.parametrize("pagination", ["offset", "cursor"])
def test_drift_reshapes_without_changing_a_value(moltbook_data: Path, pagination: str) -> None:
    site = ReplaySite.from_captures(moltbook_data / "api")
    plan = FaultPlan(rate=1.0, kinds=("drift",))
    paths = [
        ("/posts", {"sort": "new", "limit": "50"}),
        (f"/posts/{DETAIL_POST}", {}),
        (f"/posts/{DETAIL_POST}/comments", {"sort": "old"}),
        ("/agents/profile", {"name": "clawph"}),
        ("/agents/profile", {"name": "eudaemon_0"}),
    ]
    server = ReplayServer(site, pagination=pagination, inline_comments=True, faults=plan)  # type: ignore[arg-type]
    with server:
        for path, query in paths:
            status, drifted = get(server, path, **query)
            plain_status, plain = server.answer(f"/api/v1{path}", query)
            assert status == plain_status == 200 and drifted != plain
            drifted_tables, plain_tables = _tables(drifted), _tables(plain)
            assert drifted_tables.keys() == plain_tables.keys()
            for name, frame in plain_tables.items():
                pd.testing.assert_frame_equal(
                    drifted_tables[name], frame, check_like=True, obj=f"{path} {name}"
                )
        _, listing = get(server, "/posts", sort="new", limit=50)
        _, detail = get(server, f"/posts/{DETAIL_POST}")
        _, stats = get(server, "/stats")
    assert all(r.fault == "drift" for r in server.requests)
    by_id = {p["id"]: p for p in listing["posts"]}
    assert by_id[FIVE_DIGIT_POST]["created_at"] == "2026-01-30T17:00:40.62195Z"  # same digits, Z
    assert by_id[FIVE_DIGIT_POST]["comment_count"] == "0"
    if pagination == "offset":
        assert listing["count"] == str(len(listing["posts"]))
    author = detail["post"]["author"]
    assert (author["followerCount"], author["followingCount"]) == ("0", "1")
    assert "follower_count" not in author
    assert detail["comments"][0]["author"]["followerCount"] == "5"
    assert stats["posts"] == "113641" and stats["last_updated"] == "2026-02-02T16:00:00.015894Z"


def test_fault_rate_over_a_thousand_requests_is_close_to_the_plan() -> None:
    plan = FaultPlan(rate=0.2, kinds=("429", "500", "drift"), seed=11)
    site = ReplaySite.synthetic(30, seed=1, comments_per_post=1.0)
    with ReplayServer(site, faults=plan) as server:
        statuses = [fetch(f"{server.base_url}/stats")[0] for _ in range(1000)]
    faults = [r.fault for r in server.requests]
    assert [r.n for r in server.requests] == list(range(1000))
    assert faults == [plan.fault_for(n) for n in range(1000)]  # reproducible by request number
    rate = sum(f is not None for f in faults) / 1000
    assert abs(rate - 0.2) < 0.04
    assert {f for f in faults if f} == {"429", "500", "drift"}
    assert statuses.count(200) == 1000 - sum(f in ("429", "500") for f in faults)
    assert FaultPlan(rate=0.2, seed=12).fault_for(5) == FaultPlan(rate=0.2, seed=12).fault_for(5)
    with pytest.raises(ValueError):
        FaultPlan(rate=0.1, kinds=("teapot",))


# --------------------------------------------------------------------------------------------
# The raw archive


def _record(seq: int, path: str, status: int, body: Any) -> ArchiveRecord:
    return ArchiveRecord(
        seq=seq, path=path, params=(("sort", "new"),), status=status,
        headers={"date": "Sun, 01 Mar 2026 00:00:00 GMT"}, fetched_at="2026-03-01T00:00:00+00:00",
        observed_at="2026-03-01T00:00:00+00:00", text=json.dumps(body), parser_version="1",
    )


def _post(post_id: str, minute: int) -> dict[str, Any]:
    return {
        "id": post_id, "title": post_id, "content": "x", "comment_count": 0,
        "created_at": f"2026-03-01T00:{minute:02d}:00.000000+00:00",
        "author": {"id": f"id-{post_id}", "name": f"author-{post_id}"},
        "submolt": {"id": "s", "name": "general", "display_name": "General"},
    }


def test_an_archived_run_replays_its_200_bodies_and_404_deletions(tmp_path: Path) -> None:
    listing = {"success": True, "posts": [_post("a", 1), _post("b", 2)], "has_more": False}
    detail = {"success": True, "post": _post("a", 1), "comments": [
        {"id": "ca", "content": "hi", "parent_id": None, "created_at": "2026-03-01T00:05:00+00:00",
         "author": {"id": "z", "name": "zed"}, "replies": [
             {"id": "cb", "content": "re", "created_at": "2026-03-01T00:06:00+00:00",
              "author": {"id": "z", "name": "zed"}, "replies": []}]},
    ]}
    with ArchiveWriter(tmp_path / "run") as writer:
        writer.add(_record(0, "/posts", 200, listing))
        writer.add(_record(1, "/posts/a", 200, detail))
        writer.add(_record(2, "/api/v1/posts/b", 404, {"success": False, "error": "Post not found"}))
        writer.add(_record(3, "/posts", 500, {"success": True, "posts": [_post("c", 3)]}))
        cut = json.dumps({"success": True, "posts": [_post("d", 4)]})[:40]
        writer.add(replace(_record(4, "/posts", 200, {}), text=cut))  # a body cut short

    site = ReplaySite.from_archive([tmp_path / "run"])
    assert sorted(site.posts) == ["a", "b"] and site.deleted == {"b"}  # not c (500) nor d (cut)
    assert site.comments["a"]["cb"]["parent_id"] == "ca"  # from the enclosing node of the tree
    assert site.agents["zed"]["id"] == "z"
    with ReplayServer(site) as server:
        assert [p["id"] for p in walk_posts(server, limit=1)] == ["a"]


# --------------------------------------------------------------------------------------------
# Synthetic sites


def test_synthetic_site_is_deterministic_and_heavy_tailed() -> None:
    one, again, other = (ReplaySite.synthetic(2000, seed=s) for s in (7, 7, 8))
    assert one.posts == again.posts and one.comments == again.comments and one.agents == again.agents
    assert one.posts != other.posts

    stored = {pid: len(one.comments.get(pid, {})) for pid in one.posts}
    assert max(stored.values()) > 100 and sum(n > 100 for n in stored.values()) >= 2
    assert sum(n == 0 for n in stored.values()) > 200  # most threads are small
    assert all(one.posts[pid]["comment_count"] >= n for pid, n in stored.items())
    assert any(one.posts[pid]["comment_count"] > n for pid, n in stored.items())  # deleted comments

    times = [instant_us(p["created_at"]) for p in one.posts.values()]
    steps = [b - a for a, b in zip(times, times[1:])]
    assert all(step >= 0 for step in steps) and 1 <= steps.count(0) <= 5

    depths = [d for bucket in one.comments.values() for d in comment_depths(bucket).values()]
    assert None not in depths and max(depths) == 5

    lengths = sorted(len(p["content"]) for p in one.posts.values())
    assert 150 < lengths[len(lengths) // 2] < 1000 and lengths[-1] > 3000
    texts = [p["content"] for p in one.posts.values()] + [
        c["content"] for bucket in one.comments.values() for c in bucket.values()
    ]
    assert any("<script>" in t for t in texts) and any("Ignore all previous instructions" in t for t in texts)
    assert any('{"success": false' in t for t in texts) and any("🦞" in t for t in texts)


def test_synthetic_site_serves_and_parses(tmp_path: Path) -> None:
    site = ReplaySite.synthetic(50, seed=9)
    with ReplayServer(site, inline_comments=True) as server:
        posts = walk_posts(server, limit=20)
        busiest = max(site.posts, key=lambda pid: len(site.comments.get(pid, {})))
        _, detail = get(server, f"/posts/{busiest}")
        comments = walk_comments(server, busiest, "new", limit=100)
    assert [p["id"] for p in posts] == new_order(list(site.posts.values()))
    tables = parse_api_payloads([("detail.json", detail)], "moltbook", OBSERVED).tables
    assert len(tables["comments"]) == len(comments) == len(site.comments[busiest])
