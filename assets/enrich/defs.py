"""Dagster wiring of the enrichment stage: embeddings (cached) and BERTopic topics per society."""

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.enrich.embedding_cache import embed_with_cache, hash_texts
from assets.enrich.topics import fit_topics
from assets.ingest.defs import INGEST_ASSETS
from pipelines.partitions import WAREHOUSE_POOL, society_partitions
from pipelines.resources import EmbedderResource, WarehouseResource
from warehouse.writer import transaction, upsert

TOPIC_SEED = 42  # one fixed seed: a society's topics are reproducible run to run


def topic_model_id(society_id: str, embedding_model_id: str) -> str:
    return f"bertopic:{society_id}:{embedding_model_id}"


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb", "pytorch"},
    deps=INGEST_ASSETS,
)
def text_embeddings(
    context: AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> MaterializeResult:
    """Sentence embeddings of every post and comment of the society (all-MiniLM-L6-v2 by default,
    loaded offline), cached by content hash and model id: a text already embedded anywhere in the
    warehouse, or repeated verbatim by a template flood, is embedded once."""
    society_id = context.partition_key
    model = embedder.get()
    # Read, then compute with the file closed, then write: the writer lock is held only for I/O.
    with warehouse.writer() as conn:
        texts = conn.execute(
            "SELECT text_id, text FROM texts WHERE society_id = ? ORDER BY text_id", [society_id]
        ).df()
        conn.register("_wanted", hash_texts(texts)[["content_hash"]].drop_duplicates())
        cached_rows = conn.execute(
            "SELECT e.content_hash, any_value(e.vector) AS vector FROM text_embeddings e "
            "JOIN _wanted w USING (content_hash) WHERE e.model_id = ? GROUP BY e.content_hash",
            [model.model_id],
        ).fetchall()
        conn.unregister("_wanted")
    batch = embed_with_cache(texts, model, cached=dict(cached_rows))
    with warehouse.writer() as conn, transaction(conn):
        counts = upsert(conn, "text_embeddings", batch.rows.assign(society_id=society_id))
    context.log.info(f"{society_id}: {batch.counts}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(batch.rows)),
            "model_id": MetadataValue.text(model.model_id),
            "dimension": MetadataValue.int(model.dimension),
            "rows_inserted": MetadataValue.int(counts.inserted),
            **{key: MetadataValue.int(value) for key, value in batch.counts.items()},
        }
    )


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb", "bertopic"},
    deps=[text_embeddings],
)
def topic_assignments(
    context: AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> MaterializeResult:
    """BERTopic topics of the society's posts (`topic_models`, `topic_assignments`, `topic_info`),
    over the stored embeddings with UMAP + HDBSCAN (cuML when importable), seeded; exact duplicates
    are fitted once and share their topic. Refitting replaces the society's previous topics."""
    society_id = context.partition_key
    embedding_model_id = embedder.get().model_id
    model_id = topic_model_id(society_id, embedding_model_id)
    with warehouse.writer() as conn:
        posts = conn.execute(
            "SELECT t.text_id, t.text, e.content_hash, e.vector FROM texts t "
            "JOIN text_embeddings e ON e.society_id = t.society_id AND e.text_id = t.text_id "
            "WHERE t.society_id = ? AND t.kind = 'post' AND e.model_id = ? ORDER BY t.text_id",
            [society_id, embedding_model_id],
        ).df()
    embeddings = (
        np.vstack(posts["vector"].to_list()).astype(np.float32)
        if len(posts)
        else np.zeros((0, 0), dtype=np.float32)
    )
    result = fit_topics(
        posts["text_id"].tolist(),
        posts["text"].tolist(),
        embeddings,
        posts["content_hash"].tolist(),
        seed=TOPIC_SEED,
    )
    params = {**result.params, "embedding_model_id": embedding_model_id, "unit": "post"}
    with warehouse.writer() as conn, transaction(conn):
        conn.execute(
            "DELETE FROM topic_info WHERE model_id IN "
            "(SELECT model_id FROM topic_models WHERE society_id = ?)",
            [society_id],
        )
        conn.execute("DELETE FROM topic_assignments WHERE society_id = ?", [society_id])
        upsert(
            conn,
            "topic_models",
            pd.DataFrame(
                [
                    {
                        "model_id": model_id,
                        "society_id": society_id,
                        "params_json": json.dumps(params, sort_keys=True, default=str),
                        "created_at": datetime.now(timezone.utc),
                    }
                ]
            ),
        )
        upsert(
            conn,
            "topic_assignments",
            result.assignments.assign(society_id=society_id, model_id=model_id),
        )
        upsert(conn, "topic_info", result.info.assign(model_id=model_id))
    n_topics = int((result.info["topic"] >= 0).sum()) if len(result.info) else 0
    outlier_share = float((result.assignments["topic"] == -1).mean()) if len(result.assignments) else None
    preview = result.info.sort_values("size", ascending=False).head(10)[["topic", "size", "label"]]
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(result.assignments)),
            "topic_model_id": MetadataValue.text(model_id),
            "n_topics": MetadataValue.int(n_topics),
            "outlier_share": MetadataValue.float(outlier_share) if outlier_share is not None else MetadataValue.text("n/a"),
            "params": MetadataValue.json(params),
            "largest_topics": MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "none"),
        }
    )


ENRICH_ASSETS = [text_embeddings, topic_assignments]
