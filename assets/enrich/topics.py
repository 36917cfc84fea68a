"""BERTopic topics over precomputed embeddings (ANALYTICS_SPEC §1.2).

Components are injected so the same code runs on cuML (GPU profile) or on
umap-learn + hdbscan (CPU default). BERTopic never embeds anything itself: it
gets the vectors from `text_embeddings` and `embedding_model=None`.

Vectorizer note: BERTopic fits its CountVectorizer on one concatenated document
per topic, so `min_df=5, max_df=0.5` passed straight through would count
*topics*, dropping every topic-specific term (and crashing with < 10 topics).
The spec's document frequencies are therefore applied over the unique
documents to fix the vocabulary first, and BERTopic gets that fixed vocabulary.
"""

from __future__ import annotations

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
    "MIN_UNIQUE_DOCS",
]

Backend = Literal["auto", "cuml", "cpu"]

# Below this many distinct documents HDBSCAN (min_cluster_size 10, min_samples 10)
# cannot find more than a couple of unstable clusters: everything stays -1.
MIN_UNIQUE_DOCS = 50
TOP_N_WORDS = 10
UMAP_N_NEIGHBORS = 15
UMAP_N_COMPONENTS = 5
VECTORIZER_MIN_DF = 5
VECTORIZER_MAX_DF = 0.5


@dataclass
class TopicResult:
    """One fitted topic model.

    `assignments`: text_id, topic, prob (one row per input text; prob is HDBSCAN's membership strength).
    `info`: topic, size (over ALL copies), label, top_terms (list[str], at most 10).
    `params`: effective parameters, JSON-serialisable, for `topic_models.params_json`.
    `model`: the fitted BERTopic (None when skipped), e.g. to `transform` texts not fitted.
    """

    assignments: pd.DataFrame
    info: pd.DataFrame
    params: dict[str, Any]
    model: Any = field(default=None, repr=False)


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


def hdbscan_params(n_docs: int) -> dict[str, Any]:
    """HDBSCAN settings of §1.2: min_cluster_size = max(20, ceil(0.0005 N)), or 10 when N < 2,000."""
    min_cluster_size = 10 if n_docs < 2000 else max(20, math.ceil(0.0005 * n_docs))
    return {
        "min_cluster_size": min_cluster_size,
        "min_samples": 10,
        "cluster_selection_method": "eom",
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


def make_clusterer(n_docs: int, *, backend: Backend = "auto") -> Any:
    """HDBSCAN sized for the number of (unique) documents fitted."""
    params = hdbscan_params(n_docs)
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


def _skipped(text_ids: Sequence[str], params: dict[str, Any], reason: str) -> TopicResult:
    """Every text is an outlier (-1) when no model can be fitted."""
    params = {**params, "skipped_reason": reason, "n_topics": 0}
    assignments = pd.DataFrame({"text_id": list(text_ids), "topic": -1, "prob": 0.0})
    assignments = assignments.astype({"text_id": str, "topic": "int64", "prob": "float64"})
    info_rows = [{"topic": -1, "size": len(text_ids), "label": "-1", "top_terms": []}] if len(text_ids) else []
    info = pd.DataFrame(info_rows, columns=["topic", "size", "label", "top_terms"])
    return TopicResult(assignments=assignments, info=info, params=params, model=None)


def fit_topics(
    text_ids: Sequence[str],
    docs: Sequence[str],
    embeddings: np.ndarray,
    content_hashes: Sequence[str],
    *,
    seed: int,
    backend: Backend = "auto",
    min_unique_docs: int = MIN_UNIQUE_DOCS,
) -> TopicResult:
    """Fit BERTopic on the distinct documents and give every copy its item's topic.

    Exact duplicates (same content hash) are collapsed before fitting so that
    template floods cannot form giant topics; topic sizes in `info` count every copy.
    """
    n = len(text_ids)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if not (len(docs) == len(content_hashes) == n) or embeddings.shape[0] != n or embeddings.ndim != 2:
        raise ValueError("text_ids, docs, content_hashes and embeddings rows must align")

    resolved = resolve_backend(backend)
    frame = pd.DataFrame({"text_id": list(text_ids), "content_hash": list(content_hashes)})
    first = ~frame["content_hash"].duplicated()
    unique_idx = np.flatnonzero(first.to_numpy())
    unique_docs = [docs[i] for i in unique_idx]
    n_unique = len(unique_idx)

    params: dict[str, Any] = {
        "backend": resolved,
        "seed": seed,
        "n_docs": n,
        "n_unique_docs": n_unique,
        "embedding_dim": int(embeddings.shape[1]),
        "umap": umap_params(seed, n_unique),
        "hdbscan": hdbscan_params(n_unique),
        "ctfidf": {"reduce_frequent_words": True},
        "top_n_words": TOP_N_WORDS,
        "min_unique_docs": min_unique_docs,
        "skipped_reason": None,
    }
    if n_unique < min_unique_docs:
        return _skipped(text_ids, params, f"too few distinct documents to cluster ({n_unique} < {min_unique_docs})")
    try:
        vectorizer, params["vectorizer"] = make_vectorizer(unique_docs)
    except ValueError as exc:
        return _skipped(text_ids, params, str(exc))

    import bertopic
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    params["bertopic_version"] = bertopic.__version__
    model = BERTopic(
        embedding_model=None,
        umap_model=make_reducer(seed, n_docs=n_unique, backend=resolved),
        hdbscan_model=make_clusterer(n_unique, backend=resolved),
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
    with warnings.catch_warnings():
        # umap-learn: "n_jobs value 1 overridden to 1 by setting random_state" (expected: seeded = serial).
        warnings.filterwarnings("ignore", message=".*n_jobs value.*", category=UserWarning)
        topics, probs = model.fit_transform(unique_docs, embeddings=embeddings[unique_idx])

    item_topic = dict(zip(frame["content_hash"].iloc[unique_idx], (int(t) for t in topics)))
    item_prob = dict(
        zip(frame["content_hash"].iloc[unique_idx], (float(p) for p in np.asarray(probs, dtype=float).reshape(-1)))
    ) if probs is not None else {}
    assignments = pd.DataFrame(
        {
            "text_id": frame["text_id"],
            "topic": frame["content_hash"].map(item_topic).astype("int64"),
            "prob": frame["content_hash"].map(item_prob).astype("float64") if item_prob else np.nan,
        }
    )

    sizes = assignments["topic"].value_counts()
    rows = []
    for topic in sorted(sizes.index):
        terms = [w for w, _ in (model.get_topic(int(topic)) or []) if w][:TOP_N_WORDS]
        label = f"{topic}_" + "_".join(terms[:4]) if terms else str(topic)
        rows.append({"topic": int(topic), "size": int(sizes[topic]), "label": label, "top_terms": terms})
    info = pd.DataFrame(rows, columns=["topic", "size", "label", "top_terms"])
    params["n_topics"] = int((info["topic"] >= 0).sum())
    return TopicResult(assignments=assignments, info=info, params=params, model=model)
