"""The drift detector flags the late-February capture as a changed shape of the January one."""

from __future__ import annotations

import json
from pathlib import Path

from assets.ingest.shape_drift import Shape, add_to_shape, compare_shapes, endpoint_of


def _shape(*bodies: object) -> Shape:
    shape: Shape = {}
    for body in bodies:
        add_to_shape(shape, body)
    return shape


def test_the_late_february_listing_is_a_changed_shape_of_the_january_one(moltbook_data: Path) -> None:
    january = json.loads((moltbook_data / "api" / "posts_list.json").read_text(encoding="utf-8"))
    february = json.loads((moltbook_data / "api" / "posts_list_2026-02-25_drift.json").read_text(encoding="utf-8"))
    changes = compare_shapes({"/posts": _shape(january)}, {"/posts": _shape(february)})
    assert {"posts[].author.followerCount", "posts[].is_deleted", "posts[].hot_score"} <= set(changes.added["/posts"])
    assert "count: number → str" in changes.retyped["/posts"]
    assert not compare_shapes({"/posts": _shape(january)}, {"/posts": _shape(january)}).any


def test_nested_replies_and_list_items_share_one_path() -> None:
    tree = {"comments": [{"id": "a", "replies": [{"id": "b", "replies": [{"id": "c", "score": 1}]}]}]}
    shape = _shape(tree)
    assert shape["comments[].replies[].id"] == ["str"]
    assert shape["comments[].replies[].score"] == ["number"]
    assert not any(path.count("replies[]") > 1 for path in shape)


def test_null_is_not_a_type_change_and_endpoints_are_templated() -> None:
    before = {"/posts/{id}": {"post.url": ["str"]}}
    after = {"/posts/{id}": {"post.url": ["null", "str"]}}
    assert not compare_shapes(before, after).any
    assert endpoint_of("/posts/1cafdc87-865e-459b-99f2-36d8235019be/comments") == "/posts/{id}/comments"
    assert endpoint_of("/agents/profile") == "/agents/profile"
    assert endpoint_of("/submolts/general") == "/submolts/{name}"
