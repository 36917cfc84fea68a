"""The observed twin (SIMULATORS.md §4.10): the base run as a Moltbook crawler would store it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assets.ingest.checks import check_traces
from pipelines.cli import main
from simulators import PRESETS, simulate
from simulators.checker import check_society, underlying_run
from simulators.observation import (
    EVENT_TABLES, SNAPSHOT_AGES_S, ObservationSettings, deletion_times, spam_posts,
)
from simulators.output import read_society_folder
from simulators.presets import twin_knob
from simulators.runspec import run_spec_from_yaml
from tests.simulators.helpers import table_fingerprints
from warehouse.batch import CanonicalBatch
from warehouse.writer import open_writer, write_batch

BASE_ID = "sim-moltbook_like-1"
OBSERVED_ID = "sim-moltbook_like-1-observed"
CAP = 3  # small enough that the default-size run has many capped threads (its largest has 50)


@pytest.fixture(scope="module")
def observed() -> CanonicalBatch:
    return simulate("moltbook-like", seed=1, twin="observed")


@pytest.fixture(scope="module")
def capped() -> CanonicalBatch:
    return simulate("moltbook-like", seed=1, twin="observed", observed_comment_cap=CAP)


def local(ids: pd.Series) -> pd.Series:
    """`<kind>:<n>` of `<society_id>:<kind>:<n>`: the same item in the base run and its twin."""
    return ids.astype(object).str.split(":", n=1).str[1]


def by_local_id(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.set_index(local(frame[column]).to_numpy())


def test_the_twin_is_named_grouped_and_marked_observed(
    moltbook: CanonicalBatch, observed: CanonicalBatch
) -> None:
    config = observed.society["config_json"]
    assert observed.society_id == OBSERVED_ID
    assert config["twin_group"] == BASE_ID
    assert config["twin"] == {"name": "observed", "knob": {}}
    assert config["comment_cap"] == 100
    assert config["observed"] == {"comment_cap": 100, "spam_delete_share": 0.5,
                                  "delete_delay_mean_s": 1800.0, "outage_start": 0.45,
                                  "outage_end": 0.55}
    # 0.45 and 0.55 of a 720-minute run that starts at midnight.
    assert config["time_flags"] == [{"flag": "identity_unreliable",
                                     "start": "2026-02-01T05:24:00Z",
                                     "end": "2026-02-01T06:36:00Z"}]
    differing = {"twin_group", "twin", "comment_cap", "time_flags", "observed",
                 "default_community_id"}
    base_config = moltbook.society["config_json"]
    assert {k: v for k, v in config.items() if k not in differing} == \
        {k: v for k, v in base_config.items() if k not in differing}


def test_event_tables_are_dropped_and_truth_stays_with_the_underlying_run(
    moltbook: CanonicalBatch, observed: CanonicalBatch
) -> None:
    assert not set(EVENT_TABLES) & set(observed.tables)
    for table in ("ground_truth", "sim_states"):
        assert table_fingerprints(_rebased(observed, table)) == \
            table_fingerprints(_only(moltbook, table))
    assert len(observed.tables["sim_labels"]) == len(moltbook.tables["sim_labels"])
    for column in ("karma", "follower_count", "following_count", "name"):
        assert observed.tables["agents"][column].tolist() == \
            moltbook.tables["agents"][column].tolist()


def test_kept_posts_are_the_base_runs_posts(moltbook: CanonicalBatch,
                                            observed: CanonicalBatch) -> None:
    base = by_local_id(moltbook.tables["posts"], "post_id")
    seen = by_local_id(observed.tables["posts"], "post_id")
    assert set(seen.index) < set(base.index)
    base = base.loc[seen.index]
    for column in ("title", "created_at"):
        assert seen[column].tolist() == base[column].tolist()
    # Probe posts name their society in the text; everything else is word for word the same.
    assert seen["content"].str.replace(OBSERVED_ID, BASE_ID).tolist() == base["content"].tolist()
    assert local(seen["community_id"]).tolist() == local(base["community_id"]).tolist()
    live = ~seen["is_deleted"]
    for column in ("upvotes", "downvotes", "comment_count"):
        assert seen.loc[live, column].tolist() == base.loc[live, column].tolist()


def test_comments_are_capped_to_the_earliest_while_comment_count_keeps_the_truth(
    moltbook: CanonicalBatch, capped: CanonicalBatch
) -> None:
    posts = capped.tables["posts"]
    comments = capped.tables["comments"]
    stored = comments.groupby("post_id").size()
    assert stored.max() == CAP
    live = posts.loc[~posts["is_deleted"]].set_index("post_id")
    assert (live["comment_count"] > CAP).sum() >= 20  # the aggregate invariant is broken
    assert capped.society["config_json"]["comment_cap"] == CAP
    # Per live post, the stored comments are exactly its CAP earliest ones in the base run.
    base = moltbook.tables["comments"].sort_values("created_at", kind="stable")
    expected = base.groupby(local(base["post_id"]).to_numpy()).head(CAP)
    expected = expected[local(expected["post_id"]).isin(local(live.index.to_series()))]
    kept = comments[comments["post_id"].isin(live.index)]
    assert sorted(local(kept["comment_id"])) == sorted(local(expected["comment_id"]))
    # Earliest-first keeps every parent of a kept reply: no orphans, no comment without a post.
    assert comments["parent_id"].dropna().isin(comments["comment_id"]).all()
    assert comments["post_id"].isin(posts["post_id"]).all()


def test_spam_is_deleted_at_the_set_share_and_kept_only_when_seen_before_deletion(
    moltbook: CanonicalBatch, observed: CanonicalBatch
) -> None:
    spam = pd.Series(spam_posts(moltbook), index=moltbook.tables["posts"]["post_id"])
    deleted_at = deletion_times(moltbook, ObservationSettings())
    deleted = deleted_at.notna()
    assert spam.sum() > 800 and not (deleted & ~spam.to_numpy()).any()
    assert abs(deleted.sum() / spam.sum() - 0.5) < 0.05

    snaps = moltbook.tables["post_snapshots"]
    before = snaps[snaps["observed_at"] < snaps["post_id"].map(deleted_at)]
    seen_before = deleted_at.index.isin(before["post_id"])
    posts = by_local_id(observed.tables["posts"], "post_id")
    present = local(deleted_at.index.to_series()).isin(posts.index).to_numpy()
    assert (present == (~deleted.to_numpy() | seen_before)).all()
    flagged = set(posts.index[posts["is_deleted"]])
    assert flagged == set(local(deleted_at.index[deleted.to_numpy() & seen_before].to_series()))
    assert 100 < len(flagged) < deleted.sum()  # some deleted spam seen, some never

    # A kept deleted post is frozen at its last sighting: no later snapshot or comment.
    due = deleted_at.set_axis(local(deleted_at.index.to_series()).to_numpy())
    kept = posts.loc[sorted(flagged)]
    assert (kept["last_seen_at"] < due.loc[kept.index]).all()
    assert posts.loc[posts["is_deleted"] == False, "last_seen_at"].isna().all()  # noqa: E712
    obs_snaps = observed.tables["post_snapshots"]
    after = obs_snaps["observed_at"] >= local(obs_snaps["post_id"]).map(due)
    assert not after.any()
    comments = observed.tables["comments"]
    frozen_at = local(comments["post_id"]).map(kept["last_seen_at"])
    assert not (comments["created_at"] > frozen_at).any()


def test_authors_are_null_exactly_inside_the_outage_window(
    moltbook: CanonicalBatch, observed: CanonicalBatch
) -> None:
    start, end = (pd.Timestamp(observed.society["config_json"]["time_flags"][0][k])
                  for k in ("start", "end"))
    for table, key in (("posts", "post_id"), ("comments", "comment_id")):
        frame = observed.tables[table]
        inside = (frame["created_at"] >= start) & (frame["created_at"] < end)
        assert inside.sum() > 100, table
        assert (frame["author_id"].isna() == inside).all(), table
        base = by_local_id(moltbook.tables[table], key)
        outside = frame[~inside]
        assert local(outside["author_id"]).tolist() == \
            local(base.loc[local(outside[key]), "author_id"]).tolist(), table


def test_snapshots_follow_the_crawlers_age_decaying_schedule(
    moltbook: CanonicalBatch, observed: CanonicalBatch
) -> None:
    created = by_local_id(moltbook.tables["posts"], "post_id")["created_at"]

    def with_bucket(snaps: pd.DataFrame) -> pd.DataFrame:
        age = snaps["observed_at"] - local(snaps["post_id"]).map(created)
        bucket = np.searchsorted(SNAPSHOT_AGES_S, age.dt.total_seconds(), side="right") - 1
        return snaps.assign(post=local(snaps["post_id"]).to_numpy(), bucket=bucket)

    base = with_bucket(moltbook.tables["post_snapshots"])
    first = base.sort_values("observed_at").drop_duplicates(["post", "bucket"])
    seen = with_bucket(observed.tables["post_snapshots"])
    assert not seen.duplicated(["post", "bucket"]).any()
    keys = ["post", "bucket", "observed_at", "comment_count"]
    merged = seen[keys].merge(first[keys], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # each kept one is its bucket's first
    assert len(seen) < 0.4 * len(base)

    # Agent snapshots: only when the agent was sighted as the known author of a re-read post.
    posts = observed.tables["posts"][["post_id", "author_id"]].dropna()
    sighted = observed.tables["post_snapshots"].merge(posts, on="post_id")
    sightings = set(zip(sighted["author_id"], sighted["observed_at"]))
    agent_snaps = observed.tables["agent_snapshots"]
    assert 0 < len(agent_snaps) < len(moltbook.tables["agent_snapshots"])
    assert all(pair in sightings for pair in zip(agent_snaps["agent_id"],
                                                agent_snaps["observed_at"]))


def test_the_observed_twin_is_reproducible_and_leaves_the_base_run_alone(
    moltbook: CanonicalBatch, observed: CanonicalBatch
) -> None:
    assert table_fingerprints(simulate("moltbook-like", seed=1, twin="observed")) == \
        table_fingerprints(observed)
    assert table_fingerprints(simulate("moltbook-like", seed=1)) == table_fingerprints(moltbook)
    assert moltbook.society["config_json"]["comment_cap"] is None
    assert "observed" not in moltbook.society["config_json"]


def test_settings_are_overridable_and_checked() -> None:
    mild = simulate("moltbook-like", seed=2, n_agents=80, n_steps=120, twin="observed",
                    observed_spam_delete_share=0.0, observed_outage_start=0.0,
                    observed_outage_end=0.0)
    posts = mild.tables["posts"]
    assert not posts["is_deleted"].any() and posts["author_id"].notna().all()
    assert mild.society["config_json"]["time_flags"] == []
    full = simulate("moltbook-like", seed=2, n_agents=80, n_steps=120)
    assert len(posts) == len(full.tables["posts"])
    with pytest.raises(ValueError, match="observed"):
        simulate("moltbook-like", seed=2, n_agents=80, n_steps=10, observed_comment_cap=5)
    with pytest.raises(ValueError, match="observed_comment_cap"):
        simulate("moltbook-like", seed=2, n_agents=80, n_steps=10, twin="observed",
                 observed_comment_cap=0)
    with pytest.raises(ValueError, match="'nodup', 'observed'"):
        simulate("moltbook-like", seed=2, twin="nope")
    spec = run_spec_from_yaml("twin: observed\nobserved: {comment_cap: 1000}\n"
                              "observed_spam_delete_share: 0.9\n")
    assert spec.twin == "observed"
    assert spec.overrides == {"observed_comment_cap": 1000, "observed_spam_delete_share": 0.9}


def test_every_preset_has_the_observed_twin() -> None:
    for preset in PRESETS:
        assert twin_knob(preset, "observed") == {}
        assert "observed" in PRESETS[preset].twin_names
    batch = simulate("echo-chamber", seed=4, n_agents=60, n_steps=240, twin="observed")
    assert batch.society_id == "sim-echo_chamber-4-observed"
    assert not set(EVENT_TABLES) & set(batch.tables)
    base = simulate("echo-chamber", seed=4, n_agents=60, n_steps=240)
    # echo-chamber writes no template copies, so nothing is spam and every post stays.
    assert len(batch.tables["posts"]) == len(base.tables["posts"])
    # The run under the twin can be rebuilt exactly from the twin's stored config.
    assert table_fingerprints(underlying_run(batch)) == table_fingerprints(base)
    start, end = (pd.Timestamp(s) for s in ("2026-02-01T01:48:00Z", "2026-02-01T02:12:00Z"))
    assert batch.society["config_json"]["time_flags"][0]["start"] == "2026-02-01T01:48:00Z"
    created = batch.tables["comments"]["created_at"]
    inside = (created >= start) & (created < end)
    assert inside.any() and (batch.tables["comments"]["author_id"].isna() == inside).all()


def test_the_checker_scores_the_underlying_run(moltbook: CanonicalBatch,
                                               observed: CanonicalBatch) -> None:
    def verdicts(batch: CanonicalBatch) -> list[tuple[str, str, bool]]:
        return [(v.metric, repr(v.measured.value), v.passed) for v in check_society(batch)]

    assert len(verdicts(moltbook)) >= 20
    assert verdicts(observed) == verdicts(moltbook)


def test_the_twin_writes_through_the_real_writer_and_the_cli(
    observed: CanonicalBatch, warehouse_path: Path, tmp_path: Path
) -> None:
    started = datetime(2026, 2, 1, tzinfo=timezone.utc)
    with open_writer(warehouse_path) as conn:
        write_batch(conn, observed, run_id="obs-1", source="simulator", started_at=started)
        cap, deleted = conn.execute(
            "SELECT json_extract(config_json, '$.comment_cap')::INT, "
            "(SELECT count(*) FROM posts WHERE is_deleted) FROM societies"
        ).fetchone()
        assert (cap, deleted) == (100, int(observed.tables["posts"]["is_deleted"].sum()))
        assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 0
        assert all(outcome.passed for outcome in check_traces(conn, OBSERVED_ID))
    status = main(["simulate", "--preset", "moltbook-like", "--seed", "3", "--agents", "60",
                   "--steps", "60", "--twin", "observed", "--set", "observed_comment_cap=2",
                   "--out", str(tmp_path / "sims")])
    assert status == 0
    folder = read_society_folder(tmp_path / "sims" / "sim-moltbook_like-3-observed")
    assert folder.society["config_json"]["comment_cap"] == 2
    assert "votes" not in folder.tables and len(folder.tables["posts"]) > 0


def _only(batch: CanonicalBatch, table: str) -> CanonicalBatch:
    return CanonicalBatch(society={}, tables={table: batch.tables[table]})


def _rebased(batch: CanonicalBatch, table: str) -> CanonicalBatch:
    """One table of the twin with its ids rewritten into the base society."""
    frame = batch.tables[table].copy()
    for column in frame.columns:
        if frame[column].dtype == object or isinstance(frame[column].dtype, pd.StringDtype):
            frame[column] = frame[column].str.replace(OBSERVED_ID, BASE_ID, regex=False)
    return CanonicalBatch(society={}, tables={table: frame.astype(batch.tables[table].dtypes)})
