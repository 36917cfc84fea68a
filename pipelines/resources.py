"""Dagster resources: thin handles on the warehouse and the embedder, configured from the environment."""

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

import duckdb
from dagster import ConfigurableResource

from assets.enrich.embedders import Embedder, make_embedder
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


class ReportsResource(ConfigurableResource):
    """Where rendered reports land (OBSERVATORY_REPORTS_DIR)."""

    directory: str

    @property
    def society_report_path(self) -> Path:
        return Path(self.directory) / "society_report.html"
