"""Embedding cache keyed by (content_hash, model_id), as pure functions.

Template floods repeat one text thousands of times, and reruns see mostly
unchanged texts: each distinct text is embedded once per model, ever. The
Dagster asset reads the vectors already stored for `embedder.model_id` and
passes them in as `cached`; this module decides what is new and builds the
`text_embeddings` rows for every text. `store_embeddings` runs it against the
warehouse in chunks, skipping texts whose row is already stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from assets.enrich.embedders import Embedder, content_hash
from warehouse.writer import registered, transaction, upsert

__all__ = [
    "EmbeddingBatch",
    "hash_texts",
    "hashes_to_embed",
    "embed_with_cache",
    "vectors_by_hash",
    "store_embeddings",
    "stored_vectors",
]

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


# --- The warehouse side: which rows are missing, where cached vectors come from, chunked writes.

EMBED_CHUNK_ROWS = 10_000  # texts embedded and written per transaction: bounds memory, keeps progress


def vectors_by_hash(conn: duckdb.DuckDBPyConnection, hashes: Collection[str], model_id: str) -> dict[str, np.ndarray]:
    """Vectors already stored for `model_id` (in any society), read through Arrow into one matrix."""
    if not hashes:
        return {}
    table = _query_with_table(
        conn,
        "_wanted_hashes",
        pa.table({"content_hash": pa.array(list(hashes), pa.string())}),
        "SELECT e.content_hash, any_value(e.vector) AS vector FROM text_embeddings e "
        "JOIN _wanted_hashes w USING (content_hash) WHERE e.model_id = ? GROUP BY e.content_hash",
        [model_id],
    )
    return dict(zip(table.column("content_hash").to_pylist(), _matrix(table)))


def _query_with_table(
    conn: duckdb.DuckDBPyConnection, name: str, rows: pa.Table, sql: str, params: list[object]
) -> pa.Table:
    """Run `sql` with `rows` registered as view `name`, read whole: the Arrow result streams
    lazily, so it must be read while the registered view still exists."""
    with registered(conn, name, rows):
        result = conn.execute(sql, params).arrow()
        return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def _matrix(table: pa.Table) -> np.ndarray:
    """The `vector` list column as one (rows, dimension) float32 matrix, without Python floats."""
    if table.num_rows == 0:
        return np.zeros((0, 0), dtype=np.float32)
    values = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return values.astype(np.float32).reshape(table.num_rows, -1)


def store_embeddings(
    writer: Callable[[], ContextManager[duckdb.DuckDBPyConnection]],
    society_id: str,
    embedder: Embedder,
    *,
    chunk_rows: int = EMBED_CHUNK_ROWS,
) -> dict[str, int]:
    """Embed the society's texts (posts, comments, agent and community descriptions: the
    `embedded_texts` view) that lack a row for `embedder.model_id`, `chunk_rows` at a time.

    Each chunk is read, embedded with the file closed, and written in its own transaction, so
    memory stays bounded and a killed run keeps the chunks it finished. `writer()` opens the
    warehouse for writing (one writer at a time).
    """
    with writer() as conn:
        # DuckDB's sha256 of the UTF-8 text equals content_hash(), so the comparison with what is
        # stored runs in SQL: a rerun over unchanged texts brings back no row at all.
        n_texts = conn.execute("SELECT count(*) FROM embedded_texts WHERE society_id = ?", [society_id]).fetchone()[0]
        texts = conn.execute(
            "SELECT t.text_id, t.text FROM embedded_texts t LEFT JOIN text_embeddings e "
            "ON e.society_id = t.society_id AND e.text_id = t.text_id AND e.model_id = ? "
            "AND e.content_hash = sha256(t.text) "
            "WHERE t.society_id = ? AND e.text_id IS NULL ORDER BY t.text_id",
            [embedder.model_id, society_id],
        ).df()
    missing = hash_texts(texts)
    totals = {"n_texts": int(n_texts), "n_already_stored": int(n_texts) - len(missing), "n_written": 0,
              "n_embedded": 0, "n_cached": 0}
    for start in range(0, len(missing), chunk_rows):
        chunk = missing.iloc[start : start + chunk_rows]
        with writer() as conn:
            cached = vectors_by_hash(conn, set(chunk["content_hash"]), embedder.model_id)
        batch = embed_with_cache(chunk[["text_id", "text"]], embedder, cached=cached)
        with writer() as conn, transaction(conn):
            upsert(conn, "text_embeddings", batch.rows.assign(society_id=society_id))
        totals["n_written"] += len(batch.rows)
        totals["n_embedded"] += batch.counts["n_embedded"]
        totals["n_cached"] += batch.counts["n_cached"]
    return totals


def stored_vectors(
    conn: duckdb.DuckDBPyConnection, society_ids: Sequence[str], model_id: str, kind: str | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The texts of `society_ids` that have a vector for `model_id` (optionally one `kind`) and
    those vectors as one float32 matrix, row-aligned: society_id, text_id, kind, text,
    content_hash, day (UTC date of created_at)."""
    table = _query_with_table(
        conn,
        "_societies",
        pa.table({"society_id": pa.array(list(society_ids), pa.string())}),
        "SELECT t.society_id, t.text_id, t.kind, t.text, e.content_hash, "
        "CAST(date_trunc('day', t.created_at AT TIME ZONE 'UTC') AS DATE) AS day, e.vector "
        "FROM texts t JOIN _societies s USING (society_id) "
        "JOIN text_embeddings e ON e.society_id = t.society_id AND e.text_id = t.text_id "
        "WHERE e.model_id = ? AND (? IS NULL OR t.kind = ?) ORDER BY t.society_id, t.text_id",
        [model_id, kind, kind],
    )
    return table.drop_columns(["vector"]).to_pandas(), _matrix(table)
