"""The `personalized` feed (SIMULATORS.md §4.5): weights (|Δu| + δ)^(−γ) · e^(−age/τ), drawn
without replacement in Plackett–Luce order, in work that never grows as viewers × pool."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.feeds import FeedItems, personalized_feed

GAMMA, DELTA, TAU = 1.5, 1e-4, 10.0


def pool(stance: list[float], age: list[float], author: list[int] | None = None) -> FeedItems:
    n = len(stance)
    return FeedItems(post=np.arange(100, 100 + n), author=np.array(author or [-1] * n),
                     stance_u=np.array(stance), age=np.array(age, dtype=float))


def weights(items: FeedItems, u: float, gamma: float = GAMMA) -> np.ndarray:
    return (np.abs(u - items.stance_u) + DELTA) ** -gamma * np.exp(-items.age / TAU)


# Both ways of drawing: proposals over distance buckets, and the dense pass of small pools.
PATHS = pytest.mark.parametrize("dense_pool", [0, 1_024], ids=["proposals", "dense"])


def draw(items: FeedItems, u: float, k: int, n_viewers: int, dense_pool: int, key: int = 7,
         gamma: float = GAMMA) -> np.ndarray:
    viewers = np.arange(10_000, 10_000 + n_viewers)
    return personalized_feed(viewers, np.full(n_viewers, u), items, k, key, gamma=gamma,
                             delta=DELTA, tau=TAU, dense_pool=dense_pool)


def assert_close(observed: np.ndarray, expected: np.ndarray, n: int) -> None:
    """Every frequency within 5 binomial standard errors of its probability."""
    se = np.sqrt(expected * (1 - expected) / n) + 1e-12
    assert np.all(np.abs(observed - expected) <= 5 * se + 1e-4), (observed, expected)


@PATHS
def test_first_and_second_picks_follow_the_plackett_luce_probabilities(dense_pool: int) -> None:
    items = pool([0.29, 0.31, 0.35, 0.5, 0.8, 0.1], [0, 5, 0, 2, 0, 19])
    w = weights(items, 0.3)
    n = 40_000
    picks = draw(items, 0.3, 2, n, dense_pool) - 100
    first = np.bincount(picks[:, 0], minlength=6) / n
    assert_close(first, w / w.sum(), n)
    joint = np.zeros((6, 6))
    np.add.at(joint, (picks[:, 0], picks[:, 1]), 1.0 / n)
    expected = (w[:, None] / w.sum()) * (w[None, :] / (w.sum() - w[:, None]))
    np.fill_diagonal(expected, 0.0)
    assert_close(joint.ravel(), expected.ravel(), n)


@PATHS
def test_a_dominant_post_still_leaves_the_others_in_weighted_order(dense_pool: int) -> None:
    """One post holds almost all the weight; the draws after it (finished over the whole pool
    when proposals keep hitting it) follow the remaining weights."""
    items = pool([0.5, 0.1, 0.3, 0.9], [0, 0, 0, 0])
    w = weights(items, 0.5)
    n = 20_000
    picks = draw(items, 0.5, 3, n, dense_pool) - 100
    assert (picks[:, 0] == 0).mean() > 0.999
    rest = w[1:] / w[1:].sum()
    second = np.bincount(picks[picks[:, 0] == 0, 1], minlength=4)[1:] / (picks[:, 0] == 0).sum()
    assert_close(second, rest, n)


@PATHS
def test_gamma_zero_is_recency_weighted_random(dense_pool: int) -> None:
    items = pool([0.1, 0.5, 0.9, 0.95], [0, 10, 20, 0])
    n = 40_000
    first = np.bincount(draw(items, 0.9, 1, n, dense_pool, gamma=0.0)[:, 0] - 100, minlength=4) / n
    recency = np.exp(-items.age / TAU)
    assert_close(first, recency / recency.sum(), n)


@PATHS
def test_own_posts_are_never_shown_and_short_pools_leave_empty_slots(dense_pool: int) -> None:
    items = pool([0.40, 0.41, 0.42], [0, 0, 0], author=[3, 5, 3])
    out = personalized_feed(np.array([3, 5]), np.array([0.4, 0.4]), items, 3, 1, gamma=GAMMA,
                            delta=DELTA, tau=TAU, dense_pool=dense_pool)
    assert sorted(out[0][out[0] >= 0]) == [101] and (out[0] == -1).sum() == 2
    assert sorted(out[1][out[1] >= 0]) == [100, 102] and out[1][2] == -1


@PATHS
def test_the_cross_cutting_arm_shows_only_the_other_side(dense_pool: int) -> None:
    rng = np.random.default_rng(3)
    items = pool(list(rng.random(500)), list(rng.integers(0, 20, 500)))
    viewer_u = rng.random(300)
    out = personalized_feed(np.arange(300), viewer_u, items, 7, 9, gamma=GAMMA, delta=DELTA,
                            tau=TAU, opposite_only=True, dense_pool=dense_pool)
    shown = out >= 0
    assert shown.all()
    stance = items.stance_u[np.maximum(out, 0) - 100]
    assert ((stance >= 0.5) != (viewer_u[:, None] >= 0.5))[shown].all()
    assert all(len(set(row)) == len(row) for row in out.tolist())


@PATHS
def test_a_viewers_feed_does_not_depend_on_who_else_is_awake(dense_pool: int) -> None:
    rng = np.random.default_rng(5)
    items = pool(list(rng.random(2_000)), list(rng.integers(0, 20, 2_000)))
    viewers, viewer_u = np.arange(1_000), rng.random(1_000)
    everyone = personalized_feed(viewers, viewer_u, items, 7, 11, gamma=GAMMA, delta=DELTA,
                                 tau=TAU, dense_pool=dense_pool)
    some = np.arange(0, 1_000, 7)
    alone = personalized_feed(viewers[some], viewer_u[some], items, 7, 11, gamma=GAMMA,
                              delta=DELTA, tau=TAU, dense_pool=dense_pool)
    assert np.array_equal(everyone[some], alone)


@PATHS
def test_a_pool_smaller_than_the_feed_fills_what_it_can(dense_pool: int) -> None:
    items = pool([0.2, 0.7], [0, 3])
    out = draw(items, 0.5, 7, 50, dense_pool)
    assert (np.sort(out[:, :2], axis=1) == [100, 101]).all() and (out[:, 2:] == -1).all()


@PATHS
def test_own_posts_at_the_viewers_stance_are_skipped_without_bias(dense_pool: int) -> None:
    """Own posts carry the peak weight (distance 0); leaving them out must leave the others in
    proportion to their weights, also beside an own post at the same distance (0.32 shares its
    distance band with 0.321 and 0.324)."""
    items = pool([0.3, 0.29, 0.3, 0.31, 0.5, 0.1, 0.32, 0.321, 0.324],
                 [0, 0, 4, 3, 0, 0, 0, 1, 2], author=[1, 2, 1, 3, 4, 5, 1, 6, 7])
    others = np.array([1, 3, 4, 5, 7, 8])
    w = weights(items, 0.3)[others]
    n = 4_000
    first = np.array([personalized_feed(np.array([1]), np.array([0.3]), items, 2, key,
                                        gamma=GAMMA, delta=DELTA, tau=TAU,
                                        dense_pool=dense_pool)[0]
                      for key in range(n)]) - 100
    assert not np.isin(first, [0, 2, 6]).any()
    frequency = (first[:, :1] == others[None, :]).mean(axis=0)
    assert_close(frequency, w / w.sum(), n)
