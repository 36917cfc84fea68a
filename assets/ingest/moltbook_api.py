"""Import a directory of raw Moltbook API responses (any era) as canonical rows (MOLTBOOK_API §3, §8).

Every `*.json` file is one response body. Rows are the items a body carries: the posts, submolts
or agents of a list envelope, the post of a detail response, and each comment of its tree
(nested `replies[]` or flat `parent_id` links, flattened depth-first).

Rules for files:
- A file that is not valid JSON raises NoValidRowsError naming it (nothing can be read from it).
- A file whose rows all fail to map raises NoValidRowsError naming it.
- A file that carries no rows at all (an error body, an empty listing, a probe capture) is fine.

The endpoint-discovery capture (`{base_url, timestamp, docs[], api[]}` of `{path, status,
sample}` probes) holds no rows of its own: each 200 JSON `sample` is parsed (as JSON, else as the
Python literal the probing tool wrote) and replayed as a response; a 200 JSON sample that cannot be
parsed (truncated) is recorded in quarantine so its loss is visible, without counting as a row.
Non-200 probes are error bodies and are skipped.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Iterator, Literal

import pandas as pd

from assets.ingest.clean import (
    DEFAULT_OWNER_SALT,
    BatchCollector,
    MappedRows,
    NoValidRowsError,
    RowRejected,
    checked_text,
    clean_id,
    clean_text,
    community_key,
    latest_timestamp,
    owner_json,
    required_id,
    required_timestamp,
    snake_keys,
    society_row,
    to_bool,
    to_int,
    to_snake,
    to_utc_timestamp,
)
from warehouse.batch import CanonicalBatch

PARSER_VERSION = "1"
COMMENT_CAP = 100  # comments per post the inline-era detail call returned (§6.1)

ItemKind = Literal["post", "comment", "submolt", "agent", "unreadable"]

# Envelope list keys (§3.7) and what their items are; `results` items say so in `type`.
_LIST_KINDS: dict[str, ItemKind] = {
    "posts": "post",
    "items": "post",
    "data": "post",
    "results": "post",
    "recent_posts": "post",
    "submolts": "submolt",
    "agents": "agent",
}
# Timestamps any response carries; none can be later than the fetch, so the latest bounds it.
_TIME_KEYS = {"created_at", "updated_at", "last_active", "last_activity_at", "timestamp", "last_updated"}
# A repeated id whose text differs is a conflict, not a new sighting (quarantined).
_TEXT_FIELDS: dict[str, tuple[str, ...]] = {"post": ("title", "content"), "comment": ("content",)}
_COMMENT_TYPES = ("comment", "comments")  # `type` of a search result that is a comment
_UNREADABLE_SAMPLE = "probe sample of a 200 response is truncated or not parseable; its rows are lost"


@dataclass(frozen=True)
class ApiItem:
    """One row found in a response: what it is, where (path inside the file) and its raw object."""

    kind: ItemKind
    path: str  # e.g. "posts[3]" or "comments[0].replies[1]"
    raw: Any  # as it arrived, without its nested replies
    post_id: str | None = None  # the enclosing post of a comment
    parent_index: int | None = None  # index (in the same item list) of the enclosing comment
    default_author: Any = None  # the profile agent, for a profile's recent posts and comments


def extract_items(payload: Any, prefix: str = "") -> list[ApiItem]:
    """Every row one response body carries, in document order (comment trees depth-first)."""
    at = f"{prefix}." if prefix else ""
    if isinstance(payload, list):  # a bare array of posts
        return [ApiItem("post", f"{prefix}[{i}]", item) for i, item in enumerate(payload)]
    if not isinstance(payload, dict):
        return []
    if _is_probe_capture(payload):
        return list(_probe_items(payload))
    envelope = {to_snake(k): (k, v) for k, v in payload.items() if isinstance(k, str)}
    items: list[ApiItem] = []

    post_key, post = envelope.get("post", (None, None))
    if post is not None:
        items.append(ApiItem("post", f"{at}{post_key}", post))
    _, envelope_post_id = envelope.get("post_id", (None, None))
    post_id = clean_id(post.get("id") if isinstance(post, dict) else envelope_post_id)

    agent_key, agent = envelope.get("agent", (None, None))
    if isinstance(agent, dict):
        items.append(ApiItem("agent", f"{at}{agent_key}", agent))
    submolt_key, submolt = envelope.get("submolt", (None, None))
    if isinstance(submolt, dict) and post is None:
        items.append(ApiItem("submolt", f"{at}{submolt_key}", submolt))

    for name, kind in _LIST_KINDS.items():
        key, values = envelope.get(name, (None, None))
        if not isinstance(values, list):
            continue
        for i, value in enumerate(values):
            item_kind: ItemKind = kind
            if name == "results" and isinstance(value, dict) and value.get("type") in _COMMENT_TYPES:
                item_kind = "comment"
            author = agent if name == "recent_posts" else None
            items.append(ApiItem(item_kind, f"{at}{key}[{i}]", value, default_author=author))

    for name in ("comments", "recent_comments"):
        key, values = envelope.get(name, (None, None))
        if isinstance(values, list):
            author = agent if name == "recent_comments" else None
            _flatten_comments(values, f"{at}{key}", post_id, None, author, items)
    return items


def read_envelope(payload: Any) -> dict[str, Any]:
    """Pager state and reported total of a list response (§3.7.2, §4), `count` "1540600" included.

    Not canonical rows: the ingest-run record (cursor_json, coverage) is where these belong.
    """
    e = {to_snake(k): v for k, v in payload.items()} if isinstance(payload, dict) else {}
    total = e.get("count") if e.get("count") is not None else e.get("total")
    return {
        "total": to_int(total),
        "has_more": to_bool(e.get("has_more")),
        "next_offset": to_int(e.get("next_offset")),
        "next_cursor": clean_id(e.get("next_cursor")),
    }


def _flatten_comments(
    nodes: list[Any],
    path: str,
    post_id: str | None,
    parent_index: int | None,
    default_author: Any,
    out: list[ApiItem],
) -> None:
    """Depth-first: each comment, then its `replies[]`, which point at it by list position."""
    for i, node in enumerate(nodes):
        replies = None
        raw = node
        if isinstance(node, dict):
            reply_key = next((k for k in node if isinstance(k, str) and to_snake(k) == "replies"), None)
            replies = node.get(reply_key) if reply_key else None
            raw = {k: v for k, v in node.items() if k != reply_key}
        index = len(out)
        out.append(ApiItem("comment", f"{path}[{i}]", raw, post_id, parent_index, default_author))
        if isinstance(replies, list):
            _flatten_comments(replies, f"{path}[{i}].replies", post_id, index, default_author, out)


def _is_probe_capture(payload: dict[str, Any]) -> bool:
    def is_probe(entry: Any) -> bool:
        return isinstance(entry, dict) and "status" in entry and "path" in entry

    probes = [payload.get("api"), payload.get("docs")]
    return any(isinstance(p, list) and p and all(map(is_probe, p)) for p in probes)


def _probe_items(payload: dict[str, Any]) -> Iterator[ApiItem]:
    for group in ("docs", "api"):
        for i, probe in enumerate(payload.get(group) or []):
            is_json = "json" in str(probe.get("content_type", "json"))
            if to_int(probe.get("status")) != 200 or not is_json:
                continue
            prefix = f"{group}[{i}].sample"
            body = parse_sample(probe.get("sample"))
            if body is None:
                yield ApiItem("unreadable", prefix, probe)
            else:
                yield from extract_items(body, prefix)


def parse_sample(sample: Any) -> Any:
    """A probe's body: already structured, JSON text, or a Python-literal repr; None if unreadable."""
    if isinstance(sample, (dict, list)):
        return sample
    if not isinstance(sample, str):
        return None
    try:
        return json.loads(sample)
    except ValueError:
        pass
    try:
        return ast.literal_eval(sample)  # literals only: safe on untrusted text
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


# --------------------------------------------------------------------------------------------
# Row mappers: one raw object in, canonical rows out, RowRejected with the reason otherwise.


def map_author(
    author: Any, observed_at: pd.Timestamp, *, fallback_id: Any = None, salt: str = DEFAULT_OWNER_SALT
) -> tuple[str | None, MappedRows]:
    """The author id of a post or comment, plus the agent rows its author object yields.

    Object → agent keyed by platform id (else name) with a snapshot of its counts; bare string →
    name-only agent; null → None, the unknown-author marker (§3.7.5).
    """
    rows: MappedRows = {"agents": [], "agent_snapshots": []}
    if isinstance(author, str):
        author = {"name": author}
    if not isinstance(author, dict):
        author = {}
    a = snake_keys(author)
    name = clean_id(a.get("name"))
    platform_id = clean_id(a.get("id")) or clean_id(fallback_id)
    agent_id = platform_id or name
    if agent_id is None:
        return None, rows
    agent = {
        "agent_id": agent_id,
        "name": name,
        "description": clean_text(a.get("description")),
        "karma": to_int(a.get("karma")),
        "follower_count": to_int(a.get("follower_count")),
        "following_count": to_int(a.get("following_count")),
        "is_claimed": to_bool(a.get("is_claimed")),
        "created_at": to_utc_timestamp(a.get("created_at")),
        "owner_json": owner_json(a.get("owner"), salt),
        "first_seen_at": observed_at,
        "last_seen_at": observed_at,
        "_keyed_by_name": platform_id is None,
    }
    rows["agents"].append(agent)
    counts = {k: agent[k] for k in ("karma", "follower_count", "following_count")}
    if any(v is not None for v in counts.values()):
        rows["agent_snapshots"].append({"agent_id": agent_id, "observed_at": observed_at, **counts})
    return agent_id, rows


def map_submolt(submolt: Any, *, strict: bool = True) -> dict[str, Any] | None:
    """A `communities` row keyed by lower-cased name; a nameless submolt rejects (or None if lax)."""
    if isinstance(submolt, str):
        submolt = {"name": submolt}
    if not isinstance(submolt, dict):
        if strict:
            raise RowRejected("item is not a JSON object")
        return None
    s = snake_keys(submolt)
    community_id = community_key(s.get("name"))
    if community_id is None:
        if strict:
            raise RowRejected("submolt name is missing or empty")
        return None
    creator = s.get("created_by")
    if isinstance(creator, dict):
        creator = creator.get("id") or creator.get("name")
    return {
        "community_id": community_id,
        "name": clean_id(s.get("name")),
        "display_name": clean_text(s.get("display_name")),
        "description": checked_text(s.get("description"), "description"),
        "subscriber_count": to_int(s.get("subscriber_count")),
        "created_at": to_utc_timestamp(s.get("created_at")),
        "created_by": clean_id(creator),
    }


def _votes(obj: dict[str, Any]) -> dict[str, int | None]:
    """upvotes, downvotes, and score = up − down when the payload has no score (§8)."""
    up, down, score = to_int(obj.get("upvotes")), to_int(obj.get("downvotes")), to_int(obj.get("score"))
    if score is None and up is not None and down is not None:
        score = up - down
    return {"upvotes": up, "downvotes": down, "score": score}


def _as_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RowRejected(f"item is not a JSON object but {type(raw).__name__}")
    return snake_keys(raw)


def map_post(
    raw: Any, observed_at: pd.Timestamp, *, default_author: Any = None, salt: str = DEFAULT_OWNER_SALT
) -> MappedRows:
    """posts + post_snapshots + author agent rows + community of one post object (any era)."""
    post = _as_object(raw)
    post_id = required_id(post.get("id"), "id")
    created_at = required_timestamp(post.get("created_at"))
    title = checked_text(post.get("title"), "title")
    content = checked_text(post.get("content"), "content")
    author = post["author"] if "author" in post else default_author
    author_id, agent_rows = map_author(author, observed_at, fallback_id=post.get("author_id"), salt=salt)
    community = map_submolt(post.get("submolt"), strict=False)
    votes = _votes(post)
    comment_count = to_int(post.get("comment_count"))
    row = {
        "post_id": post_id,
        "community_id": community["community_id"] if community else None,
        "author_id": author_id,
        "title": title,
        "content": content,
        "url": clean_id(post.get("url")),
        **votes,
        "comment_count": comment_count,
        "created_at": created_at,
        "is_deleted": bool(to_bool(post.get("is_deleted"))),
        "first_seen_at": observed_at,
        "last_seen_at": observed_at,
    }
    snapshot = {"post_id": post_id, "observed_at": observed_at, **votes, "comment_count": comment_count}
    return {
        "posts": [row],
        "post_snapshots": [snapshot],
        "communities": [community] if community else [],
        **agent_rows,
    }


def map_comment(
    raw: Any,
    observed_at: pd.Timestamp,
    *,
    post_id: str | None = None,
    parent_id: str | None = None,
    nested: bool = False,
    default_author: Any = None,
    salt: str = DEFAULT_OWNER_SALT,
) -> MappedRows:
    """comments + author agent rows of one comment; `parent_id` is the enclosing node when nested.

    root_id and depth are filled later from the whole batch's parent chains.
    """
    comment = _as_object(raw)
    comment_id = required_id(comment.get("id"), "id")
    own_post = comment.get("post")
    own_post_id = clean_id(comment.get("post_id")) or clean_id(
        own_post.get("id") if isinstance(own_post, dict) else own_post
    )
    if post_id and own_post_id and own_post_id != post_id:
        raise RowRejected(f"post_id {own_post_id} disagrees with the enclosing post {post_id}")
    post_id = required_id(post_id or own_post_id, "post_id")
    created_at = required_timestamp(comment.get("created_at"))
    content = checked_text(comment.get("content"), "content")
    if not nested:
        parent_id = clean_id(comment.get("parent_id"))
    if parent_id == comment_id:
        raise RowRejected("comment is its own parent")
    author = comment["author"] if "author" in comment else default_author
    author_id, agent_rows = map_author(
        author, observed_at, fallback_id=comment.get("author_id"), salt=salt
    )
    row = {
        "comment_id": comment_id,
        "post_id": post_id,
        "parent_id": parent_id,
        "author_id": author_id,
        "content": content,
        **_votes(comment),
        "created_at": created_at,
    }
    return {"comments": [row], **agent_rows}


def map_agent(raw: Any, observed_at: pd.Timestamp, *, salt: str = DEFAULT_OWNER_SALT) -> MappedRows:
    """agents + agent_snapshots of an agent listing item or profile."""
    agent_id, rows = map_author(_as_object(raw), observed_at, salt=salt)
    if agent_id is None:
        raise RowRejected("agent has neither id nor name")
    return rows


# --------------------------------------------------------------------------------------------
# The dump


def load_payload(path: Path) -> Any:
    """One response body; a file that is not JSON cannot contribute and fails the import."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as err:
        raise NoValidRowsError(f"{path.name}: not a valid JSON document ({err})") from err


def _time_values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and to_snake(key) in _TIME_KEYS and isinstance(item, str):
                yield item
            else:
                yield from _time_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _time_values(item)


def default_observed_at(payloads: list[Any], items: list[ApiItem]) -> pd.Timestamp | None:
    """The latest timestamp any response or replayed probe body holds: a deterministic lower
    bound of when the dump was fetched (real fetch times replace it once the archive keeps them)."""
    trees = chain(payloads, (item.raw for item in items))
    return latest_timestamp(chain.from_iterable(_time_values(tree) for tree in trees))


def parse_api_payloads(
    payloads: list[tuple[str, Any]],
    society_id: str,
    observed_at: pd.Timestamp | None = None,
    *,
    source_uri: str = "",
    owner_salt: str = DEFAULT_OWNER_SALT,
) -> CanonicalBatch:
    """The canonical batch of named response bodies, taken in the given order."""
    extracted = [(name, extract_items(payload)) for name, payload in payloads]
    if observed_at is None:
        observed_at = default_observed_at(
            [p for _, p in payloads], [i for _, items in extracted for i in items]
        )
        if observed_at is None:
            raise ValueError("the dump holds no timestamp to date its sightings; pass observed_at")
    observed = to_utc_timestamp(observed_at)
    if observed is None:
        raise ValueError(f"observed_at {observed_at!r} is not a timestamp")

    collector = BatchCollector()
    for name, items in extracted:
        collect_items(collector, name, items, observed, owner_salt)
    finish_collection(collector)
    collector.check_files()
    society = society_row(
        society_id, source_uri, comment_cap=COMMENT_CAP, parser="moltbook_api",
        parser_version=PARSER_VERSION,
    )
    return collector.batch(society)


def collect_items(
    collector: BatchCollector,
    name: str,
    items: list[ApiItem],
    observed: pd.Timestamp,
    owner_salt: str = DEFAULT_OWNER_SALT,
) -> None:
    """Map the items of one response (named `name`, seen at `observed`) into the collector."""
    collector.add_file(name)
    accepted: dict[int, str | None] = {}  # item index → comment id, None when quarantined
    for index, item in enumerate(items):
        source = f"{name}#{item.path}"
        if item.kind == "unreadable":
            collector.note(name, source, item.raw, _UNREADABLE_SAMPLE)
            continue
        main = collector.add(
            name, source, item.raw,
            lambda: _map_item(item, accepted, observed, owner_salt),
            text_fields=_TEXT_FIELDS.get(item.kind, ()),
        )
        if item.kind == "comment":
            accepted[index] = main["comment_id"] if main else None


def finish_collection(collector: BatchCollector) -> None:
    """Once every response is in: fold name-keyed authors into ids, then resolve comment threads."""
    _merge_name_keyed_agents(collector)
    collector.resolve_threads()


def _map_item(
    item: ApiItem, accepted: dict[int, str | None], observed: pd.Timestamp, salt: str
) -> MappedRows:
    """Route one item to its mapper; a reply whose enclosing comment was rejected is rejected too."""
    if item.kind == "post":
        return map_post(item.raw, observed, default_author=item.default_author, salt=salt)
    if item.kind == "comment":
        parent_id = None
        if item.parent_index is not None:
            parent_id = accepted.get(item.parent_index)
            if parent_id is None:
                raise RowRejected("reply to a comment that could not be mapped")
        return map_comment(
            item.raw, observed, post_id=item.post_id, parent_id=parent_id,
            nested=item.parent_index is not None, default_author=item.default_author, salt=salt,
        )
    if item.kind == "submolt":
        return {"communities": [map_submolt(item.raw)]}
    return map_agent(item.raw, observed, salt=salt)


def _merge_name_keyed_agents(collector: BatchCollector) -> None:
    """Fold agents known only by name (bare-string authors) into the one platform id that name has."""
    agents = collector.rows["agents"]
    ids_by_name: dict[str, set[str]] = defaultdict(set)
    for (agent_id,), row in agents.items():
        if not row.get("_keyed_by_name") and row.get("name"):
            ids_by_name[row["name"]].add(agent_id)
    renames = {
        key[0]: next(iter(ids_by_name[row["name"]]))
        for key, row in agents.items()
        if row.get("_keyed_by_name") and len(ids_by_name.get(row["name"], ())) == 1
    }
    for name_key, agent_id in renames.items():
        row = agents.pop((name_key,))
        collector.put("agents", {**row, "agent_id": agent_id, "_keyed_by_name": False})
        snapshots = collector.rows["agent_snapshots"]
        for key in [k for k in snapshots if k[0] == name_key]:
            collector.put("agent_snapshots", {**snapshots.pop(key), "agent_id": agent_id})
        for table in ("posts", "comments"):
            for content_row in collector.rows[table].values():
                if content_row.get("author_id") == name_key:
                    content_row["author_id"] = agent_id


def parse_api_dump(
    directory: Path,
    society_id: str,
    observed_at: pd.Timestamp | None = None,
    *,
    owner_salt: str = DEFAULT_OWNER_SALT,
) -> CanonicalBatch:
    """The canonical batch of every `*.json` response in `directory` (files in name order).

    `observed_at` dates every sighting (snapshots, first/last seen); by default the latest
    timestamp inside the dump.
    """
    directory = Path(directory)
    files = sorted(directory.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no *.json response files in {directory}")
    payloads = [(path.name, load_payload(path)) for path in files]
    return parse_api_payloads(
        payloads, society_id, observed_at, source_uri=str(directory), owner_salt=owner_salt
    )
