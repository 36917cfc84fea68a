"""Same preset + seed + config ⇒ identical tables; per-module streams keep knobs independent."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from simulators import MoltbookLikeConfig, resolve_config, simulate
from tests.simulators.helpers import table_fingerprints
from warehouse.batch import CanonicalBatch


def test_the_same_seed_reproduces_every_table_exactly(moltbook: CanonicalBatch) -> None:
    again = simulate("moltbook-like", seed=1)
    assert table_fingerprints(again) == table_fingerprints(moltbook)


def test_the_stored_config_alone_reproduces_the_run(moltbook: CanonicalBatch) -> None:
    """societies.config_json + seed is a complete recipe (§2 'Seeded')."""
    stored = json.loads(json.dumps(moltbook.society["config_json"]))  # as read back from JSON
    config = MoltbookLikeConfig.from_json(stored)
    assert config == resolve_config("moltbook-like")
    again = simulate(stored["preset"], seed=stored["seed"], **dataclasses.asdict(config))
    assert table_fingerprints(again) == table_fingerprints(moltbook)


def test_a_different_seed_gives_a_different_society(moltbook: CanonicalBatch) -> None:
    other = simulate("moltbook-like", seed=2)
    assert other.society_id == "sim-moltbook_like-2"
    first, second = table_fingerprints(moltbook), table_fingerprints(other)
    for table in ("posts", "comments", "votes", "exposures", "actions", "sim_labels"):
        assert first[table] != second[table], table


def test_a_text_only_knob_leaves_the_dynamics_draw_for_draw_unchanged(
    moltbook: CanonicalBatch,
) -> None:
    """p_dup only feeds the text stream, so the twin differs in text and nothing else."""
    twin = simulate("moltbook-like", seed=1, p_dup=0.0)
    first, second = table_fingerprints(moltbook), table_fingerprints(twin)
    for table in ("votes", "follows", "exposures", "actions", "agent_snapshots", "post_snapshots"):
        assert first[table] == second[table], table
    structure = ["post_id", "community_id", "author_id", "upvotes", "comment_count", "created_at"]
    pd.testing.assert_frame_equal(moltbook.tables["posts"][structure], twin.tables["posts"][structure])
    assert not moltbook.tables["posts"]["content"].equals(twin.tables["posts"]["content"])
    texts = twin.tables["posts"]["title"] + "\n\n" + twin.tables["posts"]["content"]
    assert texts.duplicated().mean() < 0.01


def test_a_follow_knob_changes_follows_only(moltbook: CanonicalBatch) -> None:
    """Follows draw from their own stream and feed nothing else in this preset."""
    twin = simulate("moltbook-like", seed=1, follow_pa_exponent=0.0)
    first, second = table_fingerprints(moltbook), table_fingerprints(twin)
    assert first["follows"] != second["follows"]
    for table in ("posts", "comments", "votes", "exposures", "post_snapshots"):
        assert first[table] == second[table], table


def test_exposure_sampling_logs_a_share_of_slots_and_changes_nothing_else(
    moltbook: CanonicalBatch,
) -> None:
    """A logged sample of the feed slots comes from its own stream: agents see and do the same."""
    sampled = simulate("moltbook-like", seed=1, exposure_log_rate=0.25)
    assert sampled.society["config_json"]["exposure_log_rate"] == 0.25
    full, part = moltbook.tables["exposures"], sampled.tables["exposures"]
    assert len(part) / len(full) == pytest.approx(0.25, abs=0.01)
    keys = ["agent_id", "step", "item_id", "feed", "rank"]
    assert len(part.merge(full[keys], on=keys)) == len(part)  # a subset of the slots shown
    first, second = table_fingerprints(moltbook), table_fingerprints(sampled)
    for table in ("posts", "comments", "votes", "follows", "actions", "post_snapshots"):
        assert first[table] == second[table], table
    with pytest.raises(ValueError, match="exposure_log_rate"):
        simulate("moltbook-like", seed=1, exposure_log_rate=0.0)
