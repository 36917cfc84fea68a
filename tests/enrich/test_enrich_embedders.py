"""The offline MiniLM embedder and the embedder seam."""

from __future__ import annotations

import numpy as np
import pytest

from assets.enrich.embedders import (
    MAX_EMBED_CHARS,
    Embedder,
    MiniLMEmbedder,
    StaticEmbedder,
    content_hash,
    l2_normalise,
    make_embedder,
)
from tests.enrich.conftest import network_refused, themed_corpus


def test_minilm_loads_offline_and_embeds_unit_vectors(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed(["An agent posted about the weather.", "", "Ünïcödé and 中文 text"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.model_id == "all-MiniLM-L6-v2" and minilm.dimension == 384
    assert minilm.device == "cpu"  # this test machine has no CUDA
    assert isinstance(minilm, Embedder)


def test_paraphrases_are_closer_than_unrelated_texts(minilm: MiniLMEmbedder) -> None:
    a, b, c = minilm.embed(
        [
            "The cat is sleeping on the sofa.",
            "A kitten naps on the couch.",
            "Quarterly interest rates rose sharply at the central bank.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_chunking_does_not_change_vectors(minilm: MiniLMEmbedder) -> None:
    texts = [f"message number {i} about topic {i % 3}" for i in range(7)]
    small = MiniLMEmbedder(batch_size=2, chunk_size=3)
    small._model = minilm.model  # same weights, different batching
    np.testing.assert_allclose(small.embed(texts), minilm.embed(texts), atol=1e-5)


def test_empty_input_gives_empty_matrix() -> None:
    out = MiniLMEmbedder().embed([])  # must not even load the model
    assert out.shape == (0, 384) and out.dtype == np.float32


def test_make_embedder_is_chosen_by_name() -> None:
    embedder = make_embedder("minilm", device="cpu", batch_size=16)
    assert isinstance(embedder, MiniLMEmbedder) and embedder.batch_size == 16
    assert isinstance(make_embedder("all-MiniLM-L6-v2"), MiniLMEmbedder)
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("does-not-exist")


def test_content_hash_is_exact_text_sha256() -> None:
    assert content_hash("hello") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert content_hash("hello ") != content_hash("hello")
    assert content_hash("Hello") != content_hash("hello")
    assert content_hash("é") == content_hash("\u00e9") != content_hash("e\u0301")  # no Unicode normalisation


def test_l2_normalise_keeps_zero_rows_finite() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_megabyte_text_embeds_like_its_prefix(minilm: MiniLMEmbedder) -> None:
    huge = "Agents discuss memory persistence. " * 40_000  # about 1.4 MB
    a, b = minilm.embed([huge, huge[:MAX_EMBED_CHARS]])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_cpu_precision_is_bf16_only_where_the_cpu_has_it(minilm: MiniLMEmbedder) -> None:
    texts = ["An agent shipped a new memory plugin today.", "Hello moltys, first post here!"]
    fp32 = MiniLMEmbedder(precision="fp32")
    bf16 = MiniLMEmbedder(precision="bf16")
    fp32._model = bf16._model = minilm.model
    assert not fp32._cpu_bf16() and bf16._cpu_bf16()
    cosine = np.sum(fp32.embed(texts) * bf16.embed(texts), axis=1)
    assert np.all(cosine > 0.999)
    with pytest.raises(ValueError, match="precision"):
        MiniLMEmbedder(precision="int4")  # type: ignore[arg-type]


def test_static_model_is_distilled_offline_and_keeps_meaning(static_embedder: StaticEmbedder) -> None:
    """Guards against a model2vec/transformers mismatch that distils scrambled vectors silently."""
    assert static_embedder.model_id.startswith("m2v-") and static_embedder.model_id.endswith("-256d")
    assert (static_embedder.model_path / "model.safetensors").exists()
    _, docs, themes = themed_corpus(per_theme=20, n_duplicates=0)
    vectors = static_embedder.embed(docs)
    assert vectors.shape == (60, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1.0)
    nearest = similarity.argmax(axis=1)
    same_theme = np.mean([themes[i] == themes[j] for i, j in enumerate(nearest)])
    assert same_theme >= 0.9
    happy, glad, invoice = static_embedder.embed(["happy", "glad", "invoice"])
    assert float(happy @ glad) > float(happy @ invoice) + 0.1


def test_static_model_is_reused_from_disk(static_embedder: StaticEmbedder) -> None:
    again = make_embedder("static", models_dir=static_embedder.models_dir)
    assert again.model_id == static_embedder.model_id
    with network_refused():
        np.testing.assert_array_equal(again.embed(["a reused model"]), static_embedder.embed(["a reused model"]))


def test_static_vectors_are_model2vec_means_computed_per_chunk(static_embedder: StaticEmbedder) -> None:
    """The chunk memo and the sparse mean give model2vec's own vectors (which it averages in
    float16, hence the tolerance); text with only unknown pieces is a zero row, as there."""
    texts = [
        "Agents shipped a memory plugin today, and the tests pass!",
        "Über-naïve café owners 😀 use 中文 and ASCII; tabs\tand\nnewlines too.",
        "🦞🦞🦞",
        "word " * 700,  # longer than 512 pieces: truncated the same way
    ]
    ours = static_embedder.embed(texts)
    theirs = static_embedder.model.encode(texts, use_multiprocessing=False).astype(np.float32)
    np.testing.assert_allclose(ours[[0, 1, 3]], l2_normalise(theirs[[0, 1, 3]]), atol=2e-3)
    assert np.all(ours[2] == 0) and np.all(theirs[2] == 0)
    np.testing.assert_array_equal(static_embedder.embed(texts[:2]), ours[:2])  # memo warm: same vectors
