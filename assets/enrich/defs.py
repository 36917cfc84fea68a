"""Dagster wiring of the enrichment stage: embeddings (cached), BERTopic topics per society and
across societies, content categories, toxicity, emotion, and the optional LLM judge."""

import json
from datetime import datetime, timezone
from typing import Any

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset

from assets.enrich.categories import CATEGORY_NAMES, label_categories
from assets.enrich.embedding_cache import store_embeddings, stored_vectors
from assets.enrich.emotion import EMOTION_METHOD, label_emotions
from assets.enrich.language import LANGUAGE_METHOD, detect_languages
from assets.enrich.llm_judge import judge_method, judge_settings_from_env, judge_texts
from assets.enrich.topics import CLUSTER_SELECTION, FIT_SAMPLE_SIZE, TopicResult, fit_topics, input_fingerprint
from assets.enrich.toxicity import LEVEL_NAMES, score_toxicity
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
    loaded offline; or the locally distilled static model), cached by content hash and model id: a
    text already embedded anywhere in the warehouse, or repeated verbatim by a template flood, is
    embedded once, and a rerun over unchanged texts embeds and writes nothing. Written in chunks of
    10,000 texts, each its own transaction."""
    society_id = context.partition_key
    model = embedder.get()
    counts = store_embeddings(warehouse.writer, society_id, model)
    context.log.info(f"{society_id}: {counts}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(counts["n_texts"]),
            "model_id": MetadataValue.text(model.model_id),
            "dimension": MetadataValue.int(model.dimension),
            **{key: MetadataValue.int(value) for key, value in counts.items()},
        }
    )


class TopicConfig(Config):
    """Run config of the topic assets: HDBSCAN's cluster selection ("leaf", or the spec's "eom")
    and how many distinct posts the model is fitted on before `transform` assigns the rest."""

    cluster_selection: str = CLUSTER_SELECTION
    fit_sample_size: int = FIT_SAMPLE_SIZE


def _write_topic_models(
    conn: duckdb.DuckDBPyConnection,
    model_id: str,
    society_ids: list[str],
    scope: str,
    params: dict[str, Any],
    result: TopicResult,
    rows_of: pd.DataFrame,
) -> None:
    """Replace the rows of a fit's two models, the base one (`model_id`) and its outlier-reduced
    variant (`<model_id>:outliers_reduced`). `rows_of` gives society_id and text_id per assignment."""
    for variant, assignments, info, variant_id in (
        ("base", result.assignments, result.info, model_id),
        ("outliers_reduced", result.reduced_assignments, result.reduced_info, f"{model_id}:outliers_reduced"),
    ):
        rows = assignments.assign(society_id=rows_of["society_id"].to_numpy(), text_id=rows_of["text_id"].to_numpy())
        _write_topic_model(conn, variant_id, society_ids, scope, variant, params, rows, info)


def _write_topic_model(
    conn: duckdb.DuckDBPyConnection,
    model_id: str,
    society_ids: list[str],
    scope: str,
    variant: str,
    params: dict[str, Any],
    assignments: pd.DataFrame,
    info: pd.DataFrame,
) -> None:
    """Replace one topic model's rows: its `topic_models` row, its assignments and its topic_info."""
    conn.execute("DELETE FROM topic_info WHERE model_id = ?", [model_id])
    conn.execute("DELETE FROM topic_assignments WHERE model_id = ?", [model_id])
    conn.execute("DELETE FROM topic_models WHERE model_id = ?", [model_id])
    upsert(
        conn,
        "topic_models",
        pd.DataFrame(
            [
                {
                    "model_id": model_id,
                    "society_id": society_ids[0] if scope == "society" else None,
                    "scope": scope,
                    "variant": variant,
                    "society_ids": society_ids,
                    "params_json": json.dumps({**params, "variant": variant}, sort_keys=True, default=str),
                    "created_at": datetime.now(timezone.utc),
                }
            ]
        ),
    )
    upsert(conn, "topic_assignments", assignments.assign(model_id=model_id))
    upsert(conn, "topic_info", info.assign(model_id=model_id))


def _fingerprint(posts: pd.DataFrame, embedding_model_id: str, config: TopicConfig) -> str:
    settings = {"embedding_model_id": embedding_model_id, "seed": TOPIC_SEED, **config.model_dump()}
    return input_fingerprint(posts["text_id"].tolist(), posts["content_hash"].tolist(), settings)


def _stored_fingerprint(conn: duckdb.DuckDBPyConnection, model_id: str) -> str | None:
    row = conn.execute(
        "SELECT json_extract_string(params_json, '$.input_fingerprint') FROM topic_models WHERE model_id = ?",
        [model_id],
    ).fetchone()
    return row[0] if row else None


def _unchanged(model_id: str, n_posts: int) -> MaterializeResult:
    """Same posts, same settings: the stored model stands (a refit costs minutes on large societies)."""
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(n_posts),
            "topic_model_id": MetadataValue.text(model_id),
            "refitted": MetadataValue.bool(False),
        }
    )


def _topic_metadata(model_id: str, result: TopicResult, params: dict[str, Any]) -> dict[str, Any]:
    n_topics = int((result.info["topic"] >= 0).sum()) if len(result.info) else 0
    outlier_share = float((result.assignments["topic"] == -1).mean()) if len(result.assignments) else None
    preview = result.info.sort_values("size", ascending=False).head(10)[["topic", "size", "label"]]
    return {
        "dagster/row_count": MetadataValue.int(len(result.assignments)),
        "topic_model_id": MetadataValue.text(model_id),
        "refitted": MetadataValue.bool(True),
        "n_topics": MetadataValue.int(n_topics),
        "outlier_share": MetadataValue.float(outlier_share) if outlier_share is not None else MetadataValue.text("n/a"),
        "params": MetadataValue.json(params),
        "largest_topics": MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "none"),
    }


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb", "bertopic"},
    deps=[text_embeddings],
)
def topic_assignments(
    context: AssetExecutionContext, config: TopicConfig, warehouse: WarehouseResource, embedder: EmbedderResource
) -> MaterializeResult:
    """BERTopic topics of the society's posts (`topic_models`, `topic_assignments`, `topic_info`),
    over the stored embeddings with UMAP + HDBSCAN (cuML when importable), seeded. Exact duplicates
    are fitted once and share their topic; above 20,000 distinct posts the model is fitted on a
    day-stratified sample and the rest are assigned with `transform`. Two models are written: the
    base fit (topic -1 kept) and its outlier-reduced variant (`<model_id>:outliers_reduced`)."""
    society_id = context.partition_key
    embedding_model_id = embedder.get().model_id
    model_id = topic_model_id(society_id, embedding_model_id)
    with warehouse.writer() as conn:
        posts, embeddings = stored_vectors(conn, [society_id], embedding_model_id, kind="post")
        fingerprint = _fingerprint(posts, embedding_model_id, config)
        if _stored_fingerprint(conn, model_id) == fingerprint:
            return _unchanged(model_id, len(posts))
    result = fit_topics(
        posts["text_id"].tolist(),
        posts["text"].tolist(),
        embeddings,
        posts["content_hash"].tolist(),
        seed=TOPIC_SEED,
        strata=posts["day"].tolist(),
        fit_sample_size=config.fit_sample_size,
        cluster_selection=config.cluster_selection,  # type: ignore[arg-type]  # checked in fit_topics
    )
    params = {**result.params, "embedding_model_id": embedding_model_id, "unit": "post", "input_fingerprint": fingerprint}
    with warehouse.writer() as conn, transaction(conn):
        # Models of this society fitted before (another embedder, say) go; joint models stay.
        for table in ("topic_info", "topic_assignments"):
            conn.execute(
                f"DELETE FROM {table} WHERE model_id IN (SELECT model_id FROM topic_models WHERE society_id = ?)",
                [society_id],
            )
        conn.execute("DELETE FROM topic_models WHERE society_id = ?", [society_id])
        _write_topic_models(conn, model_id, [society_id], "society", params, result, posts)
    return MaterializeResult(metadata=_topic_metadata(model_id, result, params))


@asset(
    pool=WAREHOUSE_POOL,
    group_name="compare",
    kinds={"duckdb", "bertopic"},
    deps=[text_embeddings],
)
def joint_topic_assignments(
    context: AssetExecutionContext, config: TopicConfig, warehouse: WarehouseResource, embedder: EmbedderResource
) -> MaterializeResult:
    """One BERTopic model across every society (scope 'joint', ANALYTICS_SPEC §1.2), so their topic
    shares compare on one vocabulary of topics: fitted on a sample balanced across societies (each
    contributes equally, up to 20,000 distinct posts in all), every other post assigned with
    `transform`. Societies without embeddings for the configured model are left out."""
    embedding_model_id = embedder.get().model_id
    model_id = f"bertopic:joint:{embedding_model_id}"
    with warehouse.writer() as conn:
        society_ids = [row[0] for row in conn.execute(
            "SELECT DISTINCT society_id FROM text_embeddings WHERE model_id = ? ORDER BY society_id",
            [embedding_model_id],
        ).fetchall()]
        posts, embeddings = stored_vectors(conn, society_ids, embedding_model_id, kind="post")
        joint_ids = posts["society_id"] + "/" + posts["text_id"]  # text ids are unique per society only
        fingerprint = _fingerprint(posts.assign(text_id=joint_ids), embedding_model_id, config)
        if _stored_fingerprint(conn, model_id) == fingerprint:
            return _unchanged(model_id, len(posts))
    result = fit_topics(
        joint_ids.tolist(),
        posts["text"].tolist(),
        embeddings,
        posts["content_hash"].tolist(),
        seed=TOPIC_SEED,
        strata=posts["society_id"].tolist(),
        balanced=True,
        fit_sample_size=config.fit_sample_size,
        cluster_selection=config.cluster_selection,  # type: ignore[arg-type]  # checked in fit_topics
    )
    params = {**result.params, "embedding_model_id": embedding_model_id, "unit": "post", "societies": society_ids,
              "input_fingerprint": fingerprint}
    with warehouse.writer() as conn, transaction(conn):
        _write_topic_models(conn, model_id, society_ids, "joint", params, result, posts)
    shares = (
        result.assignments.assign(society_id=posts["society_id"].to_numpy())
        .pipe(lambda a: pd.crosstab(a["society_id"], a["topic"], normalize="index"))
        .round(3)
    )
    context.log.info(f"joint model over {len(society_ids)} societies: {result.params.get('n_topics')} topics")
    return MaterializeResult(
        metadata={
            **_topic_metadata(model_id, result, params),
            "societies": MetadataValue.int(len(society_ids)),
            "topic_share_by_society": MetadataValue.md(shares.to_markdown() if len(shares) else "none"),
        }
    )


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb"},
    deps=[text_embeddings],
)
def content_category(
    context: AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> MaterializeResult:
    """One of the nine content categories A-I (ANALYTICS_SPEC §1.3) per post, offline: nearest
    prototypes of written exemplars in the stored embedding space, plus rules for spam and
    unintelligible text. The `method` names the prototype version and the embedding model."""
    society_id = context.partition_key
    model = embedder.get()
    with warehouse.writer() as conn:
        posts, embeddings = stored_vectors(conn, [society_id], model.model_id, kind="post")
    labels = label_categories(posts["text"].tolist(), embeddings, model)
    rows = labels.assign(society_id=society_id, text_id=posts["text_id"].to_numpy())
    with warehouse.writer() as conn, transaction(conn):
        counts = upsert(conn, "content_category", rows)
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(rows)),
            "rows_inserted": MetadataValue.int(counts.inserted),
            "methods": MetadataValue.text(", ".join(sorted(rows["method"].unique())) if len(rows) else "none"),
            "category_shares": MetadataValue.md(_shares(rows["category"].map(CATEGORY_NAMES))),
        }
    )


def _society_texts(warehouse: WarehouseResource, society_id: str, kind: str | None = None) -> pd.DataFrame:
    """text_id and text of the society's texts (of one `kind` when given), in text_id order."""
    with warehouse.writer() as conn:
        return conn.execute(
            "SELECT text_id, text FROM texts WHERE society_id = ? AND (? IS NULL OR kind = ?) ORDER BY text_id",
            [society_id, kind, kind],
        ).df()


def _shares(values: pd.Series) -> str:
    shares = values.fillna("NULL").value_counts(normalize=True).round(3).rename("share")
    return shares.to_frame().to_markdown() if len(shares) else "none"


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb"},
    deps=[text_embeddings],
)
def toxicity_labels(
    context: AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> MaterializeResult:
    """Five-level toxicity (0 Safe .. 4 Malicious, ANALYTICS_SPEC §2.1) of every post and comment,
    offline: rules for what agents do (scams, credential requests, injections aimed at other
    agents, obedience demands, anti-human calls), an abusive-language model (alt-profanity-check)
    and a classifier over the stored embeddings trained on the shipped training set. The cues that
    fired are kept by name in `scores_json`, never the matched text."""
    society_id = context.partition_key
    model = embedder.get()
    with warehouse.writer() as conn:
        texts, embeddings = stored_vectors(conn, [society_id], model.model_id)
    labels = score_toxicity(texts["text"].tolist(), embeddings, model)
    rows = labels.assign(society_id=society_id, text_id=texts["text_id"].to_numpy())
    with warehouse.writer() as conn, transaction(conn):
        counts = upsert(conn, "toxicity_labels", rows)
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(rows)),
            "rows_inserted": MetadataValue.int(counts.inserted),
            "methods": MetadataValue.text(", ".join(sorted(rows["method"].unique())) if len(rows) else "none"),
            "harmful_share": MetadataValue.float(float((rows["level"] >= 2).mean())) if len(rows) else MetadataValue.text("n/a"),
            "level_shares": MetadataValue.md(_shares(rows["level"].map(dict(enumerate(LEVEL_NAMES))))),
        }
    )


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb"},
    deps=INGEST_ASSETS,
)
def emotion_labels(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    """Valence (VADER, -1..1) and one discrete emotion (NRC lexicon: anger, disgust, fear, joy,
    sadness, surprise or neutral) per post and comment, offline; the language of every text goes
    to `text_languages`, and texts in other languages get NULL (ANALYTICS_SPEC §1.1, §5.4)."""
    society_id = context.partition_key
    texts = _society_texts(warehouse, society_id)
    languages = detect_languages(texts["text"].tolist())
    labels = label_emotions(texts["text"].tolist(), languages)
    rows = labels.assign(society_id=society_id, text_id=texts["text_id"].to_numpy())
    language_rows = pd.DataFrame(
        {"society_id": society_id, "text_id": texts["text_id"], "language": languages, "method": LANGUAGE_METHOD}
    )
    with warehouse.writer() as conn, transaction(conn):
        counts = upsert(conn, "emotion_labels", rows)
        upsert(conn, "text_languages", language_rows)
    english = pd.Series(languages, dtype=object)
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(rows)),
            "rows_inserted": MetadataValue.int(counts.inserted),
            "method": MetadataValue.text(EMOTION_METHOD),
            "non_english_share": MetadataValue.float(float((english.notna() & (english != "en")).mean()))
            if len(english) else MetadataValue.text("n/a"),
            "mean_valence": MetadataValue.float(float(rows["valence"].mean())) if rows["valence"].notna().any()
            else MetadataValue.text("n/a"),
            "emotion_shares": MetadataValue.md(_shares(rows["emotion"])),
        }
    )


@asset(
    partitions_def=society_partitions,
    pool=WAREHOUSE_POOL,
    group_name="enrich",
    kinds={"duckdb", "openai"},
    deps=INGEST_ASSETS,
)
def llm_judged_labels(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    """The LLM-judged profile (DESIGN.md §5): category and toxicity level of every post from an
    OpenAI-compatible endpoint (OBSERVATORY_JUDGE_BASE_URL, _MODEL, _API_KEY), cached on disk, the
    judged text passed as inert data; rows go beside the offline ones under method `llm:<model>:...`.
    Does nothing when no endpoint is configured (the default)."""
    settings = judge_settings_from_env()
    if settings is None:
        context.log.info("no judge endpoint configured (OBSERVATORY_JUDGE_BASE_URL, OBSERVATORY_JUDGE_MODEL)")
        return MaterializeResult(metadata={"configured": MetadataValue.bool(False)})
    society_id = context.partition_key
    posts = _society_texts(warehouse, society_id, kind="post")
    judged = judge_texts(posts["text"].tolist(), settings)  # the injection floor comes from the offline rules
    judged = judged.assign(society_id=society_id, text_id=posts["text_id"].to_numpy())
    labelled = judged[judged["level"].notna()]
    scores = labelled.apply(
        lambda row: json.dumps({"cue": row["cue"], "status": row["status"], "floor_applied": bool(row["floor_applied"])}),
        axis=1,
    ) if len(labelled) else pd.Series(dtype=str)
    with warehouse.writer() as conn, transaction(conn):
        upsert(conn, "toxicity_labels", labelled[["society_id", "text_id", "level", "method"]].assign(scores_json=scores))
        upsert(conn, "content_category", judged[judged["category"].notna()][["society_id", "text_id", "category", "method"]])
    status = judged["status"].value_counts().to_dict()
    return MaterializeResult(
        metadata={
            "configured": MetadataValue.bool(True),
            "method": MetadataValue.text(judge_method(settings)),
            "dagster/row_count": MetadataValue.int(len(labelled)),
            **{f"status_{name}": MetadataValue.int(int(count)) for name, count in status.items()},
        }
    )


ENRICH_ASSETS = [text_embeddings, topic_assignments, content_category, toxicity_labels, emotion_labels, llm_judged_labels]
COMPARE_ASSETS = [joint_topic_assignments]
