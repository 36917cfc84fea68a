"""Embedding rows in the warehouse: chunked writes, reruns that do nothing, edits re-embedded."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from assets.enrich.embedders import MiniLMEmbedder, content_hash
from assets.enrich.embedding_cache import store_embeddings, vectors_by_hash
from warehouse.writer import open_writer, transaction, upsert


class CountingEmbedder:
    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner, self.model_id, self.dimension = inner, inner.model_id, inner.dimension
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self.inner.embed(texts)


def add_posts(path: Path, society_id: str, posts: dict[str, str]) -> None:
    with open_writer(path) as conn, transaction(conn):
        upsert(conn, "societies", pd.DataFrame([{"society_id": society_id, "kind": "dump"}]))
        upsert(
            conn,
            "posts",
            pd.DataFrame(
                {"society_id": society_id, "post_id": list(posts), "title": list(posts.values()), "content": "body"}
            ),
        )


def writer_for(path: Path) -> Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]:
    return lambda: open_writer(path)


def test_second_run_over_unchanged_texts_embeds_and_writes_nothing(
    warehouse_path: Path, minilm: MiniLMEmbedder
) -> None:
    add_posts(warehouse_path, "s1", {f"p{i}": f"agent note number {i}" for i in range(7)} | {"z": "agent note number 0"})
    counter = CountingEmbedder(minilm)
    first = store_embeddings(writer_for(warehouse_path), "s1", counter, chunk_rows=3)
    assert first == {"n_texts": 8, "n_already_stored": 0, "n_written": 8, "n_embedded": 7, "n_cached": 1}
    assert len(counter.embedded) == 7  # the duplicate in the third chunk came from the first chunk's rows

    second = store_embeddings(writer_for(warehouse_path), "s1", counter, chunk_rows=3)
    assert second == {"n_texts": 8, "n_already_stored": 8, "n_written": 0, "n_embedded": 0, "n_cached": 0}
    assert len(counter.embedded) == 7
    with open_writer(warehouse_path) as conn:
        assert conn.execute("SELECT count(*) FROM text_embeddings").fetchone()[0] == 8


def test_edited_text_is_reembedded_and_other_societies_reuse_vectors(
    warehouse_path: Path, minilm: MiniLMEmbedder
) -> None:
    add_posts(warehouse_path, "s1", {"a": "first text", "b": "second text"})
    store_embeddings(writer_for(warehouse_path), "s1", minilm)
    add_posts(warehouse_path, "s1", {"b": "second text, edited"})
    add_posts(warehouse_path, "s2", {"x": "first text"})

    counter = CountingEmbedder(minilm)
    edited = store_embeddings(writer_for(warehouse_path), "s1", counter)
    reused = store_embeddings(writer_for(warehouse_path), "s2", counter)
    assert counter.embedded == ["second text, edited\n\nbody"]
    assert edited["n_written"] == 1 and reused == {
        "n_texts": 1, "n_already_stored": 0, "n_written": 1, "n_embedded": 0, "n_cached": 1}
    with open_writer(warehouse_path) as conn:
        rows = conn.execute(
            "SELECT society_id, text_id, content_hash FROM text_embeddings ORDER BY society_id, text_id"
        ).fetchall()
        cached = vectors_by_hash(conn, {content_hash("first text\n\nbody"), "unknown"}, minilm.model_id)
    assert rows == [
        ("s1", "post:a", content_hash("first text\n\nbody")),
        ("s1", "post:b", content_hash("second text, edited\n\nbody")),
        ("s2", "post:x", content_hash("first text\n\nbody")),
    ]
    assert list(cached) == [content_hash("first text\n\nbody")]
    np.testing.assert_allclose(cached[content_hash("first text\n\nbody")], minilm.embed(["first text\n\nbody"])[0], atol=1e-6)


def test_stored_hash_comparison_holds_for_any_unicode(warehouse_path: Path, minilm: MiniLMEmbedder) -> None:
    """The rerun check hashes in SQL; it must agree with content_hash() on every script and emoji."""
    add_posts(warehouse_path, "s1", {"u": "héllo 中文 🦞 \u200b", "v": "Ünïcödé \U0001f600 مرحبا"})
    first = store_embeddings(writer_for(warehouse_path), "s1", minilm)
    second = store_embeddings(writer_for(warehouse_path), "s1", minilm)
    assert (first["n_written"], second["n_written"], second["n_already_stored"]) == (2, 0, 2)
