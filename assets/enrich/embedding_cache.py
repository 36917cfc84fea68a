"""Embedding cache keyed by (content_hash, model_id), as pure functions.

Template floods repeat one text thousands of times, and reruns see mostly
unchanged texts: each distinct text is embedded once per model, ever. The
Dagster asset reads the vectors already stored for `embedder.model_id` and
passes them in as `cached`; this module decides what is new and builds the
`text_embeddings` rows for every text.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.enrich.embedders import Embedder, content_hash

__all__ = ["EmbeddingBatch", "hash_texts", "hashes_to_embed", "embed_with_cache"]

ROW_COLUMNS = ["text_id", "model_id", "content_hash", "vector"]


@dataclass(frozen=True)
class EmbeddingBatch:
    """Rows for `text_embeddings` plus what the cache did.

    `rows`: one row per input text (input order), vector as list[float].
    `vectors`: the same vectors as one (n_texts, d) float32 matrix, row-aligned with `rows`.
    `new_vectors`: content_hash -> vector for the hashes embedded in this call.
    `counts`: n_texts, n_unique (distinct hashes), n_embedded (distinct hashes
    embedded now), n_cached (distinct hashes served from `cached`).
    """

    rows: pd.DataFrame
    vectors: np.ndarray
    new_vectors: dict[str, np.ndarray]
    counts: dict[str, int] = field(default_factory=dict)


def hash_texts(texts: pd.DataFrame) -> pd.DataFrame:
    """Return text_id, text, content_hash; a NULL text counts as the empty string."""
    missing = {"text_id", "text"} - set(texts.columns)
    if missing:
        raise ValueError(f"texts lacks columns {sorted(missing)}")
    if texts["text_id"].duplicated().any():
        raise ValueError("texts has duplicate text_id values")
    out = pd.DataFrame({"text_id": texts["text_id"].astype(str), "text": texts["text"].fillna("").astype(str)})
    out["content_hash"] = [content_hash(t) for t in out["text"]]
    return out.reset_index(drop=True)


def hashes_to_embed(hashed: pd.DataFrame, known_hashes: Collection[str]) -> list[str]:
    """Distinct content hashes not yet stored for this model, in order of first appearance."""
    unique = hashed["content_hash"].drop_duplicates()
    return [h for h in unique if h not in known_hashes]


def embed_with_cache(
    texts: pd.DataFrame,
    embedder: Embedder,
    cached: Mapping[str, Sequence[float] | np.ndarray] | None = None,
) -> EmbeddingBatch:
    """Embed each distinct uncached text once and return rows for all texts.

    `cached` maps content_hash -> vector already stored for `embedder.model_id`
    (only the hashes present in `texts` are needed).
    """
    cached = cached or {}
    hashed = hash_texts(texts)
    todo = hashes_to_embed(hashed, cached.keys())

    new_vectors: dict[str, np.ndarray] = {}
    if todo:
        first_text = hashed.drop_duplicates("content_hash").set_index("content_hash")["text"]
        fresh = embedder.embed(first_text.loc[todo].tolist())
        if fresh.shape != (len(todo), embedder.dimension):
            raise ValueError(f"embedder returned shape {fresh.shape}, expected {(len(todo), embedder.dimension)}")
        new_vectors = dict(zip(todo, fresh))

    n_unique = int(hashed["content_hash"].nunique())
    vectors = np.empty((len(hashed), embedder.dimension), dtype=np.float32)
    for i, h in enumerate(hashed["content_hash"]):
        vec = new_vectors.get(h)
        vectors[i] = vec if vec is not None else np.asarray(cached[h], dtype=np.float32)

    rows = pd.DataFrame(
        {
            "text_id": hashed["text_id"],
            "model_id": embedder.model_id,
            "content_hash": hashed["content_hash"],
            "vector": list(vectors.tolist()),
        },
        columns=ROW_COLUMNS,
    )
    counts = {
        "n_texts": len(hashed),
        "n_unique": n_unique,
        "n_embedded": len(todo),
        "n_cached": n_unique - len(todo),
    }
    return EmbeddingBatch(rows=rows, vectors=vectors, new_vectors=new_vectors, counts=counts)
