"""The observed twin (SIMULATORS.md §4.10): a simulated society as a Moltbook crawler sees it.

`observe(batch, settings)` turns the full tables of one run into what the live API would have let
a crawler store (MOLTBOOK_API.md §6, §7), so analytics can be run on both views of one run:

- **Events dropped.** `votes`, `follows`, `exposures` and `actions` are left out; the platform
  reports counts only, so the aggregates on posts, comments and agents stay as they are.
- **Spam deleted.** Spam is a verbatim template copy (`sim_labels` template `viral-*`: the bulk
  duplicates the platform's cleanups removed). Each spam post is deleted with probability
  `spam_delete_share`, after an exponential delay (mean `delete_delay_mean_s`) from its creation.
  A deleted post the crawler had seen (a snapshot strictly before its deletion time) stays as the
  crawler last saw it: `is_deleted` set, counts and `last_seen_at` from that last snapshot,
  comments up to then. One never seen is gone with its comments and snapshots (§7.5).
- **Comments capped.** At most `comment_cap` comments per post are stored: the earliest, in
  creation order (the `old` sort; MOLTBOOK_API.md §6.1 gives the cap but not which comments a
  capped fetch returns). Replies come after their parents, so kept threads have no orphans.
  `comment_count` keeps the platform's true count, which breaks the aggregate invariant the way
  the live API does (§7).
- **Authors lost.** Posts and comments created in the outage window [start, end) have no author,
  and the window is written to `time_flags` as `identity_unreliable` (the flag the live import
  writes for the Feb 2026 outage). The window is given as shares of the run's duration.
- **Snapshots age-decaying.** Per post, only the first snapshot at or after each re-read age of
  the live crawler's schedule (§7.4: discovery, 5 min, 15 min, 1 h, 6 h, 24 h, 7 d, then weekly
  until day 30) is kept. An agent snapshot is kept only where the crawler sighted the agent: as
  the known author of a post snapshotted at that moment.

`ground_truth`, `sim_labels`, `sim_states`, `agents` and `communities` are kept unchanged: they
describe the underlying run, which is where the planted truth is scored. The only random choice
(which spam is deleted, and when) draws from the run seed's `observation` stream, one row of
uniforms per post, so the twin is reproducible and no other stream moves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulators.rng import module_rng
from warehouse.batch import CanonicalBatch

OBSERVED_TWIN = "observed"
# Observation settings travel through simulate()'s overrides as observed_<field>.
OVERRIDE_PREFIX = "observed_"
EVENT_TABLES = ("votes", "follows", "exposures", "actions")
SPAM_TEMPLATE_PREFIX = "viral-"
OUTAGE_FLAG = "identity_unreliable"
_DAY_S = 86_400
# Re-read ages of the live crawler (MOLTBOOK_API.md §7.4), and the age after which it stops.
SNAPSHOT_AGES_S: tuple[int, ...] = (0, 300, 900, 3_600, 21_600, _DAY_S, 7 * _DAY_S,
                                    14 * _DAY_S, 21 * _DAY_S, 28 * _DAY_S)
SNAPSHOT_MAX_AGE_S = 30 * _DAY_S


@dataclass(frozen=True)
class ObservationSettings:
    """How much the crawler misses. Defaults: the public API's 100-comment cap, half the spam
    deleted half an hour (on average) after posting, and an outage over the middle tenth of the
    run."""

    comment_cap: int = 100
    spam_delete_share: float = 0.5
    delete_delay_mean_s: float = 1_800.0
    outage_start: float = 0.45  # shares of the run's duration; start == end: no outage
    outage_end: float = 0.55

    def validate(self) -> None:
        if self.comment_cap < 1:
            raise ValueError("observed_comment_cap must be >= 1")
        if not 0.0 <= self.spam_delete_share <= 1.0:
            raise ValueError("observed_spam_delete_share lies in [0, 1]")
        if self.delete_delay_mean_s <= 0:
            raise ValueError("observed_delete_delay_mean_s must be positive")
        if not 0.0 <= self.outage_start <= self.outage_end <= 1.0:
            raise ValueError("need 0 <= observed_outage_start <= observed_outage_end <= 1")


OBSERVATION_KEYS: tuple[str, ...] = tuple(
    OVERRIDE_PREFIX + f.name for f in dataclasses.fields(ObservationSettings)
)


def split_observation(
    overrides: dict[str, Any],
) -> tuple[dict[str, Any], ObservationSettings | None]:
    """(config overrides, observation settings or None when no observed_* key was given)."""
    config = {k: v for k, v in overrides.items() if k not in OBSERVATION_KEYS}
    given = {k[len(OVERRIDE_PREFIX):]: v for k, v in overrides.items() if k in OBSERVATION_KEYS}
    return config, (ObservationSettings(**given) if given else None)


def spam_posts(batch: CanonicalBatch) -> np.ndarray:
    """Which rows of `posts` are spam: verbatim template copies by the run's own labels."""
    labels = batch.tables["sim_labels"]
    template = labels[(labels["item_type"] == "post") & (labels["key"] == "template")]
    spam_ids = template.loc[template["value"].str.startswith(SPAM_TEMPLATE_PREFIX), "item_id"]
    return batch.tables["posts"]["post_id"].isin(spam_ids).to_numpy()


def deletion_times(batch: CanonicalBatch, settings: ObservationSettings) -> pd.Series:
    """When each post is deleted (NaT: never), by post id. One row of uniforms per post, so a
    post's fate does not depend on how many others there are."""
    posts = batch.tables["posts"]
    u = module_rng(int(batch.society["seed"]), "observation").random((len(posts), 2))
    chosen = spam_posts(batch) & (u[:, 0] < settings.spam_delete_share)
    delay_ms = np.round(-settings.delete_delay_mean_s * 1000.0 * np.log1p(-u[:, 1]))
    delay = pd.Series(pd.to_timedelta(np.where(chosen, delay_ms, np.nan), unit="ms"),
                      index=posts.index)
    return (posts["created_at"] + delay).set_axis(posts["post_id"].to_numpy()).rename("deleted_at")


def outage_window(config: dict[str, Any],
                  settings: ObservationSettings) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """[start, end) of the outage in UTC, whole seconds; None when it is empty."""
    if settings.outage_end <= settings.outage_start:
        return None
    start = pd.Timestamp(config["clock_start"]).tz_convert("UTC")
    duration_s = int(config["n_steps"]) * int(config["step_seconds"])
    return (start + pd.Timedelta(seconds=round(settings.outage_start * duration_s)),
            start + pd.Timedelta(seconds=round(settings.outage_end * duration_s)))


def thin_snapshots(snapshots: pd.DataFrame, posts: pd.DataFrame) -> pd.DataFrame:
    """Per post, the first snapshot at or after each re-read age of SNAPSHOT_AGES_S."""
    created = snapshots["post_id"].map(posts.set_index("post_id")["created_at"])
    age_s = (snapshots["observed_at"] - created).dt.total_seconds().to_numpy()
    bucket = np.searchsorted(np.asarray(SNAPSHOT_AGES_S), age_s, side="right") - 1
    keyed = snapshots.assign(_bucket=bucket, _age=age_s)
    keyed = keyed[(keyed["_bucket"] >= 0) & (keyed["_age"] < SNAPSHOT_MAX_AGE_S)]
    first = keyed.sort_values("observed_at", kind="stable") \
        .drop_duplicates(["post_id", "_bucket"]).index
    return snapshots.loc[snapshots.index.isin(first)].reset_index(drop=True)


def observe(batch: CanonicalBatch,
            settings: ObservationSettings = ObservationSettings()) -> CanonicalBatch:
    """The crawler's-eye view of a full simulated batch (see the module docstring)."""
    settings.validate()
    tables = batch.tables
    config = batch.society["config_json"]
    posts = tables["posts"].copy()
    comments = tables["comments"]

    # Deletions: snapshots stop at deletion; a deleted post survives only if it was seen.
    deleted_at = deletion_times(batch, settings)
    snapshots = thin_snapshots(tables["post_snapshots"], posts)
    snapshots = snapshots[~(snapshots["observed_at"] >= snapshots["post_id"].map(deleted_at))]
    deleted_ids = deleted_at.index[deleted_at.notna()]
    last_seen = snapshots[snapshots["post_id"].isin(deleted_ids)] \
        .sort_values("observed_at", kind="stable").drop_duplicates("post_id", keep="last") \
        .set_index("post_id")
    gone = deleted_ids.difference(last_seen.index)
    posts = posts[~posts["post_id"].isin(gone)].reset_index(drop=True)
    seen = posts["post_id"].isin(last_seen.index)
    seen_ids = posts.loc[seen, "post_id"]
    posts["is_deleted"] = seen.to_numpy()
    for column in ("upvotes", "downvotes", "score", "comment_count"):
        posts.loc[seen, column] = seen_ids.map(last_seen[column]).astype(posts[column].dtype) \
            .to_numpy()
    posts["last_seen_at"] = _by_post(last_seen["observed_at"], posts)
    snapshots = snapshots[~snapshots["post_id"].isin(gone)].reset_index(drop=True)

    # Comments: none of vanished posts, none after a deleted post's last sighting, then the cap.
    seen_until = _by_post(last_seen["observed_at"], comments)
    comments = comments[~comments["post_id"].isin(gone) & ~(comments["created_at"] > seen_until)]
    rank = comments.sort_values("created_at", kind="stable").groupby("post_id").cumcount()
    comments = comments[rank.reindex(comments.index) < settings.comment_cap] \
        .reset_index(drop=True)

    # Outage: authors unknown for what was created inside the window.
    window = outage_window(config, settings)
    if window is not None:
        posts = _null_authors(posts, window)
        comments = _null_authors(comments, window)

    observed = {name: frame for name, frame in tables.items() if name not in EVENT_TABLES}
    observed.update(posts=posts, comments=comments, post_snapshots=snapshots,
                    agent_snapshots=_sighted(tables["agent_snapshots"], snapshots, posts, window))
    flags = [] if window is None else [{"flag": OUTAGE_FLAG, "start": _iso(window[0]),
                                        "end": _iso(window[1])}]
    society = {**batch.society, "config_json": {
        **config, "comment_cap": settings.comment_cap, "time_flags": flags,
        "observed": dataclasses.asdict(settings),
    }}
    return CanonicalBatch(society=society, tables=observed, quarantine=list(batch.quarantine))


def _by_post(values: pd.Series, frame: pd.DataFrame) -> pd.Series:
    """`values` (indexed by post id) looked up for each row of `frame`; NaT/NaN where absent.
    Unlike `map`, this keeps the dtype when `values` is empty."""
    return values.reindex(frame["post_id"].to_numpy()).set_axis(frame.index)


def _null_authors(frame: pd.DataFrame,
                  window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    inside = (frame["created_at"] >= window[0]) & (frame["created_at"] < window[1])
    frame = frame.copy()
    frame.loc[inside, "author_id"] = None
    return frame


def _sighted(agent_snapshots: pd.DataFrame, post_snapshots: pd.DataFrame, posts: pd.DataFrame,
             window: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.DataFrame:
    """Agent snapshots taken when the agent was sighted as the known author of a re-read post,
    outside the outage (when author objects came back empty)."""
    authors = post_snapshots[["post_id", "observed_at"]].merge(
        posts[["post_id", "author_id"]].dropna(), on="post_id")
    if window is not None:
        during = (authors["observed_at"] >= window[0]) & (authors["observed_at"] < window[1])
        authors = authors[~during]
    sightings = authors[["author_id", "observed_at"]].drop_duplicates() \
        .rename(columns={"author_id": "agent_id"})
    kept = agent_snapshots.merge(sightings, on=["agent_id", "observed_at"], how="inner")
    return kept[agent_snapshots.columns].reset_index(drop=True)


def _iso(moment: pd.Timestamp) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
