"""Integrity checks on one society's canonical tables, as plain SQL over the warehouse."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# (table, column) pairs that count things and so can never be negative.
COUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("posts", "upvotes"),
    ("posts", "downvotes"),
    ("posts", "comment_count"),
    ("comments", "upvotes"),
    ("comments", "downvotes"),
    ("agents", "follower_count"),
    ("agents", "following_count"),
    ("communities", "subscriber_count"),
    ("post_snapshots", "comment_count"),
    ("agent_snapshots", "follower_count"),
    ("agent_snapshots", "following_count"),
)

ID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("posts", "post_id"),
    ("comments", "comment_id"),
    ("agents", "agent_id"),
    ("communities", "community_id"),
)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    failures: int
    detail: str


def unique_ids(conn: duckdb.DuckDBPyConnection, society_id: str) -> CheckOutcome:
    duplicated = []
    for table, column in ID_COLUMNS:
        n = conn.execute(
            f"SELECT count(*) FROM (SELECT {column} FROM {table} WHERE society_id = ? "
            f"GROUP BY {column} HAVING count(*) > 1)",
            [society_id],
        ).fetchone()[0]
        if n:
            duplicated.append(f"{table}.{column}: {n}")
    return CheckOutcome(
        "unique_ids", not duplicated, len(duplicated), "; ".join(duplicated) or "all ids unique"
    )


def comments_have_posts(conn: duckdb.DuckDBPyConnection, society_id: str) -> CheckOutcome:
    rows = conn.execute(
        "SELECT c.comment_id FROM comments c WHERE c.society_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM posts p WHERE p.society_id = c.society_id AND p.post_id = c.post_id) "
        "ORDER BY c.comment_id",
        [society_id],
    ).fetchall()
    examples = ", ".join(r[0] for r in rows[:5])
    detail = f"{len(rows)} comments point at a missing post" + (f" (e.g. {examples})" if rows else "")
    return CheckOutcome("comments_have_posts", not rows, len(rows), detail)


def no_negative_counts(conn: duckdb.DuckDBPyConnection, society_id: str) -> CheckOutcome:
    offenders = []
    for table, column in COUNT_COLUMNS:
        n = conn.execute(
            f"SELECT count(*) FROM {table} WHERE society_id = ? AND {column} < 0", [society_id]
        ).fetchone()[0]
        if n:
            offenders.append(f"{table}.{column}: {n}")
    total = len(offenders)
    return CheckOutcome(
        "no_negative_counts", not offenders, total, "; ".join(offenders) or "no negative counts"
    )


def check_traces(conn: duckdb.DuckDBPyConnection, society_id: str) -> list[CheckOutcome]:
    return [
        unique_ids(conn, society_id),
        comments_have_posts(conn, society_id),
        no_negative_counts(conn, society_id),
    ]


TRACE_CHECK_NAMES = ("unique_ids", "comments_have_posts", "no_negative_counts")
