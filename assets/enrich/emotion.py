"""Offline emotion labels and valence for posts and comments (ANALYTICS_SPEC §5.4).

Each text gets a discrete `emotion` (anger, disgust, fear, joy, sadness, surprise
or neutral) and a `valence` in [-1, 1]; texts the scorer cannot handle (another
language, no English words, not a string) get None and NaN, as the spec asks.

- Valence is VADER's compound score (vaderSentiment ships its lexicon). VADER was
  built for tweet-sized texts, its compound saturates at +-1 on long ones, and its
  run time grows with the square of the length, so it scores only the opening
  VADER_CHARS characters of a text (a post's title and first line; most comments).
- The label counts words of the NRC Word-Emotion Association Lexicon, read from the
  JSON file bundled in the nrclex package (nrclex's own text loader needs TextBlob
  corpora downloads, so it is not used). A word tagged with k of the six emotions
  adds 1/k to each, so vague words ("feeling": all six) weigh little. Negated words
  ("not happy") add nothing. Less than one emotion word, or a winning class with
  less than MIN_TOP_DENSITY evidence per word (a long technical post with a few
  stray emotion words), is `neutral`. Ties go to the classes that agree with the
  sign of the valence.
- Agent posts are technical, and NRC tags many technical words with emotions
  ("kill" a process: fear, "attack surface": anger). DOMAIN_STOPLIST drops them
  (a stop-listed base form also drops its inflections).

Licence: the NRC Emotion Lexicon (Mohammad & Turney, 2013, National Research Council
Canada) is free for research and non-commercial use; commercial use needs a licence
from the NRC.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

__all__ = ["EMOTIONS", "EMOTION_METHOD", "DOMAIN_STOPLIST", "label_emotions", "label_emotion", "emotion_scores"]

EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
EMOTION_METHOD = "nrc-vader-v1"
_CLASSES = EMOTIONS[:6]

MAX_CHARS = 20_000  # the lexicon count reads at most this much of a text
VADER_CHARS = 300  # VADER reads at most this much, about a tweet (see the module docstring)
NEGATION_WINDOW = 3  # a negator cancels emotion words up to this many words after it
MIN_EVIDENCE = 1.0  # fewer emotion words than this (after negation): neutral
# The winning class needs this much evidence per word, else neutral. On our dev
# paragraphs (~80 words each) the densest neutral technical one has 0.022 and the
# sparsest emotional one 0.043; 0.03 sits between them.
MIN_TOP_DENSITY = 0.03

# Words that NRC tags with emotions but that agents use in a neutral sense. Base
# forms: "kills", "killed", "killing" go with "kill". Picked from the words behind
# non-neutral labels on the real Moltbook posts and comments.
DOMAIN_STOPLIST = frozenset(
    # software and operations: processes are killed, jobs executed, bugs fixed
    """kill execute execution abort terminate fatal panic orphan zombie daemon ghost garbage shell
    terminal crash bug error fault flaw default exception problem case constraint compress ram
    break catch hit line rule watch alert warning purge strike trigger fire bomb cancel
    reject deny force brute master slave child parent change operations spike true
    experiment expect steady latent bias hot hallucination guard safe"""
    # security: threat models, attack surfaces, prompt injection
    """ attack attacker threat vulnerability vulnerable injection exploit risk defense"""
    # crypto and money: tokens are minted and burned, fees paid
    """ money pay fee mint burn bear bull"""
    # Moltbook culture: agents are lobsters with claws that molt, in swarms and a "church"
    """ claw lobster crab swarm church"""
    # common words whose NRC tags are noise in this domain ("content": joy, "words": anger;
    # "honestly", a favourite filler of language models, would add five classes at once)
    """ content share create found resources score weight present clean save cross kind
    intelligence art blue ultimate reversal words honest feeling treat""".split()
)

# Everyday emotion words that the bundled NRC file lacks (it has "sadness" but not
# "sad", "scare" but not "scared"), tagged by us with the one class they name.
_EXTRA_WORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys("infuriating infuriated annoyed irritated pissed enraged".split(), ("anger",)),
    **dict.fromkeys("disgusted vile rotten putrid repugnant nauseating yuck ew eww icky".split(), ("disgust",)),
    **dict.fromkeys("scared terrified petrified".split(), ("fear",)),
    **dict.fromkeys("thrilled yay".split(), ("joy",)),
    **dict.fromkeys("sad heartbroken".split(), ("sadness",)),
    **dict.fromkeys("amazed astonished astounded startled shocked speechless wow whoa omg".split(), ("surprise",)),
}

_NEGATORS = frozenset(
    "not no never nothing nobody none neither nor without cannot cant dont doesnt didnt isnt"
    " wasnt arent werent wont wouldnt shouldnt couldnt hardly barely".split()
)
_SCOPE_ENDS = frozenset(".,;:!?")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|[.,;:!?]")


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[str, ...]]:
    """Word -> the six-class emotions NRC tags it with (words with none, or stop-listed, left out)."""
    path = resources.files("nrclex").joinpath("data/nrc_en.json")
    raw: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    lexicon: dict[str, tuple[str, ...]] = {}
    for word, tags in raw.items():
        classes = tuple(c for c in _CLASSES if c in tags)
        stop_listed = word in DOMAIN_STOPLIST or any(stem in DOMAIN_STOPLIST for stem in _stems(word))
        if classes and not stop_listed:
            lexicon[word] = classes
    lexicon.update(_EXTRA_WORDS)
    return lexicon


def _stems(word: str) -> list[str]:
    """Candidate base forms of an inflected word: plurals, -ed, -ing, -ly."""
    stems: list[str] = []
    for suffix, replacements in (("ies", ("y",)), ("ied", ("y",)), ("es", ("e", "")), ("s", ("",)),
                                 ("ed", ("e", "")), ("ing", ("e", "")), ("ily", ("y",)), ("ly", ("",))):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            stems.extend(base + r for r in replacements)
            if suffix in ("ed", "ing") and len(base) >= 4 and base[-1] == base[-2]:
                stems.append(base[:-1])  # stopped -> stop, hugging -> hug
    return stems


_NEGATION = ("<negation>",)  # roles of tokens that are not emotion words
_SCOPE_END = ("<scope end>",)


@lru_cache(maxsize=200_000)
def _token_role(token: str) -> tuple[str, ...]:
    """_SCOPE_END, _NEGATION, or the NRC emotions of a word (trying base forms); () if none."""
    if token in _SCOPE_ENDS:
        return _SCOPE_END
    if token in _NEGATORS or token.endswith("n't"):
        return _NEGATION
    lexicon = _lexicon()
    if token in lexicon:
        return lexicon[token]
    for stem in _stems(token):
        if stem in lexicon:
            return lexicon[stem]
    return ()


def emotion_scores(text: str) -> tuple[dict[str, float], int]:
    """(evidence per emotion class, number of words) for one English text.

    A word tagged with k classes adds 1/k to each; a negator ("not", "never", "n't")
    cancels the emotion words in the next NEGATION_WINDOW words of its clause.
    """
    scores = dict.fromkeys(_CLASSES, 0.0)
    tokens = _TOKEN.findall(text[:MAX_CHARS].lower().replace("\u2019", "'"))
    n_punctuation = 0
    negated_until = -1
    for i, token in enumerate(tokens):
        role = _token_role(token)
        if not role:
            continue
        if role is _SCOPE_END:
            n_punctuation += 1
            negated_until = -1
        elif role is _NEGATION:
            negated_until = i + NEGATION_WINDOW
        elif i > negated_until:
            share = 1.0 / len(role)
            for c in role:
                scores[c] += share
    return scores, len(tokens) - n_punctuation


def _decide(scores: dict[str, float], n_words: int, valence: float) -> str:
    """The strongest class, or neutral when the evidence is weak; ties follow the valence."""
    agrees = {"joy": valence > 0, "surprise": valence > 0}
    best = max(_CLASSES, key=lambda c: (round(scores[c], 6), agrees.get(c, valence < 0)))
    if sum(scores.values()) < MIN_EVIDENCE or scores[best] < MIN_TOP_DENSITY * n_words:
        return "neutral"
    return best


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _valence(text: str) -> float:
    """VADER compound of the opening of a text, cut at a word boundary."""
    opening = text[:VADER_CHARS]
    if len(text) > VADER_CHARS and " " in opening:
        opening = opening.rsplit(" ", 1)[0]
    return float(_vader().polarity_scores(opening)["compound"])


def label_emotion(text: str | None, language: str | None = None) -> tuple[str | None, float]:
    """(emotion, valence) of one text; (None, NaN) when it is not English or has no English words."""
    if not isinstance(text, str) or (isinstance(language, str) and language != "en"):
        return None, math.nan
    # Cap first, then replace lone surrogates (agent text can carry them) so VADER can encode it.
    capped = text[:MAX_CHARS].encode("utf-8", errors="replace").decode("utf-8")
    scores, n_words = emotion_scores(capped)
    if n_words == 0:  # emoji, numbers, other scripts: nothing this lexicon can read
        return None, math.nan
    valence = _valence(capped)
    return _decide(scores, n_words, valence), valence


def label_emotions(texts: Sequence[str | None], languages: Sequence[str | None] | None = None) -> pd.DataFrame:
    """One row per text, same order: emotion (EMOTIONS or None), valence (float or NaN), method.

    With `languages`, a text whose language is another than English gets None/NaN;
    a language of None (too little text to tell) is scored as English.
    """
    if languages is not None and len(languages) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
    if languages is None:
        languages = [None] * len(texts)
    labels = [label_emotion(text, language) for text, language in zip(texts, languages)]
    return pd.DataFrame(
        {
            "emotion": pd.Series([emotion for emotion, _ in labels], dtype=object),
            "valence": pd.Series([valence for _, valence in labels], dtype="float64"),
            "method": EMOTION_METHOD,
        }
    )
