"""Read-only access for notebooks, reports and the UI; never takes the writer's lock."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pandas as pd


@contextmanager
def open_reader(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run `make run` (or `observatory run`) first")
    conn = duckdb.connect(str(path), read_only=True)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


def query(path: str | Path, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Run one read-only query and return its rows."""
    with open_reader(path) as conn:
        return conn.execute(sql, params or []).df()


def society_overview(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per society: where it came from and how much of it the warehouse holds."""
    return conn.execute(
        "SELECT s.society_id, s.kind, s.platform, s.preset, s.seed, s.source_uri, "
        " (SELECT count(*) FROM posts p WHERE p.society_id = s.society_id) AS n_posts, "
        " (SELECT count(*) FROM comments c WHERE c.society_id = s.society_id) AS n_comments, "
        " (SELECT count(*) FROM agents a WHERE a.society_id = s.society_id) AS n_agents, "
        " (SELECT count(*) FROM quarantine q WHERE q.society_id = s.society_id) AS n_quarantined, "
        " (SELECT count(*) FROM society_metric m WHERE m.society_id = s.society_id) AS n_metrics "
        "FROM societies s ORDER BY s.society_id"
    ).df()


def export_parquet(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write every warehouse table to `<out_dir>/<table>.parquet` for tools that do not speak DuckDB."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with open_reader(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        for table in tables:
            target = out_dir / f"{table}.parquet"
            conn.execute(f"COPY \"{table}\" TO '{target.as_posix()}' (FORMAT parquet)")
            written.append(target)
    return written
