"""Where things live, read from environment variables with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from assets.ingest.moltbook_client import DEFAULT_BASE_URL

REPO_ROOT = Path(__file__).resolve().parents[1]

# Offline by construction: no library may reach a model hub at run time.
for _offline_flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_offline_flag, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    warehouse_path: Path  # the DuckDB file
    reports_dir: Path  # where society_report.html lands
    dumps_dir: Path  # each sub-folder is one dump society: moltbook-dump-<folder name>
    sim_dir: Path  # each sub-folder is one simulated society written by `simulate --out`
    dagster_home: Path
    models_dir: Path  # models built locally (the distilled static embedder), reused across runs
    embedder: str  # which embedder the enrichment stage uses
    device: str | None  # "cpu", "cuda", or None for automatic
    raw_dir: Path  # raw payload archive of live syncs, one folder per society and run
    moltbook_base_url: str  # the live read API (or a local replay server)
    moltbook_requests_per_minute: float  # the client's token bucket

    @property
    def report_path(self) -> Path:
        return self.reports_dir / "society_report.html"


def load_settings() -> Settings:
    var = _path_from_env("OBSERVATORY_HOME", REPO_ROOT / "var")
    return Settings(
        warehouse_path=_path_from_env("OBSERVATORY_WAREHOUSE", var / "warehouse.duckdb"),
        reports_dir=_path_from_env("OBSERVATORY_REPORTS_DIR", var / "reports"),
        dumps_dir=_path_from_env(
            "OBSERVATORY_DUMPS_DIR", REPO_ROOT.parent / "shared" / "data" / "moltbook"
        ),
        sim_dir=_path_from_env("OBSERVATORY_SIM_DIR", var / "simulations"),
        dagster_home=_path_from_env("DAGSTER_HOME", var / "dagster"),
        models_dir=_path_from_env("OBSERVATORY_MODELS_DIR", var / "models"),
        embedder=os.environ.get("OBSERVATORY_EMBEDDER", "minilm"),
        device=os.environ.get("OBSERVATORY_DEVICE") or None,
        raw_dir=_path_from_env("OBSERVATORY_RAW_DIR", var / "raw"),
        moltbook_base_url=os.environ.get("OBSERVATORY_MOLTBOOK_BASE_URL", DEFAULT_BASE_URL),
        moltbook_requests_per_minute=float(os.environ.get("OBSERVATORY_MOLTBOOK_RPM", "90")),
    )
