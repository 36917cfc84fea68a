"""Import the SQLite trace database of an OASIS run (camel-ai/oasis) as canonical rows (MOLTBOOK_API §9.1).

Tables read: user, post, comment, like, dislike, follow, trace, and when present comment_like,
comment_dislike, mute, report and rec. Only user and post must exist. Columns are found with
PRAGMA table_info, so a column an OASIS version lacks reads as NULL and extra columns are ignored.
The database is opened read-only; text that is not valid UTF-8 (or stored as a BLOB) is decoded
with replacement, and lone surrogates become U+FFFD.

Clock. OASIS stamps created_at with a simulated datetime (the reddit recommender: text such as
`2024-08-01 12:00:00.000000`) or with the integer time step (the other recommenders). Each value
is read by its type: an integer, or integer text, is a step and becomes
`clock_start + step × step_seconds` (defaults 2026-01-01T00:00Z and 60 s; both are arguments and
are recorded in the society's config), and the step is kept in actions.step; other text is a
datetime (naive = UTC). The run ends at the latest time in the database unless `end_time` says.

Ids are the platform ids as given ("3"): every canonical table is keyed per society. Votes are
the exception, since OASIS numbers its four vote tables separately: `like:3`, `dislike:3`,
`comment_like:3`, `comment_dislike:3`.

Mapping:
- user → agents (user_name → name, bio → description, follower/following counts) and one
  agent_snapshots row at the run's end time.
- post → posts in one synthetic community `oasis`: likes → upvotes, dislikes → downvotes,
  score = up − down, empty title, comment_count = the comments imported for it. A post with an
  original_post_id is a repost (no quote_content) or a quote: the link and the quote text go to
  the info of its `repost` / `quote` row in actions.
- comment → comments, flat: parent NULL, depth 1, root_id = its own id.
- like / dislike / comment_like / comment_dislike → votes (+1 / −1). follow → follows ('follow').
- trace → actions, seq = the row's position in the trace table, action names mapped onto the
  simulators' vocabulary (ACTION_TYPES) with the OASIS name kept as info_json.oasis_action;
  `refresh` rows also give exposures, one per post they list (rank = position in the list).
- mute, report → actions. A trace row already records every repost, quote, mute and report
  OASIS performs; the table row then adds its details to that action (quote text, mute_id,
  report_reason) and only a table row with no trace row becomes an action of its own.
- rec → exposures at the final step (rank = row order per user). OASIS rewrites rec during the
  run, so this is the last feed only.
- Exposures need a step: a datetime-clock run uses whole `step_seconds` since its first time.

Bad rows go to quarantine with the reason: missing ids, times that do not parse, text over the
size limit, and dangling references (a post, comment, vote, follow, mute, report, trace or rec
row of an unknown user; a comment, vote, report or rec row on a missing post or comment; a
repost of a missing post). Rows are checked against the rows already imported, tables read in
TABLE_ORDER, so a row pointing at a quarantined row is quarantined too. A mute or report row
that its trace row records is not an input row of its own. Row sources are
`<table>:<n>`, n the row's 1-based position in rowid order. A table whose rows all fail raises
NoValidRowsError. No dagster here.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from assets.ingest.clean import (
    BatchCollector,
    MappedRows,
    RowRejected,
    checked_text,
    clean_id,
    required_id,
    to_int,
    to_utc_timestamp,
)
from warehouse.batch import CanonicalBatch

PARSER_VERSION = "1"
DEFAULT_CLOCK_START = pd.Timestamp("2026-01-01T00:00:00Z")
DEFAULT_STEP_SECONDS = 60.0
COMMUNITY_ID = "oasis"  # OASIS has no communities: one synthetic community per run
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

REQUIRED_TABLES = ("user", "post")
# Read in this order: a row's references are checked against the tables before it.
TABLE_ORDER = (
    "user", "post", "comment", "like", "dislike", "comment_like", "comment_dislike", "follow",
    "mute", "report", "trace", "rec",
)

# OASIS action name → our action vocabulary; names not listed are kept as they are.
ACTION_NAMES: dict[str, str] = {
    "like_post": "upvote",
    "like_comment": "upvote",
    "dislike_post": "downvote",
    "dislike_comment": "downvote",
    "unlike_post": "retract_vote",
    "unlike_comment": "retract_vote",
    "undo_dislike_post": "retract_vote",
    "undo_dislike_comment": "retract_vote",
    "quote_post": "quote",
    "report_post": "report",
}
# Where a trace row's info names its target: (target type, info key).
TARGET_KEYS: dict[str, tuple[str, str]] = {
    "create_post": ("post", "post_id"),
    "like_post": ("post", "post_id"),
    "unlike_post": ("post", "post_id"),
    "dislike_post": ("post", "post_id"),
    "undo_dislike_post": ("post", "post_id"),
    "report_post": ("post", "post_id"),
    "repost": ("post", "reposted_id"),
    "quote_post": ("post", "quoted_id"),
    "like_comment": ("comment", "comment_id"),
    "unlike_comment": ("comment", "comment_id"),
    "dislike_comment": ("comment", "comment_id"),
    "undo_dislike_comment": ("comment", "comment_id"),
    "unfollow": ("user", "followee_id"),
    "mute": ("user", "mutee_id"),
    "unmute": ("user", "mutee_id"),
}
# Vote tables: (id column, target column, target type, canonical table of the target, value).
VOTE_TABLES: dict[str, tuple[str, str, str, str, int]] = {
    "like": ("like_id", "post_id", "post", "posts", 1),
    "dislike": ("dislike_id", "post_id", "post", "posts", -1),
    "comment_like": ("comment_like_id", "comment_id", "comment", "comments", 1),
    "comment_dislike": ("comment_dislike_id", "comment_id", "comment", "comments", -1),
}
_INT32_MAX = 2**31 - 1

Row = dict[str, Any]


# --------------------------------------------------------------------------------------------
# The database


def _decode(raw: bytes) -> str:
    """SQLite text as str: lone surrogates survive (clean_text replaces them), bad bytes → U+FFFD."""
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def open_database(path: Path) -> sqlite3.Connection:
    """Read-only connection: importing never changes the database."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    conn.text_factory = _decode
    return conn


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def read_table(conn: sqlite3.Connection, table: str) -> list[Row]:
    """Every row of `table` as a dict of its columns (found by introspection), in rowid order.

    A BLOB is read as UTF-8 text: OASIS stores none, so one is text a broken writer stored raw."""
    columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    if not columns:
        return []
    selected = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    try:
        cursor = conn.execute(f'SELECT {selected} FROM "{table}" ORDER BY rowid')
    except sqlite3.OperationalError:  # a WITHOUT ROWID table keeps its stored order
        cursor = conn.execute(f'SELECT {selected} FROM "{table}"')
    return [
        {c: _decode(v) if isinstance(v, bytes) else v for c, v in zip(columns, values)}
        for values in cursor
    ]


def is_oasis_database(path: Path) -> bool:
    """A SQLite file holding OASIS's `user` and `post` tables."""
    if not path.is_file():
        return False
    try:
        with closing(open_database(path)) as conn:
            return set(REQUIRED_TABLES) <= table_names(conn)
    except sqlite3.Error:
        return False


def find_oasis_database(path: Path) -> Path | None:
    """The OASIS database at `path`: the file itself, or the one database file in the folder."""
    path = Path(path)
    if path.is_file():
        return path if is_oasis_database(path) else None
    if not path.is_dir():
        return None
    candidates = [
        p for p in sorted(path.iterdir()) if p.suffix.lower() in DATABASE_SUFFIXES and p.is_file()
    ]
    if len(candidates) != 1:
        return None
    return candidates[0] if is_oasis_database(candidates[0]) else None


# --------------------------------------------------------------------------------------------
# Time


@dataclass(frozen=True)
class OasisClock:
    """How OASIS time values become timestamps (steps through `start` and `step_seconds`)."""

    start: pd.Timestamp = DEFAULT_CLOCK_START
    step_seconds: float = DEFAULT_STEP_SECONDS

    def read(self, value: Any, field_name: str = "created_at") -> tuple[pd.Timestamp, int | None]:
        """(timestamp, step) of one value; step is None for a datetime. RowRejected if neither."""
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RowRejected(f"{field_name} is missing")
        step = to_int(value)
        if step is not None:
            if not 0 <= step <= _INT32_MAX:
                raise RowRejected(f"{field_name} step {step} is out of range")
            try:
                return self.start + pd.Timedelta(seconds=step * self.step_seconds), step
            except (OverflowError, ValueError):
                raise RowRejected(f"{field_name} step {step} is beyond the calendar") from None
        stamp = to_utc_timestamp(value)
        if stamp is None:
            raise RowRejected(f"{field_name} is unparseable ({str(value)[:60]!r})")
        return stamp, None


@dataclass(frozen=True)
class RunTimes:
    """The span of a run, read off every created_at in its database before any row is mapped."""

    start: pd.Timestamp
    end: pd.Timestamp
    last_step: int | None  # the highest step number, when the run counts steps
    clock_kinds: tuple[str, ...]  # 'datetime' and/or 'step'


def run_times(
    tables: dict[str, list[Row]], clock: OasisClock, end_time: pd.Timestamp | None
) -> RunTimes:
    """The run's first and last time (`end_time` overrides the last) and its clock kinds."""
    stamps: list[pd.Timestamp] = []
    steps: list[int] = []
    kinds: set[str] = set()
    for rows in tables.values():
        for row in rows:
            try:
                stamp, step = clock.read(row.get("created_at"))
            except RowRejected:
                continue
            stamps.append(stamp)
            kinds.add("datetime" if step is None else "step")
            if step is not None:
                steps.append(step)
    end = to_utc_timestamp(end_time) if end_time is not None else (max(stamps) if stamps else None)
    if end is None:
        raise ValueError("no readable time in the database to date the run's end; pass end_time")
    return RunTimes(
        start=min(stamps) if stamps else end, end=end, last_step=max(steps) if steps else None,
        clock_kinds=tuple(sorted(kinds)),
    )


# --------------------------------------------------------------------------------------------
# Mapping


def _parse_info(value: Any) -> dict[str, Any]:
    """A trace row's info as a dict; text that is not a JSON object is kept under `info_text`."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {"info_text": value}
        return parsed if isinstance(parsed, dict) else {"info": parsed}
    return {"info": value}


def _post_ids(posts: Any) -> list[str | None]:
    """The ids of the posts a refresh / trend / search row lists, in the order shown."""
    if not isinstance(posts, list):
        return []
    return [clean_id(item.get("post_id")) if isinstance(item, dict) else None for item in posts]


@dataclass
class OasisRun:
    """What the row mappers share: clock, time span, feed name, collector and cross-table links."""

    clock: OasisClock
    times: RunTimes
    feed: str
    collector: BatchCollector
    lookups: dict[str, dict[Any, Row]]  # raw rows by id, for the details a trace row refers to
    trace_links: set[tuple[str, Any]]  # the post / report / mute rows a trace row records
    next_seq: int  # the last seq handed out

    def known(self, table: str, ident: str | None) -> bool:
        return ident is not None and (ident,) in self.collector.rows[table]

    def require(self, table: str, ident: str | None, what: str) -> str:
        """`ident`, when it names a row already imported into `table`; RowRejected otherwise."""
        if ident is None:
            raise RowRejected(f"{what} is missing or empty")
        if not self.known(table, ident):
            raise RowRejected(f"{what} {ident[:40]} is not an imported {table[:-1]}")
        return ident

    def exposure_step(self, stamp: pd.Timestamp, step: int | None) -> int:
        """The step of an exposure: the clock's own, else whole step_seconds since the run began."""
        if step is not None:
            return step
        return int((stamp - self.times.start).total_seconds() // self.clock.step_seconds)

    def final_step(self) -> int:
        if self.times.last_step is not None:
            return self.times.last_step
        return self.exposure_step(self.times.end, None)

    def allocate_seq(self) -> int:
        self.next_seq += 1
        return self.next_seq


def _by_id(rows: list[Row], *keys: str) -> dict[Any, Row]:
    """Rows by the id in `keys` (one key: the id; several: a tuple of ids); the first row wins."""
    found: dict[Any, Row] = {}
    for row in rows:
        ids = tuple(clean_id(row.get(key)) for key in keys)
        if None not in ids:
            found.setdefault(ids[0] if len(ids) == 1 else ids, row)
    return found


def build_lookups(tables: dict[str, list[Row]]) -> dict[str, dict[Any, Row]]:
    return {
        "post": _by_id(tables.get("post", []), "post_id"),
        "comment": _by_id(tables.get("comment", []), "comment_id"),
        "follow": _by_id(tables.get("follow", []), "follow_id"),
        "report": _by_id(tables.get("report", []), "report_id"),
        "mute": _by_id(tables.get("mute", []), "muter_id", "mutee_id"),
    }


def find_trace_links(trace: list[Row]) -> set[tuple[str, Any]]:
    """The post, report and mute rows that a trace row already records as an action."""
    links: set[tuple[str, Any]] = set()
    for row in trace:
        action = clean_id(row.get("action"))
        info = _parse_info(row.get("info"))
        if action in ("repost", "quote_post") and clean_id(info.get("new_post_id")):
            links.add(("post", clean_id(info.get("new_post_id"))))
        elif action == "report_post" and clean_id(info.get("report_id")):
            links.add(("report", clean_id(info.get("report_id"))))
        elif action == "mute":
            links.add(("mute", (clean_id(row.get("user_id")), clean_id(info.get("mutee_id")))))
    return links


def _vote_counts(row: Row) -> dict[str, int | None]:
    """upvotes, downvotes and score = up − down of an OASIS post or comment (num_likes/dislikes)."""
    upvotes, downvotes = to_int(row.get("num_likes")), to_int(row.get("num_dislikes"))
    score = upvotes - downvotes if upvotes is not None and downvotes is not None else None
    return {"upvotes": upvotes, "downvotes": downvotes, "score": score}


def _info_json(info: dict[str, Any]) -> str:
    return checked_text(json.dumps(info, ensure_ascii=False, sort_keys=True, default=str), "info")


def _action(
    run: OasisRun, seq: int, agent_id: str, stamp: pd.Timestamp, step: int | None,
    action_type: str, target_id: str | None, info: dict[str, Any],
) -> Row:
    return {
        "seq": seq, "agent_id": agent_id, "step": step, "created_at": stamp,
        "action_type": action_type, "target_id": target_id, "info_json": _info_json(info),
        "source": None,
    }


def map_user(row: Row, run: OasisRun) -> MappedRows:
    """agents + one agent_snapshots row at the run's end (OASIS counts are the final ones)."""
    user_id = required_id(row.get("user_id"), "user_id")
    created_at = None
    if row.get("created_at") not in (None, ""):
        created_at = run.clock.read(row.get("created_at"))[0]
    counts = {
        "follower_count": to_int(row.get("num_followers")),
        "following_count": to_int(row.get("num_followings")),
    }
    agent = {
        "agent_id": user_id,
        "name": checked_text(row.get("user_name"), "user_name"),
        "description": checked_text(row.get("bio"), "bio"),
        **counts,
        "created_at": created_at,
    }
    snapshot = {"agent_id": user_id, "observed_at": run.times.end, **counts}
    return {"agents": [agent], "agent_snapshots": [snapshot]}


def map_post(row: Row, run: OasisRun) -> MappedRows:
    """posts, plus a repost / quote action when no trace row records one."""
    post_id = required_id(row.get("post_id"), "post_id")
    author_id = run.require("agents", clean_id(row.get("user_id")), "user_id")
    created_at, step = run.clock.read(row.get("created_at"))
    original = clean_id(row.get("original_post_id"))
    if original is not None:
        run.require("posts", original, "original_post_id")
    post = {
        "post_id": post_id,
        "community_id": COMMUNITY_ID,
        "author_id": author_id,
        "title": "",
        "content": checked_text(row.get("content"), "content"),
        **_vote_counts(row),
        "created_at": created_at,
        "is_deleted": False,
    }
    mapped: MappedRows = {"posts": [post]}
    if original is not None and ("post", post_id) not in run.trace_links:
        quote = checked_text(row.get("quote_content"), "quote_content")
        info = {"oasis_table": "post", "created_id": post_id, "original_post_id": original,
                "quote_content": quote, "target_type": "post"}
        kind = "repost" if quote is None else "quote"
        mapped["actions"] = [
            _action(run, run.allocate_seq(), author_id, created_at, step, kind, original, info)
        ]
    return mapped


def map_comment(row: Row, run: OasisRun) -> MappedRows:
    """comments; OASIS comments are flat (parent NULL, depth 1 once threads are resolved)."""
    comment_id = required_id(row.get("comment_id"), "comment_id")
    post_id = run.require("posts", clean_id(row.get("post_id")), "post_id")
    author_id = run.require("agents", clean_id(row.get("user_id")), "user_id")
    created_at, _ = run.clock.read(row.get("created_at"))
    comment = {
        "comment_id": comment_id,
        "post_id": post_id,
        "parent_id": None,
        "author_id": author_id,
        "content": checked_text(row.get("content"), "content"),
        **_vote_counts(row),
        "created_at": created_at,
    }
    return {"comments": [comment]}


def map_vote(table: str, row: Row, run: OasisRun) -> MappedRows:
    """votes: one like / dislike (of a post or comment) with voter, target and value."""
    id_column, target_column, target_type, target_table, value = VOTE_TABLES[table]
    vote_id = required_id(row.get(id_column), id_column)
    voter_id = run.require("agents", clean_id(row.get("user_id")), "user_id")
    target_id = run.require(target_table, clean_id(row.get(target_column)), target_column)
    created_at, _ = run.clock.read(row.get("created_at"))
    vote = {
        "vote_id": f"{table}:{vote_id}", "voter_id": voter_id, "target_type": target_type,
        "target_id": target_id, "value": value, "created_at": created_at,
    }
    return {"votes": [vote]}


def map_follow(row: Row, run: OasisRun) -> MappedRows:
    follower_id = run.require("agents", clean_id(row.get("follower_id")), "follower_id")
    followee_id = run.require("agents", clean_id(row.get("followee_id")), "followee_id")
    created_at, _ = run.clock.read(row.get("created_at"))
    follow = {
        "follower_id": follower_id, "followee_id": followee_id, "created_at": created_at,
        "action": "follow",
    }
    return {"follows": [follow]}


def map_mute(row: Row, run: OasisRun) -> MappedRows:
    """A mute with no trace row of its own becomes a `mute` action."""
    muter_id = run.require("agents", clean_id(row.get("muter_id")), "muter_id")
    mutee_id = run.require("agents", clean_id(row.get("mutee_id")), "mutee_id")
    created_at, step = run.clock.read(row.get("created_at"))
    info = {"oasis_table": "mute", "mute_id": to_int(row.get("mute_id")), "target_type": "user"}
    return {"actions": [
        _action(run, run.allocate_seq(), muter_id, created_at, step, "mute", mutee_id, info)
    ]}


def map_report(row: Row, run: OasisRun) -> MappedRows:
    """A report with no trace row of its own becomes a `report` action."""
    user_id = run.require("agents", clean_id(row.get("user_id")), "user_id")
    post_id = run.require("posts", clean_id(row.get("post_id")), "post_id")
    created_at, step = run.clock.read(row.get("created_at"))
    info = {
        "oasis_table": "report", "report_id": to_int(row.get("report_id")),
        "report_reason": checked_text(row.get("report_reason"), "report_reason"),
        "target_type": "post",
    }
    return {"actions": [
        _action(run, run.allocate_seq(), user_id, created_at, step, "report", post_id, info)
    ]}


def _trace_details(
    action: str, info: dict[str, Any], user_id: str, run: OasisRun
) -> tuple[str | None, dict[str, Any]]:
    """The target of a trace row, and what the other tables add to its info."""
    extra: dict[str, Any] = {}
    target_type, target_id = None, None
    if action in TARGET_KEYS:
        target_type, key = TARGET_KEYS[action]
        target_id = clean_id(info.get(key))
    elif action == "create_comment":
        comment = run.lookups["comment"].get(clean_id(info.get("comment_id")) or "")
        target_type, target_id = "post", clean_id(comment.get("post_id")) if comment else None
        extra["created_id"] = clean_id(info.get("comment_id"))
    elif action == "follow":
        follow = run.lookups["follow"].get(clean_id(info.get("follow_id")) or "")
        target_type, target_id = "user", clean_id(follow.get("followee_id")) if follow else None
    if action in ("repost", "quote_post"):
        post = run.lookups["post"].get(clean_id(info.get("new_post_id")) or "")
        extra["created_id"] = clean_id(info.get("new_post_id"))
        if post:
            extra["original_post_id"] = clean_id(post.get("original_post_id"))
            extra["quote_content"] = checked_text(post.get("quote_content"), "quote_content")
    elif action == "report_post":
        report = run.lookups["report"].get(clean_id(info.get("report_id")) or "")
        if report:
            extra["report_reason"] = checked_text(report.get("report_reason"), "report_reason")
    elif action == "mute":
        mute = run.lookups["mute"].get((user_id, clean_id(info.get("mutee_id"))))
        if mute:
            extra["mute_id"] = to_int(mute.get("mute_id"))
    if target_id is not None:
        extra["target_type"] = target_type
    return target_id, extra


def map_trace(row: Row, n: int, run: OasisRun) -> MappedRows:
    """actions (seq = n, the row's position in trace); a refresh also gives its exposures."""
    user_id = run.require("agents", clean_id(row.get("user_id")), "user_id")
    created_at, step = run.clock.read(row.get("created_at"))
    action = clean_id(row.get("action"))
    if action is None:
        raise RowRejected("action is missing or empty")
    info = _parse_info(row.get("info"))
    shown: list[str | None] = []
    if "posts" in info:  # refresh, trend, search: whole posts; their ids suffice, text is in posts
        shown = _post_ids(info.pop("posts"))
        info["post_ids"] = shown
    target_id, extra = _trace_details(action, info, user_id, run)
    details = {**info, **extra, "oasis_action": action}
    mapped: MappedRows = {
        "actions": [_action(run, n, user_id, created_at, step, ACTION_NAMES.get(action, action),
                            target_id, details)]
    }
    if action == "refresh":
        exposure_step = run.exposure_step(created_at, step)
        mapped["exposures"] = [
            {"agent_id": user_id, "step": exposure_step, "item_id": post_id, "feed": run.feed,
             "rank": rank}
            for rank, post_id in enumerate(shown, start=1)
            if run.known("posts", post_id)
        ]
    return mapped


def map_rec(row: Row, rank: int, run: OasisRun) -> MappedRows:
    """exposures: the run's last feed, at the final step."""
    agent_id = run.require("agents", clean_id(row.get("user_id")), "user_id")
    post_id = run.require("posts", clean_id(row.get("post_id")), "post_id")
    exposure = {"agent_id": agent_id, "step": run.final_step(), "item_id": post_id,
                "feed": run.feed, "rank": rank}
    return {"exposures": [exposure]}


# --------------------------------------------------------------------------------------------
# The whole run


ROW_MAPPERS: dict[str, Callable[[Row, OasisRun], MappedRows]] = {
    "user": map_user, "post": map_post, "comment": map_comment, "follow": map_follow,
    "mute": map_mute, "report": map_report,
}


def _recorded_by_trace(table: str, row: Row, run: OasisRun) -> bool:
    """A mute or report row whose trace row is already its action (and carries its details)."""
    if table == "mute":
        return ("mute", (clean_id(row.get("muter_id")), clean_id(row.get("mutee_id")))) in run.trace_links
    if table == "report":
        return ("report", clean_id(row.get("report_id"))) in run.trace_links
    return False


def _map_row(table: str, row: Row, n: int, rank: int, run: OasisRun) -> MappedRows:
    if table in VOTE_TABLES:
        return map_vote(table, row, run)
    if table == "trace":
        return map_trace(row, n, run)
    if table == "rec":
        return map_rec(row, rank, run)
    return ROW_MAPPERS[table](row, run)


def _add_rows(run: OasisRun, table: str, rows: list[Row]) -> None:
    """Feed one OASIS table to the collector; row n is the table's n-th row in rowid order."""
    run.collector.add_file(table)
    rec_rank: Counter[str] = Counter()  # rank in rec = position among the user's rows, bad ones too
    for n, row in enumerate(rows, start=1):
        if _recorded_by_trace(table, row, run):
            continue
        rank = 0
        if table == "rec":
            rec_rank[clean_id(row.get("user_id")) or ""] += 1
            rank = rec_rank[clean_id(row.get("user_id")) or ""]
        run.collector.add(
            table, f"{table}:{n}", row, lambda: _map_row(table, row, n, rank, run),
            text_fields=("content",) if table in ("post", "comment") else (),
        )


def parse_oasis_db(
    path: Path,
    society_id: str,
    end_time: pd.Timestamp | None = None,
    *,
    recommender: str | None = None,
    step_seconds: float = DEFAULT_STEP_SECONDS,
    clock_start: pd.Timestamp | str = DEFAULT_CLOCK_START,
) -> CanonicalBatch:
    """The canonical batch of one OASIS run: `path` is its database file or a folder holding it.

    `end_time` dates the agent snapshots (default: the latest time in the database);
    `recommender` names the feed of the exposures (default 'rec'); `step_seconds` and
    `clock_start` turn step numbers into times.
    """
    database = find_oasis_database(Path(path))
    if database is None:
        raise FileNotFoundError(f"{path}: no OASIS database (a SQLite file with user and post tables)")
    start = to_utc_timestamp(clock_start)
    if start is None or not step_seconds > 0:
        raise ValueError("clock_start must be a timestamp and step_seconds positive")
    clock = OasisClock(start=start, step_seconds=float(step_seconds))
    with closing(open_database(database)) as conn:
        present = table_names(conn)
        tables = {name: read_table(conn, name) for name in TABLE_ORDER if name in present}
    try:
        times = run_times(tables, clock, end_time)
    except ValueError as err:
        raise ValueError(f"{database}: {err}") from None

    run = OasisRun(
        clock=clock, times=times, feed=recommender or "rec", collector=BatchCollector(),
        lookups=build_lookups(tables), trace_links=find_trace_links(tables.get("trace", [])),
        next_seq=len(tables.get("trace", [])),  # trace rows take seq 1..n, table-made actions follow
    )
    run.collector.put("communities", {
        "community_id": COMMUNITY_ID, "name": COMMUNITY_ID, "display_name": "OASIS",
        "description": "Synthetic community: OASIS has none, so every post of the run is here.",
        "created_at": times.start,
    })
    for name in TABLE_ORDER:
        if name in tables:
            _add_rows(run, name, tables[name])

    comment_counts = Counter(row["post_id"] for row in run.collector.rows["comments"].values())
    for (post_id,), post in run.collector.rows["posts"].items():
        post["comment_count"] = comment_counts.get(post_id, 0)
    run.collector.resolve_threads()
    run.collector.check_files()

    config: dict[str, Any] = {
        "parser": "oasis",
        "parser_version": PARSER_VERSION,
        "recommender": recommender,
        "clock": "+".join(times.clock_kinds) or None,
        "run_start": times.start.isoformat(),
        "run_end": times.end.isoformat(),
        "tables": sorted(tables),
    }
    if "step" in times.clock_kinds:
        config.update(clock_start=start.isoformat(), step_seconds=float(step_seconds))
    society = {
        "society_id": society_id, "kind": "trace", "platform": "oasis", "config_json": config,
        "source_uri": str(database),
    }
    return run.collector.batch(society)
