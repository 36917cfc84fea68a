"""The tolerance grammar of ground-truth rows (SIMULATORS.md §8), as the checker reads it."""

from __future__ import annotations

import pytest

from simulators.checker.common import Measured, within


def interval(low: float, high: float) -> Measured:
    return Measured((low + high) / 2, ci_low=low, ci_high=high)


def test_a_positive_effect_needs_its_interval_above_zero() -> None:
    assert within("ci excludes 0", "> 0", interval(0.001, 0.02))
    assert not within("ci excludes 0", "> 0", interval(-0.002, 0.02))
    assert not within("ci excludes 0", "> 0", interval(-0.02, -0.001))  # wrong sign


def test_a_negative_effect_needs_its_interval_below_zero() -> None:
    assert within("ci excludes 0", "< 0", interval(-0.02, -0.001))
    assert not within("ci excludes 0", "< 0", interval(0.001, 0.02))


def test_an_unsigned_exclusion_accepts_either_side() -> None:
    assert within("ci excludes 0", "nonzero", interval(0.001, 0.02))
    assert within("ci excludes 0", "nonzero", interval(-0.02, -0.001))
    assert not within("ci excludes 0", "nonzero", interval(-0.001, 0.02))


def test_covers_and_the_value_kinds() -> None:
    assert within("ci covers 0", "0", interval(-0.01, 0.01))
    assert not within("ci covers 0", "0", interval(0.001, 0.01))
    assert within("ci", "0.5", interval(0.4, 0.6))
    assert within("abs 0.02", "0.333", Measured(0.35))
    assert not within("rel 0.1", "2.0", Measured(2.3))
    assert within("range 1.5 2.0", "1.7", Measured(1.9))
    assert within("min 0.85", "0.85", Measured(0.9)) and not within("max 0.1", "0", Measured(0.2))
    assert not within("abs 1", "0", Measured(float("nan")))


def test_an_interval_row_without_an_interval_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs a measured interval"):
        within("ci excludes 0", "> 0", Measured(0.1))
