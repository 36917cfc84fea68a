"""Shared simulator runs: each default-size run takes about a second, so tests share them."""

from __future__ import annotations

import pytest

from simulators import simulate
from warehouse.batch import CanonicalBatch


@pytest.fixture(scope="session")
def moltbook() -> CanonicalBatch:
    """The default small `moltbook-like` run at seed 1 (500 agents × 720 one-minute steps)."""
    return simulate("moltbook-like", seed=1)


@pytest.fixture(scope="session")
def deep_threads() -> CanonicalBatch:
    """The default-size run with replies made common (p_reply 0.95), so the depth cap is
    exercised: it takes a thread of a few dozen comments, which a smaller run rarely grows."""
    return simulate("moltbook-like", seed=3, p_reply=0.95)
