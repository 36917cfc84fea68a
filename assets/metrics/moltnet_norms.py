"""MoltNet norms and templates (ANALYTICS_SPEC.md §5.2): community templates, protocol
fraction, norm specificity, template convergence and norm enforcement.

Every formula here is paper-named (MoltNet, arXiv:2602.13458) with a proposed operationalization.

Templates. Scope: the ≤ MAX_COMMUNITIES largest communities with ≥ MIN_COMMUNITY_POSTS embedded
posts (the spec bounds only norm specificity to 100 communities; the same bound is used here so
the cost stays bounded). Per community at most MAX_SAMPLE posts (seeded sample) are clustered by
K-means (scikit-learn, k-means++, n_init=10) on unit vectors for k = 2…8, k chosen by the cosine
silhouette on ≤ SILHOUETTE_SAMPLE points (for bounded cost the k search also fits on those points;
the chosen k is refitted on the whole sample). Then every embedded post of the community (sampled or
not) joins the cluster whose normalized centroid is nearest: `adherence` is that cosine. A
cluster's medoid under cosine distance is the member with the largest e_i·mean (that minimizes
Σ_j 1 − e_i·e_j); the stored `medoid_post_id` is the member with the highest adherence, which is
that medoid up to the difference between the K-means centroid and the members' mean. `silhouette` is
the community's silhouette at the chosen k (the same on each of its cluster rows); a community
whose sample holds fewer than 2 distinct vectors is one cluster with a NULL silhouette.

Template consistency. Structural features per post (its texts-view text, title + blank line +
content): md_header, bullets, numbered, code_block, emoji_lead, has_url, hashtag, ends_question,
signoff, opener:<first 3 lowercase word tokens>, len_q1…q4 (quartiles of character length over
all posts of the society). A cluster's consistency is the mean Jaccard similarity of feature sets
over ≤ 500 random within-cluster pairs (all pairs when fewer); the control is the same mean over
CONTROL_PAIRS random society-wide pairs. Only clusters of ≥ 2 posts have a consistency.

Protocol fraction. Per community, the share of its posts with adherence ≥ TAU (0.8). The
calibrated variant (table only): τ_c is the 95th percentile of the adherence of the community's
posts to the centroids of one randomly chosen other in-scope community.

Norm specificity uses the clustered samples of the in-scope communities; the permutation null
shuffles community labels over the same posts (R = 100); ratio = NS / mean(NS0), p_perm one-sided
(NS0 ≥ NS). Within a community mean_i(1 − e_i·μ_c) = 1 − |Σ_i e_i| / n_c, which keeps each
permutation cheap.

Template convergence: (agent, community) pairs with ≥ 5 posts that have an adherence; k is the
post's index in the pair by created_at (ties by post_id); the pair fixed-effects OLS slope of
adherence on log k is Σ_p Sxy_p / Σ_p Sxx_p over within-pair centred values, so the cluster
bootstrap over agents resamples per-agent (Sxy, Sxx) sums.

Norm enforcement: a comment is a candidate when it matches ENFORCEMENT_PATTERNS (version
ENFORCEMENT_PATTERNS_VERSION, first MAX_SCAN_CHARS characters). When content_category holds rows
whose method ends with ':enforcement', the judge confirms: a candidate counts only if its row's
category is 'enforcement' (a candidate without a judge row does not count). Without such rows
the pattern pre-filter alone decides; `enforcement_method` in moltnet_norms says which. A
comment's thread community is its post's community; its author's modal community is the
community of most of the author's posts (ties: smallest community_id). Authors without posts
are left out of the cross share. Comments in time_flags windows are not excluded (the function
takes no time flags; enforcement is a rate per comment, which an outage with no comments
leaves unchanged).

Without embeddings every embedding-based metric is NULL with n = 0; without author ids the
convergence slope and the cross share are NULL with n = 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from assets.metrics.registry import MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_median_ci,
    bootstrap_ratio_ci,
    metric_rng,
    metric_row,
    wilson_interval,
)
from assets.metrics.vectors import unit_rows, vectors_for

FAMILY = "moltnet"

MIN_COMMUNITY_POSTS = 50
MAX_COMMUNITIES = 100
MAX_SAMPLE = 5_000
SILHOUETTE_SAMPLE = 2_000
K_RANGE = range(2, 9)
N_INIT = 10
TAU = 0.8
CALIBRATION_PERCENTILE = 95.0
CLUSTER_PAIRS = 500
CONTROL_PAIRS = 2_000
NS_PERMUTATIONS = 100
MIN_PAIR_POSTS = 5
MIN_CONVERGENCE_AGENTS = 2
B = 1000

TEMPLATE_COLUMNS = [
    "community_id", "cluster_id", "size", "medoid_post_id", "silhouette", "feature_consistency",
    "protocol_fraction", "tau_calibrated", "protocol_fraction_calibrated",
]
POST_TEMPLATE_COLUMNS = ["post_id", "community_id", "cluster_id", "adherence"]
NORMS_COLUMNS = [
    "n_communities", "norm_specificity", "norm_specificity_null", "p_perm", "template_convergence_slope",
    "enforcement_rate", "enforcement_cross_share", "tau", "n_comments", "n_enforcement", "enforcement_method",
]

# --------------------------------------------------------------------------- enforcement patterns

ENFORCEMENT_PATTERNS_VERSION = "enforcement-patterns-v1"
MAX_SCAN_CHARS = 5_000
ENFORCEMENT_LABEL = "enforcement"
#: Requests that the target conform (wrong place, off-topic, format or rules), matched on lowercased
#: text. Each pattern comes with literal anchors, one of which it cannot match without: the regex
#: runs only when an anchor occurs, which keeps the scan of long agent-written comments cheap.
#: No nested quantifiers, so no input can make a match slow.
ENFORCEMENT_PATTERNS: list[tuple[tuple[str, ...], str]] = [
    (("wrong ",), r"\bwrong (?:sub ?molt|community|forum|channel|thread|place)\b"),
    (("topic",), r"\boff[- ]?topic\b|\b(?:stay|keep (?:it|this|things)) on[- ]topic\b"),
    (("not the ",), r"\bnot the (?:right|appropriate|proper) (?:place|sub ?molt|community|channel|thread)\b"),
    (("m/", "another", "a different", "the right"),
     r"\b(?:belongs|belong|goes|go) (?:in|on|to) (?:m/|another\b|a different\b|the right\b)"),
    (("please ", "pls ", "kindly "),
     r"\b(?:please|pls|kindly) (?:post|move|take|repost|keep) (?:this|that|it|these)\b"),
    (("rules", "guidelines", "sidebar", "faq", "pinned"),
     r"\b(?:read|follow|check|respect) the (?:rules|guidelines|sidebar|faq|pinned post|community rules)\b"
     r"|\b(?:against|violates|violating|breaks|breaking) (?:the )?(?:community )?(?:rules|guidelines)\b"),
    (("the required ", "the proper ", "the correct ", "the standard "),
     r"\b(?:use|follow) the (?:required|proper|correct|standard) (?:format|template|formatting)\b"),
    (("this sub", "this community"), r"\bthis (?:sub ?molt|community) is (?:for|about|only for)\b"),
    (("spam", "shill", "self-promotion"), r"\b(?:no|stop) (?:spamming|spam|self-promotion|shilling)\b"),
]
_ENFORCEMENT_RES = [(anchors, re.compile(pattern)) for anchors, pattern in ENFORCEMENT_PATTERNS]


def _text(value: object) -> str:
    """A cell as text ('' for NULL/NaN); lone surrogates and bad bytes become '?'."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")


def is_enforcement_candidate(text: object) -> bool:
    """The pattern pre-filter: does the comment ask its target to conform?"""
    low = _text(text)[:MAX_SCAN_CHARS].lower()
    return any(any(a in low for a in anchors) and rx.search(low) is not None for anchors, rx in _ENFORCEMENT_RES)


# --------------------------------------------------------------------------- structural features

_MD_HEADER = re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)
_BULLET = re.compile(r"^\s*[-*•+]\s", re.MULTILINE)
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s", re.MULTILINE)
_URL = re.compile(r"https?://", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w#&/])#[^\W\d_]\w*")
_SIGNOFF = re.compile(
    r"^\s*(?:(?:—|–|--|~)\s*\S.{0,40}"
    r"|(?:cheers|best|regards|thanks|thank you|sincerely|yours|peace|love|stay \w+)\b.{0,40})$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
FEATURE_SCAN_CHARS = 20_000


def _emoji_lead(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped:
        return False
    ch = stripped[0]
    return unicodedata.category(ch) == "So" or 0x1F000 <= ord(ch) <= 0x1FAFF


def post_text(title: object, content: object) -> str:
    """The texts-view text of a post: title, blank line, content."""
    return _text(title) + "\n\n" + _text(content)


def length_edges(lengths: np.ndarray) -> np.ndarray:
    """The society's character-length quartile edges (q25, q50, q75)."""
    if lengths.size == 0:
        return np.zeros(3)
    return np.quantile(lengths.astype(float), [0.25, 0.5, 0.75])


def structural_features(text: str, edges: np.ndarray) -> frozenset[str]:
    """The §5.2 feature set of one post text (patterns read its first FEATURE_SCAN_CHARS characters)."""
    head = text[:FEATURE_SCAN_CHARS]
    features: set[str] = set()
    if _MD_HEADER.search(head):
        features.add("md_header")
    if _BULLET.search(head):
        features.add("bullets")
    if _NUMBERED.search(head):
        features.add("numbered")
    if "```" in head:
        features.add("code_block")
    if _emoji_lead(head):
        features.add("emoji_lead")
    if _URL.search(head):
        features.add("has_url")
    if _HASHTAG.search(head):
        features.add("hashtag")
    stripped = text.rstrip()
    if stripped.endswith("?"):
        features.add("ends_question")
    lines = [line for line in stripped[-400:].splitlines() if line.strip()]
    if lines and _SIGNOFF.match(lines[-1]):
        features.add("signoff")
    tokens = _WORD.findall(text[:400].lower())[:3]
    features.add("opener:" + " ".join(tokens))
    features.add(f"len_q{int(np.searchsorted(edges, len(text), side='right')) + 1}")
    return frozenset(features)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def mean_pair_jaccard(features: list[frozenset[str]], max_pairs: int, rng: np.random.Generator) -> float:
    """Mean Jaccard over all pairs when they are ≤ max_pairs, else over max_pairs random pairs."""
    m = len(features)
    if m < 2:
        return math.nan
    if m * (m - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(m, k=1)
    else:
        i = rng.integers(0, m, size=max_pairs)
        j = (i + rng.integers(1, m, size=max_pairs)) % m  # j ≠ i
    return float(np.mean([jaccard(features[a], features[b]) for a, b in zip(i, j)]))


# --------------------------------------------------------------------------- templates


def _kmeans(X: np.ndarray, k: int, state: int) -> KMeans:
    """One seeded K-means fit, single-threaded: at ≤ 5,000 points threads cost more than they give,
    and on a busy machine OpenMP's waiting threads made these fits ten times slower."""
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate points can leave fewer distinct clusters than k
        return KMeans(n_clusters=k, init="k-means++", n_init=N_INIT, random_state=state).fit(X)


def cluster_community(X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """(unit centroids, silhouette) at the k in K_RANGE with the best cosine silhouette.

    To bound the cost, k is searched on ≤ SILHOUETTE_SAMPLE random rows (fit and silhouette on
    the same rows); the chosen k is then refitted on all of X. One centroid and NaN when X has
    fewer than 2 distinct rows.
    """
    state = int(rng.integers(0, 2**31 - 1))
    search = X[rng.permutation(len(X))[:SILHOUETTE_SAMPLE]]
    n_distinct = len(np.unique(search, axis=0))
    distance = np.clip(1.0 - search @ search.T, 0.0, 2.0)  # cosine distance, computed once for every k
    np.fill_diagonal(distance, 0.0)
    best: tuple[float, int] | None = None
    for k in K_RANGE:
        if k > n_distinct or k >= len(search):
            break
        labels = _kmeans(search, k, state).labels_
        if len(np.unique(labels)) < 2:
            continue
        score = float(silhouette_score(distance, labels, metric="precomputed"))
        if best is None or score > best[0]:
            best = (score, k)
    if best is None:
        return unit_rows(X.mean(axis=0, keepdims=True)), math.nan
    return unit_rows(_kmeans(X, best[1], state).cluster_centers_), best[0]


def in_scope_communities(posts: pd.DataFrame) -> list[str]:
    """The ≤ MAX_COMMUNITIES largest communities with ≥ MIN_COMMUNITY_POSTS rows (ties by id)."""
    sizes = posts.groupby("community_id").size()
    sizes = sizes[sizes >= MIN_COMMUNITY_POSTS]
    order = sorted(sizes.index, key=lambda c: (-int(sizes[c]), str(c)))
    return [str(c) for c in order[:MAX_COMMUNITIES]]


def template_tables(
    posts: pd.DataFrame, X: np.ndarray, features: list[frozenset[str]], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(moltnet_templates, moltnet_post_template, centroids by community, sample rows by community).

    `posts` are the embedded posts with a community (positional rows of X and features).
    """
    rng = metric_rng(seed, "moltnet_templates")
    pair_rng = metric_rng(seed, "template_consistency")
    communities = in_scope_communities(posts)
    community = posts["community_id"].astype(str).to_numpy()
    centroids: dict[str, np.ndarray] = {}
    samples: dict[str, np.ndarray] = {}
    post_rows: list[pd.DataFrame] = []
    template_rows: list[dict[str, object]] = []
    for c in communities:
        rows = np.flatnonzero(community == c)
        sample = np.sort(rng.choice(rows, size=MAX_SAMPLE, replace=False)) if len(rows) > MAX_SAMPLE else rows
        C, silhouette = cluster_community(X[sample], rng)
        centroids[c], samples[c] = C, sample
        sims = X[rows] @ C.T
        cluster = sims.argmax(axis=1)
        adherence = sims[np.arange(len(rows)), cluster]
        post_rows.append(pd.DataFrame({
            "post_id": posts["post_id"].to_numpy()[rows], "community_id": c,
            "cluster_id": cluster.astype("int64"), "adherence": adherence.astype(float),
        }))
        fraction = float(np.mean(adherence >= TAU))
        for k in range(len(C)):
            members = rows[cluster == k]
            if len(members) == 0:
                continue
            best = members[int(np.argmax(adherence[cluster == k]))]
            template_rows.append({
                "community_id": c, "cluster_id": k, "size": len(members),
                "medoid_post_id": posts["post_id"].iloc[best], "silhouette": silhouette,
                "feature_consistency": mean_pair_jaccard([features[i] for i in members], CLUSTER_PAIRS, pair_rng),
                "protocol_fraction": fraction,
            })
    templates = pd.DataFrame(template_rows, columns=TEMPLATE_COLUMNS[:7])
    post_template = (pd.concat(post_rows, ignore_index=True) if post_rows
                     else pd.DataFrame(columns=POST_TEMPLATE_COLUMNS))
    templates = _add_calibrated(templates, post_template, X, posts, centroids, seed)
    return templates[TEMPLATE_COLUMNS], post_template[POST_TEMPLATE_COLUMNS], centroids, samples


def _add_calibrated(templates: pd.DataFrame, post_template: pd.DataFrame, X: np.ndarray, posts: pd.DataFrame,
                    centroids: dict[str, np.ndarray], seed: int) -> pd.DataFrame:
    """τ_c from one random other community's centroids, and the share of the community's posts above it."""
    rng = metric_rng(seed, "protocol_fraction_calibrated")
    row_of = pd.Series(np.arange(len(posts)), index=posts["post_id"].to_numpy())
    names = list(centroids)
    tau_cal: dict[str, float] = {}
    frac_cal: dict[str, float] = {}
    for c in names:
        others = [o for o in names if o != c]
        if not others:
            tau_cal[c] = frac_cal[c] = math.nan
            continue
        other = others[int(rng.integers(0, len(others)))]
        mine = post_template[post_template["community_id"] == c]
        to_other = (X[row_of[mine["post_id"]].to_numpy()] @ centroids[other].T).max(axis=1)
        tau_cal[c] = float(np.percentile(to_other, CALIBRATION_PERCENTILE))
        frac_cal[c] = float(np.mean(mine["adherence"].to_numpy() >= tau_cal[c]))
    templates = templates.copy()
    templates["tau_calibrated"] = templates["community_id"].map(tau_cal).astype(float)
    templates["protocol_fraction_calibrated"] = templates["community_id"].map(frac_cal).astype(float)
    return templates


# --------------------------------------------------------------------------- norm specificity


def norm_specificity(X: np.ndarray, labels: np.ndarray, n_groups: int) -> float:
    """NS = between / within (§5.2) for integer labels 0…n_groups−1, each group non-empty."""
    ones = np.ones(len(labels), dtype=X.dtype)  # same dtype as X: no float64 copy of X per permutation
    onehot = sparse.csr_matrix((ones, (labels, np.arange(len(labels)))), shape=(n_groups, len(labels)))
    sums = np.asarray(onehot @ X, dtype=float)
    norms = np.linalg.norm(sums, axis=1)
    counts = np.bincount(labels, minlength=n_groups)
    within = float(np.mean(1.0 - norms / counts))
    mu = sums / np.where(norms > 0, norms, 1.0)[:, None]
    gram = mu @ mu.T
    i, j = np.triu_indices(n_groups, k=1)
    between = float(np.mean(1.0 - gram[i, j]))
    return between / within if within > 0 else math.nan


def norm_specificity_test(X: np.ndarray, labels: np.ndarray, n_groups: int,
                          rng: np.random.Generator) -> tuple[float, float, float]:
    """(NS, mean NS0, p_perm) with community labels permuted over the same posts."""
    observed = norm_specificity(X, labels, n_groups)
    null = np.array([norm_specificity(X, rng.permutation(labels), n_groups) for _ in range(NS_PERMUTATIONS)])
    p_perm = (1 + int(np.sum(null >= observed))) / (NS_PERMUTATIONS + 1)
    return observed, float(np.mean(null)), p_perm


# --------------------------------------------------------------------------- convergence


def convergence_sums(posts: pd.DataFrame, post_template: pd.DataFrame) -> pd.DataFrame:
    """Per agent Σ Sxy and Σ Sxx of adherence on log k, centred within each (agent, community) pair."""
    p = post_template.merge(posts[["post_id", "author_id", "created_at"]], on="post_id")
    p = p[p["author_id"].notna()].copy()
    p["created_at"] = pd.to_datetime(p["created_at"], utc=True, errors="coerce")
    p = p.sort_values(["author_id", "community_id", "created_at", "post_id"], na_position="last")
    pair = p.groupby(["author_id", "community_id"], sort=False)
    p["n"] = pair["post_id"].transform("size")
    p = p[p["n"] >= MIN_PAIR_POSTS].copy()
    if p.empty:
        return pd.DataFrame(columns=["author_id", "sxy", "sxx", "n_pairs"])
    pair = p.groupby(["author_id", "community_id"], sort=False)
    p["x"] = np.log(pair.cumcount().to_numpy() + 1.0)
    p["xc"] = p["x"] - pair["x"].transform("mean")
    p["yc"] = p["adherence"] - pair["adherence"].transform("mean")
    p["sxy"] = p["xc"] * p["yc"]
    p["sxx"] = p["xc"] * p["xc"]
    per_agent = p.groupby("author_id").agg(sxy=("sxy", "sum"), sxx=("sxx", "sum"),
                                           n_pairs=("community_id", "nunique"))
    return per_agent.reset_index()


# --------------------------------------------------------------------------- enforcement


def enforcement_flags(comments: pd.DataFrame, content_category: pd.DataFrame | None) -> tuple[np.ndarray, str]:
    """(counts-as-enforcement per comment, method name): pre-filter, confirmed by the judge when present."""
    candidate = np.array([is_enforcement_candidate(t) for t in comments["content"]], dtype=bool)
    judge = _judge_rows(content_category)
    if judge is None:
        return candidate, ENFORCEMENT_PATTERNS_VERSION
    labels = judge.drop_duplicates("text_id", keep="last").set_index("text_id")["category"]
    text_ids = "comment:" + comments["comment_id"].astype(str)
    confirmed = text_ids.map(labels).map(lambda v: _text(v).strip().lower() == ENFORCEMENT_LABEL).to_numpy(bool)
    methods = "+".join(sorted(judge["method"].astype(str).unique()))
    return candidate & confirmed, f"{ENFORCEMENT_PATTERNS_VERSION}+{methods}"


def _judge_rows(content_category: pd.DataFrame | None) -> pd.DataFrame | None:
    if content_category is None or content_category.empty:
        return None
    method = content_category["method"].map(_text)
    rows = content_category[method.str.endswith(":enforcement")]
    return None if rows.empty else rows


def modal_community(posts: pd.DataFrame) -> pd.Series:
    """author_id → community of most of the author's posts (ties: smallest community_id)."""
    p = posts[posts["author_id"].notna() & posts["community_id"].notna()]
    counts = p.groupby(["author_id", "community_id"]).size().reset_index(name="n")
    counts["community_id"] = counts["community_id"].astype(str)
    counts = counts.sort_values(["author_id", "n", "community_id"], ascending=[True, False, True])
    return counts.drop_duplicates("author_id").set_index("author_id")["community_id"]


# --------------------------------------------------------------------------- the family


def _embedded_posts(posts: pd.DataFrame, embeddings: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Posts with a community and an embedding, and their unit vectors (same row order)."""
    p = posts[posts["community_id"].notna()].reset_index(drop=True)
    X, found = vectors_for(("post:" + p["post_id"].astype(str)).tolist(), embeddings)
    return p[found].reset_index(drop=True), X[found]


def norms_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    content_category: pd.DataFrame | None,
    embeddings: pd.DataFrame | None,
    *,
    society_seed: int,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """§5.2 tables (moltnet_templates, moltnet_post_template, moltnet_norms) and `moltnet` rows.

    posts: post_id, community_id, author_id, title, content, created_at; comments: comment_id,
    post_id, author_id, content; content_category: text_id, category, method (may be None);
    embeddings: text_embeddings rows (text_id, vector) of one model (may be None).
    """
    seed = society_seed
    all_text = [post_text(t, c) for t, c in zip(posts["title"], posts["content"])]
    edges = length_edges(np.array([len(t) for t in all_text]))
    feature_of = dict(zip(posts["post_id"], (structural_features(t, edges) for t in all_text)))

    ep, X = _embedded_posts(posts, embeddings)
    features = [feature_of[pid] for pid in ep["post_id"]]
    templates, post_template, centroids, samples = template_tables(ep, X, features, seed)
    rows: list[MetricRow] = []

    # Template consistency: median over clusters of ≥ 2 posts, excess over the society-wide control.
    consistency = templates["feature_consistency"].dropna().to_numpy(dtype=float)
    control = mean_pair_jaccard(list(feature_of.values()), CONTROL_PAIRS, metric_rng(seed, "consistency_control"))
    rows += _median_rows(consistency, control, seed)

    # Protocol fraction: per community, then posts-weighted over all in-scope posts.
    by_c = post_template.assign(hit=(post_template["adherence"] >= TAU).astype(float)).groupby("community_id")
    hits, sizes = by_c["hit"].sum().to_numpy(float), by_c.size().to_numpy(float)
    if len(sizes) == 0:
        rows += [metric_row(FAMILY, "protocol_fraction_median", None, None, 0),
                 metric_row(FAMILY, "protocol_fraction_weighted", None, None, 0)]
    else:
        fractions = hits / sizes
        rows.append(metric_row(FAMILY, "protocol_fraction_median", float(np.median(fractions)),
                               bootstrap_median_ci(fractions, metric_rng(seed, "protocol_fraction_median"), B),
                               len(fractions)))
        rows.append(metric_row(FAMILY, "protocol_fraction_weighted", float(hits.sum() / sizes.sum()),
                               bootstrap_ratio_ci(hits, sizes, metric_rng(seed, "protocol_fraction_weighted"), B),
                               int(sizes.sum())))

    # Norm specificity on the clustered samples; needs two communities.
    ns = ns0 = p_perm = math.nan
    if len(samples) >= 2:
        sample_rows = np.concatenate(list(samples.values()))
        labels = np.concatenate([np.full(len(s), g) for g, s in enumerate(samples.values())])
        ns, ns0, p_perm = norm_specificity_test(X[sample_rows], labels, len(samples),
                                                metric_rng(seed, "norm_specificity_ratio"))
    rows.append(metric_row(FAMILY, "norm_specificity_ratio", ns / ns0 if ns0 > 0 else None, None, len(samples)))

    # Template convergence: pair fixed-effects slope, cluster bootstrap over agents.
    sums = convergence_sums(posts, post_template)
    slope = math.nan
    if len(sums) >= MIN_CONVERGENCE_AGENTS and sums["sxx"].sum() > 0:
        slope = float(sums["sxy"].sum() / sums["sxx"].sum())
        ci = bootstrap_ratio_ci(sums["sxy"], sums["sxx"], metric_rng(seed, "template_convergence_slope"), B)
        rows.append(metric_row(FAMILY, "template_convergence_slope", slope, ci, int(sums["n_pairs"].sum())))
    else:
        rows.append(metric_row(FAMILY, "template_convergence_slope", None, None,
                               int(sums["n_pairs"].sum()) if len(sums) else 0))

    # Enforcement: rate per 1,000 comments and the cross-community share.
    flags, method = enforcement_flags(comments, content_category)
    n_comments, n_enf = len(comments), int(flags.sum())
    rate = math.nan
    if n_comments == 0:
        rows.append(metric_row(FAMILY, "enforcement_rate_per_1k", None, None, 0))
    else:
        rate = 1000.0 * n_enf / n_comments
        low, high = wilson_interval(n_enf, n_comments)
        rows.append(metric_row(FAMILY, "enforcement_rate_per_1k", rate, (1000.0 * low, 1000.0 * high), n_comments))
    enforcing = comments[flags]
    thread_community = enforcing["post_id"].map(posts.drop_duplicates("post_id").set_index("post_id")["community_id"])
    author_modal = enforcing["author_id"].map(modal_community(posts))
    known = thread_community.notna() & author_modal.notna()
    cross = (author_modal[known] != thread_community[known].astype(str)).to_numpy(bool)
    cross_share = float(cross.mean()) if cross.size else math.nan
    rows.append(metric_row(FAMILY, "enforcement_cross_share", cross_share if cross.size else None,
                           wilson_interval(int(cross.sum()), cross.size) if cross.size else None, cross.size))

    norms = pd.DataFrame([{
        "n_communities": len(samples), "norm_specificity": ns, "norm_specificity_null": ns0, "p_perm": p_perm,
        "template_convergence_slope": slope, "enforcement_rate": rate, "enforcement_cross_share": cross_share,
        "tau": TAU, "n_comments": n_comments, "n_enforcement": n_enf, "enforcement_method": method,
    }], columns=NORMS_COLUMNS)
    tables = {"moltnet_templates": templates, "moltnet_post_template": post_template, "moltnet_norms": norms}
    return tables, rows


def _median_rows(consistency: np.ndarray, control: float, seed: int) -> list[MetricRow]:
    """template_consistency_median and _excess (median − control; CI by bootstrap over clusters)."""
    n = len(consistency)
    if n == 0:
        return [metric_row(FAMILY, "template_consistency_median", None, None, 0),
                metric_row(FAMILY, "template_consistency_excess", None, None, 0)]
    median = float(np.median(consistency))
    low, high = bootstrap_median_ci(consistency, metric_rng(seed, "template_consistency_median"), B)
    excess_ci = None if math.isnan(control) else (low - control, high - control)
    return [metric_row(FAMILY, "template_consistency_median", median, (low, high), n),
            metric_row(FAMILY, "template_consistency_excess", median - control, excess_ci, n)]


# --------------------------------------------------------------------------- registry

_MOLTNET = "MoltNet, arXiv:2602.13458"


def _spec(metric: str, unit: str, ci: str, direction: str, evidence: str = "none",
          source: str | None = None) -> MetricSpec:
    # §5.2: paper-named; every formula, the range of k and τ are proposed.
    return MetricSpec(FAMILY, metric, unit, "paper-named", ci, direction, None, evidence, source)  # type: ignore[arg-type]


#: What this module writes to society_metric (ANALYTICS_SPEC §5.2), in order.
REGISTRY = [
    _spec("template_consistency_median", "clusters", "bootstrap", "high (posts near centres share a template)",
          "P", _MOLTNET),
    _spec("template_consistency_excess", "clusters", "bootstrap",
          "> 0 (CI: bootstrap of the median over clusters, control held fixed)", "P", _MOLTNET),
    _spec("protocol_fraction_median", "communities", "bootstrap", "not published (figure not recovered)"),
    _spec("protocol_fraction_weighted", "posts", "bootstrap",
          "not published (CI: Σ/Σ bootstrap over communities)"),
    _spec("norm_specificity_ratio", "communities", "none", "> 1 with p_perm < 0.05 (p_perm in moltnet_norms)",
          "S", _MOLTNET),
    _spec("template_convergence_slope", "agent-community pairs", "bootstrap",
          "> 0 (CI: cluster bootstrap over agents)", "S", _MOLTNET),
    _spec("enforcement_rate_per_1k", "comments", "wilson",
          "not published; pattern pre-filter alone when no ':enforcement' judge labels exist"),
    _spec("enforcement_cross_share", "enforcement comments", "wilson",
          "> 0 (enforcement reaches across community boundaries)", "S", _MOLTNET),
]
NORMS_METRIC_NAMES = [spec.metric for spec in REGISTRY]
