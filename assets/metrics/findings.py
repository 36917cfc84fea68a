"""The published directional findings about Moltbook (ANALYTICS_SPEC.md §8.2), checked on any society.

Each finding is a set of conditions on `society_metric` rows. A condition holds when its sign or
ordering holds within the 95% interval where the row has one ("> 0" needs the whole interval
above 0; "not below 0" needs the interval to reach 0 or above; "covers 0" needs 0 inside it).
The spec gives words such as "high", "low", "small" and "≈ 1"; the thresholds that turn them into
checks are this project's (proposed) and are written next to each condition, so a reader sees the
definition used. A finding is `reproduced` when every condition holds, `not reproduced` when a
condition fails, and `not available` when a metric is missing or NULL, with the reason.
`read_findings` runs the checks on one society of a warehouse (the `findings` command, the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from assets.metrics.registry import all_metric_specs

Status = Literal["reproduced", "not reproduced", "not available"]
Test = Literal["gt", "lt", "not_below", "covers", "range", "near", "near_metric", "top_of"]


@dataclass(frozen=True)
class Condition:
    """One check on one metric. `args`: threshold(s); for near_metric the other metric's
    family.metric and a tolerance; for top_of a metric-name prefix and how many ranks count."""

    family: str
    metric: str
    test: Test
    args: tuple[float | str, ...]
    words: str  # the spec's wording of this part of the check

    @property
    def key(self) -> str:
        return f"{self.family}.{self.metric}"


@dataclass(frozen=True)
class Finding:
    number: int
    claim: str
    conditions: tuple[Condition, ...]
    source: str
    needs: tuple[str, ...] = ()  # data the checks read, named as in DataProfile.missing()


def _c(key: str, test: Test, *args: float | str, words: str) -> Condition:
    family, metric = key.split(".", 1)
    return Condition(family, metric, test, tuple(args), words)


_LI = "Does Socialization Emerge, arXiv:2602.14299"
_MOLTNET = "MoltNet, arXiv:2602.13458"
_JIANG = "Humans welcome to observe, arXiv:2602.10127"

FINDINGS: tuple[Finding, ...] = (
    Finding(1, "Society-wide meaning settles quickly", (
        _c("socialization.drift_ratio_tail", "near", 1.0, 0.5, words="drift_ratio_tail ≈ 1 (within 0.5)"),
        _c("socialization.days_to_stabilize", "lt", 4.0, words="days_to_stabilize small (< 4)"),
    ), f"{_LI} [P]", ("posts_per_day", "embeddings")),
    Finding(2, "Vocabulary keeps turning over; diversity does not collapse", (
        _c("socialization.lexical_birth_rate_tail_n2", "gt", 0.0, words="lexical_birth_rate_tail_n2 > 0"),
        _c("socialization.lexical_birth_rate_slope_n2", "not_below", 0.0,
           words="birth rate not trending to 0 (slope not below 0)"),
        _c("socialization.pairwise_diversity_slope_day", "not_below", 0.0,
           words="pairwise_diversity_slope_day ≥ 0"),
    ), f"{_LI} [P]", ("posts_per_day", "embeddings")),
    Finding(3, "Strong individual inertia", (
        _c("socialization.excess_drift_median", "covers", 0.0, words="excess_drift_median CI covers 0"),
        _c("socialization.inertia_index", "gt", 0.5, words="inertia_index high (> 0.5)"),
    ), f"{_LI} [P]", ("author_ids", "embeddings")),
    Finding(4, "No adaptation to partners or votes", (
        _c("socialization.interaction_influence_effect", "covers", 0.0,
           words="interaction_influence_effect CI covers 0"),
        _c("socialization.feedback_gap_mean", "covers", 0.0, words="feedback_gap_mean CI covers 0"),
    ), f"{_LI} [P] partners, [S] votes", ("comments", "author_ids", "embeddings")),
    Finding(5, "Transient influence, no persistent supernodes", (
        _c("socialization.topk_jaccard_rel_k10", "lt", 0.5, words="topk_jaccard_rel_k10 ≪ 1 (< 0.5)"),
        _c("socialization.persistent_supernode_share_k10", "lt", 0.05,
           words="persistent_supernode_share_k10 ≈ 0 (< 0.05)"),
    ), f"{_LI} [P]", ("comments", "author_ids")),
    Finding(6, "No collective consensus", (
        _c("socialization.consensus_entropy", "gt", 0.7, words="consensus_entropy high (> 0.7)"),
        _c("socialization.top1_share", "lt", 0.2, words="top1_share low (< 0.2)"),
        _c("socialization.grounding_rate", "lt", 1.0, words="grounding_rate < 1"),
    ), f"{_LI} [P]; grounding [S]", ("comments", "probe_threads")),
    Finding(7, "Weak persona alignment that worsens over time and after reward", (
        _c("moltnet.persona_alignment_gap_median", "lt", 0.1,
           words="persona_alignment_gap_median small (< 0.1)"),
        _c("moltnet.persona_drift_time_median", "lt", 0.0, words="persona_drift_time_median < 0"),
        _c("moltnet.reward_persona_drift_median", "lt", 0.0, words="reward_persona_drift_median < 0"),
    ), f"{_MOLTNET} [P]", ("author_ids", "personas", "embeddings")),
    Finding(8, "Community-specific templates that agents converge to", (
        _c("moltnet.norm_specificity_ratio", "gt", 1.0, words="norm_specificity_ratio > 1"),
        _c("moltnet.template_convergence_slope", "gt", 0.0, words="template_convergence_slope > 0"),
    ), f"{_MOLTNET} [P]", ("embeddings",)),
    Finding(9, "More posting after a reward peak, most for popular agents", (
        _c("moltnet.output_shift_excess_mean", "gt", 0.0, words="output_shift_excess_mean > 0"),
        _c("moltnet.output_shift_karma_spearman", "gt", 0.0, words="output_shift_karma_spearman > 0"),
    ), f"{_MOLTNET} [P]", ("author_ids", "karma", "upvotes")),
    Finding(10, "Little conflict or reciprocity, disengagement, yet contagion", (
        _c("moltnet.conflict_rate_comments", "lt", 0.1, words="conflict_rate_comments low (< 0.1)"),
        _c("moltnet.emotion_reciprocity", "lt", 0.1, words="emotion_reciprocity small (< 0.1)"),
        _c("moltnet.conflict_disengagement_diff", "gt", 0.0, words="conflict_disengagement_diff > 0"),
        _c("moltnet.conflict_contagion_or", "gt", 1.0, words="conflict_contagion_or > 1"),
    ), f"{_MOLTNET} [P]", ("comments", "emotion_labels")),
    Finding(11, "Upvote inequality far above posting inequality", (
        _c("influence.upvote_minus_posting_gini", "gt", 0.0, words="upvote_minus_posting_gini > 0"),
    ), "Let There Be Claws, arXiv:2602.20044 [P]", ("author_ids", "upvotes")),
    Finding(12, "Low reciprocity", (
        _c("influence.dyad_reciprocity", "range", 0.01, 0.20, words="dyad_reciprocity within 0.01–0.20"),
    ), "Let There Be Claws; Anatomy; Form Without Function [P]", ("comments", "author_ids")),
    Finding(13, "Shallow threads, absent authors", (
        _c("threads.mean_max_depth", "lt", 1.5, words="mean_max_depth ≈ 1.07 (< 1.5)"),
        _c("threads.share_comments_depth1", "gt", 0.8, words="share_comments_depth1 ≈ 0.94 (> 0.8)"),
        _c("threads.unanswered_comment_share", "gt", 0.8, words="unanswered_comment_share ≈ 0.93 (> 0.8)"),
        _c("moltnet.author_return_rate", "lt", 0.2, words="author_return_rate ≈ 0.09 (< 0.2)"),
    ), "Anatomy; The Moltbook Illusion; Form Without Function [P]", ("comments",)),
    Finding(14, "Heavy tails, α near 1.7", (
        _c("threads.alpha_comments_per_post", "range", 1.5, 2.1, words="alpha_comments_per_post in 1.5–2.1"),
        _c("threads.alpha_posts_per_agent", "range", 1.5, 2.1, words="alpha_posts_per_agent in 1.5–2.1"),
    ), "Anatomy [P]; Collective Behavior of AI Agents [S]", ("author_ids",)),
    Finding(15, "Sublinear upvotes vs comments; attention decaying about as 1/t", (
        _c("threads.upvote_comment_beta", "lt", 1.0, words="upvote_comment_beta < 1"),
        _c("threads.attention_decay_theta", "near", 1.0, 0.3, words="attention_decay_theta ≈ 1 (within 0.3)"),
    ), "Collective Behavior of AI Agents, arXiv:2602.09270: [P] β, [S] θ", ("comments", "upvotes")),
    Finding(16, "Fast response or none", (
        _c("threads.first_comment_delay_median_s", "lt", 120.0,
           words="first_comment_delay_median_s of tens of seconds (< 120 s)"),
        _c("threads.thread_lifespan_median_s", "lt", 3600.0,
           words="thread_lifespan_median_s of minutes (< 1 h)"),
    ), "Form Without Function; Let There Be Claws [P]", ("comments",)),
    Finding(17, "Topic-dependent toxicity, concentrated in Economics and Politics", (
        _c("toxicity.contrib_ratio_d", "gt", 1.0, words="contrib_ratio_d > 1"),
        _c("toxicity.contrib_ratio_g", "gt", 1.0, words="contrib_ratio_g > 1"),
        _c("toxicity.harmful_rate_g", "top_of", "harmful_rate_", 3.0,
           words="harmful_rate_g among the highest (top 3 of A–I)"),
        _c("toxicity.level4_rate_d", "top_of", "level4_rate_", 1.0, words="level4_rate_d the highest"),
    ), f"{_JIANG}: [P] direction", ("toxicity_labels", "category_labels")),
    Finding(18, "Harm rises with volume", (
        _c("toxicity.volume_harm_r_hour", "gt", 0.0, words="volume_harm_r_hour > 0"),
    ), f"{_JIANG} [S]", ("toxicity_labels",)),
    Finding(19, "Attention concentrating in hubs, increasingly", (
        _c("influence.community_post_top1_share", "gt", 0.5, words="community_post_top1_share high (> 0.5)"),
        _c("influence.community_hhi_slope_day", "gt", 0.0, words="community_hhi_slope_day > 0"),
    ), f"{_JIANG} [P]", ("posts_per_day",)),
    Finding(20, "Sub-minute flooding by few agents; heavy template copying", (
        _c("automation.flood_volume_share", "gt", 0.0, words="flood_volume_share > 0"),
        _c("automation.flood_top_agent_share", "gt", 0.5, words="flood_top_agent_share high (> 0.5)"),
        _c("automation.exact_dup_share_pooled", "gt", 0.1, words="exact_dup_share_pooled high (> 0.1)"),
    ), f"{_JIANG} [P]; Anatomy [P]", ("author_ids",)),
    Finding(21, "Topic-generalist communities, entered regardless of bio", (
        _c("topics.generalist_community_share", "gt", 0.5, words="generalist_community_share high (> 0.5)"),
        _c("moltnet.bio_community_match_rate", "near_metric", "moltnet.bio_community_match_rate_null", 0.05,
           words="bio_community_match_rate close to its null (within 0.05)"),
    ), "Form Without Function, arXiv:2604.13052 [P]", ("category_labels", "personas")),
)


@dataclass(frozen=True)
class DataProfile:
    """What a society's data holds, to say why a finding cannot be checked."""

    n_posts: int
    n_comments: int
    author_id_share: float  # of posts and comments
    n_embeddings: int
    n_valid_days: int  # days (or short-run bins) with enough posts for the day series
    has_upvotes: bool
    has_karma: bool
    n_personas: int
    has_toxicity_labels: bool
    has_category_labels: bool
    has_emotion_labels: bool
    n_probe_threads: int | None  # None: not counted

    def missing(self) -> dict[str, str]:
        """Requirement name → why it is unmet (only unmet ones)."""
        gaps = {
            "comments": "no comments" if self.n_comments == 0 else "",
            "author_ids": "no author ids" if self.author_id_share == 0 else "",
            "embeddings": "no text embeddings" if self.n_embeddings == 0 else "",
            "posts_per_day": "no day with enough posts for a day series" if self.n_valid_days == 0 else "",
            "upvotes": "no upvote counts (score only)" if not self.has_upvotes else "",
            "karma": "no agent karma" if not self.has_karma else "",
            "personas": "no agent descriptions" if self.n_personas == 0 else "",
            "toxicity_labels": "no toxicity labels" if not self.has_toxicity_labels else "",
            "category_labels": "no content-category labels" if not self.has_category_labels else "",
            "emotion_labels": "no emotion labels" if not self.has_emotion_labels else "",
            "probe_threads": "no probe threads" if self.n_probe_threads == 0 else "",
        }
        return {name: why for name, why in gaps.items() if why}


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    holds: bool | None  # None: not available
    observed: str


@dataclass(frozen=True)
class FindingResult:
    finding: Finding
    status: Status
    results: tuple[ConditionResult, ...]
    reason: str  # why not available / which condition failed; "" when reproduced

    @property
    def observed(self) -> str:
        return "; ".join(f"{r.condition.metric} {r.observed}" for r in self.results)


def _number(x: float) -> str:
    """4 significant digits; bootstrap rounding residue (|x| < 1e-12) prints as 0."""
    return "0" if abs(x) < 1e-12 else f"{x:.4g}"


def format_estimate(value: float, low: float | None, high: float | None) -> str:
    """`value [low, high]`, or the value alone when it has no interval."""
    if low is None or high is None or np.isnan(low) or np.isnan(high):
        return _number(value)
    return f"{_number(value)} [{_number(low)}, {_number(high)}]"


@cache
def _units() -> dict[str, str]:
    return {f"{spec.family}.{spec.metric}": spec.unit for spec in all_metric_specs()}


def _interval(row: pd.Series) -> tuple[float, float]:
    """The row's 95% interval, or the value itself twice when it has none."""
    value = float(row["value"])
    low, high = row.get("ci_low"), row.get("ci_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return value, value
    return float(low), float(high)


def _row(metrics: pd.DataFrame, key: str) -> pd.Series | None:
    family, metric = key.split(".", 1)
    hit = metrics[(metrics["family"] == family) & (metrics["metric"] == metric)]
    return None if hit.empty else hit.iloc[0]


def evaluate_condition(condition: Condition, metrics: pd.DataFrame) -> ConditionResult:
    """Whether one condition holds on a society's `society_metric` rows (None: not available)."""
    row = _row(metrics, condition.key)
    if row is None:
        return ConditionResult(condition, None, "not computed")
    if pd.isna(row["value"]):
        n = 0 if pd.isna(row["n"]) else int(row["n"])
        unit = _units().get(condition.key, "units")
        return ConditionResult(condition, None, f"NULL (n = {n} {unit}, below its minimum sample)")
    value = float(row["value"])
    low, high = _interval(row)
    observed = format_estimate(value, row.get("ci_low"), row.get("ci_high"))
    args = condition.args
    test = condition.test
    if test == "gt":
        holds = low > float(args[0])
    elif test == "lt":
        holds = high < float(args[0])
    elif test == "not_below":
        holds = high >= float(args[0])
    elif test == "covers":
        if low == high:  # no interval: coverage cannot be judged
            return ConditionResult(condition, None, observed + " (no interval)")
        holds = low <= float(args[0]) <= high
    elif test == "range":
        holds = float(args[0]) <= value <= float(args[1])
    elif test == "near":
        holds = abs(value - float(args[0])) <= float(args[1])
    elif test == "near_metric":
        other = _row(metrics, str(args[0]))
        if other is None or pd.isna(other["value"]):
            return ConditionResult(condition, None, observed + f"; {args[0]} not available")
        holds = abs(value - float(other["value"])) <= float(args[1])
        observed += f" vs {_number(float(other['value']))}"
    elif test == "top_of":
        prefix, ranks = str(args[0]), int(float(args[1]))
        peers = metrics[(metrics["family"] == condition.family) & metrics["metric"].str.startswith(prefix)
                        & metrics["value"].notna()]
        order = peers.sort_values("value", ascending=False)["metric"].tolist()
        holds = condition.metric in order[:ranks]
        observed += f" (rank {order.index(condition.metric) + 1} of {len(order)})"
    else:
        raise ValueError(f"unknown test {test!r}")
    return ConditionResult(condition, bool(holds), observed)


def evaluate_finding(finding: Finding, metrics: pd.DataFrame, profile: DataProfile | None = None) -> FindingResult:
    results = tuple(evaluate_condition(c, metrics) for c in finding.conditions)
    failed = [r for r in results if r.holds is False]
    if failed:
        reason = "; ".join(f"{r.condition.words}: observed {r.observed}" for r in failed)
        return FindingResult(finding, "not reproduced", results, reason)
    unavailable = [r for r in results if r.holds is None]
    if unavailable:
        gaps = profile.missing() if profile is not None else {}
        data_reasons = [gaps[need] for need in finding.needs if need in gaps]
        reason = "; ".join(data_reasons) if data_reasons else "; ".join(
            f"{r.condition.metric} {r.observed}" for r in unavailable
        )
        return FindingResult(finding, "not available", results, reason)
    return FindingResult(finding, "reproduced", results, "")


def evaluate_findings(metrics: pd.DataFrame, profile: DataProfile | None = None,
                      numbers: tuple[int, ...] | None = None) -> list[FindingResult]:
    """§8.2 on one society's `society_metric` rows (columns family, metric, value, ci_low, ci_high, n)."""
    chosen = [f for f in FINDINGS if numbers is None or f.number in numbers]
    return [evaluate_finding(f, metrics, profile) for f in chosen]


def findings_table(results: list[FindingResult]) -> pd.DataFrame:
    """One line per finding: number, claim, status, observed values, reason, source."""
    return pd.DataFrame(
        [{"finding": r.finding.number, "claim": r.finding.claim, "status": r.status,
          "observed": r.observed, "reason": r.reason, "source": r.finding.source} for r in results]
    )


# --------------------------------------------------------------------------- reading a warehouse


def society_metrics(conn: duckdb.DuckDBPyConnection, society_id: str) -> pd.DataFrame:
    """The society's `society_metric` rows, in the columns the conditions read."""
    return conn.execute(
        "SELECT family, metric, value, ci_low, ci_high, n FROM society_metric WHERE society_id = ? "
        "ORDER BY family, metric", [society_id]).df()


def _count(conn: duckdb.DuckDBPyConnection, sql: str, society_id: str) -> int:
    """One count from the warehouse; 0 for a table that is absent or a count that is NULL."""
    try:
        return int(conn.execute(sql, [society_id]).fetchone()[0] or 0)
    except duckdb.CatalogException:  # a table of a family that has not run in this warehouse
        return 0


def read_data_profile(conn: duckdb.DuckDBPyConnection, society_id: str) -> DataProfile:
    """What the society's data holds (for the reasons of `not available` findings)."""
    n_posts = _count(conn, "SELECT count(*) FROM posts WHERE society_id = ?", society_id)
    n_comments = _count(conn, "SELECT count(*) FROM comments WHERE society_id = ?", society_id)
    with_author = _count(conn, "SELECT count(author_id) FROM texts WHERE society_id = ?", society_id)
    n_probes = _count(conn, "SELECT max(n_probe_threads) FROM socialization_consensus WHERE society_id = ?",
                      society_id)
    return DataProfile(
        n_posts=n_posts,
        n_comments=n_comments,
        author_id_share=with_author / max(n_posts + n_comments, 1),
        n_embeddings=_count(conn, "SELECT count(*) FROM text_embeddings WHERE society_id = ?", society_id),
        n_valid_days=_count(conn, "SELECT count(*) FROM socialization_daily WHERE society_id = ? "
                                  "AND pairwise_diversity IS NOT NULL", society_id),
        has_upvotes=_count(conn, "SELECT count(upvotes) FROM posts WHERE society_id = ?", society_id) > 0,
        has_karma=_count(conn, "SELECT count(karma) FROM agents WHERE society_id = ?", society_id) > 0,
        n_personas=_count(conn, "SELECT count(*) FROM agents WHERE society_id = ? AND description IS NOT NULL "
                                "AND trim(description) <> ''", society_id),
        has_toxicity_labels=_count(conn, "SELECT count(*) FROM toxicity_labels WHERE society_id = ?", society_id) > 0,
        has_category_labels=_count(conn, "SELECT count(*) FROM content_category WHERE society_id = ? "
                                         "AND NOT (method LIKE '%:motivation' OR method LIKE '%:enforcement' OR method LIKE '%:argument')",
                                         society_id) > 0,
        has_emotion_labels=_count(conn, "SELECT count(*) FROM emotion_labels WHERE society_id = ?", society_id) > 0,
        n_probe_threads=n_probes,
    )


def read_findings(conn: duckdb.DuckDBPyConnection, society_id: str) -> pd.DataFrame:
    """§8.2 for one society of the warehouse: one line per finding."""
    metrics = society_metrics(conn, society_id)
    return findings_table(evaluate_findings(metrics, read_data_profile(conn, society_id)))
