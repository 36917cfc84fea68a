"""The metric registry (ANALYTICS_SPEC §8.1.2): what each `society_metric` row means and where
its definition comes from. Each family module declares the entries of the metrics it emits; the
registry is their union, versioned with the code, and reports read their footnotes from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

Provenance = Literal["paper-defined", "paper-named", "proposed"]
Evidence = Literal["P", "S", "none"]
CiMethod = Literal["wilson", "bootstrap", "block_bootstrap", "permutation", "none"]


@dataclass(frozen=True)
class MetricSpec:
    family: str  # topics | toxicity | socialization | influence | moltnet | automation | threads
    metric: str  # snake_case, unique within the family
    unit: str  # what `n` counts: posts, comments, agents, threads, days, pairs, ...
    definition_provenance: Provenance
    ci_method: CiMethod
    expected_direction: str  # what a Moltbook-like society should show, in words ("> 0", "≈ 1", ...)
    moltbook_value: str | None = None  # the published figure, if any
    moltbook_evidence: Evidence = "none"
    moltbook_source: str | None = None  # short paper name and arXiv id


REGISTRY_COLUMNS = [
    "family", "metric", "unit", "definition_provenance", "ci_method", "expected_direction",
    "moltbook_value", "moltbook_evidence", "moltbook_source",
]


def all_metric_specs() -> list[MetricSpec]:
    """Every registered metric: each family module's REGISTRY list."""
    from assets.ingest.moltbook_sync import COVERAGE_REGISTRY

    return [*[spec for module in family_modules().values() for spec in module], *COVERAGE_REGISTRY]


def family_modules() -> dict[str, list[MetricSpec]]:
    """The REGISTRY list of each metric module, by module name."""
    from assets.metrics import (
        automation, concentration, consensus, influence_graph, influence_persistence, moltnet_emotion,
        moltnet_norms, moltnet_persona, socialization_agents, socialization_semantic, threads, threads_tails,
        topics, toxicity,
    )

    modules = [topics, toxicity, socialization_semantic, socialization_agents, consensus, concentration,
               influence_graph, influence_persistence, moltnet_persona, moltnet_norms, moltnet_emotion,
               automation, threads, threads_tails]
    return {module.__name__.rsplit(".", 1)[1]: module.REGISTRY for module in modules}


def registry_frame() -> pd.DataFrame:
    """The registry as rows of metric_registry (§8.1.2); refuses a metric registered twice."""
    specs = all_metric_specs()
    keys = [(s.family, s.metric) for s in specs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"metrics registered twice: {repeated}")
    return pd.DataFrame([[getattr(s, c) for c in REGISTRY_COLUMNS] for s in specs], columns=REGISTRY_COLUMNS)
