"""Shared fixtures: the real Moltbook captures beside the project, and throwaway warehouses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MOLTBOOK = Path(
    os.environ.get("OBSERVATORY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data" / "moltbook")
)


@pytest.fixture(scope="session")
def moltbook_data() -> Path:
    """The real API captures and CSV export; tests that need them skip when ../shared is absent."""
    if not (SHARED_MOLTBOOK / "api").is_dir() or not (SHARED_MOLTBOOK / "observatory_csv").is_dir():
        pytest.skip(
            f"real Moltbook captures not found at {SHARED_MOLTBOOK} "
            "(clone with ../shared beside the project, or set OBSERVATORY_SHARED_DATA)"
        )
    return SHARED_MOLTBOOK


@pytest.fixture()
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"
