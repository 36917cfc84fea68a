"""Incremental, resumable sync of the live Moltbook read API into the warehouse (MOLTBOOK_API §4, §7).

One sync run walks these phases in order, each resumable:

1. `discovery`: `/posts?sort=new` page by page (cursor or offset, whichever the answer carries)
   down to the high-water mark of the last finished run, minus an overlap (§7.2);
2. `rereads`: `/posts/{id}` for recent posts whose age crossed a point of the decaying re-read
   schedule since their last sighting (§7.4), so comment counts and votes keep being observed;
3. `comments`: `/posts/{id}/comments` under every sort (all pages, union by id) for posts whose
   reported comment_count exceeds what is stored and grew since the last fetch (§7.3);
4. `deletions`: a post that answered 404 is checked again once `deletion_confirm_s` has passed;
   a second 404 marks it `is_deleted` (never removed), a 200 clears the suspicion (§7.5);
5. `profiles`: `/agents/profile` for authors never read or stale (§7.1);
6. `communities`: `/submolts` (offset-paged) when the last refresh is older than an hour;
7. `stats`: `/stats`, retried while it answers zeros (§2), and the coverage metrics (§7.6).

Every answer is archived first (`raw_archive`), then parsed with the same tolerant parser as
dumps, and rows are written in transactions that also store the run's progress (cursor, phase,
counters) in `ingest_runs.cursor_json` and the per-post crawl state. A run killed at any point
therefore resumes from its last commit: the rows already written are upserts, so work redone
after the commit adds nothing twice. Observation times are the server's `Date` header, so the
same answers always give the same tables, whatever retries or restarts happened on the way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Protocol

import duckdb
import pandas as pd

from assets.ingest.clean import (
    DEFAULT_OWNER_SALT,
    BatchCollector,
    clean_id,
    society_row,
    thread_positions,
    to_int,
    to_utc_timestamp,
)
from assets.ingest.moltbook_api import (
    COMMENT_CAP,
    collect_items,
    extract_items,
    finish_collection,
    read_envelope,
)
from assets.ingest.moltbook_client import (
    ApiError,
    ApiResponse,
    ApiUnavailable,
    ClientStats,
    MoltbookClient,
    api_path,
)
from assets.ingest.raw_archive import (
    ArchiveRecord,
    ArchiveWriter,
    read_records,
    record_of,
    run_folder,
)
from assets.ingest.shape_drift import Shape, ShapeChanges, add_to_shape, compare_shapes, endpoint_of
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import MetricRow, metrics_frame
from warehouse.writer import registered, transaction, upsert, upsert_canonical, upsert_quarantine

log = logging.getLogger(__name__)

SOURCE = "moltbook_live"
PARSER_VERSION = "live-1"
PHASES = ("discovery", "rereads", "comments", "deletions", "profiles", "communities", "stats", "done")
# Re-read a post when its age passes one of these points after its last sighting (§7.4).
REREAD_AGES_S = (300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 14 * 86400, 21 * 86400, 28 * 86400)
REREAD_WINDOW_S = 30 * 86400
SHAPE_SAMPLES_PER_RUN = 25  # answers per endpoint fingerprinted for the drift report


@dataclass(frozen=True)
class SyncConfig:
    """How far and how hard one run goes. Defaults follow MOLTBOOK_API §4 and §7."""

    page_limit: int = 100
    overlap_s: float = 600.0  # discovery walks this far below the high-water mark
    max_listing_pages: int | None = None  # a first run on a big platform may cap its backfill
    stale_pages_stop: int = 3  # stop a listing after K pages of ids already seen in the pass
    max_rereads: int | None = 500
    comment_sorts: tuple[str, ...] = ("best", "new", "old")
    comment_page_limit: int = 100
    min_comment_age_s: float = 300.0  # let the early burst of comments arrive first (§7.3)
    max_comment_posts: int | None = None
    unreachable_retry_s: float = 7 * 86400.0  # a persisting deficit is retried weekly
    deletion_confirm_s: float = 3600.0
    max_profiles: int | None = 50
    profile_stale_s: float = 86400.0
    communities_every_s: float = 3600.0
    max_submolt_pages: int | None = None
    stats_attempts: int = 3
    commit_every_rows: int = 5000  # input rows per checkpointed transaction
    owner_salt: str = DEFAULT_OWNER_SALT


@dataclass
class SyncCounters:
    requested: int = 0  # answers received (after the client's retries)
    fetched: int = 0  # input rows parsed from them
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    not_found: int = 0
    listing_pages: int = 0
    duplicate_items: int = 0
    comment_posts: int = 0
    unreachable_posts: int = 0
    deleted_posts: int = 0
    profiles: int = 0
    failed_requests: int = 0  # gave up after retries; the item stays queued for the next run
    coverage_gaps: int = 0  # offset pages skipped after repeated server errors (§4.5)
    unknown_authors: int = 0


@dataclass
class SyncState:
    """Everything a run needs to resume, stored as ingest_runs.cursor_json."""

    run_id: str
    phase: str = "discovery"
    as_of: str | None = None  # the first answer's observation time: the run's clock
    listing_walk: str = "top"  # "top" (down to the mark), then "backfill" (older leftovers)
    listing_token: dict[str, Any] | None = None  # {"cursor": str} or {"offset": int}
    listing_mode: str | None = None
    listing_restarted: bool = False
    pass_newest_ts: str | None = None
    pass_newest_ids: list[str] = field(default_factory=list)
    pass_oldest_ts: str | None = None
    relist_window: list[str | None] | None = None  # created_at span the top walk fully re-listed
    hwm_ts: str | None = None  # the high-water mark: newest created_at of the last whole pass
    hwm_ids: list[str] = field(default_factory=list)
    backfill_tokens: list[dict[str, Any]] = field(default_factory=list)  # where capped walks stopped
    submolt_offset: int = 0
    communities_refreshed_at: str | None = None
    gaps: list[dict[str, Any]] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)  # endpoint → answer shape (drift, §3.7.7)
    shape_samples: dict[str, int] = field(default_factory=dict)  # answers fingerprinted per endpoint
    seq: int = 0  # archive records written by the run
    row_no: int = 0  # quarantine rows numbered so far
    counters: SyncCounters = field(default_factory=SyncCounters)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SyncState":
        data = json.loads(text)
        data["counters"] = SyncCounters(**data.get("counters", {}))
        return cls(**data)


@dataclass(frozen=True)
class SyncResult:
    run_id: str
    resumed: bool
    state: SyncState
    client_stats: dict[str, Any]
    archive_part: Path | None
    shape_changes: ShapeChanges  # against the last finished run


def _ts(value: str | None) -> pd.Timestamp | None:
    return pd.Timestamp(value) if value else None


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"live:{now:%Y%m%dT%H%M%S.%f}Z"


class PlatformClient(Protocol):
    """What a sync needs of a platform's read client; MoltbookClient is one, and another
    platform with Moltbook-shaped answers plugs in by providing the same three members."""

    base_url: str
    stats: ClientStats

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> ApiResponse: ...


# --------------------------------------------------------------------------------------------
# Pager (§4): next_cursor when present, else next_offset, else has_more + items received.


def next_page_token(body: Any, token: dict[str, Any] | None, n_items: int) -> dict[str, Any] | None:
    """The token of the page after this one, or None when the listing is done."""
    envelope = read_envelope(body)
    if n_items == 0 or envelope["has_more"] is False:
        return None
    if envelope["next_cursor"]:
        return {"cursor": envelope["next_cursor"]}
    if envelope["next_offset"] is not None:
        return {"offset": envelope["next_offset"]}
    if envelope["has_more"]:
        offset = int((token or {}).get("offset", 0))
        return {"offset": offset + n_items}
    return None


def _page_mode(token: dict[str, Any] | None) -> str | None:
    return next(iter(token)) if token else None


# --------------------------------------------------------------------------------------------
# The run


class LiveSync:
    """One sync run of one society over one client, writing through one warehouse connection."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        client: PlatformClient,
        archive_dir: Path,
        *,
        society_id: str = "moltbook",
        config: SyncConfig = SyncConfig(),
        run_id: str | None = None,
    ) -> None:
        self.conn = conn
        self.client = client
        self.society_id = society_id
        self.config = config
        self.started_at = datetime.now(timezone.utc)
        self.state, self.resumed = self._load_state(run_id)
        self.archive = ArchiveWriter(run_folder(archive_dir, society_id, self.state.run_id))
        self.collector = BatchCollector()
        self._rows_pending = 0
        self._touched_posts: set[str] = set()
        self._crawl_posts: dict[str, dict[str, Any]] = {}
        self._crawl_agents: dict[str, dict[str, Any]] = {}
        self._seen_in_pass: set[str] = set()  # listing dedupe (in memory: a resume starts afresh)
        self._listed: set[str] = set()  # posts listed since the last commit
        self._pages_this_run = 0

    # -- state -------------------------------------------------------------------------------

    def _load_state(self, run_id: str | None) -> tuple[SyncState, bool]:
        """Resume the society's unfinished run, else start one carrying the last run's marks."""
        unfinished = self.conn.execute(
            "SELECT run_id, cursor_json FROM ingest_runs WHERE society_id = ? AND source = ? "
            "AND finished_at IS NULL ORDER BY started_at DESC LIMIT 1",
            [self.society_id, SOURCE],
        ).fetchone()
        last = self.conn.execute(
            "SELECT cursor_json FROM ingest_runs WHERE society_id = ? AND source = ? "
            "AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
            [self.society_id, SOURCE],
        ).fetchone()
        previous = SyncState.from_json(last[0]) if last else None
        self._previous_shapes: dict[str, Shape] = previous.shapes if previous else {}
        if unfinished and (run_id is None or unfinished[0] == run_id):
            return SyncState.from_json(unfinished[1]), True
        state = SyncState(run_id=run_id or new_run_id(self.started_at))
        if previous:
            state.hwm_ts, state.hwm_ids = previous.hwm_ts, previous.hwm_ids
            state.backfill_tokens = previous.backfill_tokens
            state.communities_refreshed_at = previous.communities_refreshed_at
        return state, False

    @property
    def as_of(self) -> pd.Timestamp:
        assert self.state.as_of is not None, "as_of is set by the first answer"
        return pd.Timestamp(self.state.as_of)

    # -- fetching ----------------------------------------------------------------------------

    def fetch(self, path: str, params: dict[str, Any] | None = None) -> ApiResponse | None:
        """One answer, archived; None when the client gave up (counted, item left queued)."""
        try:
            response = self.client.get(path, params)
        except ApiUnavailable as err:
            self.state.counters.failed_requests += 1
            log.warning("giving up on %s for this run: %s", path, err)
            return None
        self.state.seq += 1
        self.archive.add(record_of(response, self.state.seq, PARSER_VERSION))
        self.state.counters.requested += 1
        if self.state.as_of is None:
            self.state.as_of = response.observed_at.isoformat()
        endpoint = endpoint_of(response.path)
        sampled = self.state.shape_samples.get(endpoint, 0)
        if response.status == 200 and response.body is not None and sampled < SHAPE_SAMPLES_PER_RUN:
            add_to_shape(self.state.shapes.setdefault(endpoint, {}), response.body)
            self.state.shape_samples[endpoint] = sampled + 1
        if response.status == 404:
            self.state.counters.not_found += 1
        return response

    def collect(self, response: ApiResponse) -> list[Any]:
        """Parse an answer's rows into the pending batch; returns its items."""
        items = extract_items(response.body)
        observed = pd.Timestamp(response.observed_at)
        name = f"{self.state.seq:08d}{response.path}"
        collect_items(self.collector, name, items, observed, self.config.owner_salt)
        self.state.counters.fetched += len(items)
        self._rows_pending += len(items)
        for item in items:
            raw = item.raw if isinstance(item.raw, dict) else {}
            if item.kind in ("post", "comment") and "author" in raw and raw["author"] is None:
                self.state.counters.unknown_authors += 1  # §3.7.5: counted per sync
            post_id = item.post_id or clean_id(raw.get("post_id"))
            if item.kind == "comment" and post_id:
                self._touched_posts.add(post_id)  # its thread positions are resolved at commit
        return items

    def maybe_commit(self) -> None:
        if self._rows_pending >= self.config.commit_every_rows:
            self.commit()

    # -- committing --------------------------------------------------------------------------

    def commit(self, *, finished: bool = False) -> None:
        """Archive first, then rows + crawl state + progress in one transaction."""
        self.archive.flush()
        finish_collection(self.collector)
        batch = self.collector.batch(live_society_row(self.society_id, self.client.base_url))
        counters = self.state.counters
        with transaction(self.conn):
            for table, counts in upsert_canonical(self.conn, batch).items():
                if table != "societies":
                    counters.inserted += counts.inserted
                    counters.updated += counts.updated
            counters.quarantined += upsert_quarantine(
                self.conn, self.society_id, self.state.run_id, batch.quarantine, row_offset=self.state.row_no
            )
            self.state.row_no += self.collector.rows_numbered
            self._resolve_threads()
            self._write_listed_marks()
            self._write_crawl_state()
            self._write_run_row(finished)
        self.collector = BatchCollector()
        self._rows_pending = 0
        self._touched_posts.clear()
        self._listed.clear()
        self._crawl_posts.clear()
        self._crawl_agents.clear()

    def _resolve_threads(self) -> None:
        """root_id and depth of the touched posts' comments, from every stored parent link."""
        if not self._touched_posts:
            return
        ids = pd.DataFrame({"post_id": sorted(self._touched_posts)})
        with registered(self.conn, "_touched", ids):
            stored = self.conn.execute(
                "SELECT c.comment_id, c.parent_id, c.root_id, c.depth FROM comments c "
                "JOIN _touched t ON c.post_id = t.post_id WHERE c.society_id = ?",
                [self.society_id],
            ).df()
        parents = {
            row.comment_id: (row.parent_id if isinstance(row.parent_id, str) else None)
            for row in stored.itertuples(index=False)
        }
        positions, _cyclic = thread_positions(parents)
        changes = []
        for row in stored.itertuples(index=False):
            root, depth = positions.get(row.comment_id, (None, None))
            old_depth = None if pd.isna(row.depth) else int(row.depth)
            old_root = row.root_id if isinstance(row.root_id, str) else None
            if depth is not None and (depth != old_depth or root != old_root):
                changes.append({"comment_id": row.comment_id, "root_id": root, "depth": depth})
        if changes:
            frame = pd.DataFrame(changes).astype({"depth": "int64"})
            with registered(self.conn, "_positions", frame):
                self.conn.execute(
                    "UPDATE comments SET root_id = p.root_id, depth = p.depth FROM _positions p "
                    "WHERE comments.society_id = ? AND comments.comment_id = p.comment_id",
                    [self.society_id],
                )

    def _write_listed_marks(self) -> None:
        """Which run last listed each post: a post missing from a complete re-listing of its
        window is checked for deletion (§7.5)."""
        if not self._listed:
            return
        marks = pd.DataFrame({"society_id": self.society_id, "post_id": sorted(self._listed),
                              "last_listed_run": self.state.run_id})
        upsert(self.conn, "crawl_posts", marks)

    def _write_crawl_state(self) -> None:
        """Set exactly the crawl columns each step touched (None clears), one statement per set."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for post_id, values in sorted(self._crawl_posts.items()):
            by_columns.setdefault(tuple(sorted(values)), []).append({"post_id": post_id, **values})
        tables = [("crawl_posts", "post_id", columns, rows) for columns, rows in by_columns.items()]
        if self._crawl_agents:
            rows = [{"name": name, **values} for name, values in sorted(self._crawl_agents.items())]
            tables.append(("crawl_agents", "name", ("profile_fetched_at", "missing_since"), rows))
        for table, key, columns, rows in tables:
            frame = pd.DataFrame(rows, columns=[key, *columns])
            for column in columns:
                if column.endswith("_at") or column.endswith("_since"):
                    frame[column] = pd.to_datetime(frame[column], utc=True)
            names = ", ".join(columns)
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
            with registered(self.conn, "_crawl", frame):
                self.conn.execute(
                    f"INSERT INTO {table} (society_id, {key}, {names}) "
                    f"SELECT ?, {key}, {names} FROM _crawl ON CONFLICT DO UPDATE SET {updates}",
                    [self.society_id],
                )

    def _write_run_row(self, finished: bool) -> None:
        c = self.state.counters
        row = pd.DataFrame(
            [
                {
                    "society_id": self.society_id,
                    "run_id": self.state.run_id,
                    "source": SOURCE,
                    "started_at": self.started_at,
                    "cursor_json": self.state.to_json(),
                    "requested": c.requested,
                    "fetched": c.fetched,
                    "inserted": c.inserted,
                    "updated": c.updated,
                    "quarantined": c.quarantined,
                }
            ]
        )
        if self.resumed:
            row = row.drop(columns=["started_at"])  # the first attempt's start stays
        upsert(self.conn, "ingest_runs", row)
        if finished:
            self.conn.execute(
                "UPDATE ingest_runs SET finished_at = ? WHERE society_id = ? AND run_id = ?",
                [datetime.now(timezone.utc), self.society_id, self.state.run_id],
            )

    def set_post_state(self, post_id: str, **values: Any) -> None:
        self._crawl_posts.setdefault(post_id, {}).update(values)

    # -- phases ------------------------------------------------------------------------------

    def run(self) -> SyncResult:
        steps = {
            "discovery": self.discover,
            "rereads": self.reread,
            "comments": self.fetch_comments,
            "deletions": self.confirm_deletions,
            "profiles": self.refresh_profiles,
            "communities": self.refresh_communities,
            "stats": self.record_stats,
        }
        try:
            while self.state.phase != "done":
                steps[self.state.phase]()
                self.state.phase = PHASES[PHASES.index(self.state.phase) + 1]
                self.commit(finished=self.state.phase == "done")
        except ApiError:
            self.commit()  # keep the progress made; the next run resumes from here
            raise
        finally:
            self.archive.close()
        changes = compare_shapes(self._previous_shapes, self.state.shapes)
        if changes.any:
            log.warning("answer shapes changed since the last run:\n%s", changes.markdown())
        return SyncResult(
            run_id=self.state.run_id,
            resumed=self.resumed,
            state=self.state,
            client_stats=asdict(self.client.stats),
            archive_part=self.archive.path,
            shape_changes=changes,
        )

    def discover(self) -> None:
        """Walk sort=new from the top until a whole page is older than the high-water mark minus
        the overlap; then, budget permitting, continue older pages a capped earlier walk left."""
        state, config = self.state, self.config
        if state.listing_walk == "top":
            floor = _ts(state.hwm_ts)
            if floor is not None:
                floor -= pd.Timedelta(seconds=config.overlap_s)
            left = self._walk(floor, backfill=False)
            if left is not None:  # the page budget ran out above the mark: older pages wait
                state.backfill_tokens.append(left)
            else:
                state.relist_window = [state.pass_oldest_ts, state.pass_newest_ts]
            newest, hwm = _ts(state.pass_newest_ts), _ts(state.hwm_ts)
            if newest is not None and (hwm is None or newest >= hwm):
                state.hwm_ts, state.hwm_ids = state.pass_newest_ts, sorted(state.pass_newest_ids)
            state.listing_walk, state.listing_token = "backfill", None
        while state.backfill_tokens and not self._listing_budget_spent():
            state.listing_token = state.backfill_tokens.pop()
            left = self._walk(None, backfill=True)
            if left is not None:
                state.backfill_tokens.append(left)
        state.listing_token = None

    def _listing_budget_spent(self) -> bool:
        limit = self.config.max_listing_pages
        return limit is not None and self._pages_this_run >= limit

    def _walk(self, floor: pd.Timestamp | None, *, backfill: bool) -> dict[str, Any] | None:
        """Listing pages from state.listing_token on; the token left when the budget ran out."""
        state, config = self.state, self.config
        stale_pages = 0
        while True:
            if self._listing_budget_spent():
                return state.listing_token or None
            params: dict[str, Any] = {"sort": "new", "limit": config.page_limit, **(state.listing_token or {})}
            response = self.fetch("/posts", params)
            if response is None:
                if _page_mode(state.listing_token) == "offset":  # skip ahead, record the gap (§4.5)
                    offset = int(state.listing_token["offset"])  # type: ignore[index]
                    state.gaps.append({"path": "/posts", "offset": offset, "limit": config.page_limit})
                    state.counters.coverage_gaps += 1
                    state.listing_token = {"offset": offset + config.page_limit}
                    continue
                raise ApiUnavailable("/posts listing could not be fetched; the run resumes here next time")
            if response.status != 200:
                if state.listing_token and 400 <= response.status < 500:
                    # A stale cursor: the top walk restarts once (the mark stops it early); a
                    # backfill cannot find its place again and records the gap instead (§4.3).
                    log.warning("listing token rejected (%s)", response.status)
                    if backfill:
                        state.gaps.append({"path": "/posts", "token": state.listing_token})
                        state.counters.coverage_gaps += 1
                        return None
                    if not state.listing_restarted:
                        state.listing_token, state.listing_restarted = None, True
                        continue
                raise ApiUnavailable(f"/posts answered {response.status}")
            self._pages_this_run += 1
            state.counters.listing_pages += 1
            items = [i for i in self.collect(response) if i.kind == "post"]
            created = self._note_listed(items)
            token = next_page_token(response.body, state.listing_token, len(items))
            state.listing_mode = state.listing_mode or _page_mode(token)
            state.listing_token = token
            ids = [i for i in map(_item_id, items) if i]
            new_ids = set(ids) - self._seen_in_pass
            stale_pages = 0 if new_ids else stale_pages + 1
            state.counters.duplicate_items += len(ids) - len(new_ids)
            self._seen_in_pass.update(ids)
            self._listed.update(ids)
            below_floor = floor is not None and bool(created) and max(created) < floor
            if token is None or below_floor or stale_pages >= config.stale_pages_stop:
                return None
            self.maybe_commit()

    def _note_listed(self, items: list[Any]) -> list[pd.Timestamp]:
        """created_at of listed posts; tracks the newest (and ids at it) for the next mark."""
        created = []
        for item in items:
            raw = item.raw if isinstance(item.raw, dict) else {}
            stamp = to_utc_timestamp(raw.get("created_at") or raw.get("createdAt"))
            post_id = clean_id(raw.get("id"))
            if stamp is None or post_id is None:
                continue
            created.append(stamp)
            oldest = _ts(self.state.pass_oldest_ts)
            if oldest is None or stamp < oldest:
                self.state.pass_oldest_ts = stamp.isoformat()
            newest = _ts(self.state.pass_newest_ts)
            if newest is None or stamp > newest:
                self.state.pass_newest_ts, self.state.pass_newest_ids = stamp.isoformat(), [post_id]
            elif stamp == newest and post_id not in self.state.pass_newest_ids:
                self.state.pass_newest_ids.append(post_id)
        return created

    def reread(self) -> None:
        """Detail re-reads of recent posts whose age passed a schedule point since last seen."""
        window_start = self.as_of - pd.Timedelta(seconds=REREAD_WINDOW_S)
        candidates = self.conn.execute(
            "SELECT post_id, created_at, last_seen_at FROM posts WHERE society_id = ? "
            "AND NOT is_deleted AND created_at >= ? ORDER BY created_at DESC, post_id",
            [self.society_id, window_start],
        ).fetchall()
        due = []
        for post_id, created_at, last_seen_at in candidates:
            point = _last_schedule_point(created_at, self.as_of)
            if point is not None and (last_seen_at is None or pd.Timestamp(last_seen_at) < point):
                due.append(post_id)
        if self.config.max_rereads is not None:
            due = due[: self.config.max_rereads]
        for post_id in due:
            self._read_detail(post_id)
            self.maybe_commit()

    def _read_detail(self, post_id: str) -> ApiResponse | None:
        path = _post_path(post_id)
        response = self.fetch(path) if path else None
        if response is None:
            return None
        if response.status == 404:
            self._saw_404(post_id, response)
        elif response.status == 200:
            self.collect(response)
            self.set_post_state(post_id, first_404_at=None)
        return response

    def _saw_404(self, post_id: str, response: ApiResponse) -> None:
        """A first 404 makes a post suspect; one at least deletion_confirm_s later confirms it."""
        observed = pd.Timestamp(response.observed_at)
        first = self._first_404(post_id)
        if first is None:
            self.set_post_state(post_id, first_404_at=observed)
            return
        if deletion_confirmed(first, observed, self.config.deletion_confirm_s):
            self.set_post_state(post_id, deleted_confirmed_at=observed)
            self.collector.put("posts", {"post_id": post_id, "is_deleted": True})
            self.state.counters.deleted_posts += 1

    def _first_404(self, post_id: str) -> pd.Timestamp | None:
        pending = self._crawl_posts.get(post_id, {})
        if "first_404_at" in pending:
            return pending["first_404_at"]
        row = self.conn.execute(
            "SELECT first_404_at FROM crawl_posts WHERE society_id = ? AND post_id = ?",
            [self.society_id, post_id],
        ).fetchone()
        return pd.Timestamp(row[0]) if row and row[0] is not None else None

    def fetch_comments(self) -> None:
        """Every sort and page of each post whose reported count outgrew its stored comments."""
        cutoff = self.as_of - pd.Timedelta(seconds=self.config.min_comment_age_s)
        retry_before = self.as_of - pd.Timedelta(seconds=self.config.unreachable_retry_s)
        queue = self.conn.execute(
            """
            WITH stored AS (
                SELECT post_id, count(*) AS n FROM comments WHERE society_id = $society GROUP BY post_id
            )
            SELECT p.post_id, p.comment_count
            FROM posts p
            LEFT JOIN stored s ON s.post_id = p.post_id
            LEFT JOIN crawl_posts k ON k.society_id = p.society_id AND k.post_id = p.post_id
            WHERE p.society_id = $society AND NOT p.is_deleted AND k.first_404_at IS NULL
              AND p.comment_count > coalesce(s.n, 0)
              AND p.created_at <= $cutoff
              AND (k.reported_at_fetch IS NULL OR p.comment_count > k.reported_at_fetch
                   OR k.unreachable_since <= $retry_before)
            ORDER BY p.comment_count - coalesce(s.n, 0) DESC, p.created_at DESC, p.post_id
            """,
            {"society": self.society_id, "cutoff": cutoff, "retry_before": retry_before},
        ).fetchall()
        if self.config.max_comment_posts is not None:
            queue = queue[: self.config.max_comment_posts]
        for post_id, reported in queue:
            self._fetch_post_comments(post_id, int(reported))
            self.maybe_commit()

    def _fetch_post_comments(self, post_id: str, reported: int) -> None:
        path = _post_path(post_id, "comments")
        if path is None:
            return
        found: set[str] = set()
        observed = None
        for sort in self.config.comment_sorts:
            token: dict[str, Any] | None = None
            while True:
                params = {"sort": sort, "limit": self.config.comment_page_limit, **(token or {})}
                response = self.fetch(path, params)
                if response is None:
                    return  # stays queued: no crawl state written for it
                observed = pd.Timestamp(response.observed_at)
                if response.status == 404:
                    detail = self._read_detail(post_id)  # gone, or an era without the endpoint?
                    if detail is None or detail.status != 200:
                        return
                    found.update(_comment_ids(extract_items(detail.body)))
                    break
                if response.status != 200:
                    break
                items = self.collect(response)
                ids = _comment_ids(items)
                found.update(ids)
                token = next_page_token(response.body, token, len(items))
                if token is None or not ids:
                    break
            if len(found) >= reported:
                break
        self.state.counters.comment_posts += 1
        deficit = reported - len(found)
        if deficit > 0:
            self.state.counters.unreachable_posts += 1
        self.set_post_state(
            post_id,
            comments_fetched_at=observed,
            reported_at_fetch=reported,
            stored_at_fetch=len(found),
            unreachable_since=observed if deficit > 0 else None,
        )

    def confirm_deletions(self) -> None:
        """Detail reads of posts that answered 404 long enough ago, and of stored posts missing
        from the window the top walk re-listed completely (listings omit deleted posts)."""
        window = self.state.relist_window
        if window and window[0] and window[1]:
            missing = self.conn.execute(
                "SELECT p.post_id FROM posts p LEFT JOIN crawl_posts k "
                "ON k.society_id = p.society_id AND k.post_id = p.post_id "
                "WHERE p.society_id = ? AND NOT p.is_deleted AND k.first_404_at IS NULL "
                "AND p.created_at BETWEEN ? AND ? AND k.last_listed_run IS DISTINCT FROM ? "
                "ORDER BY p.post_id",
                [self.society_id, _ts(window[0]), _ts(window[1]), self.state.run_id],
            ).fetchall()
            for (post_id,) in missing:
                self._read_detail(post_id)
                self.maybe_commit()
            self.commit()  # their first 404s are stored before the confirmation query reads them
        confirm_before = self.as_of - pd.Timedelta(seconds=self.config.deletion_confirm_s)
        suspects = self.conn.execute(
            "SELECT post_id FROM crawl_posts WHERE society_id = ? AND first_404_at IS NOT NULL "
            "AND deleted_confirmed_at IS NULL AND first_404_at <= ? ORDER BY post_id",
            [self.society_id, confirm_before],
        ).fetchall()
        for (post_id,) in suspects:
            self._read_detail(post_id)
            self.maybe_commit()

    def refresh_profiles(self) -> None:
        stale_before = self.as_of - pd.Timedelta(seconds=self.config.profile_stale_s)
        names = self.conn.execute(
            "SELECT DISTINCT a.name FROM agents a LEFT JOIN crawl_agents k "
            "ON k.society_id = a.society_id AND k.name = a.name "
            "WHERE a.society_id = ? AND a.name IS NOT NULL "
            "AND (coalesce(k.profile_fetched_at, k.missing_since) IS NULL "
            "OR coalesce(k.profile_fetched_at, k.missing_since) < ?) ORDER BY a.name",
            [self.society_id, stale_before],
        ).fetchall()
        if self.config.max_profiles is not None:
            names = names[: self.config.max_profiles]
        for (name,) in names:
            response = self.fetch("/agents/profile", {"name": name})
            if response is None:
                continue
            observed = pd.Timestamp(response.observed_at)
            if response.status == 200:
                self.collect(response)
                self._crawl_agents[name] = {"profile_fetched_at": observed, "missing_since": None}
                self.state.counters.profiles += 1
            elif response.status == 404:
                self._crawl_agents[name] = {"profile_fetched_at": None, "missing_since": observed}
            self.maybe_commit()

    def refresh_communities(self) -> None:
        last = _ts(self.state.communities_refreshed_at)
        if last is not None and self.as_of - last < pd.Timedelta(seconds=self.config.communities_every_s):
            return
        seen: set[str] = set()
        pages = 0
        token: dict[str, Any] | None = {"offset": self.state.submolt_offset} if self.state.submolt_offset else None
        while self.config.max_submolt_pages is None or pages < self.config.max_submolt_pages:
            response = self.fetch("/submolts", {"limit": 100, **(token or {})})
            if response is None or response.status != 200:
                break
            pages += 1
            items = self.collect(response)
            names = {clean_id(i.raw.get("name")) for i in items if isinstance(i.raw, dict)}
            if names and names <= seen:  # order is unstable; a page of repeats ends the walk
                break
            seen |= {n for n in names if n}
            token = next_page_token(response.body, token, len(items))
            if token is None:
                break
            self.state.submolt_offset = int(token.get("offset", 0))
            self.maybe_commit()
        self.state.submolt_offset = 0
        self.state.communities_refreshed_at = self.as_of.isoformat()

    def record_stats(self) -> None:
        """Platform totals (retried while /stats answers zeros), then the coverage metrics."""
        totals: dict[str, int | None] = {}
        observed = None
        for _ in range(self.config.stats_attempts):
            response = self.fetch("/stats")
            if response is None or response.status != 200 or not isinstance(response.body, dict):
                break
            totals = {k: to_int(response.body.get(k)) for k in ("agents", "submolts", "posts", "comments")}
            observed = pd.Timestamp(response.observed_at)
            if all(totals.values()):
                break
        with transaction(self.conn):
            if observed is not None and all(totals.values()):
                self.conn.execute(
                    "INSERT INTO platform_stats VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [self.society_id, observed, *totals.values()],
                )
            write_coverage_metrics(self.conn, self.society_id, self.as_of)


def _post_path(post_id: str, *rest: str) -> str | None:
    """`/posts/{id}[/...]`, or None for an id no URL can carry ("..", empty): never fetched."""
    try:
        return api_path("posts", post_id, *rest)
    except ValueError:
        log.warning("post id %r cannot be put in a URL; skipped", post_id[:80])
        return None


def _item_id(item: Any) -> str | None:
    return clean_id(item.raw.get("id")) if isinstance(item.raw, dict) else None


def _comment_ids(items: Iterable[Any]) -> set[str]:
    return {i for i in (_item_id(item) for item in items if item.kind == "comment") if i}


def _last_schedule_point(created_at: Any, as_of: pd.Timestamp) -> pd.Timestamp | None:
    """The latest re-read point (created_at + age) already reached at as_of, if any."""
    created = pd.Timestamp(created_at)
    age = (as_of - created).total_seconds()
    reached = [a for a in REREAD_AGES_S if a <= age]
    return created + pd.Timedelta(seconds=reached[-1]) if reached else None


# --------------------------------------------------------------------------------------------
# Coverage (§7.6)


def _coverage_spec(metric: str, unit: str, direction: str) -> MetricSpec:
    return MetricSpec("coverage", metric, unit, "proposed", "none", direction, None, "none", "MOLTBOOK_API §7.6")


#: What write_coverage_metrics writes to society_metric: collection quality, not behaviour.
COVERAGE_REGISTRY = [
    _coverage_spec("comment_coverage", "posts", "well below 1 on Moltbook (about 0.24 in one large crawl)"),
    _coverage_spec("posts_below_full_comment_coverage", "posts", "share of threads with a comment deficit"),
    _coverage_spec("deleted_post_share", "posts", "mass spam deletions make it large"),
    _coverage_spec("platform_post_coverage", "posts", "a lower bound: /stats counts deleted posts"),
    _coverage_spec("platform_comment_coverage", "comments", "a lower bound: /stats counts deleted comments"),
]


def write_coverage_metrics(conn: duckdb.DuckDBPyConnection, society_id: str, as_of: pd.Timestamp) -> None:
    """Family `coverage` in society_metric: comment coverage of stored posts, and platform
    coverage against the latest /stats totals (lower bounds: totals count deleted content)."""
    posts = conn.execute(
        "SELECT count(*), sum(stored_comments), sum(reported_comments), "
        "count(*) FILTER (WHERE coverage < 1), count(*) FILTER (WHERE reported_comments > 0) "
        "FROM post_coverage WHERE society_id = ?",
        [society_id],
    ).fetchone()
    n_posts, stored, reported, short, with_comments = posts
    n_comments = conn.execute(
        "SELECT count(*) FROM comments WHERE society_id = ?", [society_id]
    ).fetchone()[0]
    stats = conn.execute(
        "SELECT posts, comments FROM platform_stats WHERE society_id = ? ORDER BY observed_at DESC LIMIT 1",
        [society_id],
    ).fetchone()
    deleted = conn.execute(
        "SELECT count(*) FROM posts WHERE society_id = ? AND is_deleted", [society_id]
    ).fetchone()[0]
    metrics: list[tuple[str, float | None, int]] = [
        ("comment_coverage", (stored / reported) if reported else None, int(with_comments or 0)),
        ("posts_below_full_comment_coverage", (short / with_comments) if with_comments else None, int(with_comments or 0)),
        ("deleted_post_share", (deleted / n_posts) if n_posts else None, int(n_posts or 0)),
    ]
    if stats:
        metrics.append(("platform_post_coverage", n_posts / stats[0] if stats[0] else None, int(n_posts)))
        metrics.append(("platform_comment_coverage", n_comments / stats[1] if stats[1] else None, int(n_comments)))
    rows = [MetricRow("coverage", name, value, None, None, n) for name, value, n in metrics]
    conn.execute("DELETE FROM society_metric WHERE society_id = ? AND family = 'coverage'", [society_id])
    upsert(conn, "society_metric", metrics_frame(society_id, rows, as_of))


# --------------------------------------------------------------------------------------------
# Replay: an archived run into a (fresh) warehouse


def replay_archive(
    conn: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    society_id: str,
    *,
    source_uri: str = "",
    owner_salt: str = DEFAULT_OWNER_SALT,
    deletion_confirm_s: float = SyncConfig.deletion_confirm_s,
    commit_every_rows: int = 5000,
) -> Counter[str]:
    """Parse every archived answer again, in order, with its own observation time.

    Rebuilds the canonical tables of the runs (posts, comments, agents, communities, snapshots,
    deletions confirmed by two 404s); crawler bookkeeping is not replayed.
    """
    counts: Counter[str] = Counter()
    collector = BatchCollector()
    pending = 0
    first_404: dict[str, pd.Timestamp] = {}

    def flush() -> None:
        nonlocal collector, pending
        finish_collection(collector)
        with transaction(conn):
            upsert_canonical(conn, collector.batch(live_society_row(society_id, source_uri)))
        collector, pending = BatchCollector(), 0

    for record in read_records(paths):
        counts["records"] += 1
        observed = pd.Timestamp(record.observed_at)
        post_id = _detail_post_id(record)
        if record.status == 404 and post_id:
            if post_id not in first_404:
                first_404[post_id] = observed
            elif deletion_confirmed(first_404[post_id], observed, deletion_confirm_s):
                collector.put("posts", {"post_id": post_id, "is_deleted": True})
            continue
        if record.status != 200:
            continue
        if post_id:
            first_404.pop(post_id, None)
        items = extract_items(record.body())
        collect_items(collector, f"{record.seq:08d}{record.path}", items, observed, owner_salt)
        counts["items"] += len(items)
        pending += len(items)
        if pending >= commit_every_rows:
            flush()
    flush()
    return counts


def live_society_row(society_id: str, source_uri: str) -> dict[str, Any]:
    """The `societies` row of a live sync (and of its replays)."""
    return society_row(
        society_id, source_uri, comment_cap=COMMENT_CAP, parser=SOURCE,
        parser_version=PARSER_VERSION, kind="live",
    )


def deletion_confirmed(first_404: pd.Timestamp, observed: pd.Timestamp, confirm_s: float) -> bool:
    """A second 404 confirms a deletion once confirm_s has passed since the first (§7.5)."""
    return observed - first_404 >= pd.Timedelta(seconds=confirm_s)


def _detail_post_id(record: ArchiveRecord) -> str | None:
    """The post id of a `/posts/{id}` detail answer (the one the deletion rule reads)."""
    parts = record.path.strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "posts" else None


def iter_table_hashes(conn: duckdb.DuckDBPyConnection, society_id: str, tables: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(table, md5 over its society rows in key order): equal hashes mean equal tables."""
    for table in tables:
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()]
        column_list = ", ".join(f'"{c}"' for c in columns)
        digest = conn.execute(
            f"SELECT md5(string_agg(row_text, '\n' ORDER BY row_text)) FROM "
            f"(SELECT CAST(ROW({column_list}) AS VARCHAR) AS row_text FROM {table} WHERE society_id = ?)",
            [society_id],
        ).fetchone()[0]
        yield table, digest or ""



# --------------------------------------------------------------------------------------------
# A plain runner (no Dagster): scripted syncs, the crash test, replays.


def _parse_args(argv: list[str] | None) -> Any:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m assets.ingest.moltbook_sync",
        description="One incremental sync run of a live society (resumes an unfinished one), or a replay of archived runs.",
    )
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--archive-dir", type=Path, required=True)
    parser.add_argument("--society-id", default="moltbook")
    parser.add_argument("--base-url", help="the API root, e.g. http://127.0.0.1:8765/api/v1")
    parser.add_argument("--rpm", type=float, default=90.0, help="requests per minute (0 = unlimited, loopback only)")
    parser.add_argument("--run-id")
    parser.add_argument("--max-retries", type=int, default=3)
    parser.add_argument("--timeout-s", type=float, default=30.0)
    parser.add_argument("--min-comment-age-s", type=float, default=SyncConfig.min_comment_age_s)
    parser.add_argument("--deletion-confirm-s", type=float, default=SyncConfig.deletion_confirm_s)
    parser.add_argument("--commit-every-rows", type=int, default=SyncConfig.commit_every_rows)
    parser.add_argument("--max-rereads", type=int, default=SyncConfig.max_rereads)
    parser.add_argument("--max-profiles", type=int, default=SyncConfig.max_profiles)
    parser.add_argument("--replay", type=Path, nargs="+", help="archived run folders or parts to replay instead of syncing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from assets.ingest.moltbook_client import api_key_from_env
    from warehouse.writer import open_writer

    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open_writer(args.warehouse) as conn:
        if args.replay:
            counts = replay_archive(
                conn, args.replay, args.society_id, deletion_confirm_s=args.deletion_confirm_s
            )
            print(json.dumps(dict(counts)))
            return 0
        if not args.base_url:
            raise SystemExit("--base-url is required to sync")
        config = SyncConfig(
            min_comment_age_s=args.min_comment_age_s,
            deletion_confirm_s=args.deletion_confirm_s,
            commit_every_rows=args.commit_every_rows,
            max_rereads=args.max_rereads,
            max_profiles=args.max_profiles,
        )
        with MoltbookClient(
            args.base_url, api_key=api_key_from_env(), requests_per_minute=args.rpm or None,
            max_retries=args.max_retries, timeout_s=args.timeout_s,
        ) as client:
            result = LiveSync(
                conn, client, args.archive_dir, society_id=args.society_id, config=config,
                run_id=args.run_id,
            ).run()
    print(json.dumps({"run_id": result.run_id, "resumed": result.resumed,
                      "counters": asdict(result.state.counters), "client": result.client_stats}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
