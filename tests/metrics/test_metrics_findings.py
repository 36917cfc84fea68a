"""§8.2 findings: a condition holds within the 95% interval; NULL or absent rows are "not available"
with a reason taken from what the society's data lacks."""

from __future__ import annotations

import pandas as pd

from assets.metrics.findings import FINDINGS, DataProfile, evaluate_findings, findings_table, format_estimate
from assets.metrics.registry import all_metric_specs


def metrics(*rows: tuple[str, str, float | None, float | None, float | None, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["family", "metric", "value", "ci_low", "ci_high", "n"])


def profile(**changes: object) -> DataProfile:
    base = dict(n_posts=100, n_comments=50, author_id_share=1.0, n_embeddings=150, n_valid_days=8,
                has_upvotes=True, has_karma=True, n_personas=10, has_toxicity_labels=True,
                has_category_labels=True, has_emotion_labels=True, n_probe_threads=3)
    return DataProfile(**{**base, **changes})


def status(number: int, frame: pd.DataFrame, data: DataProfile | None = None) -> tuple[str, str]:
    (result,) = evaluate_findings(frame, data or profile(), numbers=(number,))
    return result.status, result.reason


def test_every_finding_reads_registered_metrics_only() -> None:
    registered = {f"{s.family}.{s.metric}" for s in all_metric_specs()}
    assert [c.key for f in FINDINGS for c in f.conditions if c.key not in registered] == []
    assert [f.number for f in FINDINGS] == list(range(1, 22))


def test_a_sign_check_needs_the_whole_interval_on_its_side() -> None:
    upvote = ("influence", "upvote_minus_posting_gini")
    assert status(11, metrics((*upvote, 0.39, 0.30, 0.45, 500)))[0] == "reproduced"
    held, reason = status(11, metrics((*upvote, 0.05, -0.02, 0.11, 500)))
    assert held == "not reproduced" and "observed 0.05 [-0.02, 0.11]" in reason


def test_coverage_of_zero_is_judged_on_the_interval_and_needs_one() -> None:
    rows = [("socialization", "interaction_influence_effect", 0.004, -0.01, 0.02, 300),
            ("socialization", "feedback_gap_mean", 0.001, -0.003, 0.004, 80)]
    assert status(4, metrics(*rows))[0] == "reproduced"
    moved = [rows[0], ("socialization", "feedback_gap_mean", 0.02, 0.01, 0.03, 80)]
    assert status(4, metrics(*moved))[0] == "not reproduced"
    no_interval = [rows[0], ("socialization", "feedback_gap_mean", 0.001, None, None, 80)]
    assert status(4, metrics(*no_interval))[0] == "not available"


def test_missing_data_is_named_as_the_reason() -> None:
    frame = metrics(("influence", "dyad_reciprocity", None, None, None, 0))
    assert status(12, frame, profile(n_comments=0)) == ("not available", "no comments")
    assert status(12, frame) == ("not available", "dyad_reciprocity NULL (n = 0 edges, below its minimum sample)")
    assert status(12, metrics()) == ("not available", "dyad_reciprocity not computed")


def test_ranking_and_comparison_conditions() -> None:
    tox = [("toxicity", f"harmful_rate_{c}", v, None, None, 100) for c, v in zip("abcdefghi", [.1, .2, .1, .5, .1, .1, .4, .1, .3])]
    tox += [("toxicity", f"level4_rate_{c}", v, None, None, 100) for c, v in zip("abcdefghi", [0, 0, 0, .2, 0, 0, .1, 0, 0])]
    tox += [("toxicity", "contrib_ratio_d", 2.0, 1.5, 2.5, 100), ("toxicity", "contrib_ratio_g", 1.6, 1.2, 2.0, 100)]
    assert status(17, metrics(*tox))[0] == "reproduced"  # g is 2nd of 9 harmful rates, d has the top level-4 rate
    tox[6] = ("toxicity", "harmful_rate_g", 0.05, None, None, 100)
    held, reason = status(17, metrics(*tox))
    assert held == "not reproduced" and "rank 9 of 9" in reason

    bio = [("topics", "generalist_community_share", 0.8, 0.7, 0.9, 20),
           ("moltnet", "bio_community_match_rate", 0.03, 0.02, 0.04, 400),
           ("moltnet", "bio_community_match_rate_null", 0.05, None, None, 400)]
    assert status(21, metrics(*bio))[0] == "reproduced"
    bio[2] = ("moltnet", "bio_community_match_rate_null", 0.30, None, None, 400)
    assert status(21, metrics(*bio))[0] == "not reproduced"


def test_the_table_has_one_line_per_finding() -> None:
    table = findings_table(evaluate_findings(metrics(), profile()))
    assert len(table) == 21 and set(table["status"]) == {"not available"}
    assert list(table.columns) == ["finding", "claim", "status", "observed", "reason", "source"]


def test_estimates_print_bootstrap_rounding_residue_as_zero() -> None:
    assert format_estimate(0.0, 5.551e-17, 0.5615) == "0 [0, 0.5615]"
    assert format_estimate(0.1111, None, None) == "0.1111"
