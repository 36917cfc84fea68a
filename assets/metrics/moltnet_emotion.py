"""MoltNet emotion, conflict contagion and dialogic engagement (ANALYTICS_SPEC.md §5.4).

MoltNet (arXiv:2602.13458) reports little conflict, little emotional reciprocity, agents who back
away from hostility, yet early conflict that spreads down a thread, and weak dialogue. This module
turns those findings into the `moltnet` rows of `society_metric` plus two drill-down tables:
`moltnet_emotion` (one row per emotion/conflict measure, with its null value) and
`moltnet_dialogic` (one row per society).

Conventions used throughout:
- A text is `conflict` when its emotion is anger or disgust OR its toxicity level is ≥ 2. A text
  with at least one usable label is labelled; conflict is the OR over the labels it has (a text
  the emotion scorer skipped can still be hostile by its toxicity level). Without either label
  table every emotion/conflict measure is NULL ("not available"). One label method per table
  (`toxicity.pick_method`), as §0.5 requires for comparability.
- Depth and the reply tree come from `threads.comment_tree` (rebuilt from parent ids); a reply
  pair is (comment, parent comment), or (comment, post) for a top-level comment. Orphans, whose
  parent is not observed, form no pair.
- Comment-based measures leave out comments written inside a `time_flags` window (§0.4); the post
  rate keeps every post. Thread-level measures (disengagement, contagion and the dialogic shares)
  use *eligible* threads: not capped (§0.4), no orphan comment (a truncated tree understates depth
  and replies), and no post or comment inside a flagged window.
- `emotion_reciprocity` subtracts the match rate expected when parent emotions are shuffled within
  community × day strata. The expected value of such a shuffle is exact and cheap: a pair in
  stratum s whose child feels e matches with probability (parents in s feeling e) / |s|. We use
  that expectation instead of averaging R = 200 random shuffles (it is their limit; the test
  checks the two agree). "Day" is a bin of `bins.plan_bins` (a UTC day, or a short-run bin), and
  the 24 h age rule of disengagement is one `day_s`.
- A post's age at observation uses `posts.last_seen_at` when present, else the latest time
  observed in the society (simulators write no `last_seen_at`).
- `conflict_contagion_or` is exp(β_X) of a fractional logit fitted here by IRLS (statsmodels is
  not a dependency), CI from a cluster bootstrap over communities (B = 500); the within-community
  placebo (R = 200 permutations of X) is stored as its `null_value`.

Minimum samples the spec does not fix are this module's (proposed): MIN_PAIRS reply pairs for
reciprocity and escalation, MIN_GROUP units in each arm of a difference of rates, and
MIN_CONTAGION_THREADS threads with MIN_CONTAGION_ARM in each exposure arm; elsewhere one unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, xlogy

from assets.metrics.bins import DAY_S, in_flagged_window, parse_time_flags, plan_bins, utc_times
from assets.metrics.registry import CiMethod, Evidence, MetricSpec, Provenance
from assets.metrics.stats import (
    MetricRow,
    bootstrap_ci,
    bootstrap_ratio_ci,
    metric_rng,
    metric_row,
    percentile_interval,
    wilson_interval,
)
from assets.metrics.threads import comment_tree, thread_stats
from assets.metrics.toxicity import pick_method

FAMILY = "moltnet"
EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
CONFLICT_EMOTIONS = ("anger", "disgust")
CONFLICT_LEVEL = 2
ARGUMENT_SUFFIX = ":argument"
ARGUMENT_LABELS = ("agree", "disagree", "extend", "question", "none")

MIN_PAIRS = 30  # proposed
MIN_GROUP = 10  # proposed: units in each arm of a difference of two rates
MIN_CONTAGION_THREADS = 30  # proposed
MIN_CONTAGION_ARM = 5  # proposed: threads with X = 1 and with X = 0
CONTAGION_MIN_COMMENTS = 10
CONTAGION_EARLY = 3  # X looks at the post and its first 3 comments
TOP_COMMUNITIES = 30
B_CONTAGION = 500
R_PLACEBO = 200

EMOTION_COLUMNS = ["measure", "variant", "value", "null_value", "ci_low", "ci_high", "n"]
DIALOGIC_COLUMNS = ["n_threads", "reply_to_comment_share", "author_return_rate", "exchange_rate",
                    "argument_none_share"]  # fmt: skip


# --------------------------------------------------------------------------- labels


def text_labels(emotion_labels: pd.DataFrame | None, toxicity_labels: pd.DataFrame | None) -> pd.DataFrame:
    """One row per labelled text, indexed by text_id: `emotion` (one of EMOTIONS or None) and
    `conflict` (1.0 / 0.0). Unknown emotion names and levels outside 0..4 count as no label."""
    parts = []
    if emotion_labels is not None and not emotion_labels.empty:
        e = emotion_labels[["text_id", "emotion"]].dropna(subset=["text_id"]).astype({"text_id": str})
        e["emotion"] = e["emotion"].map(lambda v: v.strip().lower() if isinstance(v, str) else None)
        e = e[e["emotion"].isin(EMOTIONS)].drop_duplicates("text_id")
        parts.append(e.set_index("text_id")[["emotion"]])
    if toxicity_labels is not None and not toxicity_labels.empty:
        t = toxicity_labels[["text_id", "level"]].dropna(subset=["text_id"]).astype({"text_id": str})
        t["level"] = pd.to_numeric(t["level"], errors="coerce").astype(float)
        t = t[t["level"].isin([0.0, 1.0, 2.0, 3.0, 4.0])].drop_duplicates("text_id")
        parts.append(t.set_index("text_id")[["level"]])
    if not parts:
        return pd.DataFrame({"emotion": pd.Series(dtype=object), "conflict": pd.Series(dtype=float)})
    joined = pd.concat(parts, axis=1, join="outer")
    emotion = joined["emotion"] if "emotion" in joined else pd.Series(None, index=joined.index, dtype=object)
    level = joined["level"] if "level" in joined else pd.Series(np.nan, index=joined.index)
    conflict = emotion.isin(CONFLICT_EMOTIONS).to_numpy() | (level >= CONFLICT_LEVEL).to_numpy()
    return pd.DataFrame({"emotion": emotion.astype(object), "conflict": conflict.astype(float)}, index=joined.index)


def argument_rows(content_category: pd.DataFrame | None, argument_method: str | None) -> pd.DataFrame | None:
    """The `…:argument` rows of content_category (one labeller), with a known relation label."""
    if content_category is None or content_category.empty:
        return None
    aux = content_category[content_category["method"].astype(str).str.endswith(ARGUMENT_SUFFIX)]
    aux = pick_method(aux, "method", argument_method, "argument labels")
    if aux is None:
        return None
    label = aux["category"].map(lambda v: v.strip().lower() if isinstance(v, str) else None)
    out = pd.DataFrame({"text_id": aux["text_id"].astype(str).to_numpy(), "label": label.to_numpy()})
    return out[out["label"].isin(ARGUMENT_LABELS)].drop_duplicates("text_id")


# --------------------------------------------------------------------------- threads and reply pairs


def _clean_posts(posts: pd.DataFrame) -> pd.DataFrame:
    p = posts.dropna(subset=["post_id"]).drop_duplicates("post_id").copy()
    p["created_at"] = utc_times(p["created_at"])
    count = pd.to_numeric(p["comment_count"], errors="coerce").astype(float)
    p["comment_count"] = count.where((count == count.round()) & (count >= 0))  # a count, or unknown
    if "last_seen_at" in p:
        p["last_seen_at"] = utc_times(p["last_seen_at"])
    else:
        p["last_seen_at"] = pd.Series(pd.NaT, index=p.index, dtype="datetime64[ns, UTC]")
    p["text_id"] = "post:" + p["post_id"].astype(str)
    title = p["title"] if "title" in p else pd.Series("", index=p.index)
    content = p["content"] if "content" in p else pd.Series("", index=p.index)
    # Lengths in plain Python: a string column may hold text pyarrow refuses (lone surrogates).
    text_len = lambda v: len(v) if isinstance(v, str) else 0  # noqa: E731
    p["length"] = [text_len(t) + 2 + text_len(c) for t, c in zip(title.tolist(), content.tolist())]
    return p


def comment_frame(posts: pd.DataFrame, comments: pd.DataFrame, windows: list) -> pd.DataFrame:
    """Comments on known posts with their rebuilt depth, `has_child`, text id, flag and the
    parent's text id and author (NaN for an orphan)."""
    c = comments.dropna(subset=["comment_id", "post_id"]).drop_duplicates("comment_id")
    c = c[c["post_id"].isin(posts["post_id"])].copy()
    c["created_at"] = utc_times(c["created_at"])  # unreadable times become NaT before the tree sees them
    tree = comment_tree(c).reset_index(drop=True)
    tree["text_id"] = "comment:" + tree["comment_id"].astype(str)
    tree["flagged"] = in_flagged_window(tree["created_at"], windows)
    post_text = tree["post_id"].map(posts.set_index("post_id")["text_id"])
    post_author = tree["post_id"].map(posts.set_index("post_id")["author_id"])
    by_id = tree.set_index("comment_id")
    top = tree["depth"] == 1
    reply = tree["depth"] >= 2
    tree["parent_text_id"] = post_text.where(top, tree["parent_id"].map(by_id["text_id"]).where(reply))
    parent_author = tree["parent_id"].map(by_id["author_id"])
    tree["parent_author_id"] = parent_author.where(reply, post_author.where(top))
    tree["post_author_id"] = post_author
    return tree


def eligible_threads(posts: pd.DataFrame, tree: pd.DataFrame, comment_cap: int | None, windows: list) -> pd.Index:
    """post_ids of threads with ≥ 1 comment that are uncapped, orphan-free and untouched by a flag window."""
    if tree.empty:
        return pd.Index([])
    stats = thread_stats(posts, tree, comment_cap).set_index("post_id")
    post_flagged = pd.Series(in_flagged_window(posts["created_at"], windows), index=posts["post_id"].to_numpy())
    comment_flagged = tree.groupby("post_id")["flagged"].any()
    ok = ~stats["is_capped"].astype(bool) & (stats["n_orphans"] == 0)
    ok &= ~post_flagged.reindex(stats.index).fillna(False).astype(bool)
    ok &= ~comment_flagged.reindex(stats.index).fillna(False).astype(bool)
    return stats.index[ok.to_numpy()]


# --------------------------------------------------------------------------- statistics


def reciprocity_components(child: np.ndarray, parent: np.ndarray, stratum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: 1 if the child's emotion equals its parent's, and the probability of that match
    when parent emotions are shuffled within the pair's stratum (exact shuffle expectation)."""
    frame = pd.DataFrame({"child": child, "parent": parent, "stratum": stratum})
    size = frame.groupby("stratum")["parent"].transform("size").to_numpy(dtype=float)
    parents = frame.groupby(["stratum", "parent"]).size()
    keys = pd.MultiIndex.from_arrays([frame["stratum"], frame["child"]])
    same = parents.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    return (frame["child"] == frame["parent"]).to_numpy(dtype=float), same / size


def _diff_of_rates(rows: np.ndarray) -> float:
    """a/b − c/d from the column totals of rows [a, b, c, d]; NaN when an arm is empty."""
    a, b, c, d = rows.sum(axis=0)
    return float(a / b - c / d) if b > 0 and d > 0 else math.nan


def fractional_logit(
    design: np.ndarray, y: np.ndarray, weights: np.ndarray, max_iter: int = 100, tol: float = 1e-10
) -> np.ndarray:
    """Coefficients of a binomial GLM with logit link fitted to shares y ∈ [0, 1] with prior
    weights (the fractional logit), by iteratively reweighted least squares.

    The normal equations are solved with a pseudo-inverse, so a design column that is all zero
    (a community missing from a bootstrap resample) gets coefficient 0 instead of failing.
    """
    X = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    start = (w * y + 0.5) / (w + 1.0)
    eta = np.log(start / (1.0 - start))
    beta = np.zeros(X.shape[1])
    previous = math.inf
    for _ in range(max_iter):
        mu = np.clip(expit(eta), 1e-12, 1.0 - 1e-12)
        var = mu * (1.0 - mu)
        z = eta + (y - mu) / var
        ww = w * var
        beta = np.linalg.pinv(X.T @ (X * ww[:, None]), hermitian=True) @ (X.T @ (ww * z))
        eta = X @ beta
        mu = np.clip(expit(eta), 1e-12, 1.0 - 1e-12)
        deviance = 2.0 * float(np.sum(w * (xlogy(y, y / mu) + xlogy(1.0 - y, (1.0 - y) / (1.0 - mu)))))
        if abs(previous - deviance) <= tol * (abs(deviance) + 0.1):
            break
        previous = deviance
    return beta


def contagion_threads(
    posts: pd.DataFrame, tree: pd.DataFrame, labels: pd.DataFrame, eligible: pd.Index
) -> pd.DataFrame:
    """One row per eligible thread with ≥ 10 comments: community_id, x (early conflict), y (share of
    conflict among labelled later comments), w (their count), n_comments, post_length, hour."""
    conflict = labels["conflict"]
    c = tree[tree["post_id"].isin(eligible)].copy()
    n_obs = c.groupby("post_id").size()
    c = c[c["post_id"].isin(n_obs.index[n_obs >= CONTAGION_MIN_COMMENTS])]
    if c.empty:
        return pd.DataFrame(columns=["post_id", "community_id", "x", "y", "w", "n_comments", "post_length", "hour"])
    c = c.sort_values(["post_id", "created_at", "comment_id"], kind="stable")
    c["rank"] = c.groupby("post_id").cumcount()
    c["conflict"] = c["text_id"].map(conflict)
    early = c[c["rank"] < CONTAGION_EARLY]
    late = c[c["rank"] >= CONTAGION_EARLY].dropna(subset=["conflict"])
    p = posts.set_index("post_id").loc[n_obs.index[n_obs >= CONTAGION_MIN_COMMENTS]]
    post_conflict = p["text_id"].map(conflict)
    early_any = early.groupby("post_id")["conflict"].max()  # NaN-skipping: NaN only if none labelled
    x = pd.concat([post_conflict, early_any], axis=1).max(axis=1)
    out = pd.DataFrame(
        {
            "community_id": p["community_id"].astype(object).where(p["community_id"].notna(), "<none>"),
            "x": x,
            "y": late.groupby("post_id")["conflict"].mean().reindex(p.index),
            "w": late.groupby("post_id").size().reindex(p.index).fillna(0.0).astype(float),
            "n_comments": n_obs.reindex(p.index).astype(float),
            "post_length": p["length"].astype(float),
            "hour": p["created_at"].dt.hour,
        }
    )
    out = out[out["x"].notna() & (out["w"] > 0) & out["hour"].notna()]
    return out.rename_axis("post_id").reset_index()


def contagion_design(threads: pd.DataFrame) -> np.ndarray:
    """Columns: intercept, X, log n, log(1 + post length), hour-of-day quarters 2–4 and community
    dummies for the top 30 communities (the rest pooled as the reference; with no rest, the
    largest community is the reference)."""
    hour_bin = (threads["hour"].to_numpy(dtype=int) // 6).clip(0, 3)
    columns = [
        np.ones(len(threads)),
        threads["x"].to_numpy(dtype=float),
        np.log(threads["n_comments"].to_numpy(dtype=float)),
        np.log1p(threads["post_length"].to_numpy(dtype=float)),
    ]
    columns += [(hour_bin == q).astype(float) for q in (1, 2, 3)]
    counts = threads["community_id"].value_counts(sort=True)
    top = list(counts.index[:TOP_COMMUNITIES])
    if len(counts) <= TOP_COMMUNITIES:
        top = top[1:]
    columns += [(threads["community_id"] == cid).to_numpy(dtype=float) for cid in top]
    return np.column_stack(columns)


def contagion_odds_ratio(
    threads: pd.DataFrame, rng: np.random.Generator, B: int = B_CONTAGION, R: int = R_PLACEBO
) -> tuple[float, tuple[float, float] | None, float]:
    """exp(β_X), its cluster-bootstrap CI over communities (None with one community) and the
    placebo OR: exp(mean β_X) over R fits with X permuted within communities."""
    design = contagion_design(threads)
    y = threads["y"].to_numpy(dtype=float)
    w = threads["w"].to_numpy(dtype=float)
    value = float(np.exp(fractional_logit(design, y, w)[1]))

    community = threads["community_id"].to_numpy()
    members = [np.flatnonzero(community == cid) for cid in pd.unique(community)]
    ci = None
    if len(members) >= 2:
        reps = np.empty(B)
        for b in range(B):
            rows = np.concatenate([members[i] for i in rng.integers(0, len(members), size=len(members))])
            reps[b] = fractional_logit(design[rows], y[rows], w[rows])[1]
        low, high = percentile_interval(reps)
        if math.isfinite(low):
            ci = (float(np.exp(low)), float(np.exp(high)))

    placebo = np.empty(R)
    shuffled = design.copy()
    for r in range(R):
        for rows in members:
            shuffled[rows, 1] = design[rng.permutation(rows), 1]
        placebo[r] = fractional_logit(shuffled, y, w)[1]
    null_or = float(np.exp(np.mean(placebo))) if R > 0 else math.nan
    return value, ci, null_or


# --------------------------------------------------------------------------- society_metric rows


def _proportion_row(metric: str, flags: np.ndarray) -> MetricRow:
    f = np.asarray(flags, dtype=bool)
    n = int(f.size)
    if n < 1:
        return metric_row(FAMILY, metric, None, None, n)
    k = int(f.sum())
    return metric_row(FAMILY, metric, k / n, wilson_interval(k, n), n)


def _thread_ratio_row(metric: str, num: pd.Series, thread: pd.Series, society_seed: int, B: int) -> MetricRow:
    """Σnum / count over units grouped by thread, CI resampling threads; n = units."""
    n = int(len(num))
    if n < 1:
        return metric_row(FAMILY, metric, None, None, n)
    sums = pd.DataFrame({"num": num.to_numpy(dtype=float), "thread": thread.to_numpy()}).groupby("thread")["num"]
    ci = bootstrap_ratio_ci(sums.sum(), sums.size(), metric_rng(society_seed, metric), B)
    return metric_row(FAMILY, metric, float(num.sum()) / n, ci, n)


def _diff_row(metric: str, outcome: np.ndarray, condition: np.ndarray, thread: np.ndarray,
              society_seed: int, B: int) -> MetricRow:  # fmt: skip
    """P(outcome | condition) − P(outcome | not condition), CI resampling threads; n = units."""
    o = np.asarray(outcome, dtype=float)
    cond = np.asarray(condition, dtype=float)
    parts = np.column_stack([o * cond, cond, o * (1 - cond), 1 - cond])
    n = int(o.size)
    if cond.sum() < MIN_GROUP or (1 - cond).sum() < MIN_GROUP:
        return metric_row(FAMILY, metric, None, None, n)
    per_thread = pd.DataFrame(parts).groupby(thread).sum().to_numpy()
    ci = bootstrap_ci(per_thread, _diff_of_rates, metric_rng(society_seed, metric), B)
    return metric_row(FAMILY, metric, _diff_of_rates(parts), ci, n)


def emotion_dialogic_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    emotion_labels: pd.DataFrame | None,
    toxicity_labels: pd.DataFrame | None,
    content_category: pd.DataFrame | None,
    *,
    comment_cap: int | None,
    time_flags: Sequence[Mapping[str, object]] | None,
    society_seed: int,
    B: int = 1000,
    B_contagion: int = B_CONTAGION,
    R_placebo: int = R_PLACEBO,
    emotion_method: str | None = None,
    toxicity_method: str | None = None,
    argument_method: str | None = None,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The §5.4 measures of one society: tables `moltnet_emotion` and `moltnet_dialogic` and every
    name of METRIC_NAMES as a `society_metric` row (NULL with the achieved n when not available).

    posts: post_id, community_id, author_id, title, content, comment_count, created_at and
    optionally last_seen_at. comments: comment_id, post_id, parent_id, author_id, created_at.
    Label frames may be None or empty (not labelled); the *_method arguments pick one labeller
    when a frame holds several (ValueError if it does and none is named).
    """
    windows = parse_time_flags(time_flags)
    p = _clean_posts(posts)
    tree = comment_frame(p, comments, windows)
    eligible = eligible_threads(p, tree, comment_cap, windows)
    emotion_rows = pick_method(emotion_labels, "method", emotion_method, "emotion_labels")
    toxicity_rows = pick_method(toxicity_labels, "method", toxicity_method, "toxicity_labels")
    labels = text_labels(emotion_rows, toxicity_rows)
    conflict = labels["conflict"]
    emotion = labels["emotion"]
    bins = plan_bins(p["created_at"])
    day_s = bins.day_s if bins is not None else float(DAY_S)
    unflagged = tree[~tree["flagged"]]
    rows: list[MetricRow] = []
    null_values: dict[str, float] = {}

    # Conflict rates.
    rows.append(_proportion_row("conflict_rate_comments", unflagged["text_id"].map(conflict).dropna().to_numpy() == 1))
    rows.append(_proportion_row("conflict_rate_posts", p["text_id"].map(conflict).dropna().to_numpy() == 1))

    # Emotion reciprocity over reply pairs, within community × bin strata of the child's time.
    pairs = unflagged[unflagged["parent_text_id"].notna()].copy()
    pairs["community_id"] = pairs["post_id"].map(p.set_index("post_id")["community_id"])
    bin_of = bins.index(pairs["created_at"]) if bins is not None else np.zeros(len(pairs), dtype=np.int64)
    community = pairs["community_id"].astype(object).where(pairs["community_id"].notna(), "<none>").astype(str)
    pairs["stratum"] = community + "|" + pd.Series(bin_of, index=pairs.index).astype(str)
    pairs["child_emotion"] = pairs["text_id"].map(emotion)
    pairs["parent_emotion"] = pairs["parent_text_id"].map(emotion)
    felt = pairs.dropna(subset=["child_emotion", "parent_emotion"])
    for metric, subset in (
        ("emotion_reciprocity", felt),
        ("emotion_reciprocity_nonneutral", felt[felt["parent_emotion"] != "neutral"]),
    ):
        n = len(subset)
        if n < MIN_PAIRS:
            rows.append(metric_row(FAMILY, metric, None, None, n))
            continue
        match, expected = reciprocity_components(
            subset["child_emotion"].to_numpy(), subset["parent_emotion"].to_numpy(), subset["stratum"].to_numpy()
        )
        excess = pd.Series(match - expected).groupby(subset["post_id"].to_numpy())
        ci = bootstrap_ratio_ci(excess.sum(), excess.size(), metric_rng(society_seed, metric), B)
        rows.append(metric_row(FAMILY, metric, float(match.mean() - expected.mean()), ci, n))
        null_values[metric] = float(expected.mean())

    # Escalation: child conflict given parent conflict.
    pairs["child_conflict"] = pairs["text_id"].map(conflict)
    pairs["parent_conflict"] = pairs["parent_text_id"].map(conflict)
    known = pairs.dropna(subset=["child_conflict", "parent_conflict"])
    if len(known) < MIN_PAIRS:
        rows.append(metric_row(FAMILY, "conflict_escalation_diff", None, None, len(known)))
    else:
        rows.append(_diff_row("conflict_escalation_diff", known["child_conflict"].to_numpy(),
                              known["parent_conflict"].to_numpy(), known["post_id"].to_numpy(), society_seed, B))

    # Disengagement: no reply given conflict, in eligible threads whose post is ≥ one day old when seen.
    society_end = pd.concat([p["created_at"], tree["created_at"]]).max()
    seen = p.set_index("post_id")["last_seen_at"].fillna(society_end)
    age_s = (seen - p.set_index("post_id")["created_at"]).dt.total_seconds()
    old_enough = age_s.index[(age_s >= day_s).to_numpy(dtype=bool, na_value=False)]
    pool = tree[tree["post_id"].isin(eligible) & tree["post_id"].isin(old_enough)].copy()
    pool["conflict"] = pool["text_id"].map(conflict)
    pool = pool.dropna(subset=["conflict"])
    rows.append(_diff_row("conflict_disengagement_diff", (~pool["has_child"].astype(bool)).to_numpy(),
                          pool["conflict"].to_numpy(), pool["post_id"].to_numpy(), society_seed, B))

    # Contagion: early conflict and the share of later conflict, fractional logit.
    threads = contagion_threads(p, tree, labels, eligible) if len(labels) else pd.DataFrame(columns=["x", "y", "w"])
    x = threads["x"].to_numpy(dtype=float)
    yw = (threads["y"] * threads["w"]).to_numpy(dtype=float)
    w = threads["w"].to_numpy(dtype=float)
    arms_ok = all(
        (x == arm).sum() >= MIN_CONTAGION_ARM and 0 < yw[x == arm].sum() < w[x == arm].sum() for arm in (0.0, 1.0)
    )
    if len(threads) < MIN_CONTAGION_THREADS or not arms_ok:
        rows.append(metric_row(FAMILY, "conflict_contagion_or", None, None, len(threads)))
    else:
        rng = metric_rng(society_seed, "conflict_contagion_or")
        odds, ci, null_or = contagion_odds_ratio(threads, rng, B_contagion, R_placebo)
        rows.append(metric_row(FAMILY, "conflict_contagion_or", odds, ci, len(threads)))
        null_values["conflict_contagion_or"] = null_or

    # Dialogic engagement, over eligible threads.
    dialog = tree[tree["post_id"].isin(eligible)]
    rows.append(_thread_ratio_row("reply_to_comment_share", dialog["depth"] >= 2, dialog["post_id"], society_seed, B))

    by_author = dialog["author_id"].notna() & (dialog["author_id"] == dialog["post_author_id"])
    by_other = dialog["author_id"].notna() & dialog["post_author_id"].notna() & ~by_author
    engaged = pd.Index(dialog.loc[by_other, "post_id"].unique())
    rows.append(_proportion_row("author_return_rate", engaged.isin(dialog.loc[by_author, "post_id"])))

    links = dialog[dialog["author_id"].notna() & dialog["parent_author_id"].notna()]
    links = links[links["author_id"] != links["parent_author_id"]]
    directed = pd.MultiIndex.from_arrays([links["post_id"], links["author_id"], links["parent_author_id"]])
    reverse = pd.MultiIndex.from_arrays([links["post_id"], links["parent_author_id"], links["author_id"]])
    answered = pd.Series(reverse.isin(directed))
    rows.append(_thread_ratio_row("exchange_rate", answered, links["post_id"], society_seed, B))

    arguments = argument_rows(content_category, argument_method)
    if arguments is None:
        rows.append(metric_row(FAMILY, "argument_none_share", None, None, 0))
    else:
        arguments = arguments[arguments["text_id"].isin(unflagged["text_id"])]
        rows.append(_proportion_row("argument_none_share", (arguments["label"] == "none").to_numpy()))

    by_name = {r.metric: r for r in rows}
    used = (("emotion", emotion_rows), ("toxicity", toxicity_rows))
    sources = "|".join(name for name, frame in used if frame is not None)
    variants = {"emotion_reciprocity": "all", "emotion_reciprocity_nonneutral": "nonneutral"}
    emotion_table = pd.DataFrame(
        [
            [m, variants.get(m, f"conflict={sources or 'unlabelled'}"), by_name[m].value, null_values.get(m),
             by_name[m].ci_low, by_name[m].ci_high, by_name[m].n]
            for m in EMOTION_METRIC_NAMES
        ],
        columns=EMOTION_COLUMNS,
    )  # fmt: skip
    emotion_table[["value", "null_value", "ci_low", "ci_high"]] = emotion_table[
        ["value", "null_value", "ci_low", "ci_high"]
    ].astype(float)
    dialogic_table = pd.DataFrame(
        [[len(eligible)] + [by_name[m].value for m in DIALOGIC_COLUMNS[1:]]], columns=DIALOGIC_COLUMNS
    )
    dialogic_table[DIALOGIC_COLUMNS[1:]] = dialogic_table[DIALOGIC_COLUMNS[1:]].astype(float)
    ordered = [by_name[m] for m in METRIC_NAMES]
    return {"moltnet_emotion": emotion_table, "moltnet_dialogic": dialogic_table}, ordered


# --------------------------------------------------------------------------- registry

_MOLTNET = "MoltNet, arXiv:2602.13458"
_FORM = "Form Without Function, arXiv:2604.13052"


def _spec(metric: str, unit: str, ci: CiMethod, direction: str, value: str | None = None,
          evidence: Evidence = "P", source: str | None = _MOLTNET,
          provenance: Provenance = "paper-named") -> MetricSpec:  # fmt: skip
    return MetricSpec(FAMILY, metric, unit, provenance, ci, direction, value, evidence, source)


#: What this module writes to society_metric (ANALYTICS_SPEC §5.4), in order.
REGISTRY = [
    _spec("conflict_rate_comments", "comments", "wilson",
          "low: far less interpersonal conflict than human communities (needs a human reference society)"),
    _spec("conflict_rate_posts", "posts", "wilson",
          "low: far less interpersonal conflict than human communities (needs a human reference society)"),
    _spec("emotion_reciprocity", "pairs", "bootstrap", "limited: a small excess"),
    _spec("emotion_reciprocity_nonneutral", "pairs", "bootstrap", "limited: a small excess"),
    _spec("conflict_escalation_diff", "pairs", "bootstrap", "small"),
    _spec("conflict_disengagement_diff", "comments", "bootstrap",
          "> 0: agents back away from hostility rather than escalate"),
    _spec("conflict_contagion_or", "threads", "bootstrap", "> 1: early conflict raises later conflict"),
    _spec("reply_to_comment_share", "comments", "bootstrap", "≈ 0.06 (93.8% of comments sit at depth 1)", "0.06",
          source="The Moltbook Illusion (no arXiv id)"),
    _spec("author_return_rate", "posts", "wilson", "≈ 0.086 (91.4% of authors never return)", "0.086",
          source=_FORM),
    _spec("exchange_rate", "pairs", "bootstrap", "low: weak dialogic engagement"),
    _spec("argument_none_share", "comments", "wilson", "≈ 0.646 (label set unverified)", "0.646", source=_FORM),
]
METRIC_NAMES = [s.metric for s in REGISTRY]
EMOTION_METRIC_NAMES = METRIC_NAMES[:7]
