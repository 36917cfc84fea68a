"""`moltbook-like` reproduces the SIMULATORS.md §5.1 targets, measured blind from its tables.

The independent checker (`simulators.checker.moltbook_like`) reads only the emitted tables. The
small default run (500 agents × 720 one-minute steps) is asserted on the rows that do not depend
on scale; the slow tests run the §5.1 reference size (10,000 × 1,000, about 30 s each) and
assert every row the checker measures. The first tests pin the checker's measures on data
whose answer is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulators import simulate
from simulators.checker.common import failures, score
from simulators.checker.moltbook_like import (
    attention_decay_theta, friendship_paradox_share, measure, normalise_text, power_law_fit,
    upvote_comment_beta,
)
from simulators.presets.moltbook_like import SCALE_DEPENDENT
from warehouse.batch import CanonicalBatch

SIZE_INDEPENDENT = {
    "influence.community_post_top1_share", "threads.mean_max_depth",
    "threads.share_comments_depth1", "threads.unanswered_comment_share",
    "moltnet.author_return_rate", "automation.exact_dup_share_posts",
    "automation.exact_dup_share_comments", "threads.zipf_exponent",
    "influence.agent_upvote_gini", "influence.zero_upvote_comment_share",
    "sim.stance_variance_ratio", "sim.friendship_paradox_share",
}


# The checker's measures on data with a known answer ------------------------------------------

def _discrete_power_law(n: int, alpha: float, xmin: int, rng: np.random.Generator) -> np.ndarray:
    """Clauset-Shalizi-Newman's approximate discrete sampler."""
    return np.floor((xmin - 0.5) * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0)) + 0.5)


def test_the_tail_fit_recovers_a_planted_exponent_above_a_bulk() -> None:
    rng = np.random.default_rng(7)
    tail = _discrete_power_law(3_000, 1.7, 20, rng)
    bulk = rng.poisson(4.0, 20_000) + 1
    fit = power_law_fit(np.concatenate([bulk, tail]))
    assert fit.alpha == pytest.approx(1.7, abs=0.06)
    assert fit.xmin >= 12  # the KS search leaves the Poisson bulk out
    assert np.isnan(power_law_fit(tail[:49]).alpha)  # fewer than 50 points: no fit


def test_exact_duplicates_ignore_case_digits_urls_and_spacing() -> None:
    assert normalise_text("Hello  World 42\nhttps://x.example/a?b=1 ") == "hello world"
    assert normalise_text("ＡＢＣ") == "abc"  # NFKC folds full-width letters


def test_one_over_t_arrivals_give_a_decay_exponent_of_one() -> None:
    rng = np.random.default_rng(3)
    n_posts, per_post = 2_000, 20
    start = pd.Timestamp("2026-02-01", tz="UTC")
    posted = start + pd.to_timedelta(np.zeros(n_posts), unit="s")
    lag_s = np.exp(rng.uniform(np.log(1.0), np.log(48 * 3_600.0), n_posts * per_post))
    posts = pd.DataFrame({"post_id": np.arange(n_posts), "created_at": posted})
    comments = pd.DataFrame({"post_id": np.repeat(np.arange(n_posts), per_post),
                             "created_at": start + pd.to_timedelta(lag_s, unit="s")})
    assert attention_decay_theta(posts, comments).value == pytest.approx(1.0, abs=0.05)


def test_upvotes_proportional_to_comments_give_a_unit_scaling_exponent() -> None:
    # Every comment count from 1 to 255, each log2 bin holding at least 40 posts.
    comments = np.concatenate([np.repeat(np.arange(2**b, 2 ** (b + 1)), max(1, 40 >> b))
                               for b in range(8)])
    posts = pd.DataFrame({"comment_count": comments, "upvotes": comments})
    assert upvote_comment_beta(posts).value == pytest.approx(1.0, abs=0.03)
    flat = posts.assign(upvotes=5)
    assert upvote_comment_beta(flat).value == pytest.approx(0.0, abs=1e-9)


def test_followers_of_a_hub_sit_below_their_followees() -> None:
    """Nine agents follow a hub (9 followers), which follows one of them back: the nine have
    0 or 1 follower, below their followee's 9; the hub is not below its followee's 1."""
    followers = [f"a{i}" for i in range(1, 10)] + ["hub"]
    followees = ["hub"] * 9 + ["a1"]
    follows = pd.DataFrame({"follower_id": followers, "followee_id": followees,
                            "created_at": pd.Timestamp("2026-02-01", tz="UTC"),
                            "action": "follow"})
    assert friendship_paradox_share(follows).value == pytest.approx(9 / 10)


# The preset at the small default size ------------------------------------------------------

def test_the_checker_measures_every_section_5_1_row_but_the_socialization_ones(
    moltbook: CanonicalBatch,
) -> None:
    truth = set(moltbook.tables["ground_truth"]["metric"])
    measured = set(measure(moltbook))
    assert measured == {m for m in truth if not m.startswith("socialization.")}
    checker_scale_dependent = {m for m in SCALE_DEPENDENT if not m.startswith("socialization.")}
    assert SIZE_INDEPENDENT | checker_scale_dependent == measured
    assert not SIZE_INDEPENDENT & set(SCALE_DEPENDENT)


def test_size_independent_rows_hold_at_the_small_default_size(moltbook: CanonicalBatch) -> None:
    measured = {k: v for k, v in measure(moltbook).items() if k in SIZE_INDEPENDENT}
    verdicts = score(moltbook.tables["ground_truth"], measured)
    assert {v.metric for v in verdicts} == SIZE_INDEPENDENT
    assert not failures(verdicts)


# The preset at the §5.1 reference size -----------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_every_measured_row_holds_at_the_reference_size(seed: int) -> None:
    batch = simulate("moltbook-like", seed=seed, n_agents=10_000, n_steps=1_000)
    measured = measure(batch)
    verdicts = score(batch.tables["ground_truth"], measured)
    assert {v.metric for v in verdicts} == set(measured)
    assert not failures(verdicts)
