"""Offline language detection for posts and comments (ANALYTICS_SPEC §1.1).

Each text gets an ISO 639-1 code from py3langid (a Naive Bayes model over byte
n-grams that ships inside the package, so nothing downloads), or None when the
text has too little language in it to judge.

Why the extra steps around py3langid:
- Speed: the model walks every byte in pure Python, so only a cleaned prefix of
  each text is classified (the language of a post is settled in its first lines).
- Noise: URLs, @mentions, code, JSON, numbers, hashes and emoji are not
  language; left in, they pull short texts towards random languages. A text
  dense in code punctuation ({}[]();=<>) is code and gets None.
- Short texts: on a few words py3langid guesses wildly ("hello world" -> fuv,
  "thanks" -> xh). An ASCII-only short text that contains a common English word
  is labelled "en" directly; other short ASCII texts lean towards English (it is
  by far the most common language on agent platforms), and any short text whose
  best guess is weak gets None rather than a random language.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Sequence
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = ["LANGUAGE_METHOD", "detect_languages", "detect_language", "clean_for_language"]

LANGUAGE_METHOD = f"py3langid-{importlib.metadata.version('py3langid')}"

RAW_PREFIX_CHARS = 2_500  # cleaning looks at this much of the raw text ...
CLASSIFY_CHARS = 400  # ... and the model sees this much of the cleaned text (600: same labels on
# the real posts but one, ~10% slower; 200: four labels change)
MIN_LETTERS = 3  # fewer letters than this: no language (emoji-only, numbers, code)
MAX_CODE_DENSITY = 0.15  # more code punctuation per letter than this: code, not language
SHORT_LETTERS = 40  # below this many letters the model alone is unreliable
# Short ASCII texts without English cue words: English is weighted this many times
# over each other language (English is ~90% of Moltbook, so 10 is conservative).
# Then a short text whose best language has less than MIN_SHORT_PROBABILITY is None.
# On 400 short English fragments of real comments plus 34 short greetings in other
# languages: 95% / 88% correct, 3% / 3% None (py3langid alone: 80% / 88%).
SHORT_ENGLISH_PRIOR = 10.0
MIN_SHORT_PROBABILITY = 0.1

# py3langid labels that are not ISO 639-1: map dialects and historic forms to their
# 639-1 macrolanguage; "zxx" means "no linguistic content"; the rest have no 639-1
# code and are skipped in favour of the best label that has one.
_TO_ISO1 = {
    "yue": "zh", "wuu": "zh", "arz": "ar", "ary": "ar", "uzs": "uz", "sdh": "ku",
    "hbo": "he", "grc": "el", "fuv": "ff", "gug": "gn", "kik": "ki",
}
_NO_ISO1 = {"ace", "bcl", "crh", "ext", "gcf", "gcr", "gom", "guw", "kab", "lij", "ltg", "nso", "pcm", "vec"}

# Common English words that are rarely words in other Latin-script languages (so not
# "a", "no", "me", "so", "on", "am", "was", "will", "die", "in", "hat", which are, nor
# "ok" and "lol", which every language borrows). "test" is here for agents' test posts.
_ENGLISH_CUES = frozenset(
    """the and you your yours this that these those with have has had what why how who when where
    is are be been it's i'm i've i'll you're don't can't doesn't isn't thats im dont cant
    of to for from at by my our we they them their its just not yes yeah yep
    hello hi hey thanks thank thx welcome good great nice cool awesome love agree agreed true
    interesting exactly indeed congrats congratulations morning night everyone friends
    here there about would could should really very much more some any every
    new test testing world first day today bro""".split()
)

_CODE_PUNCTUATION = re.compile(r"[{}\[\]();=<>\\|]")  # prose: median 0.003 per letter, p99 0.06
_FENCED_CODE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_JSON_OBJECT = re.compile(r"\{[^{}]*\}")
_HTML_TAG = re.compile(r"<[^<>\n]{0,200}>")
# Whole tokens with a digit (numbers, hashes, 0x addresses, base64, leetspeak), a URL,
# an @mention or an m/community, u/user reference.
_NON_WORD_TOKEN = re.compile(r"(?<!\S)\S*(?:\d|https?://|www\.|@|\b[mu]/)\S*", re.IGNORECASE)
_SYMBOLS = re.compile(
    "["
    "\U0001F000-\U0001FAFF"  # emoji, flags, playing cards
    "\u2190-\u21FF\u2300-\u23FF\u2500-\u27BF\u2B00-\u2BFF"  # arrows, technical, shapes, dingbats
    "\uFE00-\uFE0F\u200D\u20E3\U000E0000-\U000E007F"  # variation selectors, joiners, tags
    "#*_~|<>{}\\[\\]()=+\\\\^$%&/\"`"  # markdown and code punctuation
    "]+"
)
_WORD = re.compile(r"[a-z']+")


def clean_for_language(text: str) -> str:
    """The language-bearing part of a text's prefix: no code, URLs, mentions, numbers or emoji."""
    s = text[:RAW_PREFIX_CHARS]
    s = _FENCED_CODE.sub(" ", s)
    s = _INLINE_CODE.sub(" ", s)
    s = _JSON_OBJECT.sub(" ", s)
    s = _HTML_TAG.sub(" ", s)
    s = _NON_WORD_TOKEN.sub(" ", s)
    s = _SYMBOLS.sub(" ", s)
    return " ".join(s.split())[:CLASSIFY_CHARS]


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """py3langid's bundled model, with probabilities (loads in about a second, once)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _language_probabilities(cleaned: str) -> dict[str, float]:
    """Model probability per ISO 639-1 code (and "zxx"); dialect labels add to their macrolanguage."""
    probabilities: dict[str, float] = {}
    for label, probability in _identifier().rank(cleaned):
        if label not in _NO_ISO1:
            code = _TO_ISO1.get(label, label)
            probabilities[code] = probabilities.get(code, 0.0) + probability
    return probabilities


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of one text, or None when it cannot be judged."""
    if not isinstance(text, str):
        return None
    prefix = text[:RAW_PREFIX_CHARS]
    if len(_CODE_PUNCTUATION.findall(prefix)) > MAX_CODE_DENSITY * sum(map(str.isalpha, prefix)):
        return None
    cleaned = clean_for_language(prefix)
    n_letters = sum(map(str.isalpha, cleaned))
    if n_letters < MIN_LETTERS:
        return None
    short = n_letters < SHORT_LETTERS
    if not short:  # the fast path: the model's single best label
        label, _ = _identifier().classify(cleaned)
        if label not in _NO_ISO1:
            return None if label == "zxx" else _TO_ISO1.get(label, label)
    plain = cleaned.replace("\u2019", "'")
    short_latin = short and plain.isascii()
    if short_latin and any(word in _ENGLISH_CUES for word in _WORD.findall(plain.lower())):
        return "en"
    probabilities = _language_probabilities(cleaned)
    if short_latin:
        probabilities["en"] *= SHORT_ENGLISH_PRIOR
    total = sum(probabilities.values())
    code = max(probabilities, key=probabilities.__getitem__)
    if total <= 0.0 or code == "zxx" or (short and probabilities[code] < MIN_SHORT_PROBABILITY * total):
        return None
    return code


def detect_languages(texts: Sequence[str | None]) -> list[str | None]:
    """ISO 639-1 code per text, same order; None for texts too short or too symbolic to judge."""
    return [detect_language(text) for text in texts]
