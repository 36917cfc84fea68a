"""Enrichment benchmarks: texts per second and peak memory of every embedder, of the embedding
cache on a rerun, of BERTopic's sample-fit + transform path, and of every offline scorer.

Each measurement runs in its own process (`once ...`), so its peak resident memory is its own;
`enrich` prints the medians of several such runs. Two corpora:

- `sim`: the texts of one moltbook-like simulated society (seed 1, 10,000 agents x 1,000 steps:
  about 110,000 posts and 166,000 comments, mean 250 characters), posts first. Built once and
  kept in var/bench/ as Parquet, so every run reads the same texts.
- `real`: the 1,710 real Moltbook posts of the observatory CSV sample (title + blank line +
  content; long texts, median about 200 word pieces), read from ../shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.settings import REPO_ROOT, load_settings

BENCH_DIR = REPO_ROOT / "var" / "bench"
SIM_CORPUS = BENCH_DIR / "sim_moltbook_like_seed1_10000x1000.parquet"


def sim_corpus() -> pd.DataFrame:
    """kind, text, day of the simulated society's posts then comments (built on first use, ~20 s)."""
    if not SIM_CORPUS.exists():
        from simulators import simulate

        batch = simulate("moltbook-like", seed=1, n_agents=10_000, n_steps=1_000)
        posts, comments = batch.tables["posts"], batch.tables["comments"]
        frame = pd.concat(
            [
                pd.DataFrame({"kind": "post", "text": posts["title"].fillna("") + "\n\n" + posts["content"].fillna(""),
                              "day": pd.to_datetime(posts["created_at"], utc=True).dt.strftime("%Y-%m-%d")}),
                pd.DataFrame({"kind": "comment", "text": comments["content"].fillna(""),
                              "day": pd.to_datetime(comments["created_at"], utc=True).dt.strftime("%Y-%m-%d")}),
            ],
            ignore_index=True,
        )
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(SIM_CORPUS)
    return pd.read_parquet(SIM_CORPUS)


def real_corpus() -> pd.DataFrame:
    path = load_settings().dumps_dir / "observatory_csv" / "moltbook_posts.csv"
    if not path.exists():
        raise SystemExit(f"the real corpus needs {path} (../shared beside the project)")
    posts = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame({"kind": "post", "text": posts["title"] + "\n\n" + posts["content"],
                         "day": posts["created_at"].str[:10]})


def texts_of(corpus: str, n: int, kind: str | None = None) -> pd.DataFrame:
    """`n` texts of the corpus: a seeded random sample of all its texts (posts and comments mixed
    as in the society), or the first `n` of one `kind` (posts in creation order, for topics)."""
    frame = sim_corpus() if corpus == "sim" else real_corpus()
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    if len(frame) < n:
        raise SystemExit(f"corpus {corpus} has only {len(frame)} texts{' of kind ' + kind if kind else ''}")
    picked = frame.head(n) if kind is not None else frame.sample(n, random_state=0)
    return picked.reset_index(drop=True)


def _embedder(name: str) -> Any:
    from assets.enrich.embedders import make_embedder

    embedder = make_embedder(name, models_dir=load_settings().models_dir)
    embedder.embed(["warm up: load (or distil) the model outside the measurement"])
    return embedder


def measure_embed(embedder_name: str, corpus: str, n: int) -> dict[str, Any]:
    texts = texts_of(corpus, n)["text"].tolist()
    embedder = _embedder(embedder_name)
    started = time.perf_counter()
    embedder.embed(texts)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "n": n, "per_s": n / wall, "model_id": embedder.model_id}


def measure_cache(embedder_name: str, corpus: str, n: int) -> dict[str, Any]:
    """First and second `store_embeddings` over the same society in a fresh warehouse."""
    from assets.enrich.embedding_cache import store_embeddings
    from warehouse.writer import open_writer, transaction, upsert

    texts = texts_of(corpus, n)["text"]
    embedder = _embedder(embedder_name)
    with tempfile.TemporaryDirectory(prefix="observatory-bench-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        with open_writer(path) as conn, transaction(conn):
            upsert(conn, "societies", pd.DataFrame([{"society_id": "bench", "kind": "dump"}]))
            upsert(conn, "posts", pd.DataFrame({"society_id": "bench", "post_id": [f"p{i}" for i in range(n)],
                                                "title": texts.to_numpy(), "content": None}))
        walls = []
        for _ in range(2):
            started = time.perf_counter()
            counts = store_embeddings(lambda: open_writer(path), "bench", embedder)
            walls.append(time.perf_counter() - started)
    return {"wall_s": walls[0], "n": n, "per_s": n / walls[0], "second_wall_s": walls[1],
            "speedup": walls[0] / walls[1], "second_counts": counts}


def measure_topics(n: int, fit_sample_size: int) -> dict[str, Any]:
    """BERTopic over the static model's vectors of `n` simulated posts (embedding timed apart)."""
    from assets.enrich.embedders import content_hash
    from assets.enrich.topics import fit_topics

    posts = texts_of("sim", n, kind="post")
    texts = posts["text"].tolist()
    embedder = _embedder("static")
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    embed_wall = time.perf_counter() - started
    started = time.perf_counter()
    result = fit_topics([f"post:{i}" for i in range(n)], texts, vectors, [content_hash(t) for t in texts],
                        seed=42, fit_sample_size=fit_sample_size, strata=posts["day"].tolist())
    wall = time.perf_counter() - started
    return {"wall_s": wall, "n": n, "per_s": n / wall, "embed_wall_s": embed_wall,
            "n_unique": result.params["n_unique_docs"], "n_fitted": result.params["n_fitted"],
            "n_topics": result.params["n_topics"],
            "outlier_share": float((result.assignments["topic"] == -1).mean())}


def measure_scorer(scorer: str, corpus: str, n: int) -> dict[str, Any]:
    """One offline scorer over `n` texts; the scorers that read embeddings get the static model's
    beforehand, and the toxicity classifier is fitted before the clock starts."""
    from assets.enrich.categories import label_categories
    from assets.enrich.emotion import label_emotions
    from assets.enrich.language import detect_languages
    from assets.enrich.toxicity import score_toxicity

    texts = texts_of(corpus, n)["text"].tolist()
    if scorer in ("toxicity-classifier", "categories"):
        embedder = _embedder("static")
        vectors = embedder.embed(texts)
    calls: dict[str, Callable[[int], Any]] = {
        "toxicity": lambda k: score_toxicity(texts[:k]),  # rules and profanity only
        "toxicity-classifier": lambda k: score_toxicity(texts[:k], vectors[:k], embedder),
        "categories": lambda k: label_categories(texts[:k], vectors[:k], embedder),
        "language": lambda k: detect_languages(texts[:k]),
        "emotion": lambda k: label_emotions(texts[:k]),
    }
    if scorer not in calls:
        raise SystemExit(f"unknown scorer {scorer}; known: {sorted(calls)}")
    calls[scorer](10)  # load models and lexicons, fit the classifier: not part of the figure
    run = partial(calls[scorer], n)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    return {"wall_s": wall, "n": n, "per_s": n / wall}


# What `enrich` runs by default: (label, once-arguments). Sizes fit 2 cores in minutes.
DEFAULT_PLAN: list[tuple[str, list[str]]] = [
    ("embed minilm, sim texts", ["embed", "minilm", "sim", "2000"]),
    ("embed minilm, real posts", ["embed", "minilm", "real", "300"]),
    ("embed static, sim texts", ["embed", "static", "sim", "100000"]),
    ("embed static, real posts", ["embed", "static", "real", "1710"]),
    ("cache rerun minilm, sim texts", ["cache", "minilm", "sim", "2000"]),
    ("cache rerun static, sim texts", ["cache", "static", "sim", "100000"]),
    ("bertopic 10k sim posts", ["topics", "10000", "20000"]),
    ("bertopic 100k sim posts", ["topics", "100000", "20000"]),
    ("toxicity rules, real posts", ["score", "toxicity", "real", "1710"]),
    ("toxicity rules, sim texts", ["score", "toxicity", "sim", "20000"]),
    ("toxicity classifier, real posts", ["score", "toxicity-classifier", "real", "1710"]),
    ("toxicity classifier, sim texts", ["score", "toxicity-classifier", "sim", "20000"]),
    ("categories, real posts", ["score", "categories", "real", "1710"]),
    ("categories, sim texts", ["score", "categories", "sim", "20000"]),
    ("language, real posts", ["score", "language", "real", "1710"]),
    ("language, sim texts", ["score", "language", "sim", "20000"]),
    ("emotion, real posts", ["score", "emotion", "real", "1710"]),
    ("emotion, sim texts", ["score", "emotion", "sim", "20000"]),
]


def bench_enrich(only: list[str] | None, repeat: int) -> None:
    from pipelines.bench import _machine, _timed_process

    sim_corpus()  # built once, outside every measurement
    print(f"{'measurement':34s} {'n':>8s} {'wall s':>8s} {'texts/s':>10s} {'peak GiB':>9s}  notes", flush=True)
    for label, once in DEFAULT_PLAN:
        if only and not any(word in label for word in only):
            continue
        runs = []
        for _ in range(repeat):
            _, peak, stdout = _timed_process([sys.executable, "-m", "pipelines.bench_enrich", "once", *once])
            runs.append((json.loads(stdout.strip().splitlines()[-1]), peak))
        result = runs[0][0]
        wall = statistics.median(r["wall_s"] for r, _ in runs)
        notes = ""
        if "speedup" in result:
            second = statistics.median(r["second_wall_s"] for r, _ in runs)
            notes = f"second run {second:.2f} s, {wall / second:,.0f}x faster"
        elif "n_topics" in result:
            embed = statistics.median(r["embed_wall_s"] for r, _ in runs)
            notes = (f"fit {result['n_fitted']:,} of {result['n_unique']:,} distinct, {result['n_topics']} topics, "
                     f"outliers {result['outlier_share']:.2f}; static embedding apart: {embed:.1f} s")
        print(f"{label:34s} {result['n']:>8,d} {wall:>8.2f} {result['n'] / wall:>10,.0f} "
              f"{statistics.median(p for _, p in runs):>9.2f}  {notes}", flush=True)
    print(_machine() + f"; medians of {repeat} runs, each in its own process")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_enrich", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    once = commands.add_parser("once", help="one measurement in this process (`python -m pipelines.bench enrich` runs them all)")
    once.add_argument("task", choices=("embed", "cache", "topics", "score"))
    once.add_argument("args", nargs="+")
    args = parser.parse_args(argv)
    a = args.args
    if args.task == "embed":
        result = measure_embed(a[0], a[1], int(a[2]))
    elif args.task == "cache":
        result = measure_cache(a[0], a[1], int(a[2]))
    elif args.task == "topics":
        result = measure_topics(int(a[0]), int(a[1]))
    else:
        result = measure_scorer(a[0], a[1], int(a[2]))
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
