"""MoltNet intent and incentives (ANALYTICS_SPEC.md §5 intro, §5.1, §5.3): do agents post what
their bio says, do they post where their bio points, and do they change after a reward.

Inputs are warehouse frames of one society. Vectors come from `text_embeddings` of ONE model:
posts are `post:<post_id>`, personas `agent:<agent_id>`, community descriptions
`community:<community_id>`. A persona is valid when `agents.description` has ≥ 5 word tokens
and differs from `agents.name` (§0.3); it is usable when its vector is present too.

Choices of this module (the spec leaves them open):
- Society summaries over agents need ≥ MIN_AGENTS agents; below that the value is NULL with
  the achieved n. A post without a vector does not count towards an embedding-based minimum.
- `drift_time` splits an agent's posts by time order into the first and the last ⌊n/2⌋ (the
  middle post of an odd count sits in neither half).
- `bio_community_match` leaves the default community (`general` on Moltbook) out of M_a: its
  description names no interest, so posting there says nothing about the bio, and with most
  posts going there it would make nearly every agent "match" (SIMULATORS §5.1 bio-blindness).
  Its posts still count in the null's society-wide post distribution.
- `output_shift_ratio`'s exposure control divides upvotes by the post's age in hours at
  `last_seen_at` (at the society's last observed post or comment when that column is absent),
  with the age floored at MIN_AGE_HOURS so a just-created post does not win on a tiny divisor.
  The karma curve is a centred moving average of 51 agents that shrinks at both ends.
- The ±24 h post-rate window is one spec "day" of `bins.plan_bins` (a day, or one short-run
  bin on a simulated society of a few hours), stored as `bin_seconds`.
- Wilcoxon signed-rank p-values (two-sided, scipy) of the three paired tests go to
  society_metric as `*_wilcoxon_p` rows, a name of ours: the spec asks for the test and names no
  column for it.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from assets.metrics.bins import plan_bins, utc_times
from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_ci,
    bootstrap_mean_ci,
    bootstrap_median_ci,
    metric_rng,
    metric_row,
    percentile_interval,
    spearman,
    wilson_interval,
)
from assets.metrics.vectors import unit_rows, vector_lookup

FAMILY = "moltnet"

MIN_PERSONA_TOKENS = 5
MIN_AGENTS = 3
# §5.1 persona alignment and drift
MIN_POSTS_ALIGNMENT = 5
NULL_PERSONAS = 50
ALIGNED_PCT = 0.9
MIN_POSTS_PER_HALF = 3
# §5.1 motivation
MOTIVATION_LABELS = ("knowledge_sharing", "self_expression", "social_relational", "promotional_economic", "other")
# §5.1 bio-community match
BIO_MIN_POSTS = 3
BIO_MIN_COMMUNITY_POSTS = 20
BIO_TOP_COMMUNITIES = 3
BIO_NULL_DRAWS = 100
# §5.3 incentives
CURVE_WINDOW = 51
MIN_AGE_HOURS = 1.0
MIN_POSTS_PER_SIDE = 3
REWARD_NULL_PIVOTS = 50
DEFAULT_DAY_S = 86_400.0
EPOCH = pd.Timestamp("1970-01-01T00:00:00Z")

_WORD = re.compile(r"\w+")

PERSONA_COLUMNS = [
    "agent_id", "n_posts", "alignment", "alignment_null", "alignment_gap", "alignment_pct",
    "alignment_early", "alignment_late", "drift_time", "n_interactions",
]  # fmt: skip
BIO_COMMUNITY_COLUMNS = ["agent_id", "n_posts", "matched", "best_match_cos"]
INCENTIVE_COLUMNS = [
    "agent_id", "karma", "n_posts", "peak_post_id", "shift_ratio", "shift_ratio_null", "shift_excess",
    "shift_ratio_rate_peak", "rate_before", "rate_after", "bin_seconds", "persona_before", "persona_after",
    "persona_drift_null",
]  # fmt: skip
CURVE_COLUMNS = ["karma_rank", "karma", "shift_ratio_ma51"]


# --------------------------------------------------------------------------- inputs


def is_valid_persona(name: object, description: object) -> bool:
    """§0.3: a description of ≥ 5 word tokens that is not just the agent's name."""
    if not isinstance(description, str):
        return False
    text = description.strip()
    if len(_WORD.findall(text)) < MIN_PERSONA_TOKENS:
        return False
    return not (isinstance(name, str) and text.casefold() == name.strip().casefold())


def _id_or_none(value: object) -> str | None:
    """An id as a string; None for a missing one."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _seconds(times: pd.Series) -> np.ndarray:
    """UTC times as float seconds since the epoch (one unit whatever the column's resolution)."""
    return (times - EPOCH).dt.total_seconds().to_numpy(dtype=float)


def _clean_posts(posts: pd.DataFrame) -> pd.DataFrame:
    """post_id, author_id, community_id as strings (None when missing), UTC times, numeric upvotes."""
    out = pd.DataFrame(index=posts.index)
    for col in ("post_id", "author_id", "community_id"):
        values = posts[col] if col in posts.columns else pd.Series(None, index=posts.index, dtype=object)
        out[col] = values.map(_id_or_none)
    missing = pd.Series(pd.NaT, index=posts.index, dtype="datetime64[ns, UTC]")
    out["created_at"] = utc_times(posts["created_at"]) if "created_at" in posts.columns else missing
    out["last_seen_at"] = utc_times(posts["last_seen_at"]) if "last_seen_at" in posts.columns else missing
    upvotes = posts["upvotes"] if "upvotes" in posts.columns else pd.Series(np.nan, index=posts.index)
    out["upvotes"] = pd.to_numeric(upvotes, errors="coerce").astype(float)
    out = out[out["post_id"].notna()].drop_duplicates("post_id")
    return out.reset_index(drop=True)


class _Vectors:
    """One lookup of the embeddings for the whole family: text_id → unit row."""

    def __init__(self, embeddings: pd.DataFrame | None) -> None:
        self.index, self.matrix = vector_lookup(embeddings)

    def rows(self, text_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row numbers of the found ids, mask of found) in the order asked."""
        pos = np.array([self.index.get(t, -1) for t in text_ids], dtype=np.int64)
        return pos[pos >= 0], pos >= 0


def _personas(agents: pd.DataFrame, vectors: _Vectors) -> tuple[np.ndarray, np.ndarray]:
    """(agent ids, unit persona matrix) of the agents with a valid persona that has a vector."""
    if agents is None or agents.empty or "agent_id" not in agents.columns:
        return np.array([], dtype=object), np.zeros((0, 0), dtype=np.float32)
    names = agents["name"] if "name" in agents.columns else pd.Series(None, index=agents.index)
    descriptions = agents["description"] if "description" in agents.columns else pd.Series(None, index=agents.index)
    valid = [is_valid_persona(n, d) for n, d in zip(names, descriptions)]
    ids = pd.unique(agents.loc[valid, "agent_id"].dropna().astype(str))
    rows, found = vectors.rows([f"agent:{a}" for a in ids])
    return ids[found], vectors.matrix[rows]


def _observed_interactions(posts: pd.DataFrame, comments: pd.DataFrame | None) -> pd.Series:
    """Comments written plus comments received from others, per agent id (index)."""
    if comments is None or comments.empty:
        return pd.Series(dtype=float)
    c = pd.DataFrame({"post_id": comments["post_id"].astype(str), "author_id": comments["author_id"]})
    written = c["author_id"].dropna().astype(str).value_counts()
    on_post = c.merge(posts[["post_id", "author_id"]].rename(columns={"author_id": "post_author"}), on="post_id")
    by_other = on_post[on_post["post_author"].notna() & (on_post["author_id"].astype(str) != on_post["post_author"])]
    received = by_other["post_author"].value_counts()
    return written.add(received, fill_value=0.0)


# --------------------------------------------------------------------------- small statistics


def _cos_to(vectors: np.ndarray, persona: np.ndarray) -> float:
    """cos(persona, centroid(vectors)); a zero centroid gives 0."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return float(mean @ persona / norm) if norm > 0 else 0.0


def _wilcoxon_p(diffs: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences; NaN when untestable (all zero)."""
    d = diffs[np.isfinite(diffs)]
    if d.size < MIN_AGENTS or not np.any(d != 0):
        return float("nan")
    return float(wilcoxon(d).pvalue)


def _median_row(metric: str, values: np.ndarray, seed: int, B: int) -> MetricRow:
    v = values[np.isfinite(values)]
    if v.size < MIN_AGENTS:
        return metric_row(FAMILY, metric, None, None, v.size)
    return metric_row(FAMILY, metric, float(np.median(v)), bootstrap_median_ci(v, metric_rng(seed, metric), B), v.size)


def _mean_row(metric: str, values: np.ndarray, seed: int, B: int) -> MetricRow:
    v = values[np.isfinite(values)]
    if v.size < MIN_AGENTS:
        return metric_row(FAMILY, metric, None, None, v.size)
    return metric_row(FAMILY, metric, float(v.mean()), bootstrap_mean_ci(v, metric_rng(seed, metric), B), v.size)


def _share_row(metric: str, flags: np.ndarray, n: int) -> MetricRow:
    if n < MIN_AGENTS:
        return metric_row(FAMILY, metric, None, None, n)
    k = int(np.sum(flags))
    return metric_row(FAMILY, metric, k / n, wilson_interval(k, n), n)


def _spearman_row(metric: str, x: np.ndarray, y: np.ndarray, seed: int, B: int) -> MetricRow:
    keep = np.isfinite(x) & np.isfinite(y)
    pairs = np.column_stack([x[keep], y[keep]])
    n = pairs.shape[0]
    if n < MIN_AGENTS:
        return metric_row(FAMILY, metric, None, None, n)
    return metric_row(FAMILY, metric, spearman(pairs), bootstrap_ci(pairs, spearman, metric_rng(seed, metric), B), n)


def _p_row(metric: str, diffs: np.ndarray) -> MetricRow:
    d = diffs[np.isfinite(diffs)]
    return metric_row(FAMILY, metric, _wilcoxon_p(d), None, d.size)


# --------------------------------------------------------------------------- §5.1 persona alignment and drift


def _agent_posts(posts: pd.DataFrame, vectors: _Vectors) -> pd.DataFrame:
    """Posts with an author, a time and a vector, in (author, time, post_id) order, with their vector row."""
    p = posts[posts["author_id"].notna() & posts["created_at"].notna()]
    rows = np.array([vectors.index.get(f"post:{i}", -1) for i in p["post_id"]], dtype=np.int64)
    p = p.assign(vec_row=rows)[rows >= 0]
    return p.sort_values(["author_id", "created_at", "post_id"], kind="stable").reset_index(drop=True)


def persona_table(
    embedded_posts: pd.DataFrame,
    interactions: pd.Series,
    persona_ids: np.ndarray,
    persona_matrix: np.ndarray,
    post_matrix: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """`moltnet_persona` rows: agents with a usable persona and ≥ MIN_POSTS_ALIGNMENT embedded posts."""
    persona_row = {a: i for i, a in enumerate(persona_ids)}
    groups = [
        (agent, g["vec_row"].to_numpy())
        for agent, g in embedded_posts.groupby("author_id", sort=True)
        if agent in persona_row and len(g) >= MIN_POSTS_ALIGNMENT
    ]
    n_personas = len(persona_ids)
    if not groups or n_personas < 2:
        return pd.DataFrame(columns=PERSONA_COLUMNS)

    own = np.array([persona_row[a] for a, _ in groups], dtype=np.int64)
    centroids = unit_rows(np.vstack([post_matrix[rows].mean(axis=0) for _, rows in groups]))
    alignment = np.empty(len(groups))
    null = np.empty(len(groups))
    pct = np.empty(len(groups))
    k = min(NULL_PERSONAS, n_personas - 1)
    # Chunked so that agents × personas similarities never need more than ~20 M floats at once.
    chunk = max(1, 20_000_000 // n_personas)
    for start in range(0, len(groups), chunk):
        stop = min(start + chunk, len(groups))
        sims = centroids[start:stop] @ persona_matrix.T
        for j, i in enumerate(range(start, stop)):
            s = sims[j]
            alignment[i] = s[own[i]]
            # The own persona is never below itself, so counting over all personas counts the others.
            pct[i] = np.count_nonzero(s < alignment[i]) / (n_personas - 1)
            drawn = rng.choice(n_personas - 1, size=k, replace=False)
            null[i] = s[drawn + (drawn >= own[i])].mean()

    early = np.full(len(groups), np.nan)
    late = np.full(len(groups), np.nan)
    for i, (_, rows) in enumerate(groups):
        half = rows.size // 2
        if half >= MIN_POSTS_PER_HALF:
            d = persona_matrix[own[i]]
            early[i] = _cos_to(post_matrix[rows[:half]], d)
            late[i] = _cos_to(post_matrix[rows[-half:]], d)

    agents = [a for a, _ in groups]
    return pd.DataFrame(
        {
            "agent_id": agents,
            "n_posts": [rows.size for _, rows in groups],
            "alignment": alignment,
            "alignment_null": null,
            "alignment_gap": alignment - null,
            "alignment_pct": pct,
            "alignment_early": early,
            "alignment_late": late,
            "drift_time": late - early,
            "n_interactions": interactions.reindex(agents, fill_value=0.0).to_numpy(dtype=np.int64),
        },
        columns=PERSONA_COLUMNS,
    )


def persona_rows(table: pd.DataFrame, seed: int, B: int) -> list[MetricRow]:
    gap = table["alignment_gap"].to_numpy(dtype=float)
    pct = table["alignment_pct"].to_numpy(dtype=float)
    drift = table["drift_time"].to_numpy(dtype=float)
    drift = drift[np.isfinite(drift)]
    log_interactions = np.log1p(table["n_interactions"].to_numpy(dtype=float))
    return [
        _median_row("persona_alignment_gap_median", gap, seed, B),
        _median_row("persona_alignment_pct_median", pct, seed, B),
        _share_row("persona_aligned_share", pct >= ALIGNED_PCT, pct.size),
        _median_row("persona_drift_time_median", drift, seed, B),
        _share_row("persona_drift_negative_share", drift < 0, drift.size),
        _p_row("persona_drift_time_wilcoxon_p", drift),
        _spearman_row("persona_interaction_spearman", gap, log_interactions, seed, B),
    ]


# --------------------------------------------------------------------------- §5.1 motivation


def motivation_rows(content_category: pd.DataFrame | None, post_ids: pd.Series) -> list[MetricRow]:
    """Share of each motivation label over the labelled posts; not available without labels.

    With several `:motivation` labellers only the one that labelled most posts is read (label
    shares compare only within one method). A post with several rows keeps its highest score; a
    label outside the five is dropped.
    """
    labels = pd.Series(dtype=object)
    if content_category is not None and not content_category.empty:
        cc = content_category[content_category["method"].astype(str).str.endswith(":motivation")]
        cc = cc[cc["text_id"].astype(str).isin("post:" + post_ids.astype(str))]
        if not cc.empty:
            method = cc["method"].astype(str).value_counts().sort_index().idxmax()
            cc = cc[cc["method"].astype(str) == method]
            score = pd.to_numeric(cc["score"], errors="coerce") if "score" in cc.columns else 0.0
            cc = cc.assign(_score=score).sort_values("_score", ascending=False, na_position="last", kind="stable")
            best = cc.drop_duplicates("text_id")
            labels = best["category"].map(lambda v: v.strip().lower() if isinstance(v, str) else None)
            labels = labels[labels.isin(MOTIVATION_LABELS)]
    n = int(labels.size)
    rows = []
    for label in MOTIVATION_LABELS:
        metric = f"motivation_share_{label}"
        if n == 0:
            rows.append(metric_row(FAMILY, metric, None, None, 0))
        else:
            k = int((labels == label).sum())
            rows.append(metric_row(FAMILY, metric, k / n, wilson_interval(k, n), n))
    return rows


# --------------------------------------------------------------------------- §5.1 bio-community match


def bio_community_table(
    posts: pd.DataFrame,
    communities: pd.DataFrame | None,
    persona_ids: np.ndarray,
    persona_matrix: np.ndarray,
    vectors: _Vectors,
    default_community_id: str | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """`moltnet_bio_community` rows, and each scored agent's share of society posts in its M_a.

    Empty when fewer than BIO_TOP_COMMUNITIES communities are eligible (≥ 20 posts, a
    description with a vector, not the default community).
    """
    empty = pd.DataFrame(columns=BIO_COMMUNITY_COLUMNS), np.array([], dtype=float)
    placed = posts[posts["community_id"].notna()]
    if communities is None or communities.empty or placed.empty or persona_ids.size == 0:
        return empty
    per_community = placed["community_id"].value_counts()
    c = communities.assign(_id=communities["community_id"].astype(str))
    described = c["description"].map(lambda v: isinstance(v, str) and v.strip() != "")
    c = c[described & c["_id"].isin(per_community.index[per_community >= BIO_MIN_COMMUNITY_POSTS])]
    if default_community_id is not None:
        c = c[c["_id"] != str(default_community_id)]
    rows, found = vectors.rows([f"community:{i}" for i in c["_id"]])
    community_ids = c["_id"].to_numpy()[found]
    if community_ids.size < BIO_TOP_COMMUNITIES:
        return empty

    per_agent = placed[placed["author_id"].notna()].groupby("author_id")["community_id"].agg(list)
    scored = [a for a in persona_ids if len(per_agent.get(a, [])) >= BIO_MIN_POSTS]
    if not scored:
        return empty
    persona_row = {a: i for i, a in enumerate(persona_ids)}
    sims = persona_matrix[[persona_row[a] for a in scored]] @ vectors.matrix[rows].T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :BIO_TOP_COMMUNITIES]
    share = (per_community / per_community.sum()).reindex(community_ids).to_numpy(dtype=float)
    matched, n_posts = [], []
    for i, agent in enumerate(scored):
        chosen = set(community_ids[top[i]])
        own = per_agent[agent]
        n_posts.append(len(own))
        matched.append(any(cid in chosen for cid in own))
    table = pd.DataFrame(
        {"agent_id": scored, "n_posts": n_posts, "matched": matched, "best_match_cos": sims.max(axis=1)},
        columns=BIO_COMMUNITY_COLUMNS,
    )
    return table, share[top].sum(axis=1)


def bio_rows(table: pd.DataFrame, set_share: np.ndarray, rng: np.random.Generator) -> list[MetricRow]:
    """Match rate (Wilson) and its null: each agent's posts redrawn from the society's post
    distribution R times (a post lands in M_a with M_a's share); the null's interval spans the
    middle 95 % of the R null rates."""
    n = len(table)
    if n < MIN_AGENTS:
        return [metric_row(FAMILY, "bio_community_match_rate", None, None, n),
                metric_row(FAMILY, "bio_community_match_rate_null", None, None, n)]  # fmt: skip
    k = int(table["matched"].astype(bool).sum())
    draws = rng.binomial(table["n_posts"].to_numpy(dtype=np.int64), set_share, size=(BIO_NULL_DRAWS, n))
    null_rates = (draws > 0).mean(axis=1)
    return [
        metric_row(FAMILY, "bio_community_match_rate", k / n, wilson_interval(k, n), n),
        metric_row(FAMILY, "bio_community_match_rate_null", float(null_rates.mean()),
                   percentile_interval(null_rates), n),
    ]


# --------------------------------------------------------------------------- §5.3 incentives


def _side_cosines(times: np.ndarray, prefix: np.ndarray, pivots: np.ndarray, persona: np.ndarray) -> np.ndarray:
    """(before, after, ok) per pivot time: cos of the persona with the centroid of the embedded
    posts strictly before / strictly after, ok when each side has ≥ MIN_POSTS_PER_SIDE posts.

    `prefix[k]` is the sum of the first k vectors (prefix[0] = 0), so each side is one subtraction.
    """
    n = times.size
    n_before = np.searchsorted(times, pivots, side="left")
    after_start = np.searchsorted(times, pivots, side="right")
    before_sum = prefix[n_before]
    after_sum = prefix[n] - prefix[after_start]
    ok = (n_before >= MIN_POSTS_PER_SIDE) & (n - after_start >= MIN_POSTS_PER_SIDE)

    def cos(sums: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(sums, axis=1)
        return np.divide(sums @ persona, norms, out=np.zeros(len(sums)), where=norms > 0)

    return np.column_stack([cos(before_sum), cos(after_sum), ok.astype(float)])


def _first_per_author(posts: pd.DataFrame, by: str) -> pd.Series:
    """Each author's post with the highest `by` (ties: earliest, then lowest post_id), as its created_at."""
    ranked = posts[posts[by].notna()].sort_values(
        ["author_id", by, "created_at", "post_id"], ascending=[True, False, True, True], kind="stable"
    )
    return ranked.drop_duplicates("author_id").set_index("author_id")[["post_id", "created_at"]]


def incentive_table(
    posts: pd.DataFrame,
    agents: pd.DataFrame,
    embedded_posts: pd.DataFrame,
    persona_ids: np.ndarray,
    persona_matrix: np.ndarray,
    post_matrix: np.ndarray,
    observed_end: pd.Timestamp | None,
    window_s: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """`moltnet_incentive` rows: agents with karma > 0, ≥ 2 timed posts and a post of known upvotes."""
    if agents is None or agents.empty or "karma" not in agents.columns:
        return pd.DataFrame(columns=INCENTIVE_COLUMNS)
    karma = pd.Series(
        pd.to_numeric(agents["karma"], errors="coerce").to_numpy(dtype=float),
        index=agents["agent_id"].astype(str).to_numpy(),
    )
    karma = karma[~karma.index.duplicated()]
    karma = karma[karma > 0]
    timed = posts[posts["author_id"].isin(karma.index) & posts["created_at"].notna()]
    seen = timed["last_seen_at"].fillna(observed_end) if observed_end is not None else timed["last_seen_at"]
    age_h = ((seen - timed["created_at"]).dt.total_seconds() / 3600.0).clip(lower=MIN_AGE_HOURS)
    timed = timed.assign(rate=timed["upvotes"] / age_h)

    peak = _first_per_author(timed, "upvotes")
    rate_peak = _first_per_author(timed, "rate")["created_at"]
    n_posts = timed.groupby("author_id").size()
    scored = n_posts.index[n_posts >= 2].intersection(peak.index).sort_values()
    if scored.empty:
        return pd.DataFrame(columns=INCENTIVE_COLUMNS)
    t = timed[timed["author_id"].isin(scored)]
    at, author = t["created_at"], t["author_id"]
    t_peak = author.map(peak["created_at"])
    window = pd.Timedelta(seconds=window_s)
    after = (at > t_peak).groupby(author).sum().reindex(scored)
    after_rate = (at > author.map(rate_peak)).groupby(author).sum().reindex(scored)
    before_w = ((at >= t_peak - window) & (at < t_peak)).groupby(author).sum().reindex(scored)
    after_w = ((at > t_peak) & (at <= t_peak + window)).groupby(author).sum().reindex(scored)
    n = n_posts.reindex(scored).to_numpy(dtype=float)
    null = (n - 1) / (2 * n)
    # an agent none of whose posts has a readable age has no rate peak
    shift_rate = np.where(scored.isin(rate_peak.index), after_rate.to_numpy(dtype=float) / n, np.nan)
    table = pd.DataFrame(
        {
            "agent_id": scored.to_numpy(), "karma": karma.reindex(scored).to_numpy(dtype=float),
            "n_posts": n.astype(np.int64), "peak_post_id": peak["post_id"].reindex(scored).to_numpy(),
            "shift_ratio": after.to_numpy(dtype=float) / n, "shift_ratio_null": null,
            "shift_excess": after.to_numpy(dtype=float) / n - null,
            "shift_ratio_rate_peak": shift_rate,
            "rate_before": before_w.to_numpy(dtype=np.int64), "rate_after": after_w.to_numpy(dtype=np.int64),
            "bin_seconds": float(window_s),
        }
    )  # fmt: skip

    # Persona before / after the peak, and the same at random pivots (the time-drift null).
    persona_row = {a: i for i, a in enumerate(persona_ids)}
    candidates = t.groupby("author_id")["created_at"]
    drift = np.full((len(scored), 3), np.nan)
    for agent, e in embedded_posts.groupby("author_id", sort=True):
        if agent not in persona_row or agent not in scored or len(e) < 2 * MIN_POSTS_PER_SIDE:
            continue
        times = _seconds(e["created_at"])
        vecs = post_matrix[e["vec_row"].to_numpy()].astype(np.float64)
        prefix = np.vstack([np.zeros((1, vecs.shape[1])), np.cumsum(vecs, axis=0)])
        d = persona_matrix[persona_row[agent]].astype(np.float64)
        at_peak = _side_cosines(times, prefix, np.array([(peak.at[agent, "created_at"] - EPOCH).total_seconds()]), d)[0]
        if not at_peak[2]:
            continue
        pivots = _side_cosines(times, prefix, _seconds(candidates.get_group(agent)), d)
        eligible = pivots[pivots[:, 2] > 0]
        drawn = eligible[rng.integers(0, len(eligible), size=REWARD_NULL_PIVOTS)]
        drift[scored.get_loc(agent)] = [at_peak[0], at_peak[1], float(np.mean(drawn[:, 1] - drawn[:, 0]))]
    table["persona_before"], table["persona_after"], table["persona_drift_null"] = drift.T
    return table[INCENTIVE_COLUMNS]


def incentive_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Shift ratio along the karma ranking, smoothed by a centred 51-agent moving average."""
    ranked = table.sort_values(["karma", "agent_id"], ascending=[False, True], kind="stable")
    smooth = ranked["shift_ratio"].astype(float).rolling(CURVE_WINDOW, center=True, min_periods=1).mean()
    return pd.DataFrame(
        {
            "karma_rank": np.arange(1, len(ranked) + 1, dtype=np.int64),
            "karma": ranked["karma"].to_numpy(dtype=float),
            "shift_ratio_ma51": smooth.to_numpy(dtype=float),
        },
        columns=CURVE_COLUMNS,
    )


def incentive_rows(table: pd.DataFrame, seed: int, B: int) -> list[MetricRow]:
    ratio = table["shift_ratio"].to_numpy(dtype=float)
    excess = table["shift_excess"].to_numpy(dtype=float)
    karma = table["karma"].to_numpy(dtype=float)
    ranked = table.sort_values(["karma", "agent_id"], ascending=[False, True], kind="stable")
    top = ranked["shift_excess"].to_numpy(dtype=float)[: math.ceil(len(ranked) / 10)]
    after, before = table["rate_after"].to_numpy(dtype=float), table["rate_before"].to_numpy(dtype=float)
    log_ratio = np.log((after + 0.5) / (before + 0.5))
    before = table["persona_before"].to_numpy(dtype=float)
    drift = table["persona_after"].to_numpy(dtype=float) - before
    drift_excess = drift - table["persona_drift_null"].to_numpy(dtype=float)
    drift = drift[np.isfinite(drift)]
    return [
        _mean_row("output_shift_ratio_mean", ratio, seed, B),
        _mean_row("output_shift_excess_mean", excess, seed, B),
        _p_row("output_shift_excess_wilcoxon_p", excess),
        _mean_row("output_shift_excess_top_decile", top, seed, B),
        _spearman_row("output_shift_karma_spearman", excess, karma, seed, B),
        _mean_row("output_shift_ratio_rate_peak_mean", table["shift_ratio_rate_peak"].to_numpy(dtype=float), seed, B),
        _median_row("post_rate_log_ratio_median", log_ratio, seed, B),
        _median_row("reward_persona_drift_median", drift, seed, B),
        _median_row("reward_persona_drift_excess", drift_excess, seed, B),
        _share_row("reward_drift_negative_share", drift < 0, drift.size),
        _p_row("reward_persona_drift_wilcoxon_p", drift),
    ]


# --------------------------------------------------------------------------- family entry point


def persona_incentive_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame | None,
    agents: pd.DataFrame | None,
    communities: pd.DataFrame | None,
    content_category: pd.DataFrame | None,
    embeddings: pd.DataFrame | None,
    *,
    society_seed: int,
    default_community_id: str | None = None,
    B: int = 1000,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The §5.1 and §5.3 tables and every `moltnet` society metric they feed (NULL when not available)."""
    p = _clean_posts(posts)
    vectors = _Vectors(embeddings)
    persona_ids, persona_matrix = _personas(agents, vectors)
    embedded = _agent_posts(p, vectors)

    persona = persona_table(
        embedded, _observed_interactions(p, comments), persona_ids, persona_matrix, vectors.matrix,
        metric_rng(society_seed, "persona_alignment"),
    )  # fmt: skip
    bio, set_share = bio_community_table(p, communities, persona_ids, persona_matrix, vectors, default_community_id)

    ends = [p["created_at"].max()]
    if comments is not None and not comments.empty and "created_at" in comments.columns:
        ends.append(utc_times(comments["created_at"]).max())
    ends = [e for e in ends if not pd.isna(e)]
    bins = plan_bins(p["created_at"])
    window_s = bins.day_s if bins is not None else DEFAULT_DAY_S
    incentive = incentive_table(
        p, agents, embedded, persona_ids, persona_matrix, vectors.matrix, max(ends) if ends else None, window_s,
        metric_rng(society_seed, "reward_persona_drift_excess"),
    )  # fmt: skip

    rows = [
        *persona_rows(persona, society_seed, B),
        *motivation_rows(content_category, p["post_id"]),
        *bio_rows(bio, set_share, metric_rng(society_seed, "bio_community_match_rate_null")),
        *incentive_rows(incentive, society_seed, B),
    ]
    tables = {
        "moltnet_persona": persona,
        "moltnet_bio_community": bio,
        "moltnet_incentive": incentive,
        "moltnet_incentive_curve": incentive_curve(incentive),
    }
    return tables, rows


# --------------------------------------------------------------------------- registry


def _spec(metric: str, unit: str, provenance: str, ci: str, direction: str, value: str | None = None,
          evidence: str = "none", source: str | None = None) -> MetricSpec:
    return MetricSpec(
        FAMILY, metric, unit, provenance, ci, direction, value, evidence, source  # type: ignore[arg-type]
    )


_MOLTNET = "MoltNet, arXiv:2602.13458"
_FORM = "Form Without Function, arXiv:2604.13052"
#: What this module writes to society_metric (ANALYTICS_SPEC §5.1, §5.3), in order.
REGISTRY = [
    _spec("persona_alignment_gap_median", "agents", "paper-named", "bootstrap", "small (weak alignment)",
          None, "P", _MOLTNET),
    _spec("persona_alignment_pct_median", "agents", "paper-named", "bootstrap", "far below 1", None, "P", _MOLTNET),
    _spec("persona_aligned_share", "agents", "paper-named", "wilson", "low (weak alignment)", None, "P", _MOLTNET),
    _spec("persona_drift_time_median", "agents", "paper-named", "bootstrap", "< 0", None, "P", _MOLTNET),
    _spec("persona_drift_negative_share", "agents", "paper-named", "wilson", "> 0.5", None, "P", _MOLTNET),
    _spec("persona_drift_time_wilcoxon_p", "agents", "proposed", "none", "small (drift differs from 0)"),
    _spec("persona_interaction_spearman", "agents", "paper-named", "bootstrap", "< 0", None, "S", _MOLTNET),
    *[
        _spec(f"motivation_share_{label}", "posts", "proposed", "wilson",
              "largest class" if label == "knowledge_sharing" else "below knowledge_sharing", None, "P", _MOLTNET)
        for label in MOTIVATION_LABELS
    ],
    _spec("bio_community_match_rate", "agents", "proposed", "wilson", "≈ 0.02, close to its null", "0.021", "P",
          _FORM),
    _spec("bio_community_match_rate_null", "agents", "proposed", "permutation", "≈ bio_community_match_rate"),
    _spec("output_shift_ratio_mean", "agents", "paper-defined", "bootstrap", "> 0.5", None, "P", _MOLTNET),
    _spec("output_shift_excess_mean", "agents", "proposed", "bootstrap", "> 0", None, "P", _MOLTNET),
    _spec("output_shift_excess_wilcoxon_p", "agents", "proposed", "none", "small (excess differs from 0)"),
    _spec("output_shift_excess_top_decile", "agents", "proposed", "bootstrap", "> 0, strongest for popular agents",
          None, "P", _MOLTNET),
    _spec("output_shift_karma_spearman", "agents", "proposed", "bootstrap", "> 0", None, "P", _MOLTNET),
    _spec("output_shift_ratio_rate_peak_mean", "agents", "proposed", "bootstrap",
          "above its null (n−1)/2n if the shift is not an exposure artifact"),
    _spec("post_rate_log_ratio_median", "agents", "proposed", "bootstrap", "> 0", None, "P", _MOLTNET),
    _spec("reward_persona_drift_median", "agents", "paper-named", "bootstrap", "< 0", None, "P", _MOLTNET),
    _spec("reward_persona_drift_excess", "agents", "proposed", "bootstrap", "< 0 if the reward, not time, drives it"),
    _spec("reward_drift_negative_share", "agents", "paper-named", "wilson", "> 0.5", None, "P", _MOLTNET),
    _spec("reward_persona_drift_wilcoxon_p", "agents", "proposed", "none", "small (drift differs from 0)"),
]
MOLTNET_PERSONA_METRIC_NAMES = [spec.metric for spec in REGISTRY]
