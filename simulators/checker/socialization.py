"""Socialization diagnostics (ANALYTICS_SPEC.md §3) measured from a society's emitted tables.

The checker's own reading of the diagnostics of Li, Li & Zhou ("Does Socialization Emerge in AI
Agent Society?"), for the simulator tests, with two deliberate departures from the analytics:

- **Vectors**: TF-IDF of post texts (title + blank line + content; sublinear tf, unigrams and
  bigrams) reduced by truncated SVD to at most 100 dimensions and L2-normalised, instead of
  sentence embeddings. Cosines are dot products, centroids are normalised means, as in §0.5.
- **Time**: simulated runs last hours, not weeks, so the unit "day" becomes one of `N_BINS`
  equal-width bins spanning the first to the last post. Slopes are per bin (the `_day` keys keep
  their names), the 48 h interaction window is two bins, and the 3-day supernode rule is three
  consecutive bins. Minimum sizes are scaled down accordingly (constants below).

Every diagnostic draws from its own generator seeded by (society seed, crc32 of the metric), so
re-running one never perturbs another. Each returns a `Measured` with its 95% interval where
the §5 rows need one (percentile bootstrap over the metric's own unit; for lexical turnover,
redrawn token-budget samples). BLAS runs single-threaded (`threadpoolctl`, a scikit-learn
dependency): on small shared runners extra threads only contend.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from threadpoolctl import threadpool_limits

from simulators.checker.common import Measured, bootstrap_mean, labels
from warehouse.batch import CanonicalBatch

N_BINS = 8
SVD_DIMS = 100
MIN_POSTS_PER_BIN = 30  # §3 asks ≥ 200 posts a day; a bin of a small run holds far fewer
MAX_POSTS_PER_BIN = 5_000  # §3 subsample cap
N_BOOT = 1_000
N_BOOT_LEXICAL = 200
INERTIA_MIN_POSTS, INERTIA_MIN_BINS, INERTIA_PERMUTATIONS = 10, 3, 50  # §3.4
FEEDBACK_MIN_POSTS = 10  # §3.5
INFLUENCE_WINDOW_BINS = 2.0  # §3.6: 48 h around the comment
INFLUENCE_SET_SIZE = 3  # ≤ 3 posts before and after
PARTNER_MIN_POSTS = 3
CONTROL_DRAWS = 20  # tries to find a control post in the same community and bin
LEXICAL_MIN_COUNT = 5  # §3.3: an n-gram is in a bin's vocabulary with count ≥ 5
LEXICAL_BURN_IN = 2  # first two valid bins are listed, never summarised
LEXICAL_MAX_TOKENS = 2_000_000
SUPERNODE_K = 10
SUPERNODE_MIN_RUN = 3  # bins in a row in the top k
PAGERANK_ALPHA = 0.85
CONSENSUS_MIN_RESPONSES = 50  # §3.8: responses that contain a mention
CONSENSUS_PAGERANK_TOP = 100  # §3.8: alignment over mentioned agents and the PageRank top 100
CONSENSUS_MIN_NAME = 4  # bare agent names count from this many characters
CONSENSUS_KEYS = ("consensus_entropy", "top1_share", "grounding_rate", "structure_alignment")

_URL = re.compile(r"(https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"\w+")
_POST_URL = re.compile(r"https?://\S*?/posts?/([\w:-]+)", re.IGNORECASE)
_POST_ID = re.compile(r"\b[\w-]+:post:\w+")  # simulated post ids, <society>:post:<n>
_MENTIONED_HANDLE = re.compile(r"@(\w+)")


@dataclass(frozen=True)
class Corpus:
    """Posts in time order with their vectors, time bins and authors."""

    posts: pd.DataFrame  # post_id, author_id, community_id, created_at, score, text, bin, t_s
    vectors: np.ndarray  # (n_posts, d), unit rows
    bin_width_s: float


def metric_rng(batch: CanonicalBatch, metric: str) -> np.random.Generator:
    """§0.5 seeding: (society seed, crc32(metric))."""
    seed = int(batch.society.get("seed") or 0)
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(metric.encode())]))


def post_corpus(posts: pd.DataFrame, n_bins: int = N_BINS) -> Corpus:
    """Time-ordered posts, equal-width bins over their span, TF-IDF + SVD unit vectors."""
    frame = posts.sort_values(["created_at", "post_id"], kind="stable").reset_index(drop=True)
    text = frame["title"].fillna("") + "\n\n" + frame["content"].fillna("")
    t_s = (frame["created_at"] - frame["created_at"].min()).dt.total_seconds().to_numpy()
    span = max(float(t_s.max()) if len(t_s) else 0.0, 1.0)
    width = span / n_bins
    frame = frame.assign(text=text, t_s=t_s,
                         bin=np.minimum((t_s / width).astype(np.int64), n_bins - 1))
    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2).fit_transform(text)
    dims = min(SVD_DIMS, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
    vectors = TruncatedSVD(n_components=dims, random_state=0).fit_transform(tfidf)
    return Corpus(frame, _unit(vectors), width)


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _slope(y: np.ndarray, x: np.ndarray) -> float:
    """OLS slope of y on x (NaN below three points)."""
    if len(y) < 3:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def _bootstrap(values: np.ndarray, stat: Callable[[np.ndarray], float],
               rng: np.random.Generator, n_boot: int = N_BOOT) -> Measured:
    """A statistic over units with its percentile-bootstrap 95% interval."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return Measured(float("nan"))
    boots = [stat(values[rng.integers(0, len(values), len(values))]) for _ in range(n_boot)]
    return Measured(stat(values), float(np.quantile(boots, 0.025)),
                    float(np.quantile(boots, 0.975)), float(np.std(boots)),
                    note=f"n={len(values)}")


def _valid_bins(corpus: Corpus, min_posts: int = MIN_POSTS_PER_BIN) -> np.ndarray:
    counts = np.bincount(corpus.posts["bin"], minlength=N_BINS)
    return np.flatnonzero(counts >= min_posts)


# §3.2 semantic diversity ------------------------------------------------------------------------

def pairwise_diversity_slope(corpus: Corpus, rng: np.random.Generator) -> Measured:
    """Slope over bins of pairwise_diversity = 1 − mean cos over same-bin pairs.

    The mean over all distinct pairs is exact: (|Σe|² − n) / (n(n − 1)) for unit vectors, so no
    pair sampling is needed. Bins are subsampled to MAX_POSTS_PER_BIN posts. The interval
    resamples posts within each bin (bootstrap), recomputing every bin and the slope.
    """
    bins = _valid_bins(corpus)
    groups = []
    for b in bins:
        idx = np.flatnonzero(corpus.posts["bin"].to_numpy() == b)
        if len(idx) > MAX_POSTS_PER_BIN:
            idx = np.sort(rng.choice(idx, MAX_POSTS_PER_BIN, replace=False))
        groups.append(corpus.vectors[idx])
    if len(groups) < 3:
        return Measured(float("nan"), note=f"valid bins={len(groups)}")

    def diversity(e: np.ndarray, weights: np.ndarray) -> np.ndarray:
        n = weights.sum(axis=-1)
        total = weights @ e
        return 1.0 - ((total**2).sum(axis=-1) - n) / (n * (n - 1))

    observed = np.array([diversity(e, np.ones(len(e))) for e in groups])
    boot = np.stack([
        diversity(e, rng.multinomial(len(e), np.full(len(e), 1.0 / len(e)), size=N_BOOT)
                  .astype(float))
        for e in groups
    ], axis=1)  # (N_BOOT, bins)
    x = bins.astype(float)
    slopes = np.polyfit(x, boot.T, 1)[0]
    return Measured(_slope(observed, x), float(np.quantile(slopes, 0.025)),
                    float(np.quantile(slopes, 0.975)), float(slopes.std()),
                    note="per bin: " + " ".join(f"{v:.4f}" for v in observed))


# §3.3 lexical turnover --------------------------------------------------------------------------

def _tokens(text: str) -> list[str]:
    """§3.3 tokenizer: lowercase, strip URLs, @handles and numbers, then \\w+ tokens."""
    text = _NUMBER.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text.lower())))
    return _WORD.findall(text)


def _bigrams(text: str) -> list[str]:
    words = _tokens(text)
    return [f"{a} {b}" for a, b in zip(words, words[1:])]


def lexical_birth_rate_slope(corpus: Corpus, rng: np.random.Generator) -> Measured:
    """Slope over bins of the bigram birth rate |V_t \\ ∪_{s<t} V_s| / |V_t| (§3.3, n = 2).

    Each bin is sampled in random order up to the same token budget (the smallest valid bin's
    token count), V_t holds the bigrams seen ≥ LEXICAL_MIN_COUNT times in that sample, and the
    first two valid bins are burn-in. The interval comes from redrawing the budgeted samples
    (fresh random orders). Resampling posts with replacement would not do here: duplicated
    posts push rare bigrams over the count threshold and bias every birth rate.
    """
    bins = _valid_bins(corpus)
    if len(bins) < LEXICAL_BURN_IN + 3:
        return Measured(float("nan"), note=f"valid bins={len(bins)}")
    counts = CountVectorizer(analyzer=_bigrams).fit_transform(corpus.posts["text"])
    counts = sp.csr_matrix(counts)
    n_tokens = np.array([len(_tokens(t)) for t in corpus.posts["text"]])
    members = [np.flatnonzero(corpus.posts["bin"].to_numpy() == b) for b in bins]
    budget = min(min(int(n_tokens[m].sum()) for m in members), LEXICAL_MAX_TOKENS)

    def birth_rates(draws: list[np.ndarray]) -> np.ndarray:
        seen = np.zeros(counts.shape[1], dtype=bool)
        rates = []
        for drawn in draws:
            within = drawn[np.cumsum(n_tokens[drawn]) <= budget]
            vocab = np.asarray(counts[within].sum(axis=0)).ravel() >= LEXICAL_MIN_COUNT
            rates.append((vocab & ~seen).sum() / max(vocab.sum(), 1))
            seen |= vocab
        return np.array(rates[LEXICAL_BURN_IN:])

    x = bins[LEXICAL_BURN_IN:].astype(float)
    observed = birth_rates([rng.permutation(m) for m in members])
    slopes = np.array([_slope(birth_rates([rng.permutation(m) for m in members]), x)
                       for _ in range(N_BOOT_LEXICAL)])
    return Measured(_slope(observed, x), float(np.quantile(slopes, 0.025)),
                    float(np.quantile(slopes, 0.975)), float(slopes.std()),
                    note=f"budget={budget} tokens; per bin: "
                    + " ".join(f"{v:.4f}" for v in observed))


# §3.4 individual inertia ------------------------------------------------------------------------

def _self_drift(e: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """1 − cos(centroid(first ⌊n/3⌋), centroid(last ⌊n/3⌋)) for each ordering (rows)."""
    third = e.shape[0] // 3
    first = _unit(e[orders[:, :third]].mean(axis=1))
    last = _unit(e[orders[:, -third:]].mean(axis=1))
    return 1.0 - (first * last).sum(axis=1)


def excess_drift_median(corpus: Corpus, rng: np.random.Generator) -> Measured:
    """Median over agents (≥ 10 posts on ≥ 3 bins) of self_drift minus its permutation null
    (mean over 50 shuffles of the post order); agent-bootstrap interval."""
    posts = corpus.posts
    excess = []
    for _, group in posts.groupby("author_id", sort=True):
        if len(group) < INERTIA_MIN_POSTS or group["bin"].nunique() < INERTIA_MIN_BINS:
            continue
        e = corpus.vectors[group.index.to_numpy()]  # time order: the corpus is sorted
        n = len(e)
        observed = _self_drift(e, np.arange(n)[None, :])[0]
        shuffled = rng.permuted(np.tile(np.arange(n), (INERTIA_PERMUTATIONS, 1)), axis=1)
        excess.append(observed - _self_drift(e, shuffled).mean())
    return _bootstrap(np.array(excess), np.median, rng)


# §3.5 feedback adaptation -----------------------------------------------------------------------

def _scores_at(snapshots: pd.DataFrame, post_ids: np.ndarray, times: pd.Series,
               final: pd.Series) -> np.ndarray:
    """Each post's score at the last snapshot at or before its time (0 before the first one;
    the final score when the society has no snapshots)."""
    if snapshots.empty:
        return final.reindex(post_ids).to_numpy(dtype=float)
    query = pd.DataFrame({"post_id": post_ids, "observed_at": times.to_numpy(),
                          "row": np.arange(len(post_ids))}).sort_values("observed_at")
    known = snapshots[["post_id", "observed_at", "score"]].sort_values("observed_at")
    joined = pd.merge_asof(query, known, on="observed_at", by="post_id", direction="backward")
    return joined.sort_values("row")["score"].fillna(0.0).to_numpy(dtype=float)


def feedback_gap_mean(corpus: Corpus, snapshots: pd.DataFrame,
                      rng: np.random.Generator) -> Measured:
    """Mean over agents (≥ 10 posts) of mean(g_best − g_worst) (§3.5).

    For each consecutive pair (i, i + 1) with i ≥ 2 (0-based: at least two earlier posts),
    best and worst are the earlier posts with the highest and lowest score as observed in the
    last snapshot before post i + 1 was created; g_x = cos(e_{i+1}, e_x) − cos(e_i, e_x). Ties
    are broken at random; pairs whose earlier posts all share one score are skipped.
    """
    posts = corpus.posts
    final = posts.set_index("post_id")["score"]
    # One query row per (pair i, earlier post j): the score of j when post i + 1 appeared.
    # Corpus rows are in time order, so an author's rows, in order, are its posts in order.
    sizes = posts.groupby("author_id", sort=True).size()
    eligible = posts["author_id"].map(sizes).to_numpy() >= FEEDBACK_MIN_POSTS
    rows_by_author = np.flatnonzero(eligible)
    rows_by_author = rows_by_author[np.argsort(posts["author_id"].to_numpy()[rows_by_author],
                                               kind="stable")]
    author_of_row = posts["author_id"].to_numpy()[rows_by_author]
    if not len(rows_by_author):
        return Measured(float("nan"), note="no agent with enough posts")
    block_start = np.searchsorted(author_of_row, author_of_row, side="left")
    position = np.arange(len(rows_by_author)) - block_start  # i: index within the author
    block_end = np.searchsorted(author_of_row, author_of_row, side="right")
    has_pair = (position >= 2) & (block_start + position + 1 < block_end)
    pair_pos = np.flatnonzero(has_pair)  # positions (in rows_by_author) of post i
    n_earlier = position[pair_pos]
    pair = np.repeat(np.arange(len(pair_pos)), n_earlier)
    j = np.arange(n_earlier.sum()) - np.repeat(np.cumsum(n_earlier) - n_earlier, n_earlier)
    row_i = rows_by_author[pair_pos]
    row_next = rows_by_author[pair_pos + 1]
    row_j = rows_by_author[block_start[pair_pos][pair] + j]
    score = _scores_at(snapshots, posts["post_id"].to_numpy()[row_j],
                       posts["created_at"].iloc[row_next[pair]], final)
    order = np.lexsort((rng.random(len(pair)), score, pair))  # by pair, score, tie-break
    first = np.searchsorted(pair[order], np.arange(len(pair_pos)), side="left")
    last = np.searchsorted(pair[order], np.arange(len(pair_pos)), side="right") - 1
    worst, best = row_j[order[first]], row_j[order[last]]
    spread = score[order[last]] > score[order[first]]
    step = corpus.vectors[row_next] - corpus.vectors[row_i]
    gap = ((corpus.vectors[best] - corpus.vectors[worst]) * step).sum(axis=1)
    author = author_of_row[pair_pos]
    per_agent = pd.Series(gap[spread]).groupby(author[spread]).mean()
    measured = bootstrap_mean(per_agent.to_numpy(), seed=int(rng.integers(2**31)))
    return Measured(measured.value, measured.ci_low, measured.ci_high, measured.se,
                    note=f"agents={len(per_agent)}")


# §3.6 interaction influence ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Events:
    """Comment events a → post q (author b ≠ a) with non-empty before and after sets."""

    agent: np.ndarray  # author_id of the commenter
    before: np.ndarray  # (n, d) centroid of the commenter's posts before
    after: np.ndarray  # (n, d) centroid after
    post_row: np.ndarray  # corpus row of q
    control_row: np.ndarray  # corpus row of q′ (-1: none found)


def _influence_events(corpus: Corpus, comments: pd.DataFrame,
                      rng: np.random.Generator) -> _Events:
    posts = corpus.posts
    row_of_post = pd.Series(np.arange(len(posts)), index=posts["post_id"])
    ev = comments[["author_id", "post_id", "created_at"]].copy()
    ev["row"] = row_of_post.reindex(ev["post_id"]).to_numpy()
    ev = ev.dropna(subset=["row"])
    ev["row"] = ev["row"].astype(np.int64)
    ev = ev[posts["author_id"].to_numpy()[ev["row"]] != ev["author_id"].to_numpy()]
    window = pd.Timedelta(seconds=INFLUENCE_WINDOW_BINS * corpus.bin_width_s)
    t0 = posts["created_at"].min()
    ev["t_s"] = (ev["created_at"] - t0).dt.total_seconds()

    agent, before, after, post_row = [], [], [], []
    by_author = posts.groupby("author_id", sort=True)
    for author, events in ev.groupby("author_id", sort=True):
        if author not in by_author.groups:
            continue
        own = by_author.get_group(author)
        own_t = own["t_s"].to_numpy()
        own_e = corpus.vectors[own.index.to_numpy()]
        tau = events["t_s"].to_numpy()
        k = INFLUENCE_SET_SIZE
        start_before = np.searchsorted(own_t, tau - window.total_seconds(), side="left")
        end_before = np.searchsorted(own_t, tau, side="left")  # posts strictly before τ
        start_after = np.searchsorted(own_t, tau, side="right")
        end_after = np.searchsorted(own_t, tau + window.total_seconds(), side="right")
        lo_b = np.maximum(start_before, end_before - k)
        hi_a = np.minimum(end_after, start_after + k)
        ok = (end_before > lo_b) & (hi_a > start_after)
        if not ok.any():
            continue
        cumulative = np.vstack([np.zeros(own_e.shape[1]), np.cumsum(own_e, axis=0)])
        before.append(_unit(cumulative[end_before[ok]] - cumulative[lo_b[ok]]))
        after.append(_unit(cumulative[hi_a[ok]] - cumulative[start_after[ok]]))
        agent.append(np.full(ok.sum(), author, dtype=object))
        post_row.append(events["row"].to_numpy()[ok])
    if not agent:
        empty = np.zeros((0, corpus.vectors.shape[1]))
        return _Events(np.zeros(0, object), empty, empty, np.zeros(0, int), np.zeros(0, int))
    events = _Events(np.concatenate(agent), np.vstack(before), np.vstack(after),
                     np.concatenate(post_row), np.zeros(0, int))
    control = _control_posts(corpus, comments, events.agent, events.post_row, rng)
    return dataclasses.replace(events, control_row=control)


def _control_posts(corpus: Corpus, comments: pd.DataFrame, agent: np.ndarray,
                   post_row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each event, a random post from q's community and bin that the commenter neither
    wrote nor commented on; falling back to any community in that bin; -1 if none."""
    posts = corpus.posts
    # Agents and posts as integer codes; (agent, post) pairs packed into one int64.
    agent_code = pd.Index(np.unique(np.concatenate([posts["author_id"].astype(str),
                                                    comments["author_id"].astype(str)])))
    n_posts = len(posts)
    row_of_post = pd.Series(np.arange(n_posts), index=posts["post_id"])
    c_rows = row_of_post.reindex(comments["post_id"]).to_numpy()
    known = ~np.isnan(c_rows)
    commented = np.unique(agent_code.get_indexer(comments["author_id"].astype(str))[known]
                          * n_posts + c_rows[known].astype(np.int64))
    author_code = agent_code.get_indexer(posts["author_id"].astype(str))
    me = agent_code.get_indexer(pd.Series(agent).astype(str))
    out = np.full(len(agent), -1, dtype=np.int64)
    for keys in (["community_id", "bin"], ["bin"]):
        # Posts grouped into cells (community and bin, then bin alone), as contiguous blocks.
        cell = posts.groupby(keys, sort=True).ngroup().to_numpy()
        members = np.argsort(cell, kind="stable")
        start = np.searchsorted(cell[members], cell, side="left")
        size = np.bincount(cell)[cell]
        todo = np.flatnonzero(out < 0)
        q = post_row[todo]
        u = rng.random((len(todo), CONTROL_DRAWS))
        tries = members[start[q][:, None] + np.minimum((u * size[q][:, None]).astype(np.int64),
                                                       size[q][:, None] - 1)]
        ok = (tries != q[:, None]) & (author_code[tries] != me[todo][:, None]) \
            & ~np.isin(me[todo][:, None] * n_posts + tries, commented)
        found = ok.any(axis=1)
        out[todo[found]] = tries[found, np.argmax(ok[found], axis=1)]
    return out


def _agent_mean_effect(agent: np.ndarray, effect: np.ndarray, rng: np.random.Generator
                       ) -> Measured:
    """Mean within agents, then across agents, with an agent-bootstrap interval."""
    keep = np.isfinite(effect)
    per_agent = pd.Series(effect[keep]).groupby(agent[keep]).mean()
    measured = bootstrap_mean(per_agent.to_numpy(), seed=int(rng.integers(2**31)))
    return Measured(measured.value, measured.ci_low, measured.ci_high, measured.se,
                    note=f"events={int(keep.sum())} agents={len(per_agent)}")


def interaction_influence(corpus: Corpus, comments: pd.DataFrame, rng: np.random.Generator
                          ) -> dict[str, Measured]:
    """§3.6: Δ = cos(after, x) − cos(before, x) for the commented post x = e_q (interaction
    effect) or its author's centroid (partner effect), minus the same for a control post q′."""
    ev = _influence_events(corpus, comments, rng)
    has_control = ev.control_row >= 0
    posts = corpus.posts

    def delta(target: np.ndarray) -> np.ndarray:
        return ((ev.after - ev.before) * target).sum(axis=1)

    e_q = corpus.vectors[ev.post_row]
    e_c = corpus.vectors[np.maximum(ev.control_row, 0)]
    interaction = np.where(has_control, delta(e_q) - delta(e_c), np.nan)

    authors = posts["author_id"].to_numpy()
    sizes = posts.groupby("author_id").size()
    sums = pd.DataFrame(corpus.vectors).groupby(authors).sum()
    centroid = pd.DataFrame(_unit(sums.to_numpy()), index=sums.index)
    b, b_c = authors[ev.post_row], authors[np.maximum(ev.control_row, 0)]
    partner_ok = has_control & (sizes.reindex(b).to_numpy() >= PARTNER_MIN_POSTS) \
        & (sizes.reindex(b_c).to_numpy() >= PARTNER_MIN_POSTS) & (b_c != ev.agent)
    partner = np.where(partner_ok, delta(centroid.reindex(b).to_numpy())
                       - delta(centroid.reindex(b_c).to_numpy()), np.nan)
    return {
        "socialization.interaction_influence_effect":
            _agent_mean_effect(ev.agent, interaction, rng),
        "socialization.partner_influence_effect": _agent_mean_effect(ev.agent, partner, rng),
    }


# §4.3 / §3.7 influence persistence ---------------------------------------------------------------

def pagerank(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int,
             alpha: float = PAGERANK_ALPHA, tol: float = 1e-10) -> np.ndarray:
    """Weighted PageRank by power iteration; dangling mass is spread uniformly."""
    out_strength = np.bincount(src, weights=weight, minlength=n)
    transition = sp.csr_matrix((weight / out_strength[src], (dst, src)), shape=(n, n))
    dangling = out_strength == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(1_000):
        new = alpha * (transition @ rank + rank[dangling].sum() / n) + (1.0 - alpha) / n
        if np.abs(new - rank).sum() < tol:
            return new
        rank = new
    return rank


def persistent_supernode_share(posts: pd.DataFrame, comments: pd.DataFrame,
                               n_bins: int = N_BINS, k: int = SUPERNODE_K) -> Measured:
    """Share of agents ever in a bin's PageRank top k (post_author graph: commenter → post
    author, self-loops dropped) whose longest run of consecutive valid bins in the top k is
    ≥ SUPERNODE_MIN_RUN. A bin is valid when ≥ 10·k agents receive comments in it."""
    author = comments["post_id"].map(posts.set_index("post_id")["author_id"])
    edges = pd.DataFrame({"src": comments["author_id"], "dst": author,
                          "t": comments["created_at"]}).dropna()
    edges = edges[edges["src"] != edges["dst"]]
    if edges.empty:
        return Measured(float("nan"))
    t_s = (edges["t"] - edges["t"].min()).dt.total_seconds().to_numpy()
    width = max(float(t_s.max()), 1.0) / n_bins
    edges = edges.assign(bin=np.minimum((t_s / width).astype(np.int64), n_bins - 1))
    agents = np.unique(np.concatenate([edges["src"], edges["dst"]]).astype(str))
    code = pd.Series(np.arange(len(agents)), index=agents)
    in_top = np.zeros((n_bins, len(agents)), dtype=bool)
    valid = np.zeros(n_bins, dtype=bool)
    for b, group in edges.groupby("bin", sort=True):
        weighted = group.groupby(["src", "dst"]).size().reset_index(name="w")
        src = code.reindex(weighted["src"].astype(str)).to_numpy()
        dst = code.reindex(weighted["dst"].astype(str)).to_numpy()
        w = weighted["w"].to_numpy(dtype=float)
        in_strength = np.bincount(dst, weights=w, minlength=len(agents))
        if (in_strength > 0).sum() < 10 * k:
            continue
        valid[b] = True
        rank = pagerank(src, dst, w, len(agents))
        order = np.lexsort((agents, -in_strength, -rank))  # ties: in-strength, then agent id
        in_top[b, order[:k]] = True
    ever = in_top.any(axis=0)
    if valid.sum() < SUPERNODE_MIN_RUN or not ever.any():
        return Measured(float("nan"), note=f"valid bins={int(valid.sum())}")
    run = np.zeros(len(agents), dtype=np.int64)
    longest = np.zeros(len(agents), dtype=np.int64)
    for b in range(n_bins):
        run = np.where(in_top[b], run + 1, 0)
        longest = np.maximum(longest, run)
    share = float((longest[ever] >= SUPERNODE_MIN_RUN).mean())
    return Measured(share, note=f"ever in top {k}: {int(ever.sum())}; valid bins "
                    f"{int(valid.sum())}")


# §3.8 collective consensus -----------------------------------------------------------------------

def probe_post_ids(tables: dict[str, pd.DataFrame]) -> pd.Index:
    """Posts the simulator flagged as probes (`sim_labels`: post, probe = 1)."""
    flags = labels(tables, "post", "probe")
    return pd.Index(flags.index[flags == "1"])


def parse_mentions(text: str, agent_by_name: dict[str, str], post_ids: set[str]
                   ) -> dict[str, tuple[str | None, bool | None]]:
    """The entities one response names, each once: entity key -> (agent id or None, grounded).

    Post URLs (the id after `/post/`) and simulated post ids (`<society>:post:<n>`) are post
    references; `@handle`s name agents (case-insensitive); both are grounded when they resolve
    to a post or agent of the society, and unresolved ones stay entities of their own. Bare
    tokens equal to an agent name (case-insensitive, ≥ CONSENSUS_MIN_NAME characters, not an
    English stop word, our offline stand-in for a dictionary) name that agent; they resolve by
    construction, so their grounding is None and they stay out of the grounding rate.
    """
    found: dict[str, tuple[str | None, bool | None]] = {}
    for pattern in (_POST_URL, _POST_ID):
        for match in pattern.finditer(text):
            ref = match.group(1) if pattern.groups else match.group(0)
            found.setdefault(f"post:{ref}", (None, ref in post_ids))
        text = pattern.sub(" ", text)
    for handle in _MENTIONED_HANDLE.findall(text):
        agent = agent_by_name.get(handle.lower())
        key = f"agent:{agent}" if agent is not None else f"handle:{handle.lower()}"
        found.setdefault(key, (agent, agent is not None))
    for token in _WORD.findall(_MENTIONED_HANDLE.sub(" ", text)):
        word = token.lower()
        if (len(word) >= CONSENSUS_MIN_NAME and word not in ENGLISH_STOP_WORDS
                and word in agent_by_name):
            found.setdefault(f"agent:{agent_by_name[word]}", (agent_by_name[word], None))
    return found


def mention_concentration(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised entropy (÷ log K over the K entities mentioned; 0 when K = 1) and top-1 share
    of mention counts along the last axis."""
    totals = np.asarray(totals, dtype=float)
    share = totals / totals.sum(axis=-1, keepdims=True)
    k = (totals > 0).sum(axis=-1)
    plogp = np.where(share > 0, share * np.log(np.where(share > 0, share, 1.0)), 0.0)
    entropy = np.where(k > 1, -plogp.sum(axis=-1) / np.log(np.maximum(k, 2)), 0.0)
    return entropy, share.max(axis=-1)


def comment_pagerank(posts: pd.DataFrame, comments: pd.DataFrame, agent_ids: pd.Index
                     ) -> pd.Series:
    """Whole-period PageRank of the post_author graph (commenter → post author, weighted by
    comments, self-loops dropped) over every agent."""
    author = comments["post_id"].map(posts.set_index("post_id")["author_id"])
    edges = pd.DataFrame({"src": comments["author_id"], "dst": author}).dropna()
    edges = edges[edges["src"] != edges["dst"]].groupby(["src", "dst"]).size()
    src = agent_ids.get_indexer(edges.index.get_level_values("src"))
    dst = agent_ids.get_indexer(edges.index.get_level_values("dst"))
    known = (src >= 0) & (dst >= 0)
    rank = pagerank(src[known], dst[known], edges.to_numpy(dtype=float)[known], len(agent_ids))
    return pd.Series(rank, index=agent_ids)


def _share_interval(value: float, boots: np.ndarray, note: str) -> Measured:
    """A share in [0, 1] with the normal bootstrap interval, value ± 1.96 · SE, clipped.

    Not the percentile interval: resampling responses duplicates some, which concentrates the
    mention counts, so near the uniform boundary every resampled entropy falls below the
    estimate (and every top-1 share above it) and percentile intervals would exclude it."""
    boots = boots[np.isfinite(boots)]
    if not np.isfinite(value) or not len(boots):
        return Measured(value, note=note)
    se = float(boots.std())
    return Measured(value, max(0.0, value - 1.96 * se), min(1.0, value + 1.96 * se), se,
                    note=note)


def consensus(posts: pd.DataFrame, comments: pd.DataFrame, agents: pd.DataFrame,
              probe_posts: pd.Index, rng: np.random.Generator) -> dict[str, Measured]:
    """§3.8 on the comments of probe threads: consensus_entropy and top1_share of the entities
    the responses mention (each entity counted once per response), grounding_rate (share of
    @handles and post references that resolve) and structure_alignment (Spearman of an
    agent's mention count with its whole-period PageRank, over agents mentioned or in the
    PageRank top 100). NaN below CONSENSUS_MIN_RESPONSES responses with a mention. The first
    three carry a bootstrap over responses with a mention (`_share_interval`)."""
    responses = comments[comments["post_id"].isin(probe_posts)]
    agent_by_name = dict(zip(agents["name"].str.lower(), agents["agent_id"]))
    post_ids = set(posts["post_id"])
    rows = [(r, entity, agent, grounded)
            for r, text in enumerate(responses["content"].fillna(""))
            for entity, (agent, grounded) in parse_mentions(text, agent_by_name, post_ids).items()]
    mentions = pd.DataFrame(rows, columns=["response", "entity", "agent_id", "grounded"])
    n_with = int(mentions["response"].nunique())
    note = (f"probe threads={len(probe_posts)} responses={len(responses)} "
            f"with a mention={n_with} mentions={len(mentions)} "
            f"entities={mentions['entity'].nunique()}")
    if n_with < CONSENSUS_MIN_RESPONSES:
        return {f"socialization.{key}": Measured(float("nan"), note=f"{note}; needs "
                                                 f"{CONSENSUS_MIN_RESPONSES} with a mention")
                for key in CONSENSUS_KEYS}
    response = pd.factorize(mentions["response"])[0]
    entity = pd.factorize(mentions["entity"])[0]
    matrix = np.zeros((n_with, entity.max() + 1))
    np.add.at(matrix, (response, entity), 1.0)
    checkable = mentions["grounded"].notna().to_numpy()
    grounded = np.bincount(response[checkable], minlength=n_with,
                           weights=mentions["grounded"][checkable].astype(float).to_numpy())
    checked = np.bincount(response[checkable], minlength=n_with).astype(float)
    weights = rng.multinomial(n_with, np.full(n_with, 1.0 / n_with), size=N_BOOT).astype(float)
    entropy, top1 = mention_concentration(matrix.sum(axis=0))
    boot_entropy, boot_top1 = mention_concentration(weights @ matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        grounding = grounded.sum() / checked.sum() if checked.sum() else float("nan")
        boot_grounding = (weights @ grounded) / (weights @ checked)

    agent_ids = pd.Index(agents["agent_id"])
    rank = comment_pagerank(posts, comments, agent_ids).sort_index()
    top = rank.sort_values(ascending=False, kind="stable").index[:CONSENSUS_PAGERANK_TOP]
    mentioned = mentions.dropna(subset=["agent_id"]).groupby("agent_id").size()
    chosen = mentioned.index.union(top)
    count, pr = mentioned.reindex(chosen, fill_value=0), rank.reindex(chosen)
    alignment = (float(spearmanr(count, pr).statistic)
                 if len(chosen) >= 3 and count.nunique() > 1 and pr.nunique() > 1
                 else float("nan"))
    return {
        "socialization.consensus_entropy": _share_interval(float(entropy), boot_entropy, note),
        "socialization.top1_share": _share_interval(float(top1), boot_top1, note),
        "socialization.grounding_rate": _share_interval(
            float(grounding), boot_grounding, f"references checked={int(checked.sum())}"),
        "socialization.structure_alignment": Measured(
            alignment, note=f"agents={len(chosen)} mentioned={len(mentioned)}"),
    }


# Entry point ------------------------------------------------------------------------------------

def measure(batch: CanonicalBatch) -> dict[str, Measured]:
    """The seven §5 socialization rows and the four §3.8 consensus metrics, keyed by metric,
    measured from the batch's tables."""
    with threadpool_limits(limits=1):
        return _measure(batch)


def _measure(batch: CanonicalBatch) -> dict[str, Measured]:
    t = batch.tables
    corpus = post_corpus(t["posts"])
    out = {
        "socialization.pairwise_diversity_slope_day": pairwise_diversity_slope(
            corpus, metric_rng(batch, "pairwise_diversity_slope_day")),
        "socialization.lexical_birth_rate_slope_n2": lexical_birth_rate_slope(
            corpus, metric_rng(batch, "lexical_birth_rate_slope_n2")),
        "socialization.excess_drift_median": excess_drift_median(
            corpus, metric_rng(batch, "excess_drift_median")),
        "socialization.feedback_gap_mean": feedback_gap_mean(
            corpus, t["post_snapshots"], metric_rng(batch, "feedback_gap_mean")),
        "socialization.persistent_supernode_share_k10": persistent_supernode_share(
            t["posts"], t["comments"]),
    }
    out.update(interaction_influence(corpus, t["comments"],
                                     metric_rng(batch, "interaction_influence_effect")))
    out.update(consensus(t["posts"], t["comments"], t["agents"], probe_post_ids(t),
                         metric_rng(batch, "consensus_entropy")))
    return out
