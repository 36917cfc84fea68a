"""Fixtures for the enrichment tests: the real offline MiniLM and a themed synthetic corpus."""

from __future__ import annotations

import os
import random
import socket
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from assets.enrich.embedders import MiniLMEmbedder, content_hash  # noqa: E402

THEMES: dict[str, dict[str, list[str]]] = {
    "cooking": {
        "subject": ["The chef", "My grandmother", "Our baker", "The home cook", "A pastry student", "The sous chef"],
        "verb": ["roasted", "simmered", "baked", "seasoned", "braised", "kneaded"],
        "object": ["garlic bread", "tomato soup", "sourdough loaves", "lamb stew", "apple pie", "risotto"],
        "tail": ["in a cast iron pan", "with fresh basil", "for the dinner party", "using butter and salt",
                 "until golden brown", "in the oven overnight"],
    },
    "astronomy": {
        "subject": ["The telescope", "An astronomer", "The space probe", "The observatory", "A stargazer",
                    "The satellite"],
        "verb": ["observed", "photographed", "tracked", "detected", "mapped", "measured"],
        "object": ["a distant galaxy", "the comet tail", "Jupiter's moons", "a supernova remnant",
                   "the Andromeda nebula", "a binary star"],
        "tail": ["through the night sky", "beyond the solar system", "with an infrared camera",
                 "near the orbit of Mars", "across many light years", "during the lunar eclipse"],
    },
    "football": {
        "subject": ["The striker", "Our goalkeeper", "The midfielder", "The coach", "The team captain",
                    "The defender"],
        "verb": ["scored", "blocked", "passed", "defended", "kicked", "celebrated"],
        "object": ["a penalty kick", "the winning goal", "a free kick", "the corner", "a header", "the final whistle"],
        "tail": ["in the stadium", "during extra time", "against the league rivals", "in front of the fans",
                 "before half time", "at the championship match"],
    },
}


def themed_corpus(per_theme: int = 60, n_duplicates: int = 20, seed: int = 7) -> tuple[list[str], list[str], list[str]]:
    """(text_ids, docs, theme) with `per_theme` distinct sentences per theme plus exact duplicates."""
    rng = random.Random(seed)
    docs: list[str] = []
    themes: list[str] = []
    for theme, words in THEMES.items():
        seen: set[str] = set()
        while len(seen) < per_theme:
            s = f"{rng.choice(words['subject'])} {rng.choice(words['verb'])} {rng.choice(words['object'])} " \
                f"{rng.choice(words['tail'])}."
            if s not in seen:
                seen.add(s)
                docs.append(s)
                themes.append(theme)
    for i in range(n_duplicates):  # a small template flood: copies of a few existing posts
        j = (i % 4) * 37
        docs.append(docs[j])
        themes.append(themes[j])
    text_ids = [f"post:{i}" for i in range(len(docs))]
    return text_ids, docs, themes


@contextmanager
def network_refused() -> Iterator[None]:
    """Inside this block any attempt to open a network connection fails the test."""
    mp = pytest.MonkeyPatch()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket, "create_connection", refuse)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture(autouse=True)
def offline() -> Iterator[None]:
    """Every enrichment test runs with the network refused; tests elsewhere are untouched."""
    with network_refused():
        yield


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """The real embedder, loaded once per session with the network refused."""
    with network_refused():
        embedder = MiniLMEmbedder(batch_size=64)
        embedder.embed(["warm up"])
    return embedder


@pytest.fixture(scope="session")
def themed(minilm: MiniLMEmbedder) -> dict[str, object]:
    text_ids, docs, themes = themed_corpus()
    return {
        "text_ids": text_ids,
        "docs": docs,
        "themes": themes,
        "hashes": [content_hash(d) for d in docs],
        "embeddings": minilm.embed(docs),
    }


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def static_embedder(tmp_path_factory: pytest.TempPathFactory) -> "StaticEmbedder":
    """The model2vec model distilled from the packaged MiniLM (about 20-30 s), once per session."""
    from assets.enrich.embedders import StaticEmbedder

    with network_refused():
        embedder = StaticEmbedder(tmp_path_factory.mktemp("models"))
        embedder.embed(["warm up"])
    return embedder
