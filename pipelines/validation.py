"""Blind validation (SIMULATORS.md §8, ANALYTICS_SPEC.md §8.1.5): run the analytics on a simulated
society whose planted truth is withheld, then score every ground-truth row.

The society goes through the same Dagster job as any simulated society (ingest, enrichment,
metrics), in a private warehouse that never holds `ground_truth`, `sim_labels` or `sim_states`.
Afterwards each `ground_truth` row is scored: a row naming an analytics metric against that
metric's `society_metric` row, a `sim.*` row (latent truth or event tables) by the simulator's
own checker on the full run. A scale-dependent row is skipped, with its reason, when the run's
size differs from the size its truth describes by more than 2×.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from assets.metrics.findings import format_estimate, society_metrics
from simulators.checker.common import Measured, as_order, within
from warehouse.batch import CanonicalBatch

WITHHELD_TABLES = ("ground_truth", "sim_labels", "sim_states")
SIZE_FACTOR = 2.0

RowStatus = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class RowVerdict:
    phenomenon: str
    metric: str  # family.metric
    expected: str
    tolerance: str
    scored_by: Literal["analytics", "simulator checker"]
    status: RowStatus
    observed: str
    note: str = ""


def blind_copy(batch: CanonicalBatch) -> CanonicalBatch:
    """The society with its planted truth removed: what the analytics are allowed to see."""
    tables = {name: frame for name, frame in batch.tables.items() if name not in WITHHELD_TABLES}
    return replace(batch, tables=tables)


def _size_gap(config: dict) -> float | None:
    """How many times the run's agent count differs from the truth's reference size (≥ 1)."""
    reference = (config.get("truth_reference_size") or {}).get("n_agents")
    n_agents = config.get("n_agents")
    if not reference or not n_agents:
        return None
    ratio = float(n_agents) / float(reference)
    return max(ratio, 1.0 / ratio)


def _measured(row: pd.Series) -> Measured:
    low = None if pd.isna(row["ci_low"]) else float(row["ci_low"])
    high = None if pd.isna(row["ci_high"]) else float(row["ci_high"])
    return Measured(float(row["value"]), low, high)


def score_analytics_row(truth: pd.Series, metrics: pd.DataFrame) -> RowVerdict:
    """One ground-truth row against the society's `society_metric` rows."""
    family, metric = str(truth["metric"]).split(".", 1)
    found = metrics[(metrics["family"] == family) & (metrics["metric"] == metric)]
    base = dict(phenomenon=truth["phenomenon"], metric=truth["metric"], expected=truth["expected"],
                tolerance=truth["tolerance"], scored_by="analytics")
    if found.empty:
        return RowVerdict(**base, status="fail", observed="not computed",
                          note="no society_metric row: the analytics do not emit this metric")
    row = found.iloc[0]
    if pd.isna(row["value"]):
        return RowVerdict(**base, status="fail", observed=f"NULL (n = {int(row['n'])})",
                          note="below the metric's minimum sample or missing input")
    m = _measured(row)
    kind = str(truth["tolerance"]).split()[0]
    if kind == "order":
        passed = within("order", "", as_order(m, str(truth["expected"])))
    elif kind == "ci" and (m.ci_low is None or m.ci_high is None):
        return RowVerdict(**base, status="fail", observed=format_estimate(m.value, m.ci_low, m.ci_high), note="the row needs an interval")
    else:
        passed = within(str(truth["tolerance"]), str(truth["expected"]), m)
    return RowVerdict(**base, status="pass" if passed else "fail", observed=format_estimate(m.value, m.ci_low, m.ci_high))


def score_society(
    ground_truth: pd.DataFrame,
    metrics: pd.DataFrame,
    config: dict,
    checker_measures: dict[str, Measured] | None = None,
) -> list[RowVerdict]:
    """Every ground-truth row, in table order: pass, fail or skip (with the reason)."""
    gap = _size_gap(config)
    scale_dependent = set(config.get("truth_scale_dependent") or [])
    reference = config.get("truth_reference_size") or {}
    verdicts = []
    for _, truth in ground_truth.iterrows():
        key = str(truth["metric"])
        if key in scale_dependent and gap is not None and gap > SIZE_FACTOR:
            verdicts.append(RowVerdict(
                truth["phenomenon"], key, truth["expected"], truth["tolerance"],
                "simulator checker" if key.startswith("sim.") else "analytics", "skip", "",
                f"scale-dependent: truth describes {reference.get('n_agents')} agents, "
                f"run has {config.get('n_agents')}"))
            continue
        if key.startswith("sim."):
            measured = (checker_measures or {}).get(key)
            if measured is None:
                verdicts.append(RowVerdict(truth["phenomenon"], key, truth["expected"], truth["tolerance"],
                                           "simulator checker", "skip", "",
                                           "needs twin runs or several seeds (simulator test suite)"))
                continue
            passed = within(str(truth["tolerance"]), str(truth["expected"]), measured)
            verdicts.append(RowVerdict(truth["phenomenon"], key, truth["expected"], truth["tolerance"],
                                       "simulator checker", "pass" if passed else "fail",
                                       format_estimate(measured.value, measured.ci_low, measured.ci_high), measured.note))
            continue
        verdicts.append(score_analytics_row(truth, metrics))
    return verdicts


def verdict_table(verdicts: list[RowVerdict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "status": v.status.upper(), "metric": v.metric, "expected": v.expected, "tolerance": v.tolerance,
        "observed": v.observed, "scored by": v.scored_by, "note": v.note,
    } for v in verdicts])


@dataclass(frozen=True)
class BlindRun:
    society_id: str
    warehouse_path: Path
    metrics: pd.DataFrame  # the society's society_metric rows
    verdicts: list[RowVerdict]

    @property
    def passed(self) -> bool:
        return all(v.status != "fail" for v in self.verdicts)


def run_blind(batch: CanonicalBatch, workdir: Path, *, embedder: str = "minilm",
              models_dir: Path | None = None, device: str | None = None) -> BlindRun:
    """Run the society's analytics blind in `workdir` (a fresh warehouse) and score its truth."""
    from dagster import DagsterInstance

    from pipelines.automation import INGEST_ASSET_BY_SOURCE, JOB_BY_SOURCE
    from pipelines.definitions import build_definitions
    from pipelines.partitions import society_partitions
    from pipelines.settings import load_settings
    from simulators.checker import full_run, measure_society
    from simulators.output import write_society_folder

    workdir.mkdir(parents=True, exist_ok=True)
    warehouse_path = workdir / "warehouse.duckdb"
    if warehouse_path.exists():
        raise FileExistsError(f"{warehouse_path} exists: a blind run starts from an empty warehouse")
    folder = write_society_folder(blind_copy(batch), workdir / "simulations")
    settings = replace(
        load_settings(), warehouse_path=warehouse_path, reports_dir=workdir / "reports",
        sim_dir=workdir / "simulations", dagster_home=workdir / "dagster", embedder=embedder,
        device=device, raw_dir=workdir / "raw", **({"models_dir": models_dir} if models_dir else {}),
    )
    defs = build_definitions(settings)
    society_id = batch.society_id
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(society_partitions.name, [society_id])
        result = defs.resolve_job_def(JOB_BY_SOURCE["simulator"]).execute_in_process(
            partition_key=society_id, instance=instance,
            run_config={"ops": {INGEST_ASSET_BY_SOURCE["simulator"]: {"config": {"path": str(folder)}}},
                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        if not result.success:
            raise RuntimeError(f"{society_id}: the analytics job failed")
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        leaked = [t for t in WITHHELD_TABLES
                  if conn.execute(f"SELECT count(*) FROM {t} WHERE society_id = ?", [society_id]).fetchone()[0]]
        metrics = society_metrics(conn, society_id)
    if leaked:
        raise AssertionError(f"withheld tables reached the warehouse: {leaked}")
    checker = {}
    if batch.tables["ground_truth"]["metric"].str.startswith("sim.").any():  # scored on the full, unblinded run
        checker = {k: v for k, v in measure_society(full_run(batch)).items() if k.startswith("sim.")}
    verdicts = score_society(batch.tables["ground_truth"], metrics, batch.society["config_json"], checker)
    return BlindRun(society_id, warehouse_path, metrics, verdicts)
