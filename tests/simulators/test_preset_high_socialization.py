"""`high-socialization` (SIMULATORS.md §5.3) at test size, scored by its independent checker.

Test size: 300 agents × 720 one-minute steps (12 simulated hours), the preset's defaults; one
run takes about 4-5 s and one socialization measure about 7 s on a quiet 2-core machine.

Every row of the ground truth is asserted at this size (seeds 2 and 3 in a slow test), and
the rows whose truth is a sign ("> 0", "ci excludes 0") are asserted with that sign. The §8.5
contrast with `moltbook-like` is asserted diagnostic by diagnostic.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from simulators import simulate
from simulators.checker import high_socialization, socialization
from simulators.checker.common import Measured, failures, labels, score
from simulators.feeds import following_feed
from tests.simulators.helpers import table_fingerprints
from warehouse.batch import CanonicalBatch

SECTION_5_3_METRICS = {
    "socialization.pairwise_diversity_slope_day", "socialization.lexical_birth_rate_slope_n2",
    "socialization.excess_drift_median", "socialization.partner_influence_effect",
    "socialization.interaction_influence_effect", "socialization.feedback_gap_mean",
    "socialization.persistent_supernode_share_k10", "sim.stance_variance_ratio",
    "sim.fj_equilibrium_linf", "sim.largest_culture_domain_share", "influence.dyad_reciprocity",
    "threads.mean_max_depth", "moltnet.author_return_rate", "sim.contrast_with_moltbook_like",
}
ADAPTATION_METRICS = ("socialization.partner_influence_effect",
                      "socialization.interaction_influence_effect",
                      "socialization.feedback_gap_mean")


@pytest.fixture(scope="module")
def high() -> CanonicalBatch:
    return simulate("high-socialization", seed=1)


@pytest.fixture(scope="module")
def stubborn() -> CanonicalBatch:
    return simulate("high-socialization", seed=1, twin="stubborn")


@pytest.fixture(scope="module")
def high_measured(high: CanonicalBatch) -> dict[str, Measured]:
    return high_socialization.measure(high)


@pytest.fixture(scope="module")
def high_social(high: CanonicalBatch) -> dict[str, Measured]:
    return socialization.measure(high)


@pytest.fixture(scope="module")
def molt_social(moltbook: CanonicalBatch) -> dict[str, Measured]:
    return socialization.measure(moltbook)


# The run ---------------------------------------------------------------------------------------

def test_the_preset_runs_through_the_registry_at_test_size(high: CanonicalBatch) -> None:
    assert high.society_id == "sim-high_socialization-1"
    counts = high.row_counts()
    assert counts["agents"] == 300
    assert 5_000 <= counts["posts"] <= 10_000
    assert counts["comments"] > counts["posts"]  # deep, answered threads
    assert counts["votes"] > 2_000 and counts["follows"] > 200
    config = high.society["config_json"]
    assert config["stubbornness"] == 0.1 and config["n_features"] == 5 and config["n_traits"] == 3
    assert config["fj_freeze_step"] == 540
    assert config["karma_lr"] == 0.1 and config["partner_memory"] == 20  # §5.3 parameters


def test_the_same_seed_reproduces_every_table(high: CanonicalBatch) -> None:
    assert table_fingerprints(simulate("high-socialization", seed=1)) == table_fingerprints(high)


def test_the_twin_starts_from_the_same_population_and_differs_by_its_knob(
    high: CanonicalBatch, stubborn: CanonicalBatch
) -> None:
    assert stubborn.society_id == "sim-high_socialization-1-stubborn"
    assert stubborn.society["config_json"]["twin"] == {
        "name": "stubborn", "knob": {"stubbornness": 1.0, "axelrod": False, "karma_lr": 0.0}}
    # Same population and first step (common random numbers); the dynamics then part ways.
    for table in ("sim_states",):
        first = high.tables[table][high.tables[table]["step"] == 0]
        twin_first = stubborn.tables[table][stubborn.tables[table]["step"] == 0]
        pd.testing.assert_series_equal(first["value"].reset_index(drop=True),
                                       twin_first["value"].reset_index(drop=True))
    assert table_fingerprints(high)["posts"] != table_fingerprints(stubborn)["posts"]


def test_item_styles_reach_the_text_layer(high: CanonicalBatch) -> None:
    """Each post's culture traits are labelled and rendered (style phrases, `style_strength`):
    for every feature and trait some word pair is in nearly all posts with that trait and in
    few others, so a change of trait shows in the text."""
    posts = high.tables["posts"].set_index("post_id")
    style = labels(high.tables, "post", "style").reindex(posts.index)
    traits = np.array([[int(x) for x in s.split(",")] for s in style])
    present = CountVectorizer(ngram_range=(2, 2), binary=True).fit_transform(posts["content"])
    for feature, trait in itertools.product(range(5), range(3)):
        has = traits[:, feature] == trait
        if has.sum() < 20 or (~has).sum() < 20:  # a trait nearly everyone or no one holds
            continue
        inside = np.asarray(present[has].mean(axis=0)).ravel()
        outside = np.asarray(present[~has].mean(axis=0)).ravel()
        assert ((inside > 0.9) & (outside < 0.2)).any(), (feature, trait)


# Planted rows ----------------------------------------------------------------------------------

def test_the_truth_rows_are_exactly_those_of_section_5_3(high: CanonicalBatch) -> None:
    assert set(high.tables["ground_truth"]["metric"]) == SECTION_5_3_METRICS


def test_every_row_passes_at_test_size(
    high: CanonicalBatch, high_measured: dict[str, Measured]
) -> None:
    verdicts = score(high.tables["ground_truth"], high_measured)
    assert {v.metric for v in verdicts} == SECTION_5_3_METRICS - {
        "sim.contrast_with_moltbook_like"}
    assert failures(verdicts) == []


def test_sign_rows_hold_with_their_sign(high_measured: dict[str, Measured]) -> None:
    """The "> 0, ci excludes 0" rows have their interval above 0 (the checker enforces the
    sign; this states it for the rows of §5.3)."""
    keys = ("socialization.excess_drift_median",) + ADAPTATION_METRICS
    assert [key for key in keys if not high_measured[key].ci_low > 0.0] == []
    assert high_measured["socialization.persistent_supernode_share_k10"].value >= 0.30


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3])
def test_other_seeds_meet_every_row(seed: int) -> None:
    """The calibration is not a seed-1 accident: seeds 2 and 3 meet every row too."""
    batch = simulate("high-socialization", seed=seed)
    measured = high_socialization.measure(batch)
    assert failures(score(batch.tables["ground_truth"], measured)) == []


def test_stances_settle_on_the_friedkin_johnsen_equilibrium(
    high_measured: dict[str, Measured]
) -> None:
    """W rebuilt from the comments table before the freeze step reproduces the engine's."""
    assert high_measured["sim.fj_equilibrium_linf"].value < 1e-6
    assert high_measured["sim.stance_variance_ratio"].value < 0.30


def _latent_feedback_gaps(batch: CanonicalBatch, draws: int = 10) -> np.ndarray:
    """The §3.5 feedback gap on one-hot vectors of the planted post traits, once per tie-break
    draw: most authors have several posts without votes, so which one is "worst" is a draw, and
    one draw moves the estimate by about its own standard error."""
    posts = batch.tables["posts"].sort_values(["created_at", "post_id"]).reset_index(drop=True)
    traits = labels(batch.tables, "post", "style").reindex(posts["post_id"])
    codes = np.array([[int(x) for x in s.split(",")] for s in traits])
    one_hot = np.concatenate([np.eye(3)[codes[:, f]] for f in range(5)], axis=1) / np.sqrt(5)
    latent = socialization.Corpus(posts, one_hot, bin_width_s=1.0)
    return np.array([
        socialization.feedback_gap_mean(latent, batch.tables["post_snapshots"],
                                        np.random.default_rng(draw)).value
        for draw in range(draws)
    ])


def test_votes_teach_authors_in_their_latent_traits(
    high: CanonicalBatch, stubborn: CanonicalBatch
) -> None:
    """Karma reinforcement, read from the planted traits instead of text: posts move toward
    the author's best-scored earlier post more than toward its worst, whichever tied post is
    drawn as the worst; in the twin without karma reinforcement (nor culture copying) they
    do not."""
    here, twin = _latent_feedback_gaps(high), _latent_feedback_gaps(stubborn)
    assert (here > 0.0).all()
    assert abs(twin.mean()) < 0.003
    assert here.mean() > twin.mean() + 0.005


def test_the_stubborn_twin_passes_its_rows_and_loses_the_convergence(
    stubborn: CanonicalBatch, high_measured: dict[str, Measured]
) -> None:
    measured = high_socialization.measure(stubborn)
    assert failures(score(stubborn.tables["ground_truth"], measured)) == []
    assert measured["sim.largest_culture_domain_share"].value < 0.10
    assert measured["sim.stance_variance_ratio"].value == pytest.approx(1.0)
    diversity = measured["socialization.pairwise_diversity_slope_day"]
    assert diversity.ci_low <= 0.0 <= diversity.ci_high  # no semantic convergence
    drift = measured["socialization.excess_drift_median"]
    assert drift.ci_high < high_measured["socialization.excess_drift_median"].value


# §8.5 contrast with moltbook-like -------------------------------------------------------------

def _covers_zero(m: Measured) -> bool:
    return m.ci_low <= 0.0 <= m.ci_high


def test_semantic_diversity_falls_here_and_not_in_moltbook_like(
    high_social: dict[str, Measured], molt_social: dict[str, Measured]
) -> None:
    """§8.2 check 2 (diversity): moltbook-like slope ≥ 0 or covering 0; here < 0."""
    key = "socialization.pairwise_diversity_slope_day"
    assert molt_social[key].ci_high >= 0.0
    assert high_social[key].ci_high < 0.0


def test_lexical_turnover_falls_in_both_at_test_size(
    high_social: dict[str, Measured], molt_social: dict[str, Measured]
) -> None:
    """§8.2 check 2 (turnover). Here the birth-rate slope is < 0 as §5.3 asks. In a 12-hour
    moltbook-like run it is negative too: the bigram vocabulary is still saturating, so the
    check cannot flip at this size; what does hold is that it falls more steeply here."""
    key = "socialization.lexical_birth_rate_slope_n2"
    assert high_social[key].ci_high < 0.0
    assert high_social[key].value < molt_social[key].value


def test_agents_drift_here_and_stay_inert_in_moltbook_like(
    high_social: dict[str, Measured], molt_social: dict[str, Measured]
) -> None:
    """§8.2 check 3: excess drift covers 0 in moltbook-like and excludes it here."""
    key = "socialization.excess_drift_median"
    assert _covers_zero(molt_social[key])
    assert high_social[key].ci_low > 0.0


def test_agents_adapt_to_partners_and_votes_here_and_not_in_moltbook_like(
    high_social: dict[str, Measured], molt_social: dict[str, Measured]
) -> None:
    """§8.2 check 4: the interaction, partner and feedback effects cover 0 in moltbook-like
    and are above 0 here."""
    for key in ADAPTATION_METRICS:
        assert _covers_zero(molt_social[key]), key
        assert high_social[key].ci_low > 0.0, key


def test_influence_is_more_persistent_here_than_in_moltbook_like(
    high_social: dict[str, Measured], molt_social: dict[str, Measured]
) -> None:
    """§8.2 check 5: the persistent-supernode share reaches the §5.3 level of 0.30 here and is
    higher than in moltbook-like (whose ≤ 0.05 level is not met at test size)."""
    key = "socialization.persistent_supernode_share_k10"
    assert high_social[key].value >= 0.30
    assert high_social[key].value > molt_social[key].value


# Pieces ----------------------------------------------------------------------------------------

def test_following_feed_ranks_followees_posts_by_score_then_recency() -> None:
    # Agents 0..3; agent 0 follows 1 and 2, agent 3 follows nobody.
    follower, followee = np.array([0, 0, 1]), np.array([1, 2, 0])
    author = np.array([1, 2, 1, 2, 0, 1, 3])
    score = np.array([5, 5, 0, 9, 7, 5, 8])
    feed = following_feed(np.array([0, 3, 1]), follower, followee, author, score,
                          pool_start=1, k=3)
    # Pool = posts 1..6. Agent 0: post 3 (9), then score 5: post 5 (newer) before post 1.
    assert feed[0].tolist() == [3, 5, 1]
    assert feed[1].tolist() == [-1, -1, -1]
    assert feed[2].tolist() == [4, -1, -1]


def _hub_society(hub_bins: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eight one-hour bins; in each, 30 rotating authors post and get a few comments, and in
    `hub_bins` one hub gets 40 comments."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2026-02-01", tz="UTC")
    posts, comments = [], []
    for b in range(8):
        at = start + pd.Timedelta(hours=b)
        posts += [(f"p{b}-{i}", f"a{(i + 7 * b) % 200}", at) for i in range(30)]
        posts.append((f"hub{b}", "hub", at))
        for j in range(150):
            hub = b in hub_bins and j < 40
            target = f"hub{b}" if hub else f"p{b}-{rng.integers(30)}"
            at_minute = at + pd.Timedelta(minutes=1 + j % 50)
            comments.append((target, f"a{rng.integers(200)}", at_minute))
    return (pd.DataFrame(posts, columns=["post_id", "author_id", "created_at"]),
            pd.DataFrame(comments, columns=["post_id", "author_id", "created_at"]))


def test_persistent_supernodes_need_three_consecutive_bins_in_the_top_k() -> None:
    """A hub on top in every bin is the one persistent agent of the top 1; a hub on top in
    every other bin never is (k = 1 so that ten receiving agents make a bin valid)."""
    steady = socialization.persistent_supernode_share(*_hub_society(list(range(8))), k=1)
    assert steady.value == 1.0
    blinking = socialization.persistent_supernode_share(*_hub_society([0, 2, 4, 6]), k=1)
    assert blinking.value == 0.0
