"""Aggregate columns agree with the event tables, and comment trees are well formed (§4.7, §7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from warehouse.batch import CanonicalBatch


def _vote_counts(batch: CanonicalBatch, target_type: str) -> pd.DataFrame:
    votes = batch.tables["votes"]
    votes = votes[votes["target_type"] == target_type]
    return (
        votes.assign(up=votes["value"] == 1, down=votes["value"] == -1)
        .groupby("target_id")[["up", "down"]]
        .sum()
    )


@pytest.mark.parametrize("table,key,target_type", [("posts", "post_id", "post"),
                                                    ("comments", "comment_id", "comment")])
def test_item_vote_counts_equal_their_votes(
    moltbook: CanonicalBatch, table: str, key: str, target_type: str
) -> None:
    items = moltbook.tables[table].set_index(key)
    counted = _vote_counts(moltbook, target_type).reindex(items.index, fill_value=0)
    assert (items["upvotes"] == counted["up"]).all()
    assert (items["downvotes"] == counted["down"]).all()
    assert (items["score"] == items["upvotes"] - items["downvotes"]).all()
    assert items["upvotes"].sum() > 0


def test_post_comment_count_equals_its_stored_comments(moltbook: CanonicalBatch) -> None:
    posts = moltbook.tables["posts"].set_index("post_id")
    stored = moltbook.tables["comments"].groupby("post_id").size().reindex(posts.index, fill_value=0)
    assert (posts["comment_count"] == stored).all()


def test_karma_is_votes_received_and_follow_counts_are_follow_rows(moltbook: CanonicalBatch) -> None:
    t = moltbook.tables
    owner = pd.concat([t["posts"].set_index("post_id")["author_id"],
                       t["comments"].set_index("comment_id")["author_id"]])
    received = t["votes"].assign(owner=t["votes"]["target_id"].map(owner)).groupby("owner")["value"].sum()
    agents = t["agents"].set_index("agent_id")
    assert (agents["karma"] == received.reindex(agents.index, fill_value=0)).all()
    follows = t["follows"]
    assert (follows["action"] == "follow").all()
    followers = follows.groupby("followee_id").size().reindex(agents.index, fill_value=0)
    following = follows.groupby("follower_id").size().reindex(agents.index, fill_value=0)
    assert (agents["follower_count"] == followers).all()
    assert (agents["following_count"] == following).all()


def test_no_self_votes_duplicate_votes_self_follows_or_duplicate_follows(
    moltbook: CanonicalBatch,
) -> None:
    t = moltbook.tables
    owner = pd.concat([t["posts"].set_index("post_id")["author_id"],
                       t["comments"].set_index("comment_id")["author_id"]])
    votes = t["votes"]
    assert (votes["voter_id"] != votes["target_id"].map(owner)).all()
    assert not votes.duplicated(subset=["voter_id", "target_id"]).any()
    assert set(votes["value"]) <= {1, -1}
    follows = t["follows"]
    assert (follows["follower_id"] != follows["followee_id"]).all()
    assert not follows.duplicated(subset=["follower_id", "followee_id"]).any()


def _check_tree(batch: CanonicalBatch, max_depth: int = 10) -> pd.DataFrame:
    comments = batch.tables["comments"].set_index("comment_id")
    top = comments["parent_id"].isna()
    assert (comments.loc[top, "depth"] == 1).all()
    assert (comments.loc[top, "root_id"] == comments.index[top]).all()
    replies = comments[~top]
    parents = comments.reindex(replies["parent_id"])
    assert parents.index.isin(comments.index).all(), "every parent exists"
    assert (parents["post_id"].to_numpy() == replies["post_id"].to_numpy()).all()
    assert (parents["created_at"].to_numpy() < replies["created_at"].to_numpy()).all()
    assert (replies["depth"].to_numpy() == parents["depth"].to_numpy() + 1).all()
    assert (replies["root_id"].to_numpy() == parents["root_id"].to_numpy()).all()
    assert comments["depth"].between(1, max_depth).all()
    return comments


def test_comment_trees_are_consistent(moltbook: CanonicalBatch) -> None:
    comments = _check_tree(moltbook)
    posts = moltbook.tables["posts"].set_index("post_id")
    assert (comments["created_at"] > posts.loc[comments["post_id"], "created_at"].to_numpy()).all()


def test_deep_threads_stop_at_the_depth_cap_of_ten(deep_threads: CanonicalBatch) -> None:
    comments = _check_tree(deep_threads)
    assert comments["depth"].max() == 10  # reached, never exceeded


def test_exposures_show_only_items_that_already_exist(moltbook: CanonicalBatch) -> None:
    t = moltbook.tables
    exposures = t["exposures"]
    assert set(exposures["feed"]) == {"hot", "new", "random", "thread"}
    assert (exposures["rank"] >= 1).all()
    created = pd.concat([t["posts"].set_index("post_id")["created_at"],
                         t["comments"].set_index("comment_id")["created_at"]])
    item_time = exposures["item_id"].map(created)
    assert item_time.notna().all()
    step_end = pd.Timestamp("2026-02-01T00:00:00Z") + pd.to_timedelta((exposures["step"] + 1) * 60, unit="s")
    assert (item_time < step_end).all()
    # Ten feed slots at most per agent and step.
    per_view = exposures[exposures["feed"] != "thread"].groupby(["agent_id", "step"]).size()
    assert per_view.max() <= 10


def test_snapshots_grow_over_time_and_end_at_or_below_the_final_counts(
    moltbook: CanonicalBatch,
) -> None:
    snaps = moltbook.tables["post_snapshots"].sort_values(["post_id", "observed_at"])
    grown = snaps.groupby("post_id")[["upvotes", "downvotes", "comment_count"]].diff().dropna()
    assert (grown >= 0).all().all()
    posts = moltbook.tables["posts"].set_index("post_id")
    last = snaps.groupby("post_id").last()
    for column in ("upvotes", "downvotes", "comment_count"):
        assert (last[column] <= posts.loc[last.index, column]).all()
    assert (snaps["observed_at"] > snaps["post_id"].map(posts["created_at"])).all()
    minutes = (snaps["observed_at"] - pd.Timestamp("2026-02-01T00:00:00Z")).dt.total_seconds() / 60
    assert (np.mod(minutes, 15) == 0).all()
    agent_snaps = moltbook.tables["agent_snapshots"]
    assert agent_snaps["agent_id"].nunique() > 100
