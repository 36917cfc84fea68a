"""Embedding vectors as the metric families use them (ANALYTICS_SPEC.md §0.5).

Vectors are read from `text_embeddings` for one model and L2-normalized, so a cosine is a dot
product and a centroid is the normalized mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; a zero row stays zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def centroid(x: np.ndarray) -> np.ndarray:
    """normalize(mean(X)) of the rows of X, the mean taken in float64; a zero mean stays zero."""
    mean = np.asarray(x).mean(axis=0, dtype=np.float64)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else mean


def vector_lookup(embeddings: pd.DataFrame | None) -> tuple[dict[str, int], np.ndarray]:
    """text_id → row of a unit-norm matrix, from `text_embeddings` rows (text_id, vector) of one model."""
    if embeddings is None or embeddings.empty:
        return {}, np.zeros((0, 0), dtype=np.float32)
    matrix = unit_rows(np.vstack([np.asarray(v, dtype=np.float32) for v in embeddings["vector"]]))
    return {str(t): i for i, t in enumerate(embeddings["text_id"])}, matrix


def vectors_for(text_ids: Sequence[str], embeddings: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, found): one unit row per requested id (zeros where missing) and which were found."""
    index, matrix = vector_lookup(embeddings)
    rows = np.array([index.get(str(t), -1) for t in text_ids], dtype=np.int64)
    found = rows >= 0
    dim = matrix.shape[1] if matrix.size else 0
    out = np.zeros((len(rows), dim), dtype=np.float32)
    if found.any():
        out[found] = matrix[rows[found]]
    return out, found
