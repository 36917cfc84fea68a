"""BERTopic topics over precomputed embeddings (ANALYTICS_SPEC §1.2).

Components are injected so the same code runs on cuML (GPU profile) or on
umap-learn + hdbscan (CPU default). BERTopic never embeds anything itself: it
gets the vectors from `text_embeddings` and `embedding_model=None`.

Scale path (§1.2): the model is fitted on a seeded, day-stratified sample of the distinct
documents and every other document is assigned with `transform` (UMAP transform, then
HDBSCAN's approximate_predict), so cost grows with the sample, not the corpus.

Vectorizer note: BERTopic fits its CountVectorizer on one concatenated document
per topic, so `min_df=5, max_df=0.5` passed straight through would count
*topics*, dropping every topic-specific term (and crashing with < 10 topics).
The spec's document frequencies are therefore applied over the unique
documents to fix the vocabulary first, and BERTopic gets that fixed vocabulary.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer

__all__ = [
    "TopicResult",
    "cuml_available",
    "resolve_backend",
    "make_reducer",
    "make_clusterer",
    "make_vectorizer",
    "fit_topics",
    "readable_label",
    "input_fingerprint",
    "reduce_outliers",
    "stratified_sample",
    "MIN_UNIQUE_DOCS",
    "FIT_SAMPLE_SIZE",
]

Backend = Literal["auto", "cuml", "cpu"]
ClusterSelection = Literal["leaf", "eom"]

# Below this many distinct documents HDBSCAN (min_cluster_size 10, min_samples 10)
# cannot find more than a couple of unstable clusters: everything stays -1.
MIN_UNIQUE_DOCS = 50
TOP_N_WORDS = 10
UMAP_N_NEIGHBORS = 15
UMAP_N_COMPONENTS = 5
VECTORIZER_MIN_DF = 5
VECTORIZER_MAX_DF = 0.5
# HDBSCAN's cluster selection. The spec proposes "eom"; on real agent posts it selected one
# cluster holding 93% of the 1,710 posts of the observatory sample (60% of a simulated
# society's), a topic model with nothing to say. "leaf" gave 26 topics there, none above 6%,
# at the price of about half the posts as outliers (-1), which the outlier-reduced variant
# assigns. "eom" stays one argument (or one line of run config) away.
CLUSTER_SELECTION: ClusterSelection = "leaf"
# Distinct documents the model is fitted on; the rest are assigned with `transform`. The spec
# allows up to 200,000; 20,000 keeps 100,000 posts within minutes on 2 cores (README, bench).
FIT_SAMPLE_SIZE = 20_000


@dataclass
class TopicResult:
    """One fitted topic model.

    `assignments`: text_id, topic, prob (one row per input text; prob is HDBSCAN's membership strength).
    `info`: topic, size (over ALL copies), label, top_terms (list[str], at most 10).
    `params`: effective parameters, JSON-serialisable, for `topic_models.params_json`.
    `model`: the fitted BERTopic (None when skipped), e.g. to `transform` texts not fitted.
    `reduced_assignments`, `reduced_info`: the outlier-reduced variant of the same fit (each
    outlier moved to its nearest topic by embedding), the spec's variant of topic -1.
    """

    assignments: pd.DataFrame
    info: pd.DataFrame
    params: dict[str, Any]
    model: Any = field(default=None, repr=False)
    reduced_assignments: pd.DataFrame | None = None
    reduced_info: pd.DataFrame | None = None


def cuml_available() -> bool:
    """True when cuML imports (it needs a CUDA runtime, so import failures of any kind mean no)."""
    try:
        import cuml  # noqa: F401
    except Exception:
        return False
    return True


def resolve_backend(backend: Backend = "auto") -> Literal["cuml", "cpu"]:
    """'auto' picks cuML when importable, else the CPU libraries."""
    if backend == "auto":
        return "cuml" if cuml_available() else "cpu"
    if backend not in ("cuml", "cpu"):
        raise ValueError(f"unknown topic backend {backend!r}")
    return backend


def umap_params(seed: int, n_docs: int | None = None) -> dict[str, Any]:
    """UMAP settings of §1.2; n_neighbors shrinks only when there are fewer points than neighbours."""
    n_neighbors = UMAP_N_NEIGHBORS if n_docs is None else max(2, min(UMAP_N_NEIGHBORS, n_docs - 1))
    return {
        "n_neighbors": n_neighbors,
        "n_components": UMAP_N_COMPONENTS,
        "min_dist": 0.0,
        "metric": "cosine",
        "random_state": seed,
    }


def hdbscan_params(n_docs: int, cluster_selection: ClusterSelection = CLUSTER_SELECTION) -> dict[str, Any]:
    """HDBSCAN settings of §1.2: min_cluster_size = max(20, ceil(0.0005 N)), or 10 when N < 2,000;
    the cluster selection as chosen (see CLUSTER_SELECTION)."""
    if cluster_selection not in ("leaf", "eom"):
        raise ValueError(f"cluster_selection must be 'leaf' or 'eom', not {cluster_selection!r}")
    min_cluster_size = 10 if n_docs < 2000 else max(20, math.ceil(0.0005 * n_docs))
    return {
        "min_cluster_size": min_cluster_size,
        "min_samples": 10,
        "cluster_selection_method": cluster_selection,
        "prediction_data": True,
    }


def make_reducer(seed: int, *, n_docs: int | None = None, backend: Backend = "auto") -> Any:
    """Seeded UMAP (cuML or umap-learn)."""
    params = umap_params(seed, n_docs)
    if resolve_backend(backend) == "cuml":
        from cuml.manifold import UMAP as CumlUMAP

        return CumlUMAP(**params)
    from umap import UMAP

    return UMAP(**params)


def make_clusterer(n_docs: int, *, backend: Backend = "auto", cluster_selection: ClusterSelection = CLUSTER_SELECTION) -> Any:
    """HDBSCAN sized for the number of (unique) documents fitted."""
    params = hdbscan_params(n_docs, cluster_selection)
    if resolve_backend(backend) == "cuml":
        from cuml.cluster import HDBSCAN as CumlHDBSCAN

        return CumlHDBSCAN(**params)
    from hdbscan import HDBSCAN

    return HDBSCAN(**params)


def make_vectorizer(docs: Sequence[str]) -> tuple[CountVectorizer, dict[str, Any]]:
    """CountVectorizer with a vocabulary fixed by document frequency over `docs`.

    Falls back to looser settings when the spec's thresholds leave no terms
    (tiny or degenerate corpora); raises ValueError when even that finds none.
    """
    n = len(docs)
    min_df = min(VECTORIZER_MIN_DF, max(1, n // 20))
    attempts: list[dict[str, Any]] = [
        {"stop_words": "english", "min_df": min_df, "max_df": VECTORIZER_MAX_DF},
        {"stop_words": "english", "min_df": 1, "max_df": 1.0},
        {"stop_words": None, "min_df": 1, "max_df": 1.0},
    ]
    for attempt in attempts:
        probe = CountVectorizer(ngram_range=(1, 2), **attempt)
        try:
            probe.fit(docs)
        except ValueError:  # "no terms remain" / "empty vocabulary"
            continue
        vocabulary = sorted(probe.vocabulary_)
        vectorizer = CountVectorizer(
            ngram_range=(1, 2), stop_words=attempt["stop_words"], vocabulary=vocabulary
        )
        params = {
            "ngram_range": [1, 2],
            **attempt,
            "df_counted_over": "unique_documents",
            "vocabulary_size": len(vocabulary),
        }
        return vectorizer, params
    raise ValueError("no vocabulary: documents contain no word tokens")


def readable_label(terms: Sequence[str], n_terms: int = 3) -> str:
    """The first `n_terms` c-TF-IDF terms that add a new word ("memory, context window, agents"):
    a unigram already inside a chosen bigram, or a bigram of chosen words, says nothing new."""
    chosen: list[str] = []
    words: set[str] = set()
    for term in terms:
        term_words = set(term.split())
        if term_words <= words:
            continue
        chosen = [c for c in chosen if not set(c.split()) <= term_words]  # "context" gives way to "context window"
        chosen.append(term)
        words |= term_words
        if len(chosen) == n_terms:
            break
    return ", ".join(chosen)


def _equal_quotas(counts: np.ndarray, size: int) -> np.ndarray:
    """Water-filling: every stratum gets the same number, small strata give all they have."""
    take = np.zeros_like(counts)
    open_ = counts > 0
    left = size
    while left > 0 and open_.any():
        share = max(1, left // int(open_.sum()))
        for g in np.flatnonzero(open_):
            add = min(share, counts[g] - take[g], left)
            take[g] += add
            left -= add
            if take[g] == counts[g]:
                open_[g] = False
            if left == 0:
                break
    return take


def stratified_sample(strata: Sequence[Any], size: int, seed: int, *, balanced: bool = False) -> np.ndarray:
    """Sorted positions of a seeded sample of `size` items drawn within strata.

    Proportional by default (each day keeps its share; largest-remainder rounding, so the sample
    is exactly `size`); `balanced` gives every stratum the same number instead (a joint model over
    societies of very different sizes), small strata contributing everything they have.
    """
    n = len(strata)
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    codes, groups = pd.factorize(pd.Series(list(strata), dtype=object).fillna("∅"), sort=True)
    counts = np.bincount(codes, minlength=len(groups))
    if balanced:
        take = _equal_quotas(counts, size)
    else:
        quota = counts * size / n
        take = np.floor(quota).astype(int)
        order = np.argsort(-(quota - take), kind="stable")
        take[order[: size - take.sum()]] += 1
    chosen = [rng.choice(np.flatnonzero(codes == g), size=k, replace=False) for g, k in enumerate(take) if k]
    return np.sort(np.concatenate(chosen))


def reduce_outliers(topics: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Move every outlier (-1) to the topic whose centroid is nearest in cosine; topics unchanged
    otherwise. (BERTopic's own reduce_outliers refuses when the fitted sample had no outliers,
    even if `transform` produced some.)"""
    topics = np.asarray(topics, dtype=np.int64)
    labels = np.unique(topics[topics >= 0])
    outliers = np.flatnonzero(topics == -1)
    if len(labels) == 0 or len(outliers) == 0:
        return topics.copy()
    centroids = np.vstack([embeddings[topics == label].mean(axis=0) for label in labels])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    reduced = topics.copy()
    reduced[outliers] = labels[np.argmax(embeddings[outliers] @ centroids.T, axis=1)]
    return reduced


def input_fingerprint(text_ids: Sequence[str], content_hashes: Sequence[str], settings: dict[str, Any]) -> str:
    """sha256 over the settings and the sorted (text id, content hash) pairs: equal fingerprints
    mean a refit would see exactly the same documents with exactly the same settings."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for text_id, content_hash in sorted(zip(text_ids, content_hashes)):
        digest.update(f"\n{text_id}\t{content_hash}".encode())
    return digest.hexdigest()


def _frame(text_ids: Sequence[str], topics: np.ndarray, probs: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"text_id": list(text_ids), "topic": topics.astype("int64"), "prob": probs.astype("float64")})


def _info(model: Any, assignments: pd.DataFrame) -> pd.DataFrame:
    """topic, size (every copy), label, top_terms: one row per topic present in `assignments`."""
    sizes = assignments["topic"].value_counts()
    rows = []
    for topic in sorted(sizes.index):
        terms = [w for w, _ in (model.get_topic(int(topic)) or []) if w][:TOP_N_WORDS] if model is not None else []
        label = "outliers" if topic == -1 else (readable_label(terms) or f"topic {topic}")
        rows.append({"topic": int(topic), "size": int(sizes[topic]), "label": label, "top_terms": terms})
    return pd.DataFrame(rows, columns=["topic", "size", "label", "top_terms"])


def _skipped(text_ids: Sequence[str], params: dict[str, Any], reason: str) -> TopicResult:
    """Every text is an outlier (-1) when no model can be fitted."""
    params = {**params, "skipped_reason": reason, "n_topics": 0}
    assignments = _frame(text_ids, np.full(len(text_ids), -1), np.zeros(len(text_ids)))
    info = _info(None, assignments)
    return TopicResult(assignments=assignments, info=info, params=params, model=None,
                       reduced_assignments=assignments.copy(), reduced_info=info.copy())


def fit_topics(
    text_ids: Sequence[str],
    docs: Sequence[str],
    embeddings: np.ndarray,
    content_hashes: Sequence[str],
    *,
    seed: int,
    backend: Backend = "auto",
    min_unique_docs: int = MIN_UNIQUE_DOCS,
    fit_sample_size: int = FIT_SAMPLE_SIZE,
    strata: Sequence[Any] | None = None,
    balanced: bool = False,
    cluster_selection: ClusterSelection = CLUSTER_SELECTION,
    transform_chunk: int = 50_000,
) -> TopicResult:
    """Fit BERTopic on (a sample of) the distinct documents, `transform` the rest, and give every
    copy its item's topic; also return the outlier-reduced variant of the same fit.

    Exact duplicates (same content hash) are collapsed first so that template floods cannot form
    giant topics; topic sizes count every copy. Above `fit_sample_size` distinct documents the fit
    uses a seeded sample stratified by `strata` (one value per text, e.g. its UTC day), in
    proportion, or `balanced` (equal numbers per stratum, e.g. per society in a joint model).
    """
    n = len(text_ids)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if not (len(docs) == len(content_hashes) == n) or embeddings.shape[0] != n or embeddings.ndim != 2:
        raise ValueError("text_ids, docs, content_hashes and embeddings rows must align")
    if strata is not None and len(strata) != n:
        raise ValueError("strata must give one value per text")

    resolved = resolve_backend(backend)
    hashes = pd.Series(list(content_hashes))
    unique_idx = np.flatnonzero(~hashes.duplicated().to_numpy())
    n_unique = len(unique_idx)
    # Positions among the distinct items of the fitted sample (sorted), and their input rows.
    fitted_pos = stratified_sample(
        [strata[i] for i in unique_idx] if strata is not None else [None] * n_unique,
        fit_sample_size, seed, balanced=balanced,
    )
    sample = unique_idx[fitted_pos]
    n_fit = len(sample)

    params: dict[str, Any] = {
        "backend": resolved,
        "seed": seed,
        "n_docs": n,
        "n_unique_docs": n_unique,
        "fit_sample_size": fit_sample_size,
        "n_fitted": n_fit,
        "n_transformed": n_unique - n_fit,
        "sample_strata": None if strata is None else ("balanced" if balanced else "proportional"),
        "embedding_dim": int(embeddings.shape[1]),
        "umap": umap_params(seed, n_fit),
        "hdbscan": hdbscan_params(n_fit, cluster_selection),
        "ctfidf": {"reduce_frequent_words": True},
        "top_n_words": TOP_N_WORDS,
        "min_unique_docs": min_unique_docs,
        "outlier_reduction": {"strategy": "nearest_topic_centroid", "metric": "cosine"},
        "skipped_reason": None,
    }
    if n_unique < min_unique_docs:
        return _skipped(text_ids, params, f"too few distinct documents to cluster ({n_unique} < {min_unique_docs})")
    fit_docs = [docs[i] for i in sample]
    try:
        vectorizer, params["vectorizer"] = make_vectorizer(fit_docs)
    except ValueError as exc:
        return _skipped(text_ids, params, str(exc))

    import bertopic
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    params["bertopic_version"] = bertopic.__version__
    model = BERTopic(
        embedding_model=None,
        umap_model=make_reducer(seed, n_docs=n_fit, backend=resolved),
        hdbscan_model=make_clusterer(n_fit, backend=resolved, cluster_selection=cluster_selection),
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=TOP_N_WORDS,
        calculate_probabilities=False,
        # Not an embedding choice (embeddings are passed): any value but "english" stops
        # BERTopic from deleting every non-ASCII character before c-TF-IDF, which would
        # also break the fixed vocabulary ("agent's" -> "agents", CJK -> nothing).
        language="multilingual",
        verbose=False,
    )
    item_topic = np.full(n_unique, -1, dtype=np.int64)
    item_prob = np.zeros(n_unique, dtype=np.float64)
    rest_pos = np.setdiff1d(np.arange(n_unique), fitted_pos)
    with warnings.catch_warnings():
        # umap-learn: "n_jobs value 1 overridden to 1 by setting random_state" (expected: seeded = serial).
        warnings.filterwarnings("ignore", message=".*n_jobs value.*", category=UserWarning)
        topics, probs = model.fit_transform(fit_docs, embeddings=embeddings[sample])
        item_topic[fitted_pos] = topics
        item_prob[fitted_pos] = np.asarray(probs, dtype=float).reshape(-1)
        for start in range(0, len(rest_pos), transform_chunk):
            chunk = rest_pos[start : start + transform_chunk]
            rows = unique_idx[chunk]
            topics, probs = model.transform([docs[i] for i in rows], embeddings=embeddings[rows])
            item_topic[chunk] = topics
            item_prob[chunk] = np.asarray(probs, dtype=float).reshape(-1)

    reduced_topic = reduce_outliers(item_topic, embeddings[unique_idx])

    # Every copy of an item takes the item's row (items are first occurrences, in input order).
    item_of = pd.Series(np.arange(n_unique), index=hashes.iloc[unique_idx].to_numpy())
    copy_item = item_of.loc[hashes.to_numpy()].to_numpy()
    assignments = _frame(text_ids, item_topic[copy_item], item_prob[copy_item])
    reduced = _frame(text_ids, reduced_topic[copy_item], item_prob[copy_item])
    info = _info(model, assignments)
    reduced_info = _info(model, reduced)
    params["n_topics"] = int((info["topic"] >= 0).sum())
    return TopicResult(assignments=assignments, info=info, params=params, model=model,
                       reduced_assignments=reduced, reduced_info=reduced_info)
