"""Dagster resources: thin handles on the warehouse and the embedder, configured from the environment."""

import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

import duckdb
from dagster import ConfigurableResource

from assets.enrich.embedders import Embedder, make_embedder
from assets.ingest.moltbook_client import API_KEY_ENV, DEFAULT_BASE_URL, MoltbookClient
from warehouse.reader import open_reader
from warehouse.writer import open_writer


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file. Writers hold it one at a time (pool `warehouse_writer`)."""

    path: str

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_writer(self.path) as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_reader(self.path) as conn:
            yield conn


@lru_cache(maxsize=4)
def _loaded_embedder(name: str, device: Optional[str], models_dir: str) -> Embedder:
    # Loading a model costs seconds; keep one per process across runs executed in-process.
    return make_embedder(name, device=device, models_dir=models_dir)


class EmbedderResource(ConfigurableResource):
    """Which embedding model the enrichment stage uses (OBSERVATORY_EMBEDDER: `minilm` or `static`;
    OBSERVATORY_DEVICE; OBSERVATORY_MODELS_DIR for the locally distilled static model)."""

    name: str = "minilm"
    device: Optional[str] = None
    models_dir: str = "var/models"

    def get(self) -> Embedder:
        return _loaded_embedder(self.name, self.device, self.models_dir)


class SourcesResource(ConfigurableResource):
    """Where dump folders are looked up (OBSERVATORY_DUMPS_DIR): society moltbook-dump-<name> is
    the folder `<dumps_dir>/<name>` unless a run names another path."""

    dumps_dir: str
    sim_dir: str  # society folders written by `simulate --out` (OBSERVATORY_SIM_DIR)


class MoltbookApiResource(ConfigurableResource):
    """The live read API (OBSERVATORY_MOLTBOOK_BASE_URL, default the www host) and its raw archive
    (OBSERVATORY_RAW_DIR). The bearer key is read from the environment variable named here at
    request time, so it never enters run config, the UI or the event log."""

    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = API_KEY_ENV
    requests_per_minute: float = 90.0
    timeout_s: float = 30.0
    max_retries: int = 3
    backoff_base_s: float = 1.0
    archive_dir: str = "var/raw"

    def client(self) -> MoltbookClient:
        return MoltbookClient(
            self.base_url,
            api_key=os.environ.get(self.api_key_env) or None,
            requests_per_minute=self.requests_per_minute or None,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
        )


class ReportsResource(ConfigurableResource):
    """Where rendered reports land (OBSERVATORY_REPORTS_DIR)."""

    directory: str

    @property
    def society_report_path(self) -> Path:
        return Path(self.directory) / "society_report.html"
