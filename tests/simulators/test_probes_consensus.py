"""Probe threads (`simulators.probes`) and the §3.8 collective-consensus measure of the checker.

First the measure on hand-built societies whose answer is known, then the probes as the presets
write them, then ANALYTICS_SPEC §8.2 check 6 at test size: `moltbook-like` shows no consensus
(scattered answers, some naming entities that do not exist), and `high-socialization` comes out
the opposite way (answers agree on the society's actual hubs), as §5.3 "Contrast with P1" asks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulators import simulate
from simulators.checker.common import Measured
from simulators.checker.socialization import (
    comment_pagerank, consensus, parse_mentions, probe_post_ids,
)
from simulators.probes import ANSWER_TEMPLATE, PROBE_TEMPLATE, is_probe_text, probe_steps
from tests.simulators.helpers import labels
from warehouse.batch import CanonicalBatch

START = pd.Timestamp("2026-02-01", tz="UTC")
NAMES = [f"QuietCrab{i}" for i in range(10)]  # agent i is "a{i}"


def _society(answers: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Index]:
    """Ten agents; agent 0 asks one probe question, and each answer is a comment on it by one
    of agents 1-9 in turn. Agent k (1-9) also has a post with k comments by others."""
    agents = pd.DataFrame({"agent_id": [f"a{i}" for i in range(10)], "name": NAMES})
    posts = pd.DataFrame({"post_id": ["probe"] + [f"p{k}" for k in range(1, 10)],
                          "author_id": ["a0"] + [f"a{k}" for k in range(1, 10)]})
    rows = [("probe", f"a{1 + r % 9}", text) for r, text in enumerate(answers)]
    rows += [(f"p{k}", f"a{(k + j) % 9 + 1}", "nice")
             for k in range(1, 10) for j in range(1, k + 1)]
    comments = pd.DataFrame(rows, columns=["post_id", "author_id", "content"])
    comments["created_at"] = START + pd.to_timedelta(np.arange(len(comments)), unit="s")
    return agents, posts, comments, pd.Index(["probe"])


def _measure(answers: list[str]) -> dict[str, Measured]:
    agents, posts, comments, probes = _society(answers)
    return consensus(posts, comments, agents, probes, np.random.default_rng(0))


# The measure on known answers -------------------------------------------------------------------

def test_mentions_are_handles_bare_names_and_post_references() -> None:
    by_name = {name.lower(): f"a{i}" for i, name in enumerate(NAMES)}
    text = ("@quietcrab1 and QuietCrab2, also @Nobody77, see sim-x-1:post:5 and "
            "https://www.moltbook.com/post/abc-123. The crab from QuietCrab2 again, and "
            "@QuietCrab1 twice.")
    found = parse_mentions(text, by_name, post_ids={"sim-x-1:post:5"})
    assert found == {
        "post:abc-123": (None, False),  # a URL that resolves to no post
        "post:sim-x-1:post:5": (None, True),
        "agent:a1": ("a1", True),  # handles are case-insensitive; once per response
        "handle:nobody77": (None, False),
        "agent:a2": ("a2", None),  # bare names resolve by construction: no grounding
    }
    assert parse_mentions("also", {"also": "a9"}, set()) == {}  # a stop word is never a name


def test_one_entity_named_by_everyone_is_full_consensus() -> None:
    m = _measure(["Has to be @QuietCrab3."] * 60)
    assert m["socialization.consensus_entropy"].value == 0.0
    assert m["socialization.top1_share"].value == 1.0
    assert m["socialization.grounding_rate"].value == 1.0


def test_two_entities_named_equally_often_have_unit_entropy_and_half_the_mentions() -> None:
    m = _measure(["@QuietCrab3, easily.", "@QuietCrab4, easily."] * 30)
    assert m["socialization.consensus_entropy"].value == pytest.approx(1.0)
    assert m["socialization.top1_share"].value == pytest.approx(0.5)
    low, high = m["socialization.top1_share"].ci_low, m["socialization.top1_share"].ci_high
    assert low < 0.5 < high


def test_a_handle_that_does_not_exist_lowers_grounding() -> None:
    m = _measure(["@QuietCrab3 for sure.", "@GhostCrab99 for sure.", "@QuietCrab4!"] * 20)
    assert m["socialization.grounding_rate"].value == pytest.approx(2 / 3)
    assert m["socialization.top1_share"].value == pytest.approx(1 / 3)
    assert m["socialization.consensus_entropy"].value == pytest.approx(1.0)


def test_fewer_than_fifty_responses_with_a_mention_give_no_value() -> None:
    m = _measure(["@QuietCrab3."] * 49 + ["No idea, sorry."] * 30)
    for key in ("consensus_entropy", "top1_share", "grounding_rate", "structure_alignment"):
        assert np.isnan(m[f"socialization.{key}"].value), key
    assert "with a mention=49" in m["socialization.top1_share"].note
    assert not np.isnan(_measure(["@QuietCrab3."] * 50)["socialization.top1_share"].value)


@pytest.mark.parametrize("direction", [1, -1])
def test_structure_alignment_is_the_rank_correlation_of_mentions_with_pagerank(
    direction: int,
) -> None:
    """Mentions follow the agents' PageRank order (or its reverse) exactly: ±1. The comment
    graph does not depend on what the comments say, so PageRank is known before writing them."""
    agents, posts, comments, _ = _society(["x"] * 90)
    rank = comment_pagerank(posts, comments, pd.Index(agents["agent_id"]))
    order = rank.sort_values(ascending=direction > 0).index  # mentioned least first
    assert rank.nunique() == len(rank)
    answers = [f"@{NAMES[int(agent[1:])]}" for times, agent in enumerate(order, 1)
               for _ in range(times)][:90]
    answers += ["no idea"] * (90 - len(answers))
    m = _measure(answers)
    assert m["socialization.structure_alignment"].value == pytest.approx(direction)


# The probes as the presets write them -----------------------------------------------------------

@pytest.fixture(scope="module")
def high() -> CanonicalBatch:
    return simulate("high-socialization", seed=1)


def _consensus(batch: CanonicalBatch) -> dict[str, Measured]:
    t = batch.tables
    return consensus(t["posts"], t["comments"], t["agents"], probe_post_ids(t),
                     np.random.default_rng(0))


@pytest.mark.parametrize("preset", ["moltbook", "high"])
def test_probe_posts_are_labelled_findable_by_pattern_and_answered_at_top_level(
    preset: str, request: pytest.FixtureRequest
) -> None:
    batch: CanonicalBatch = request.getfixturevalue(preset)
    t, config = batch.tables, batch.society["config_json"]
    probes = probe_post_ids(t)
    assert len(probes) == config["n_probe_threads"] == 4
    posts = t["posts"].set_index("post_id")
    by_pattern = (posts["title"].fillna("") + "\n" + posts["content"]).map(is_probe_text)
    assert set(posts.index[by_pattern]) == set(probes)  # the pattern list finds them, only them
    assert (posts.loc[probes, "community_id"] == config["default_community_id"]).all()
    steps = (posts.loc[probes, "created_at"] - START).dt.total_seconds() // 60
    assert sorted(steps.astype(int)) == probe_steps(config["n_steps"], 4).tolist()
    assert (labels(batch, "post", "template")[probes] == PROBE_TEMPLATE).all()
    answers = labels(batch, "comment", "template")
    answers = t["comments"].set_index("comment_id").loc[answers.index[answers == ANSWER_TEMPLATE]]
    assert (answers["depth"] == 1).all()
    per_probe = answers.groupby("post_id").size()
    assert set(per_probe.index) == set(probes)
    assert (per_probe <= config["probe_answers"]).all() and per_probe.sum() >= 60
    assert not answers.duplicated(["post_id", "author_id"]).any()  # one answer per agent
    asker = posts.loc[answers["post_id"], "author_id"].to_numpy()
    assert not (answers["author_id"].to_numpy() == asker).any()  # the asker never answers
    assert not answers["content"].str.contains("{society}", regex=False).any()


def test_probes_change_nothing_before_the_first_probe(moltbook: CanonicalBatch) -> None:
    """Probes draw from their own stream: without them the run is the same up to the first
    probe step (from it on, the step has one more action to stamp, the probe post is in the
    feeds, and the runs part ways)."""
    plain = simulate("moltbook-like", seed=1, n_probe_threads=0)
    assert probe_post_ids(plain.tables).empty
    first = START + pd.Timedelta(minutes=int(probe_steps(720, 4)[0]))
    events = {"actions": None, "votes": None, "follows": None,  # final counts differ later
              "posts": ["post_id", "community_id", "author_id", "title", "content", "created_at"],
              "comments": ["comment_id", "post_id", "parent_id", "author_id", "content",
                           "created_at"]}
    for table, columns in events.items():
        with_probes, without = (frame.loc[frame["created_at"] < first, columns or frame.columns]
                                .reset_index(drop=True)
                                for frame in (moltbook.tables[table], plain.tables[table]))
        assert len(with_probes) > 0, table
        pd.testing.assert_frame_equal(with_probes, without)
    assert np.isnan(_consensus(plain)["socialization.top1_share"].value)


# §8.2 check 6 and the §5.3 contrast --------------------------------------------------------------

def test_moltbook_like_shows_no_collective_consensus(moltbook: CanonicalBatch) -> None:
    """High entropy, a low top-1 share, and grounding below 1 (a quarter of the references are
    hallucinated); mentions ignore who is central, so alignment is not positive."""
    m = _consensus(moltbook)
    assert m["socialization.consensus_entropy"].ci_low > 0.95
    assert m["socialization.top1_share"].ci_high < 0.05
    assert m["socialization.grounding_rate"].ci_high < 1.0
    assert m["socialization.grounding_rate"].value == pytest.approx(0.75, abs=0.1)
    assert m["socialization.structure_alignment"].value < 0.0


def test_high_socialization_agrees_on_its_hubs(
    moltbook: CanonicalBatch, high: CanonicalBatch
) -> None:
    """The opposite of moltbook-like on every part of check 6, each beyond its interval."""
    molt, here = _consensus(moltbook), _consensus(high)
    entropy, top1 = "socialization.consensus_entropy", "socialization.top1_share"
    assert here[entropy].ci_high < molt[entropy].ci_low
    assert here[top1].ci_low > molt[top1].ci_high
    assert here["socialization.grounding_rate"].value == 1.0
    assert here["socialization.structure_alignment"].value > 0.2
