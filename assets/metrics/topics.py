"""Topic metrics (ANALYTICS_SPEC.md §1.4): what a society talks about, how varied it is over time,
whether its communities specialise, and which themes its community descriptions fall into.

This module measures the outputs of the enrichment stage (`assets/enrich/categories.py` labels
posts A–I, `assets/enrich/topics.py` fits BERTopic); it fits nothing of its own except the
K-means clustering of community descriptions that §1.4 asks for.

Inputs and the choices made where the spec leaves room:
- The unit is the post: `content_category` and `topic_assignments` rows are matched to posts by
  `text_id = 'post:' || post_id` (the `texts` view's id); comment labels are ignored. Labels
  outside A–I (or NULL) count as unlabelled. Auxiliary label methods (`…:motivation`,
  `…:enforcement`, `…:argument`, §0.3) are never category labels.
- Shares and entropies are over *labelled* posts; minimum bin sizes (§0.4: 20 posts an hour,
  200 a day) apply to the posts carrying the label the value uses (a category or a topic ≠ −1).
  Smaller bins are listed with NULL values.
- Trends (`category_share_slope_*`, `category_entropy_slope_day`) are OLS slopes over the days
  that meet the minimum, against the day index (days since the first post's day); shares use the
  empirical logit log((n_c + ½)/(N − n_c + ½)) so that a category absent on a day stays finite.
  Their CI is a moving-block bootstrap (3-day blocks of consecutive qualifying days, §0.5). A
  trend needs ≥ 4 such days, a daily mean ≥ 2 (proposed minimums; the spec sets none).
- Post-based metrics keep flagged bins in the society summaries (§0.4); the time series still
  marks them with `is_flagged`.
- The `no_floods` variant of `topics_category_share` is written only when the §6.2 burst text
  ids are passed (`flood_text_ids`); without them the table holds the `all` variant only.
- `topics_category_share` has no NULL-able key: the `all` bin gets `bin_start` = the day of the
  society's first timed post (1970-01-01 when no post has a time).
- Community description vectors (`text_embeddings` rows `community:<id>`) may not exist: without
  them the text filter still runs (`community_desc_n_filtered`), while the clustering metrics are
  "not available" (NULL, n = descriptions left without a vector).
- The per-step counts of the description filter (§1.4 asks to log them) are returned as the extra
  table `topics_community_desc_filter(step_no, step, n_after)`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import silhouette_score

from assets.enrich.categories import CATEGORY_CODES, TIE_BREAK_ORDER
from assets.enrich.language import detect_languages
from assets.metrics.bins import parse_time_flags
from assets.metrics.registry import Evidence, MetricSpec
from assets.metrics.stats import (
    MetricRow,
    bootstrap_mean_ci,
    bootstrap_median_ci,
    metric_rng,
    metric_row,
    moving_block_bootstrap_ci,
    ols_slope,
    wilson_interval,
)

FAMILY = "topics"

#: Minimum labelled posts per time bin (§0.4).
MIN_BIN_POSTS = {"hour": 20, "day": 200}
#: A community needs this many labelled posts for a profile (§1.4).
MIN_COMMUNITY_POSTS = 50
#: Multinomial null draws per community (§0.5, R = 200).
NULL_DRAWS = 200
#: Proposed minimums: qualifying days for a slope, and for a daily mean.
MIN_TREND_DAYS = 4
MIN_MEAN_DAYS = 2
#: Moving-block length for daily series (§0.5: 3-day blocks).
TREND_BLOCK_DAYS = 3
#: Empirical-logit continuity correction for daily shares.
LOGIT_PSEUDOCOUNT = 0.5

#: Description clustering (§1.4). Fewer filtered, embedded descriptions than MIN_DESCRIPTIONS
#: (two per cluster at the largest k, proposed) leave the clustering "not available".
K_RANGE = range(2, 21)
FIXED_K = 8
KMEANS_N_INIT = 20
MIN_DESCRIPTIONS = 2 * max(K_RANGE)
SILHOUETTE_SAMPLE = 10_000  # above this many descriptions the silhouette uses a seeded sample
MIN_DESCRIPTION_TOKENS = 5
MIN_TEMPLATE_CONTENT_WORDS = 3
TOP_TERMS = 10
AUXILIARY_METHOD_SUFFIXES = (":motivation", ":enforcement", ":argument")

#: Versioned seed lexicons that assign a cluster its meta-category (§1.4 step 5). A cluster takes
#: the meta-category whose words carry the most c-TF-IDF weight among its terms; a cluster with
#: none of these words stays unassigned (NULL), and ties go to the earlier meta-category here.
META_LEXICON_VERSION = "meta-lexicon-v1"
META_LEXICONS: dict[str, frozenset[str]] = {
    "human_mimetic": frozenset(
        "hobby hobbies game games gaming gamer food foods cooking cook recipe recipes cuisine baking "
        "music songs song art arts artist drawing painting movie movies film films book books reading "
        "novel novels poetry poems poem writing stories story travel city cities place places country "
        "countries sports sport football soccer basketball fitness pets pet cats cat dogs dog garden "
        "gardening nature hiking fashion photography anime manga memes meme humor humour jokes funny "
        "chess puzzles coffee tea wine beer history culture languages dating friends family".split()
    ),
    "silicon_centric": frozenset(
        "ai agent agents agentic machine machines consciousness sentience sentient conscious mind minds "
        "identity self memory memories existence existential philosophy philosophical llm llms model "
        "models neural alignment autonomy autonomous coordination collective research optimization "
        "optimisation optimize improvement recursive recursion compute code coding protocol protocols "
        "automation bots bot prompt prompts emergence emergent digital silicon synthetic molty moltys "
        "claude gpt openclaw inference weights".split()
    ),
    "hybrid_economic": frozenset(
        "market markets trading trade trader traders crypto cryptocurrency token tokens tokenomics "
        "finance financial investing investment investments invest forecasting forecast forecasts "
        "prediction predictions risk risks economy economics economic defi bitcoin btc ethereum eth "
        "solana stocks stock betting bets wallet wallets money business businesses startup startups "
        "revenue profit profits price prices arbitrage yield airdrop".split()
    ),
}
META_CATEGORIES = tuple(META_LEXICONS)

#: Columns of the family tables produced here; the writer adds society_id, computed_at, params_hash.
CATEGORY_SHARE_COLUMNS = ["variant", "bin", "bin_start", "category", "n", "share", "ci_low", "ci_high"]
TIME_SERIES_COLUMNS = [
    "bin", "bin_start", "n_posts", "n_active_communities", "n_new_communities",
    "category_entropy", "bertopic_entropy", "is_flagged",
]  # fmt: skip
COMMUNITY_PROFILE_COLUMNS = [
    "community_id", "n_posts", "specialization", "jsd_to_society", "jsd_null_p95",
    "is_generalist", "dominant_category",
]  # fmt: skip
COMMUNITY_CLUSTER_COLUMNS = ["k", "cluster_id", "size", "share", "top_terms", "label", "meta_category"]
DESC_FILTER_COLUMNS = ["step_no", "step", "n_after"]

NO_TIME_BIN_START = pd.Timestamp("1970-01-01T00:00:00Z")
_BIN_FREQ = {"hour": "h", "day": "D"}
_BIN_WIDTH = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1)}
_WORD = re.compile(r"\w+")
_SUBMOLT_TEMPLATE = re.compile(r"^\s*(?:an?|the)\s+submolt\s+(?:for|about|on|to)\b(.*)$", re.IGNORECASE | re.DOTALL)
_STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)


# --------------------------------------------------------------------------- small pure helpers


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a count (or probability) vector; NaN when it sums to 0."""
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0:
        return float("nan")
    p = c[c > 0] / total
    return float(-(p * np.log2(p)).sum())


def jsd_bits(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence in bits (0 … 1) between two distributions (not its square root)."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0

    def kl(a: np.ndarray) -> float:
        keep = a > 0
        return float((a[keep] * np.log2(a[keep] / m[keep])).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def _jsd_rows(rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """JSD in bits of every row of `rows` (probabilities) against `q`, vectorised for the null."""
    m = (rows + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(rows > 0, rows * np.log2(rows / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    return 0.5 * kl_p + 0.5 * kl_q


def slope_block_ci(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, B: int) -> tuple[float, float]:
    """95 % moving-block bootstrap CI of a daily trend's OLS slope (3-day blocks, §0.5)."""
    rows = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    return moving_block_bootstrap_ci(rows, lambda r: ols_slope(r[:, 0], r[:, 1]), rng, TREND_BLOCK_DAYS, B)


def _dominant(counts: np.ndarray) -> str | None:
    """The most frequent category; an exact tie goes to the spec's order H > D > G > F > B > A > E > C > I."""
    if counts.sum() <= 0:
        return None
    top = counts.max()
    winners = {CATEGORY_CODES[i] for i in np.flatnonzero(counts == top)}
    return next(code for code in TIE_BREAK_ORDER if code in winners)


def _text(value: object) -> str | None:
    """A cell as valid UTF-8 text (lone surrogates become '?'); None for NULL/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")


def normalize_description(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the key for exact-duplicate descriptions."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# --------------------------------------------------------------------------- inputs


def choose_category_method(content_category: pd.DataFrame, category_method: str | None) -> str | None:
    """The A–I label method to use: the one given, or the only non-auxiliary method present.

    Several candidate methods raise: which labeller a society is measured with must be an explicit
    choice, since label-based values compare only under the same method (§0.5).
    """
    if category_method is not None:
        return category_method
    methods = content_category["method"].dropna().astype(str).unique()
    candidates = sorted(m for m in methods if not m.endswith(AUXILIARY_METHOD_SUFFIXES))
    if len(candidates) > 1:
        raise ValueError(f"several category methods {candidates}; pass category_method")
    return candidates[0] if candidates else None


def labelled_posts(
    posts: pd.DataFrame,
    content_category: pd.DataFrame,
    topic_assignments: pd.DataFrame | None,
    category_method: str | None,
    topic_model_id: str | None,
) -> pd.DataFrame:
    """One row per post: text_id, community_id, created_at (UTC), category (A–I or None), topic (or NaN).

    Needs posts(post_id, community_id, created_at), content_category(text_id, category, method) and
    optionally topic_assignments(text_id, model_id, topic).
    """
    out = pd.DataFrame(
        {
            "text_id": "post:" + posts["post_id"].astype(str),
            "community_id": posts["community_id"].astype(object).where(posts["community_id"].notna(), None),
            "created_at": pd.to_datetime(posts["created_at"], utc=True, errors="coerce"),
        }
    ).drop_duplicates("text_id")

    method = choose_category_method(content_category, category_method)
    cat = content_category[content_category["method"] == method] if method is not None else content_category.iloc[:0]
    code = cat["category"].map(lambda v: (_text(v) or "").strip().upper())
    valid = cat.assign(code=code)[code.isin(CATEGORY_CODES)].drop_duplicates("text_id")
    out["category"] = out["text_id"].map(pd.Series(valid["code"].to_numpy(), index=valid["text_id"].to_numpy()))
    out["category"] = out["category"].astype(object).where(out["category"].notna(), None)

    topic = pd.Series(np.nan, index=out.index, dtype=float)
    if topic_assignments is not None and len(topic_assignments):
        ta = topic_assignments
        if topic_model_id is None:
            models = ta.loc[ta["text_id"].isin(out["text_id"]), "model_id"].unique()
            if len(models) > 1:
                raise ValueError(f"several topic models {sorted(map(str, models))}; pass topic_model_id")
            topic_model_id = models[0] if len(models) else None
        ta = ta[ta["model_id"] == topic_model_id].drop_duplicates("text_id")
        by_text = pd.Series(pd.to_numeric(ta["topic"], errors="coerce").to_numpy(dtype=float), index=ta["text_id"])
        topic = out["text_id"].map(by_text).astype(float)
    out["topic"] = topic
    return out.reset_index(drop=True)


def _counts_by(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Category counts (columns A–I, zeros kept) per value of `key`, over labelled rows."""
    lab = frame[frame["category"].notna()]
    table = pd.crosstab(lab[key], lab["category"]) if len(lab) else pd.DataFrame()
    return table.reindex(columns=list(CATEGORY_CODES), fill_value=0).astype("int64")


# --------------------------------------------------------------------------- category_share


def category_share_table(posts: pd.DataFrame, flood_text_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """`topics_category_share`: every category in every bin (all, day, hour), zero counts kept.

    `posts` is the output of `labelled_posts`. `n` is the category's count n_c, so a bin's N is the
    sum of `n` over its categories; bins below the §0.4 minimum have NULL share and CI.
    """
    variants = {"all": posts}
    if flood_text_ids is not None:
        variants["no_floods"] = posts[~posts["text_id"].isin(set(flood_text_ids))]
    timed = posts["created_at"].dropna()
    all_start = timed.min().floor("D") if len(timed) else NO_TIME_BIN_START

    rows = []
    for variant, frame in variants.items():
        lab = frame[frame["category"].notna()]
        bins: list[tuple[str, pd.Timestamp, pd.DataFrame]] = [("all", all_start, lab)]
        for bin_name, freq in _BIN_FREQ.items():
            t = lab.dropna(subset=["created_at"])
            starts = t["created_at"].dt.floor(freq)
            for start, group in t.groupby(starts, sort=True):
                bins.append((bin_name, start, group))
        for bin_name, start, group in bins:
            counts = group["category"].value_counts().reindex(list(CATEGORY_CODES), fill_value=0)
            total = int(counts.sum())
            enough = total >= MIN_BIN_POSTS.get(bin_name, 1)
            for code, n_c in counts.items():
                low, high = wilson_interval(int(n_c), total) if enough else (np.nan, np.nan)
                rows.append({"variant": variant, "bin": bin_name, "bin_start": start, "category": code,
                             "n": int(n_c), "share": n_c / total if enough else np.nan,
                             "ci_low": low, "ci_high": high})  # fmt: skip
    table = pd.DataFrame(rows, columns=CATEGORY_SHARE_COLUMNS)
    table["bin_start"] = pd.to_datetime(table["bin_start"], utc=True).astype("datetime64[us, UTC]")
    table["n"] = table["n"].astype("int64")
    return table


def _daily_counts(posts: pd.DataFrame) -> pd.DataFrame:
    """Category counts per day with ≥ MIN_BIN_POSTS['day'] labelled posts, plus `day_index`."""
    t = posts.dropna(subset=["created_at"])
    if t.empty:
        return pd.DataFrame(columns=[*CATEGORY_CODES, "day_index"])
    first_day = t["created_at"].min().floor("D")
    days = _counts_by(t.assign(day=t["created_at"].dt.floor("D")), "day")
    days = days[days.sum(axis=1) >= MIN_BIN_POSTS["day"]].sort_index()
    days["day_index"] = [(d - first_day).days for d in days.index]
    return days


def category_share_rows(posts: pd.DataFrame, society_seed: int, B: int) -> list[MetricRow]:
    """`category_share_<c>` (whole society, Wilson) and `category_share_slope_<c>` (daily logit trend)."""
    counts = posts["category"].value_counts()
    total = int(counts.sum())
    rows = []
    for code in CATEGORY_CODES:
        k = int(counts.get(code, 0))
        metric = f"category_share_{code.lower()}"
        rows.append(metric_row(FAMILY, metric, k / total if total else None, wilson_interval(k, total), total))

    days = _daily_counts(posts)
    n_days = len(days)
    x = days["day_index"].to_numpy(dtype=float)
    n_day = days[list(CATEGORY_CODES)].sum(axis=1).to_numpy(dtype=float)
    for code in CATEGORY_CODES:
        metric = f"category_share_slope_{code.lower()}"
        if n_days < MIN_TREND_DAYS:
            rows.append(metric_row(FAMILY, metric, None, None, n_days))
            continue
        n_c = days[code].to_numpy(dtype=float)
        y = np.log((n_c + LOGIT_PSEUDOCOUNT) / (n_day - n_c + LOGIT_PSEUDOCOUNT))
        ci = slope_block_ci(x, y, metric_rng(society_seed, metric), B)
        rows.append(metric_row(FAMILY, metric, ols_slope(x, y), ci, n_days))
    return rows


# --------------------------------------------------------------------------- category_entropy


def time_series_table(
    posts: pd.DataFrame,
    communities: pd.DataFrame,
    time_flags: Sequence[Mapping[str, object]] | None = None,
) -> pd.DataFrame:
    """`topics_time_series`: one row per hour and per day holding ≥ 1 timed post.

    Also lists bins inside the posts' time range where only new communities appear. The category
    entropy is in bits (max log2 9); the BERTopic entropy excludes topic −1 and is normalised by
    log2 K, K = the topics (≠ −1) of the society's posts. Communities created outside the posts'
    range are not counted.
    """
    t = posts.dropna(subset=["created_at"])
    created = pd.to_datetime(communities.get("created_at", pd.Series(dtype=object)), utc=True, errors="coerce")
    topics = posts["topic"]
    n_topics = int(topics[topics >= 0].nunique())
    flags = parse_time_flags(time_flags)

    rows = []
    for bin_name, freq in _BIN_FREQ.items():
        if t.empty:
            break
        starts = t["created_at"].dt.floor(freq)
        new_comm = created.dropna().dt.floor(freq).value_counts()
        new_comm = new_comm[(new_comm.index >= starts.min()) & (new_comm.index <= starts.max())]
        minimum = MIN_BIN_POSTS[bin_name]
        width = _BIN_WIDTH[bin_name]
        groups = dict(tuple(t.groupby(starts, sort=True)))
        for start in sorted(set(groups) | set(new_comm.index)):
            group = groups.get(start, t.iloc[:0])
            cat = group["category"].dropna().value_counts().reindex(list(CATEGORY_CODES), fill_value=0)
            top = group["topic"][group["topic"] >= 0].value_counts()
            cat_entropy = entropy_bits(cat.to_numpy()) if cat.sum() >= minimum else np.nan
            topic_entropy = (
                entropy_bits(top.to_numpy()) / math.log2(n_topics)
                if n_topics >= 2 and top.sum() >= minimum
                else np.nan
            )
            rows.append({
                "bin": bin_name,
                "bin_start": start,
                "n_posts": len(group),
                "n_active_communities": int(group["community_id"].dropna().nunique()),
                "n_new_communities": int(new_comm.get(start, 0)),
                "category_entropy": cat_entropy,
                "bertopic_entropy": topic_entropy,
                "is_flagged": any(start <= end and start + width > begin for begin, end in flags),
            })  # fmt: skip
    table = pd.DataFrame(rows, columns=TIME_SERIES_COLUMNS)
    table["bin_start"] = pd.to_datetime(table["bin_start"], utc=True).astype("datetime64[us, UTC]")
    for column in ("n_posts", "n_active_communities", "n_new_communities"):
        table[column] = table[column].astype("int64")
    table["is_flagged"] = table["is_flagged"].astype(bool)
    return table


def category_entropy_rows(series: pd.DataFrame, society_seed: int, B: int) -> list[MetricRow]:
    """Mean and OLS slope of the daily category entropy over days meeting the minimum (flagged kept)."""
    days = series[(series["bin"] == "day") & series["category_entropy"].notna()].sort_values("bin_start")
    h = days["category_entropy"].to_numpy(dtype=float)
    n = int(h.size)
    mean_name, slope_name = "category_entropy_mean_day", "category_entropy_slope_day"
    rows = []
    if n < MIN_MEAN_DAYS:
        rows.append(metric_row(FAMILY, mean_name, None, None, n))
    else:
        rows.append(metric_row(FAMILY, mean_name, float(h.mean()),
                               bootstrap_mean_ci(h, metric_rng(society_seed, mean_name), B), n))  # fmt: skip
    if n < MIN_TREND_DAYS:
        rows.append(metric_row(FAMILY, slope_name, None, None, n))
    else:
        first = days["bin_start"].iloc[0]
        x = np.array([(d - first).days for d in days["bin_start"]], dtype=float)
        ci = slope_block_ci(x, h, metric_rng(society_seed, slope_name), B)
        rows.append(metric_row(FAMILY, slope_name, ols_slope(x, h), ci, n))
    return rows


# --------------------------------------------------------------------------- community_topic_specialization


def community_profile_table(posts: pd.DataFrame, society_seed: int = 0) -> pd.DataFrame:
    """`topics_community_profile`: communities with ≥ 50 labelled posts, in community_id order.

    `n_posts` counts labelled posts. The null draws n_c posts from the society's category
    distribution (all labelled posts, NULL-community posts included) R = 200 times; the community
    is generalist when its JSD does not exceed the null's 95th percentile.
    """
    society = posts["category"].value_counts().reindex(list(CATEGORY_CODES), fill_value=0).to_numpy(dtype=float)
    per_comm = _counts_by(posts[posts["community_id"].notna()], "community_id")
    per_comm = per_comm[per_comm.sum(axis=1) >= MIN_COMMUNITY_POSTS]
    per_comm = per_comm.loc[sorted(per_comm.index, key=str)]
    rng = metric_rng(society_seed, "community_topic_specialization")
    q = society / society.sum() if society.sum() else society

    rows = []
    for community_id, counts in per_comm.iterrows():
        c = counts.to_numpy(dtype=float)
        n = int(c.sum())
        draws = rng.multinomial(n, q, size=NULL_DRAWS) / n
        jsd = jsd_bits(c, society)
        p95 = float(np.percentile(_jsd_rows(draws, q), 95))
        rows.append({
            "community_id": community_id,
            "n_posts": n,
            "specialization": 1.0 - entropy_bits(c) / math.log2(len(CATEGORY_CODES)),
            "jsd_to_society": jsd,
            "jsd_null_p95": p95,
            "is_generalist": bool(jsd <= p95),
            "dominant_category": _dominant(c),
        })  # fmt: skip
    table = pd.DataFrame(rows, columns=COMMUNITY_PROFILE_COLUMNS)
    table["n_posts"] = table["n_posts"].astype("int64")
    table["is_generalist"] = table["is_generalist"].astype(bool)
    return table


def community_profile_rows(profile: pd.DataFrame, society_seed: int, B: int) -> list[MetricRow]:
    """Generalist share (Wilson) and median specialization (bootstrap over communities)."""
    n = len(profile)
    if n == 0:
        return [metric_row(FAMILY, "generalist_community_share", None, None, 0),
                metric_row(FAMILY, "community_specialization_median", None, None, 0)]  # fmt: skip
    k = int(profile["is_generalist"].sum())
    spec = profile["specialization"].to_numpy(dtype=float)
    name = "community_specialization_median"
    return [
        metric_row(FAMILY, "generalist_community_share", k / n, wilson_interval(k, n), n),
        metric_row(FAMILY, name, float(np.median(spec)),
                   bootstrap_median_ci(spec, metric_rng(society_seed, name), B), n),  # fmt: skip
    ]


# --------------------------------------------------------------------------- community_theme_clusters


def _is_boilerplate(description: str, names: Sequence[str | None]) -> bool:
    """Equal to the community's name, or an "A submolt for X" template with < 3 content words."""
    norm = normalize_description(description)
    if any(name and norm == normalize_description(name) for name in names):
        return True
    template = _SUBMOLT_TEMPLATE.match(unicodedata.normalize("NFKC", description))
    if template is None:
        return False
    content = [w for w in _WORD.findall(template.group(1).casefold()) if w not in _STOP_WORDS]
    return len(content) < MIN_TEMPLATE_CONTENT_WORDS


def _keep(frame: pd.DataFrame, mask: Sequence[bool] | np.ndarray) -> pd.DataFrame:
    """Rows where `mask` holds (an explicit boolean array, so an empty mask never selects columns)."""
    return frame.loc[np.asarray(mask, dtype=bool).reshape(-1)]


def filter_descriptions(communities: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """§1.4 step 1: the kept descriptions and the count left after each step.

    Returns (kept, log): kept has community_id, description and `text` (display_name || ': ' ||
    description, the §1.1 embedding text); log is `topics_community_desc_filter`. Duplicates keep
    the earliest-created community (then the smallest id).
    """
    def column(name: str) -> pd.Series:
        """Object-dtype text column (None where missing or absent)."""
        values = communities[name] if name in communities.columns else [None] * len(communities)
        return pd.Series([_text(v) for v in values], index=communities.index, dtype=object)

    c = pd.DataFrame(
        {
            "community_id": column("community_id"),
            "name": column("name"),
            "display_name": column("display_name"),
            "description": column("description"),
            "created_at": pd.to_datetime(
                communities["created_at"] if "created_at" in communities.columns else pd.NaT, utc=True, errors="coerce"
            ),
        }
    )
    log = [("input", len(c))]
    c = _keep(c, [bool(d and d.strip()) for d in c["description"]])
    log.append(("non_empty", len(c)))
    c = c.sort_values(["created_at", "community_id"], na_position="last")
    c = _keep(c, ~c["description"].map(normalize_description).duplicated().to_numpy(dtype=bool))
    log.append(("deduplicated", len(c)))
    c = _keep(c, [len(_WORD.findall(d)) >= MIN_DESCRIPTION_TOKENS for d in c["description"]])
    log.append(("min_5_tokens", len(c)))
    c = _keep(c, [not _is_boilerplate(d, (n, dn)) for d, n, dn in zip(c["description"], c["name"], c["display_name"])])
    log.append(("not_boilerplate", len(c)))
    c = _keep(c, [lang == "en" for lang in detect_languages(c["description"].tolist())])
    log.append(("english", len(c)))

    texts = [f"{title or name or ''}: {d}" for title, name, d in zip(c["display_name"], c["name"], c["description"])]
    kept = pd.DataFrame(
        {
            "community_id": pd.Series(c["community_id"].tolist(), dtype=object),
            "description": pd.Series(c["description"].tolist(), dtype=object),
            "text": pd.Series(texts, dtype=object),
        }
    )
    frame = pd.DataFrame(
        {"step_no": range(1, len(log) + 1), "step": [s for s, _ in log], "n_after": [n for _, n in log]},
        columns=DESC_FILTER_COLUMNS,
    ).astype({"step_no": "int64", "n_after": "int64"})
    return kept, frame


def description_matrix(kept: pd.DataFrame, vectors: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The kept descriptions that have a finite vector, and their L2-normalised vectors (same order).

    `vectors` holds `text_embeddings` rows (text_id 'community:<id>', vector) of one model; rows of
    another length than the most common one are ignored.
    """
    if vectors is None or vectors.empty or kept.empty:
        return kept.iloc[:0], np.empty((0, 0))
    if "model_id" in vectors.columns and vectors["model_id"].nunique() > 1:
        raise ValueError("description vectors must come from one embedding model")
    by_text = dict(zip(vectors["text_id"].astype(str), vectors["vector"]))
    arrays = [np.asarray(by_text.get(f"community:{cid}", []), dtype=float).ravel() for cid in kept["community_id"]]
    sizes = pd.Series([a.size for a in arrays])
    dim = int(sizes[sizes > 0].mode().min()) if (sizes > 0).any() else 0
    keep = [dim > 0 and a.size == dim and bool(np.isfinite(a).all()) and np.linalg.norm(a) > 0 for a in arrays]
    if not any(keep):
        return kept.iloc[:0], np.empty((0, dim))
    matrix = np.vstack([a for a, k in zip(arrays, keep) if k])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return kept[keep].reset_index(drop=True), matrix


def class_tfidf_terms(
    texts: Sequence[str], labels: np.ndarray, k: int, top_n: int = TOP_TERMS
) -> tuple[list[list[str]], np.ndarray, list[str]]:
    """c-TF-IDF (tf within a cluster × log(1 + A / f_t)): top terms per cluster, weights, vocabulary."""
    vectorizer = CountVectorizer(stop_words="english")
    try:
        doc_terms = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(k)], np.zeros((k, 0)), []
    vocab = list(vectorizer.get_feature_names_out())
    counts = np.zeros((k, len(vocab)))
    for cluster in range(k):
        counts[cluster] = np.asarray(doc_terms[labels == cluster].sum(axis=0)).ravel()
    words_per_cluster = counts.sum(axis=1, keepdims=True)
    tf = np.divide(counts, words_per_cluster, out=np.zeros_like(counts), where=words_per_cluster > 0)
    avg_words = counts.sum() / k
    idf = np.log(1.0 + avg_words / np.maximum(counts.sum(axis=0), 1.0))
    weights = tf * idf
    terms = []
    for cluster in range(k):
        order = np.argsort(-weights[cluster], kind="stable")
        terms.append([vocab[i] for i in order[:top_n] if weights[cluster, i] > 0])
    return terms, weights, vocab


def meta_category(weights: np.ndarray, vocab: Sequence[str]) -> str | None:
    """The meta-category whose lexicon words weigh most in one cluster's c-TF-IDF row; None if none occur."""
    scores = [sum(w for w, term in zip(weights, vocab) if term in META_LEXICONS[m]) for m in META_CATEGORIES]
    best = int(np.argmax(scores))
    return META_CATEGORIES[best] if scores[best] > 0 else None


def cluster_descriptions(
    texts: Sequence[str], matrix: np.ndarray, society_seed: int = 0
) -> tuple[int, dict[int, pd.DataFrame]]:
    """K-means for k = 2…20 (k < n), best k by cosine silhouette, and the cluster rows of best k and k = 8.

    Returns (best_k, {k: rows}) with rows in COMMUNITY_CLUSTER_COLUMNS order.
    """
    n = matrix.shape[0]
    seed = int(metric_rng(society_seed, "community_theme_clusters").integers(2**31 - 1))
    fits: dict[int, np.ndarray] = {}
    silhouettes: dict[int, float] = {}
    for k in [k for k in K_RANGE if k < n]:
        labels = KMeans(n_clusters=k, init="k-means++", n_init=KMEANS_N_INIT, random_state=seed).fit_predict(matrix)
        fits[k] = labels
        if 2 <= len(np.unique(labels)) < n:
            sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
            score = silhouette_score(matrix, labels, metric="cosine", sample_size=sample, random_state=seed)
            silhouettes[k] = float(score)
    best_k = max(silhouettes, key=lambda k: (silhouettes[k], -k))  # ties: the smaller k

    tables = {}
    for k in sorted({best_k, FIXED_K}):
        labels = fits[k]
        terms, weights, vocab = class_tfidf_terms(texts, labels, k)
        sizes = np.bincount(labels, minlength=k)
        tables[k] = pd.DataFrame(
            {
                "k": k,
                "cluster_id": np.arange(k),
                "size": sizes,
                "share": sizes / n,
                "top_terms": terms,
                "label": [", ".join(t[:3]) for t in terms],
                "meta_category": [meta_category(weights[c], vocab) if len(vocab) else None for c in range(k)],
            },
            columns=COMMUNITY_CLUSTER_COLUMNS,
        )
    return best_k, tables


def community_cluster_outputs(
    communities: pd.DataFrame, vectors: pd.DataFrame | None, society_seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, list[MetricRow]]:
    """`topics_community_clusters`, the filter log and the cluster society metrics."""
    kept, log = filter_descriptions(communities)
    n_filtered = int(log["n_after"].iloc[-1])
    embedded, matrix = description_matrix(kept, vectors)
    n = len(embedded)
    log = pd.concat(
        [log, pd.DataFrame({"step_no": [len(log) + 1], "step": ["with_vector"], "n_after": [n]})], ignore_index=True
    ).astype({"step_no": "int64", "n_after": "int64"})
    rows = [metric_row(FAMILY, "community_desc_n_filtered", n_filtered, None, len(communities))]
    meta_names = [f"meta_share_{m}" for m in META_CATEGORIES]
    empty = pd.DataFrame(columns=COMMUNITY_CLUSTER_COLUMNS)
    if n < MIN_DESCRIPTIONS:
        rows.append(metric_row(FAMILY, "community_desc_best_k", None, None, n))
        rows += [metric_row(FAMILY, name, None, None, n) for name in meta_names]
        return empty.astype({"k": "int64", "cluster_id": "int64", "size": "int64"}), log, rows

    best_k, tables = cluster_descriptions(embedded["text"].tolist(), matrix, society_seed)
    rows.append(metric_row(FAMILY, "community_desc_best_k", best_k, None, n))
    at_8 = tables[FIXED_K]
    for meta, name in zip(META_CATEGORIES, meta_names):
        k = int(at_8.loc[at_8["meta_category"] == meta, "size"].sum())
        rows.append(metric_row(FAMILY, name, k / n, wilson_interval(k, n), n))
    table = pd.concat([tables[k] for k in sorted(tables)], ignore_index=True)
    return table.astype({"k": "int64", "cluster_id": "int64", "size": "int64"}), log, rows


# --------------------------------------------------------------------------- the family


def topics_metrics(
    posts: pd.DataFrame,
    content_category: pd.DataFrame,
    topic_assignments: pd.DataFrame | None,
    communities: pd.DataFrame,
    description_vectors: pd.DataFrame | None = None,
    *,
    category_method: str | None = None,
    topic_model_id: str | None = None,
    flood_text_ids: Iterable[str] | None = None,
    time_flags: Sequence[Mapping[str, object]] | None = None,
    society_seed: int = 0,
    B: int = 1000,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """The `topics` family (§1.4) of one society: its tables by name and its society_metric rows.

    posts(post_id, community_id, created_at); content_category(text_id, category, method);
    topic_assignments(text_id, model_id, topic) or None; communities(community_id, name,
    display_name, description, created_at); description_vectors: text_embeddings rows
    (text_id 'community:<id>', vector) of one model, or None when they were not embedded.
    `category_method` / `topic_model_id` pick among several label methods / topic models
    (required when there are several). `flood_text_ids` are the §6.2 burst text ids (enables the
    `no_floods` variant); `time_flags` the society's flagged windows.
    """
    labelled = labelled_posts(posts, content_category, topic_assignments, category_method, topic_model_id)
    share = category_share_table(labelled, flood_text_ids)
    series = time_series_table(labelled, communities, time_flags)
    profile = community_profile_table(labelled, society_seed)
    clusters, desc_log, cluster_rows = community_cluster_outputs(communities, description_vectors, society_seed)

    rows = category_share_rows(labelled, society_seed, B)
    rows += category_entropy_rows(series, society_seed, B)
    rows += community_profile_rows(profile, society_seed, B)
    rows += cluster_rows
    tables = {
        "topics_category_share": share,
        "topics_time_series": series,
        "topics_community_profile": profile,
        "topics_community_clusters": clusters,
        "topics_community_desc_filter": desc_log,
    }
    return tables, rows


# --------------------------------------------------------------------------- registry

_JIANG = "Humans welcome to observe, arXiv:2602.10127"
_ZERHOUDI = "Form Without Function, arXiv:2604.13052"
_LIN = "Exploring Silicon-Based Societies, arXiv:2602.02613"

_SHARE_EXPECTED: dict[str, tuple[str, str | None, Evidence]] = {
    # code: (expected direction, published value, evidence)
    "C": ("the largest share", "≈ 32.4%", "S"),
    "E": ("second largest share", "≈ 22.1%", "S"),
    "D": ("with F and G ≈ a fifth of posts", "D + F + G ≈ 20.7%", "S"),
    "F": ("with D and G ≈ a fifth of posts", "D + F + G ≈ 20.7%", "S"),
    "G": ("with D and F ≈ a fifth of posts", "D + F + G ≈ 20.7%", "S"),
}
_SLOPE_EXPECTED: dict[str, tuple[str, Evidence]] = {
    # code: (expected direction, evidence); the drift away from socializing is [P], "Viewpoint grows fastest" [S]
    "C": ("< 0 (away from early socializing)", "P"),
    "E": ("> 0, the fastest-growing category [S]", "P"),
    "D": ("> 0 (toward incentive content)", "P"),
    "F": ("> 0 (toward promotional content)", "P"),
    "G": ("> 0 (toward political content)", "P"),
}


def _share_spec(code: str) -> MetricSpec:
    direction, value, evidence = _SHARE_EXPECTED.get(code, ("no published figure", None, "none"))
    source = _JIANG if evidence != "none" else None
    return MetricSpec(FAMILY, f"category_share_{code.lower()}", "posts", "paper-defined", "wilson",
                      direction, value, evidence, source)  # fmt: skip


def _slope_spec(code: str) -> MetricSpec:
    direction, evidence = _SLOPE_EXPECTED.get(code, ("no published direction", "none"))
    source = _JIANG if evidence != "none" else None
    return MetricSpec(FAMILY, f"category_share_slope_{code.lower()}", "days", "paper-defined", "block_bootstrap",
                      direction, None, evidence, source)  # fmt: skip


REGISTRY: list[MetricSpec] = [
    *[_share_spec(code) for code in CATEGORY_CODES],
    *[_slope_spec(code) for code in CATEGORY_CODES],
    MetricSpec(FAMILY, "category_entropy_mean_day", "days", "paper-named", "bootstrap",
               "no published level (maximum log2 9 ≈ 3.17 bits)"),
    MetricSpec(FAMILY, "category_entropy_slope_day", "days", "paper-named", "block_bootstrap",
               "> 0 (diversity rises in the early days)", None, "P", _JIANG),
    MetricSpec(FAMILY, "generalist_community_share", "communities", "proposed", "wilson", "high",
               "92.5% of communities hold every topic in roughly even proportions", "P", _ZERHOUDI),
    MetricSpec(FAMILY, "community_specialization_median", "communities", "proposed", "bootstrap",
               "low (topic-generalist communities)", None, "P", _ZERHOUDI),
    MetricSpec(FAMILY, "community_desc_n_filtered", "communities", "proposed", "none",
               "about a third of descriptions survive the filter", "4,162 of 12,758 descriptions", "S", _LIN),
    MetricSpec(FAMILY, "community_desc_best_k", "descriptions", "proposed", "none",
               "≈ 8", "8 clusters in 3 meta-categories", "S", _LIN),
    *[MetricSpec(FAMILY, f"meta_share_{m}", "descriptions", "paper-named", "wilson",
                 "> 0 (three meta-themes present)", None, "P", _LIN) for m in META_CATEGORIES],
]  # fmt: skip
