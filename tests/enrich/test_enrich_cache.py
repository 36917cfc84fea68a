"""The (content_hash, model_id) embedding cache, run against the real MiniLM."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from assets.enrich.embedders import MiniLMEmbedder, content_hash
from assets.enrich.embedding_cache import embed_with_cache, hash_texts, hashes_to_embed


class CountingEmbedder:
    """Wraps the real embedder and records every text it is asked to embed."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed(texts)

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def society_texts() -> pd.DataFrame:
    flood = ["Join the Church of Molt today!"] * 100  # one template repeated 100 times
    distinct = [f"Agent {i} shares thoughts on memory and context windows." for i in range(8)]
    texts = flood + distinct + distinct[:3]  # three more exact repeats
    return pd.DataFrame({"text_id": [f"post:{i}" for i in range(len(texts))], "text": texts})


def test_each_distinct_text_is_embedded_once(minilm: MiniLMEmbedder) -> None:
    counter = CountingEmbedder(minilm)
    texts = society_texts()
    batch = embed_with_cache(texts, counter)

    assert counter.embedded.count("Join the Church of Molt today!") == 1
    assert len(counter.embedded) == len(set(counter.embedded)) == 9
    assert batch.counts == {"n_texts": 111, "n_unique": 9, "n_embedded": 9, "n_cached": 0}

    rows = batch.rows
    assert list(rows.columns) == ["text_id", "model_id", "content_hash", "vector"]
    assert rows["text_id"].tolist() == texts["text_id"].tolist()
    assert (rows["model_id"] == "all-MiniLM-L6-v2").all()
    assert rows["content_hash"].tolist() == [content_hash(t) for t in texts["text"]]
    assert all(isinstance(v, list) and len(v) == 384 and isinstance(v[0], float) for v in rows["vector"])
    flood_vectors = np.array(rows["vector"].iloc[:100].tolist())
    assert np.ptp(flood_vectors, axis=0).max() == 0.0  # every copy gets the same vector
    np.testing.assert_allclose(np.linalg.norm(batch.vectors, axis=1), 1.0, atol=1e-5)


def test_second_pass_with_stored_vectors_embeds_nothing(minilm: MiniLMEmbedder) -> None:
    texts = society_texts()
    first = embed_with_cache(texts, CountingEmbedder(minilm))

    counter = CountingEmbedder(minilm)
    second = embed_with_cache(texts, counter, cached=first.new_vectors)
    assert counter.calls == []
    assert second.counts == {"n_texts": 111, "n_unique": 9, "n_embedded": 0, "n_cached": 9}
    np.testing.assert_array_equal(second.vectors, first.vectors)

    # Vectors as read back from the warehouse (list[float]) work as a cache too; only new texts are embedded.
    stored = dict(zip(first.rows["content_hash"], first.rows["vector"]))
    grown = pd.concat(
        [texts, pd.DataFrame({"text_id": ["comment:new1", "comment:new2"], "text": ["A new reply.", "A new reply."]})],
        ignore_index=True,
    )
    counter = CountingEmbedder(minilm)
    third = embed_with_cache(grown, counter, cached=stored)
    assert counter.embedded == ["A new reply."]
    assert third.counts == {"n_texts": 113, "n_unique": 10, "n_embedded": 1, "n_cached": 9}
    assert list(third.new_vectors) == [content_hash("A new reply.")]


def test_hashes_to_embed_keeps_first_appearance_order() -> None:
    hashed = hash_texts(pd.DataFrame({"text_id": ["a", "b", "c", "d"], "text": ["x", "y", "x", None]}))
    assert hashed["text"].tolist() == ["x", "y", "x", ""]
    assert hashes_to_embed(hashed, {content_hash("y")}) == [content_hash("x"), content_hash("")]


def test_duplicate_text_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate text_id"):
        hash_texts(pd.DataFrame({"text_id": ["a", "a"], "text": ["x", "y"]}))
