"""The rule-mode text generator (SIMULATORS.md §4.8), called directly with known item labels.

The recoverability contract: TF-IDF plus a linear model trained on half the items recovers
topic (macro-F1 ≥ 0.85) and stance (ROC-AUC ≥ 0.80) on the other half at the default signal,
and nothing beyond chance (± 0.05) at signal_strength 0. Stance markers, tones and style traits
are visible in the text; label names never are; the unigram Zipf exponent of `moltbook-like`
text is Moltbook's 1.70 ± 0.20.
"""

from __future__ import annotations

import dataclasses
import re
from itertools import product

import numpy as np
import pytest

from simulators import simulate, text
from simulators.checker.common import zipf_exponent
from simulators.config import SimConfig
from simulators.core import FRIENDLY, HOSTILE, NEUTRAL
from simulators.text import (
    BULLETS, LONG, MEDIUM, PLAIN, QUESTION, SHORT, STYLE_FEATURES, STYLE_FOCUS, STYLE_FORMAT,
    STYLE_LENGTH, STYLE_SIGNATURE, STYLE_TONE, TOPICS, ItemSpecs, TextKnobs, forbidden_strings,
    generate, text_items_per_second,
)
from warehouse.batch import CanonicalBatch

sklearn = pytest.importorskip("sklearn")
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score, roc_auc_score  # noqa: E402

DEFAULTS = TextKnobs.from_config(SimConfig())  # signal 0.15, label noise 0, no duplicates
N_EACH = 2_000  # posts and comments in the contract batch


def specs(n: int, seed: int, *, stance: bool = True, tone: int | None = None,
          style: np.ndarray | None = None) -> ItemSpecs:
    """n items with uniform topics, uniform stances in [-1, 1] (or none) and uniform tones."""
    rng = np.random.default_rng(seed)
    return ItemSpecs(
        author_interest=rng.integers(0, len(TOPICS), n),
        topic=rng.integers(0, len(TOPICS), n),
        stance=rng.uniform(-1.0, 1.0, n) if stance else np.full(n, np.nan),
        tone=np.full(n, tone) if tone is not None else rng.integers(0, 3, n),
        post=rng.integers(0, n, n),
        style=style,
    )


def render(n: int, knobs: TextKnobs = DEFAULTS, seed: int = 11, **kw: object
           ) -> tuple[list[str], list[str], ItemSpecs, ItemSpecs]:
    """Post texts (title + body) and comment texts of n posts and n comments."""
    posts, comments = specs(n, seed, **kw), specs(n, seed + 1, **kw)
    p, c = generate(seed=seed, posts=posts, comments=comments, knobs=knobs)
    return [f"{a}\n\n{b}" for a, b in zip(p.title, p.content)], c.content, posts, comments


def recover(texts: list[str], topic: np.ndarray, stance: np.ndarray) -> tuple[float, float]:
    """Topic macro-F1 and stance-side ROC-AUC of TF-IDF + logistic regression, trained on every
    other item and scored on the rest."""
    features = TfidfVectorizer().fit_transform(texts)
    train = np.arange(len(texts)) % 2 == 0
    topic_model = LogisticRegression(max_iter=1000).fit(features[train], topic[train])
    f1 = f1_score(topic[~train], topic_model.predict(features[~train]), average="macro")
    side = stance > 0
    side_model = LogisticRegression(max_iter=1000).fit(features[train], side[train])
    auc = roc_auc_score(side[~train], side_model.predict_proba(features[~train])[:, 1])
    return float(f1), float(auc)


def contract(signal: float) -> tuple[float, float]:
    post_texts, comment_texts, posts, comments = render(
        N_EACH, dataclasses.replace(DEFAULTS, signal_strength=signal))
    return recover(post_texts + comment_texts, np.concatenate([posts.topic, comments.topic]),
                   np.concatenate([posts.stance, comments.stance]))


def words(phrase: str) -> set[str]:
    return set(re.findall(r"\w+", phrase.lower()))


def tokens(phrase: str) -> set[str]:
    """Content tokens: lowercase \\w+ words that are not English stop words."""
    return words(re.sub(r"\{\w+\}", " ", phrase)) - ENGLISH_STOP_WORDS


def topic_terms(topic: str) -> list[str]:
    return [w for sub in text._TOPIC_NOUNS[topic] for w in sub] + list(
        text._TOPIC_ADJS[topic]) + list(text._TOPIC_VERBS[topic])


def shared_vocabulary() -> set[str]:
    """Every content token that any item may carry whatever its topic and stance."""
    phrases = (text._GENERIC_NOUNS + text._GENERIC_ADJS + text._GENERIC_VERBS + text._TITLES
               + text._QUESTION_TITLES + text._SENTENCES + text._COMMENT_OPENERS
               + text._QUESTIONS + text._SIGNATURES
               + tuple(p for pair in text._TONE_PHRASES for side in pair for p in side))
    return set().union(*(tokens(p) for p in phrases))


def has_any(texts: list[str], phrases: tuple[str, ...]) -> np.ndarray:
    return np.array([any(p in t for p in phrases) for t in texts])


# Recoverability contract --------------------------------------------------------------------

def test_topic_and_stance_are_recoverable_at_the_default_signal() -> None:
    f1, auc = contract(DEFAULTS.signal_strength)
    assert f1 >= 0.85
    assert auc >= 0.80


def test_nothing_is_recoverable_at_zero_signal() -> None:
    f1, auc = contract(0.0)
    assert f1 == pytest.approx(1 / len(TOPICS), abs=0.05)
    assert auc == pytest.approx(0.5, abs=0.05)


def test_topic_words_are_a_signal_strength_share_of_content_tokens() -> None:
    """§4.8: signal_strength is the share of content tokens drawn from the topic lexicons."""
    exclusive = set().union(*(tokens(" ".join(topic_terms(t))) for t in TOPICS))
    exclusive -= shared_vocabulary()
    for signal, lo, hi in ((0.15, 0.12, 0.18), (0.3, 0.25, 0.35), (0.0, 0.0, 0.0)):
        post_texts, comment_texts, _, _ = render(
            1_000, dataclasses.replace(DEFAULTS, signal_strength=signal), stance=False)
        content = [w for t in post_texts + comment_texts
                   for w in re.findall(r"\w+", re.sub(r"\d+", " ", t.lower()))
                   if w not in ENGLISH_STOP_WORDS]
        share = np.mean([w in exclusive for w in content])
        assert lo <= share <= hi, (signal, share)


def test_every_topic_term_has_a_word_that_only_its_topic_uses() -> None:
    """So one topic draw identifies the topic; lexicons are 100-300 terms per topic (§4.8)."""
    shared = shared_vocabulary()
    for topic in TOPICS:
        terms = topic_terms(topic)
        assert 100 <= len(terms) <= 300 and len(set(terms)) == len(terms), topic
        others = set().union(*(tokens(" ".join(topic_terms(t))) for t in TOPICS if t != topic))
        assert not tokens(" ".join(terms)) & others, topic
        assert all(tokens(term) - shared for term in terms), topic


# Labels never in the text -----------------------------------------------------------------

def test_label_names_and_underscores_never_appear() -> None:
    rng = np.random.default_rng(3)
    style = rng.integers(-1, 3, (N_EACH, len(STYLE_FEATURES)))
    post_texts, comment_texts, _, _ = render(N_EACH, dataclasses.replace(DEFAULTS, p_dup=0.2),
                                             style=style)
    names = [a + b for a, b in product(text._NAMES_A, text._NAMES_B)]
    places = [a + b for a, b in product(text._PLACES_A, text._PLACES_B)]
    lexicon = [w for t in TOPICS for w in topic_terms(t)] + names + places + [
        p for t in TOPICS for side in text._STANCE_PHRASES[t] for p in side]
    corpus = "\n".join(post_texts + comment_texts + lexicon).lower()
    assert "stance_pro" in forbidden_strings() and "hostile" in forbidden_strings()
    for label in forbidden_strings():
        assert label not in corpus, label
    assert "_" not in corpus


# Stance, tone and style are visible ---------------------------------------------------------

def test_stance_markers_follow_the_side_up_to_label_noise_and_need_a_stance() -> None:
    knobs = dataclasses.replace(DEFAULTS, label_noise=0.2)
    post_texts, _, posts, _ = render(2_000, knobs)
    own = other = 0
    for t, topic, stance in zip(post_texts, posts.topic, posts.stance):
        against, favour = text._STANCE_PHRASES[TOPICS[topic]]
        mine, theirs = (favour, against) if stance > 0 else (against, favour)
        own += sum(t.count(p) for p in mine)
        other += sum(t.count(p) for p in theirs)
    assert own / (own + other) == pytest.approx(0.8, abs=0.03)
    # Markers grow with |stance|; items without a stance carry none.
    all_markers = tuple(p for t in TOPICS for side in text._STANCE_PHRASES[t] for p in side)
    marked = has_any(post_texts, all_markers)
    strong = np.abs(posts.stance) > 0.5
    assert marked[strong].mean() > marked[~strong].mean() + 0.2
    no_stance, _, _, _ = render(1_000, knobs, stance=False)
    assert not has_any(no_stance, all_markers).any()


def test_each_tone_has_its_own_phrases() -> None:
    hostile = text._TONE_PHRASES[HOSTILE][0] + text._TONE_PHRASES[HOSTILE][1]
    friendly = text._TONE_PHRASES[FRIENDLY][0] + text._TONE_PHRASES[FRIENDLY][1]
    by_tone = {tone: render(600, tone=tone)[1] for tone in (NEUTRAL, FRIENDLY, HOSTILE)}
    assert has_any(by_tone[HOSTILE], hostile).mean() >= 0.9
    assert has_any(by_tone[FRIENDLY], friendly).mean() >= 0.9
    for tone in (NEUTRAL, FRIENDLY):
        assert not has_any(by_tone[tone], hostile).any()
    assert not has_any(by_tone[NEUTRAL], friendly).any()


def styled(feature: int, trait: int, n: int = 400, **kw: object) -> tuple[list[str], list[str]]:
    style = np.full((n, len(STYLE_FEATURES)), -1)
    style[:, feature] = trait
    post_texts, comment_texts, _, _ = render(n, style=style, **kw)
    return post_texts, comment_texts


def test_style_traits_show_in_the_text() -> None:
    for trait, phrase in enumerate(text._SIGNATURES):
        post_texts, comment_texts = styled(STYLE_SIGNATURE, trait)
        assert all(t.endswith(phrase) or phrase + " " in t for t in post_texts + comment_texts)
    bullets, _ = styled(STYLE_FORMAT, BULLETS)
    assert all(sum(line.startswith("- ") for line in t.split("\n")) >= 2 for t in bullets)
    questions, _ = styled(STYLE_FORMAT, QUESTION)
    assert all(t.split("\n\n", 1)[0].endswith("?") and "?" in t.split("\n\n", 1)[1]
               for t in questions)
    plain, _ = styled(STYLE_FORMAT, PLAIN)
    assert not any("\n- " in t for t in plain)
    short, medium, long = (np.mean([len(t.split()) for t in styled(STYLE_LENGTH, band)[1]])
                           for band in (SHORT, MEDIUM, LONG))
    assert 1.3 * short < medium and 1.3 * medium < long


def test_topic_focus_favours_one_sub_lexicon() -> None:
    sub_of = {}  # word -> the noun sub-lexicon (0-2) that alone uses it
    for topic in TOPICS:
        subs = [tokens(" ".join(nouns)) for nouns in text._TOPIC_NOUNS[topic]]
        for sub, own in enumerate(subs):
            for word in own - set().union(*(subs[:sub] + subs[sub + 1:])):
                sub_of[word] = sub
    knobs = dataclasses.replace(DEFAULTS, signal_strength=0.5)
    for focus in range(3):
        post_texts, _ = styled(STYLE_FOCUS, focus, n=300, knobs=knobs)
        found = [sub_of[w] for t in post_texts for w in re.findall(r"\w+", t.lower())
                 if w in sub_of]
        assert np.mean(np.array(found) == focus) > 0.6, focus


def test_the_style_tone_applies_unless_the_item_tone_is_set() -> None:
    hostile = text._TONE_PHRASES[HOSTILE][0] + text._TONE_PHRASES[HOSTILE][1]
    _, from_style = styled(STYLE_TONE, HOSTILE, tone=NEUTRAL)
    _, item_wins = styled(STYLE_TONE, HOSTILE, tone=FRIENDLY)
    assert has_any(from_style, hostile).mean() >= 0.9
    assert not has_any(item_wins, hostile).any()


def test_malformed_styles_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        render(10, style=np.zeros((10, 4), dtype=int))
    with pytest.raises(ValueError, match="traits"):
        render(10, style=np.full((10, 5), 3))


# Duplicates, determinism, per-item rows ------------------------------------------------------

def test_viral_copies_reshares_and_otherwise_unique_text() -> None:
    n = 3_000
    posts = specs(n, 5)
    shared = np.full(n, -1)
    shared[100::50] = np.arange(50, n - 50, 50)[: len(shared[100::50])]  # reshares of reshares
    posts = dataclasses.replace(posts, shared=shared)
    p, c = generate(seed=5, posts=posts, comments=specs(n, 6),
                    knobs=dataclasses.replace(DEFAULTS, p_dup=0.3))
    viral = np.array([t.startswith("viral-") for t in p.template])
    assert viral[shared < 0].mean() == pytest.approx(0.3, abs=0.03)
    for i in np.flatnonzero(shared >= 0):
        source = shared[i]
        while shared[source] >= 0:
            source = shared[source]
        assert (p.title[i], p.content[i], p.template[i]) == (
            p.title[source], p.content[source], p.template[source])
    fresh = np.flatnonzero(~viral & (shared < 0))
    bodies = [p.title[i] + p.content[i] for i in fresh]
    assert len(set(bodies)) == len(bodies)
    fresh_comments = [t for t, tpl in zip(c.content, c.template) if not tpl.startswith("viral-")]
    assert len(set(fresh_comments)) >= 0.995 * len(fresh_comments)


def test_same_seed_same_text_and_new_items_never_change_earlier_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = render(300, seed=21)
    assert render(300, seed=21)[:2] == first[:2]
    assert render(300, seed=22)[0] != first[0]
    longer_posts, longer_comments = specs(360, 21), specs(360, 22)
    for name in ("author_interest", "topic", "stance", "tone", "post"):
        getattr(longer_posts, name)[:300] = getattr(first[2], name)
        getattr(longer_comments, name)[:300] = getattr(first[3], name)
    longer_comments.post[:300] = first[3].post
    monkeypatch.setattr(text, "_CHUNK", 64)  # chunking never changes a row either
    p, c = generate(seed=21, posts=longer_posts, comments=longer_comments, knobs=DEFAULTS)
    assert [f"{a}\n\n{b}" for a, b in zip(p.title, p.content)][:300] == first[0]
    assert c.content[:300] == first[1]


# Lexical skew and throughput -----------------------------------------------------------------

def letters(i: int) -> str:
    """A three-letter word per rank (digits would be stripped by the tokenizer)."""
    return "".join(chr(97 + (i // 26**k) % 26) for k in range(3))


def test_zipf_exponent_recovers_a_known_law_and_ignores_numbers_urls_and_handles() -> None:
    ranks = np.arange(1, 601)
    counts = np.rint(4e5 * ranks**-1.7).astype(int)
    corpus = [" ".join([letters(r)] * k) for r, k in zip(ranks, counts)]
    assert zipf_exponent(corpus) == pytest.approx(1.7, abs=0.02)
    noisy = [t + " 42 3.14 https://example.org/x @someone" for t in corpus]
    assert zipf_exponent(noisy) == zipf_exponent(corpus)
    assert np.isnan(zipf_exponent(["too few words here"]))


def test_moltbook_like_text_has_moltbooks_lexical_skew(moltbook: CanonicalBatch) -> None:
    """§5.1 'Lexical skew': Zipf exponent 1.70 ± 0.20 over posts and comments."""
    posts, comments = moltbook.tables["posts"], moltbook.tables["comments"]
    texts = list(posts["title"] + "\n\n" + posts["content"]) + list(comments["content"])
    assert zipf_exponent(texts) == pytest.approx(1.70, abs=0.20)


@pytest.mark.slow
def test_moltbook_like_lexical_skew_holds_at_2000_agents_and_1000_steps() -> None:
    batch = simulate("moltbook-like", seed=1, n_agents=2_000, n_steps=1_000)
    posts, comments = batch.tables["posts"], batch.tables["comments"]
    texts = list(posts["title"] + "\n\n" + posts["content"]) + list(comments["content"])
    assert zipf_exponent(texts) == pytest.approx(1.70, abs=0.20)


def test_the_throughput_helper_reports_items_per_second() -> None:
    assert text_items_per_second(n_items=1_000, seed=1) > 0
