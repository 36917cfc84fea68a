"""The metric registry: one entry per metric, with the provenance and evidence vocabulary of §8.1."""

from __future__ import annotations

import pytest

from assets.metrics.registry import MetricSpec, all_metric_specs, registry_frame


def test_every_entry_uses_the_spec_vocabulary():
    frame = registry_frame()
    assert set(frame["definition_provenance"]) <= {"paper-defined", "paper-named", "proposed"}
    assert set(frame["moltbook_evidence"]) <= {"P", "S", "none"}
    assert set(frame["ci_method"]) <= {"wilson", "bootstrap", "block_bootstrap", "permutation", "none"}
    assert frame["metric"].str.fullmatch(r"[a-z0-9_]+").all()
    assert not frame.duplicated(["family", "metric"]).any()
    # A published figure always names its source.
    published = frame[frame["moltbook_evidence"] != "none"]
    assert published["moltbook_source"].notna().all()


def test_a_metric_registered_twice_is_refused(monkeypatch):
    import assets.metrics.registry as registry

    twice = all_metric_specs() + [MetricSpec("threads", "mean_max_depth", "threads", "proposed", "none", "x")]
    monkeypatch.setattr(registry, "all_metric_specs", lambda: twice)
    with pytest.raises(ValueError, match="mean_max_depth"):
        registry.registry_frame()
