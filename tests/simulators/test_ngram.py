"""The n-gram filler layer (SIMULATORS.md §4.8, layer 4): an order-2 word chain, its default
licence-clean corpus, the user corpus knob, and fillers in generated bodies.

The chain reproduces the transitions of its corpus exactly, samples by inverse CDF from each
row's own uniforms, and is deterministic. The default chain holds no topic, stance, tone or style
word and no label name, so fillers carry no label signal; they appear in post and comment bodies
at about `filler_rate` per item, never in titles or viral copies.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from simulators import ngram, simulate, text
from simulators.config import SimConfig
from simulators.ngram import FillerChain, sample, sample_ids, train
from simulators.text import TOPICS, ItemSpecs, TextKnobs, forbidden_strings, generate

STOP_WORDS = pytest.importorskip("sklearn.feature_extraction.text").ENGLISH_STOP_WORDS
DEFAULTS = TextKnobs.from_config(SimConfig())


def grid(n: int, max_len: int) -> np.ndarray:
    """Uniforms (n * n, max_len): every pair of midpoints (i + 0.5) / n in the first two columns,
    so inverse-CDF picks hit probabilities that are multiples of 1 / n exactly."""
    mid = (np.arange(n) + 0.5) / n
    u = np.full((n * n, max_len), 0.5)
    u[:, 0], u[:, 1] = np.repeat(mid, n), np.tile(mid, n)
    return u


def content_words(phrases: object) -> set[str]:
    """Lowercase \\w+ words of phrases, slots and English stop words left out."""
    joined = " ".join(phrases)  # type: ignore[arg-type]
    return set(re.findall(r"\w+", re.sub(r"\{\w+\}", " ", joined).lower())) - STOP_WORDS


# The chain ----------------------------------------------------------------------------------

def test_a_corpus_of_fixed_phrases_is_sampled_back_verbatim() -> None:
    chain = train(["a b c", "a b c", "d e"])
    sentences = sample(chain, np.random.default_rng(0).random((500, 6)))
    assert set(sentences) == {"a b c", "d e"}
    assert np.mean(sentences == "a b c") == pytest.approx(2 / 3, abs=0.05)


def test_counts_become_exact_probabilities() -> None:
    chain = train(["x y", "x y", "x z", "w y", ""])  # blank lines are skipped
    assert chain.vocabulary == ["w", "x", "y", "z"]
    assert chain.transitions(None, None) == {"w": 0.25, "x": 0.75}
    assert chain.transitions(None, "x") == pytest.approx({"y": 2 / 3, "z": 1 / 3})
    assert chain.transitions("x", "y") == {None: 1.0}
    assert chain.transitions("y", "x") == {}  # never seen
    sentences = list(sample(chain, grid(12, 4)))  # 144 walks on a midpoint grid
    assert {s: sentences.count(s) for s in set(sentences)} == {"w y": 36, "x y": 72, "x z": 36}


def test_the_flat_arrays_are_csr_offsets_over_sorted_transitions() -> None:
    chain = train(["p q r", "p q s", "q r"])
    assert chain.offsets[0] == 0 and chain.offsets[-1] == len(chain.next_token)
    assert (np.diff(chain.context_keys) > 0).all()
    for c in range(len(chain.context_keys)):
        lo, hi = chain.offsets[c], chain.offsets[c + 1]
        assert (np.diff(chain.next_token[lo:hi]) > 0).all()
        assert chain.cumulative[hi - 1] == 1.0
        assert np.allclose(chain.shifted[lo:hi], chain.cumulative[lo:hi] + c)


def test_training_is_deterministic_whatever_the_corpus_order() -> None:
    corpus = ["one two three", "two three four", "one three", "four"]
    first, second = train(corpus), train(corpus[::-1])
    for field in dataclasses.fields(FillerChain):
        assert np.array_equal(getattr(first, field.name), getattr(second, field.name)), field.name


def test_same_uniforms_same_sentences_and_each_row_reads_only_its_own() -> None:
    chain = ngram.default_chain()
    u = np.random.default_rng(4).random((400, ngram.MAX_TOKENS))
    sentences = sample(chain, u)
    assert list(sample(chain, u.copy())) == list(sentences)
    assert list(sample(chain, u[::7])) == list(sentences[::7])
    assert len(set(sentences)) > 200  # varied, not one template


def test_sentences_end_at_the_end_token_or_the_cap() -> None:
    chain = train(["a b c d e f g h", "Short one!"])
    u = np.zeros((1, 3))  # the first word in sorted order: "Short" sorts before "a"
    assert sample(chain, u)[0] == "Short one!"
    ids = sample_ids(chain, np.full((2, 3), 0.99))
    assert ids.shape == (2, 3) and (ids != ngram.END).all()  # both cut at 3 tokens
    assert list(sample(chain, np.full((1, 3), 0.99))) == ["a b c."]  # a cut sentence ends


def test_an_empty_corpus_is_refused() -> None:
    with pytest.raises(ValueError, match="no sentence"):
        train(["", "   "])


# The default chain ----------------------------------------------------------------------------

def test_the_default_chain_has_no_label_topic_stance_tone_or_style_word() -> None:
    vocabulary = ngram.default_chain().vocabulary
    joined = " ".join(vocabulary).lower()
    for label in forbidden_strings():
        assert label not in joined, label
    assert "_" not in joined
    generic = content_words(text._GENERIC_NOUNS + text._GENERIC_ADJS + text._GENERIC_VERBS
                            + text._SENTENCES + text._COMMENT_OPENERS + text._QUESTIONS)
    topical = content_words(
        [w for t in TOPICS for sub in text._TOPIC_NOUNS[t] for w in sub]
        + [w for t in TOPICS for w in text._TOPIC_ADJS[t] + text._TOPIC_VERBS[t]])
    stance = content_words([p for t in TOPICS for side in text._STANCE_PHRASES[t] for p in side])
    tone = content_words([p for pair in text._TONE_PHRASES for side in pair for p in side])
    style = content_words([p for f in text._STYLE_PHRASES for trait in f for p in trait]
                          + list(text._SIGNATURES))
    words = content_words(vocabulary)
    for name, lexicon in (("topic", topical), ("stance", stance), ("tone", tone),
                          ("style", style)):
        assert not words & (lexicon - generic), name
    assert len(words - generic) > 50  # the hand-written sentences add words of their own


def test_the_default_corpus_is_grammar_output_plus_hand_written_sentences() -> None:
    grammar = text.generic_sentences()
    assert grammar == text.generic_sentences()  # fixed seed
    assert len(grammar) == 40 * (len(text._SENTENCES) + len(text._COMMENT_OPENERS)
                                 + len(text._QUESTIONS))
    vocabulary = set(ngram.default_chain().vocabulary)
    assert {w for s in grammar + list(ngram.HANDWRITTEN) for w in s.split()} == vocabulary


# Fillers in generated text -------------------------------------------------------------------

def specs(n: int, seed: int) -> ItemSpecs:
    rng = np.random.default_rng(seed)
    return ItemSpecs(author_interest=rng.integers(0, len(TOPICS), n),
                     topic=rng.integers(0, len(TOPICS), n), stance=rng.uniform(-1, 1, n),
                     tone=rng.integers(0, 3, n), post=rng.integers(0, n, n))


def render(knobs: TextKnobs, n: int = 2_000, seed: int = 8) -> tuple[object, object]:
    return generate(seed=seed, posts=specs(n, seed), comments=specs(n, seed + 1), knobs=knobs)


def terminators(texts: list[str]) -> np.ndarray:
    """Sentence ends (. ! ?) per text: every skeleton, phrase and filler has exactly one."""
    return np.array([len(re.findall(r"[.!?]", t)) for t in texts])


def test_fillers_appear_in_bodies_at_about_the_filler_rate() -> None:
    without_p, without_c = render(dataclasses.replace(DEFAULTS, filler_rate=0.0))
    for rate in (DEFAULTS.filler_rate, 1.5):
        with_p, with_c = render(dataclasses.replace(DEFAULTS, filler_rate=rate))
        added = np.concatenate([terminators(with_p.content) - terminators(without_p.content),
                                terminators(with_c.content) - terminators(without_c.content)])
        assert added.min() >= 0 and added.max() <= ngram.MAX_FILLERS_PER_ITEM
        assert added.mean() == pytest.approx(rate, abs=0.05), rate
        assert with_p.title == without_p.title  # titles never get fillers
        assert with_p.template == without_p.template and with_c.template == without_c.template


def test_viral_copies_stay_verbatim_and_the_words_of_other_layers_stay_put() -> None:
    knobs = dataclasses.replace(DEFAULTS, p_dup=0.3)
    without_p, without_c = render(dataclasses.replace(knobs, filler_rate=0.0))
    with_p, with_c = render(dataclasses.replace(knobs, filler_rate=2.0))
    for without, with_ in ((without_p, with_p), (without_c, with_c)):
        viral = np.array([t.startswith("viral-") for t in with_.template])
        assert 0.25 < viral.mean() < 0.35
        assert [b for b, v in zip(with_.content, viral) if v] == [
            b for b, v in zip(without.content, viral) if v]
        for filled, bare in zip(with_.content[:300], without.content[:300]):
            words = iter(filled.split())
            assert all(w in words for w in bare.split())  # fillers only insert sentences


def test_a_filler_rate_beyond_the_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="filler_rate"):
        render(dataclasses.replace(DEFAULTS, filler_rate=ngram.MAX_FILLERS_PER_ITEM + 0.5), n=5)
    with pytest.raises(ValueError, match="filler_rate"):
        SimConfig(filler_rate=-0.1).validate()


# A user corpus through the config knob --------------------------------------------------------

MARKERS = ("Zebras hum near quartz lanterns.", "Violet kettledrums bounce over wharves.",
           "Quinces wobble beside juniper gazebos.")


def test_a_corpus_file_round_trips_through_the_config_and_drives_the_fillers(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "archive.txt"
    corpus.write_text("\n".join(MARKERS) + "\n\n", encoding="utf-8")
    cfg = SimConfig(filler_corpus=str(corpus), filler_rate=ngram.MAX_FILLERS_PER_ITEM)
    cfg.validate()
    assert cfg.filler_corpus_sha256 == ngram.corpus_sha256(corpus)
    assert SimConfig.from_json(cfg.to_json()) == cfg
    knobs = TextKnobs.from_config(cfg)
    assert (knobs.filler_corpus, knobs.filler_corpus_sha256) == (
        str(corpus), cfg.filler_corpus_sha256)
    posts, comments = render(knobs, n=200)
    for body in posts.content + comments.content:  # every slot fires at the maximum rate
        assert sum(body.count(m) for m in MARKERS) == ngram.MAX_FILLERS_PER_ITEM

    corpus.write_text("Something else entirely.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="does not match"):
        cfg.validate()
    assert SimConfig(filler_corpus=str(corpus)).filler_corpus_sha256 == ngram.corpus_sha256(
        corpus)


def test_a_simulated_run_stores_the_corpus_path_and_hash_and_uses_it(tmp_path: Path) -> None:
    corpus = tmp_path / "archive.txt"
    corpus.write_text("\n".join(MARKERS), encoding="utf-8")
    batch = simulate("moltbook-like", seed=2, n_agents=60, n_steps=60,
                     filler_corpus=str(corpus), filler_rate=1.0)
    config = batch.society["config_json"]
    assert config["filler_corpus"] == str(corpus)
    assert config["filler_corpus_sha256"] == ngram.corpus_sha256(corpus)
    bodies = list(batch.tables["posts"]["content"]) + list(batch.tables["comments"]["content"])
    assert np.mean([any(m in b for m in MARKERS) for b in bodies]) > 0.3
