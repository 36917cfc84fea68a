"""BERTopic over precomputed MiniLM embeddings, on a small themed corpus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.enrich.embedders import content_hash
from assets.enrich.topics import (
    fit_topics,
    hdbscan_params,
    input_fingerprint,
    readable_label,
    reduce_outliers,
    stratified_sample,
    make_clusterer,
    make_reducer,
    make_vectorizer,
    resolve_backend,
)


@pytest.fixture(scope="module")
def fitted(themed: dict) -> object:
    return fit_topics(themed["text_ids"], themed["docs"], themed["embeddings"], themed["hashes"], seed=42)


def test_finds_the_planted_themes(fitted, themed: dict) -> None:
    a = fitted.assignments
    assert a["text_id"].tolist() == themed["text_ids"]
    assert fitted.params["n_topics"] >= 2 and fitted.params["skipped_reason"] is None
    clustered = a.assign(theme=themed["themes"]).query("topic >= 0")
    assert len(clustered) >= 0.6 * len(a)  # leaf selection leaves the loosest points as outliers
    purity = clustered.groupby("topic")["theme"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert (purity >= 0.9).all(), purity
    assert clustered["theme"].nunique() == 3  # every theme has a topic
    reduced = fitted.reduced_assignments.assign(theme=themed["themes"])
    purity = reduced.groupby("topic")["theme"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert (purity >= 0.9).all(), purity  # outliers join a topic of their own theme


def test_duplicates_share_a_topic_and_sizes_count_every_copy(fitted, themed: dict) -> None:
    a = fitted.assignments.assign(content_hash=themed["hashes"])
    per_hash = a.groupby("content_hash")[["topic", "prob"]].nunique()
    assert (per_hash == 1).all().all()
    assert fitted.params["n_docs"] == 200 and fitted.params["n_unique_docs"] == 180
    info = fitted.info.set_index("topic")
    assert info["size"].sum() == 200
    assert (info["size"] == a["topic"].value_counts().reindex(info.index)).all()


def test_info_labels_and_terms(fitted) -> None:
    for row in fitted.info.itertuples():
        assert 1 <= len(row.top_terms) <= 10 and all(isinstance(t, str) and t for t in row.top_terms)
        if row.topic == -1:
            assert row.label == "outliers"
        else:
            assert row.label == readable_label(row.top_terms) and row.label.count(", ") == 2
    terms = " ".join(t for ts in fitted.info["top_terms"] for t in ts)
    assert any(w in terms for w in ("chef", "baked", "soup", "bread"))
    assert any(w in terms for w in ("galaxy", "telescope", "star", "comet", "sky"))


def test_params_record_effective_settings(fitted) -> None:
    p = fitted.params
    assert p["backend"] == "cpu" and p["seed"] == 42
    assert p["umap"] == {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "metric": "cosine", "random_state": 42}
    assert p["hdbscan"]["min_cluster_size"] == 10 and p["hdbscan"]["min_samples"] == 10
    assert p["vectorizer"]["min_df"] == 5 and p["vectorizer"]["max_df"] == 0.5
    assert p["ctfidf"] == {"reduce_frequent_words": True} and p["top_n_words"] == 10
    assert fitted.model.embedding_model is None  # BERTopic never loaded a model of its own


def test_same_seed_gives_identical_assignments(fitted, themed: dict) -> None:
    again = fit_topics(themed["text_ids"], themed["docs"], themed["embeddings"], themed["hashes"], seed=42)
    pd.testing.assert_frame_equal(again.assignments, fitted.assignments)
    pd.testing.assert_frame_equal(again.info, fitted.info)


@pytest.mark.parametrize("n", [0, 5, 40])
def test_tiny_corpus_is_all_outliers(n: int, themed: dict) -> None:
    ids, docs = themed["text_ids"][:n], themed["docs"][:n]
    result = fit_topics(ids, docs, themed["embeddings"][:n], [content_hash(d) for d in docs], seed=1)
    assert len(result.assignments) == n and (result.assignments["topic"] == -1).all()
    assert "too few distinct documents" in result.params["skipped_reason"]
    assert result.params["n_topics"] == 0 and result.model is None
    assert result.info["size"].sum() == n


def test_structureless_embeddings_do_not_crash(rng: np.random.Generator) -> None:
    n = 80
    vectors = rng.normal(size=(n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]
    docs = [" ".join(rng.choice(words, size=4)) + f" {i}" for i in range(n)]
    result = fit_topics([f"t{i}" for i in range(n)], docs, vectors, [content_hash(d) for d in docs], seed=3)
    assert len(result.assignments) == n
    assert result.info["size"].sum() == n


def test_misaligned_inputs_are_rejected(themed: dict) -> None:
    with pytest.raises(ValueError, match="align"):
        fit_topics(themed["text_ids"][:10], themed["docs"][:9], themed["embeddings"][:10], themed["hashes"][:10], seed=0)


def test_cpu_components_follow_the_spec() -> None:
    assert resolve_backend("auto") == "cpu"  # cuML is not installed here
    reducer = make_reducer(7, backend="cpu")
    assert (reducer.n_neighbors, reducer.n_components, reducer.min_dist, reducer.metric, reducer.random_state) == (
        15, 5, 0.0, "cosine", 7,
    )
    assert make_reducer(7, n_docs=8, backend="cpu").n_neighbors == 7
    clusterer = make_clusterer(500, backend="cpu")
    assert (clusterer.min_cluster_size, clusterer.min_samples, clusterer.cluster_selection_method) == (10, 10, "leaf")
    assert make_clusterer(500, backend="cpu", cluster_selection="eom").cluster_selection_method == "eom"
    with pytest.raises(ValueError, match="cluster_selection"):
        hdbscan_params(500, "dbscan")  # type: ignore[arg-type]
    assert clusterer.prediction_data is True
    assert [hdbscan_params(n)["min_cluster_size"] for n in (1999, 2000, 100_000)] == [10, 20, 50]


def test_vectorizer_loosens_for_tiny_corpora() -> None:
    _, params = make_vectorizer(["the a an", "of the", "and"])  # only stop words
    assert params["stop_words"] is None and params["vocabulary_size"] > 0
    _, params = make_vectorizer([f"word{i % 10} thing{i % 7}" for i in range(60)])
    assert params["min_df"] == 3 and params["df_counted_over"] == "unique_documents"
    with pytest.raises(ValueError, match="no vocabulary"):
        make_vectorizer(["!!", "?"])


def test_readable_label_skips_terms_that_add_no_word() -> None:
    terms = ["memory", "context window", "context", "memory context", "agents", "persistence"]
    assert readable_label(terms) == "memory, context window, agents"
    assert readable_label(["window", "context window", "agents", "tools"]) == "context window, agents, tools"
    assert readable_label([]) == ""


def test_stratified_sample_keeps_each_day_share_and_is_seeded() -> None:
    days = ["d1"] * 600 + ["d2"] * 300 + ["d3"] * 100
    sample = stratified_sample(days, 100, seed=5)
    assert len(sample) == 100 and len(set(sample.tolist())) == 100 and (np.diff(sample) > 0).all()
    picked = pd.Series([days[i] for i in sample]).value_counts().to_dict()
    assert picked == {"d1": 60, "d2": 30, "d3": 10}
    np.testing.assert_array_equal(sample, stratified_sample(days, 100, seed=5))
    assert not np.array_equal(sample, stratified_sample(days, 100, seed=6))
    np.testing.assert_array_equal(stratified_sample(days, 5000, seed=5), np.arange(1000))
    assert len(stratified_sample(["a"] * 7 + ["b"] * 2 + ["c"], 3, seed=0)) == 3


def test_balanced_sample_takes_equal_numbers_and_all_of_small_strata() -> None:
    societies = ["big"] * 1000 + ["mid"] * 200 + ["tiny"] * 30
    picked = pd.Series([societies[i] for i in stratified_sample(societies, 300, seed=1, balanced=True)])
    assert picked.value_counts().to_dict() == {"big": 135, "mid": 135, "tiny": 30}


def test_sample_fit_assigns_every_document_with_transform(themed: dict) -> None:
    days = [f"day{i % 3}" for i in range(len(themed["docs"]))]
    result = fit_topics(themed["text_ids"], themed["docs"], themed["embeddings"], themed["hashes"],
                        seed=42, fit_sample_size=120, strata=days)
    p = result.params
    assert (p["n_unique_docs"], p["n_fitted"], p["n_transformed"]) == (180, 120, 60)
    assert p["hdbscan"]["min_cluster_size"] == 10 and p["umap"]["n_neighbors"] == 15
    a = result.assignments.assign(theme=themed["themes"])
    assert a["text_id"].tolist() == themed["text_ids"]
    clustered = a.query("topic >= 0")
    assert len(clustered) >= 0.8 * len(a)  # the transformed third is clustered as well as the fitted part
    purity = clustered.groupby("topic")["theme"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert (purity >= 0.9).all(), purity


def test_outlier_reduced_variant_moves_only_outliers(fitted) -> None:
    base = fitted.assignments.set_index("text_id")["topic"]
    reduced = fitted.reduced_assignments.set_index("text_id")["topic"]
    assert (reduced >= 0).all()
    kept = base >= 0
    assert (reduced[kept] == base[kept]).all()
    assert fitted.reduced_info["size"].sum() == len(base)
    assert -1 not in set(fitted.reduced_info["topic"])


def test_reduce_outliers_picks_the_nearest_centroid() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.8, 0.3], [0.2, 0.7]], dtype=np.float32)
    topics = np.array([0, 0, 1, 1, -1, -1])
    np.testing.assert_array_equal(reduce_outliers(topics, vectors), [0, 0, 1, 1, 0, 1])
    np.testing.assert_array_equal(reduce_outliers(np.array([-1, -1]), vectors[:2]), [-1, -1])


def test_input_fingerprint_sees_documents_and_settings_not_order() -> None:
    ids, hashes, settings = ["post:a", "post:b"], ["h1", "h2"], {"cluster_selection": "leaf", "seed": 42}
    base = input_fingerprint(ids, hashes, settings)
    assert input_fingerprint(ids[::-1], hashes[::-1], settings) == base
    assert input_fingerprint(ids, ["h1", "h2-edited"], settings) != base
    assert input_fingerprint(ids + ["post:c"], hashes + ["h3"], settings) != base
    assert input_fingerprint(ids, hashes, {**settings, "cluster_selection": "eom"}) != base
