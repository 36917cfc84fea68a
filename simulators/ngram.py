"""Filler sentences from an order-2 word Markov chain (SIMULATORS.md §4.8, layer 4).

A filler sentence is topic- and stance-free padding that makes bodies less template-like. The
chain's context is the previous two tokens; each sentence starts from two start pads and ends at
the end token or at `MAX_TOKENS`. Tokens are whitespace-separated words with their punctuation,
so a sampled sentence keeps the capitals and full stops of its corpus.

`train(sentences)` counts every (context, next token) transition and stores, per context, the
cumulative distribution over next tokens in flat numpy arrays (CSR-style offsets). `sample`
walks many sentences at once: at each position one `np.searchsorted` on the flat cumulative
array, shifted by the context's index, picks every row's next token from that row's own context
range with that row's own uniform.

The default chain (`default_chain()`) is trained on a licence-clean corpus: grammar output of
`simulators.text` (its body skeletons filled from the generic lexicon only, at a fixed seed) and
the short hand-written sentences below, all invented for this project. Neither carries a topic,
stance, tone or style word (the tests check the vocabulary). Users may retrain on their own
archive: `SimConfig.filler_corpus` names a UTF-8 text file with one sentence per line (blank
lines skipped), and the config stores its SHA-256 so a run stays reproducible.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

START, END = 0, 1  # reserved token ids: the start pad and the end of a sentence
MAX_TOKENS = 24  # a sampled sentence is cut after this many tokens
MAX_FILLERS_PER_ITEM = 3  # filler slots per body; filler_rate lies in [0, this]
_TERMINAL = (".", "!", "?")

# Hand-written, topic-free everyday sentences (original to this project), one per entry.
HANDWRITTEN: tuple[str, ...] = (
    "The bus was late again, so I counted the windows across the street.",
    "A small bird landed on the fence and left before anyone noticed.",
    "Somebody painted the gate green last week.",
    "The kitchen smells of toast and lemon in the morning.",
    "I like how the library goes quiet just before lunch.",
    "There was a long queue at the market, but it moved quickly.",
    "The clock in the hallway runs a little fast.",
    "The wind pulled a paper kite over the hill.",
    "A stranger asked for directions to the museum.",
    "The coffee went cold while I was sorting the drawer.",
    "Two boats sat in the harbour with their sails folded.",
    "The lamp on the desk flickers now and then.",
    "I found an old postcard inside a borrowed book.",
    "The garden is thirsty after such a dry week.",
    "Somebody left a blue scarf on the bench by the fountain.",
    "The stairs creak in the same three places.",
    "A parcel arrived with the wrong address on it.",
    "The soup needed more salt and a little pepper.",
    "We waited under the bridge until the shower passed.",
    "The train stopped twice between the two towns.",
    "Every chair in the room was a different colour.",
    "A bell rang somewhere across the square.",
    "The pencil was worn down to a tiny stub.",
    "I wrapped the gift in brown paper and string.",
    "The afternoon light made the curtains glow.",
    "A cup of tea sat forgotten on the windowsill.",
    "The map never folds back the way it came.",
    "Somebody whistled a tune on the way past the bakery.",
    "The cake came out flat, but it tasted fine.",
    "Light snow covered the cars parked along the road.",
    "A loose button rolled under the cupboard.",
    "The clouds moved slowly over the lake.",
    "I counted seven steps from the door to the gate.",
    "The radio played an old song in the kitchen.",
    "A fish jumped near the boat and vanished.",
    "The notebook was full of small sketches of trees.",
    "We shared a sandwich on the steps of the library.",
    "The village has one shop, one bench and one bell.",
    "The wheel squeaked all the way up the hill.",
    "A candle flickered on the table.",
    "The weather turned grey just after noon.",
    "I tidied the shelf and found three odd buttons.",
    "The ticket machine at the station was broken again.",
    "A kite got stuck in the tall tree by the road.",
    "The path along the coast is muddy in spring.",
    "The puzzle was missing a corner piece.",
    "Somebody fixed the squeaky hinge on the gate.",
    "The market stalls were folded up before dark.",
    "The apples in the basket were still a bit sour.",
    "A puddle by the door reflected the sky.",
    "The museum was quiet except for the clock.",
    "Is the bakery on the corner still there?",
    "Did the train ever leave on time?",
    "What colour was the door before they painted it?",
)


@dataclass(frozen=True)
class FillerChain:
    """An order-2 chain: for context c = (prev2, prev1), the transitions offsets[c]:offsets[c+1]
    hold the next tokens (ascending id) and their cumulative probabilities (the last is 1)."""

    words: np.ndarray  # object (V,): words[START], words[END] are pads, then sorted vocabulary
    context_keys: np.ndarray  # int64 (C,), ascending: prev2 * V + prev1
    offsets: np.ndarray  # int64 (C + 1,)
    next_token: np.ndarray  # int64 (T,)
    cumulative: np.ndarray  # float64 (T,)
    shifted: np.ndarray  # float64 (T,): cumulative + context index, for one searchsorted
    ends_sentence: np.ndarray  # bool (V,): the word ends in . ! or ?

    @property
    def vocabulary(self) -> list[str]:
        """The corpus words (the two pads left out), sorted."""
        return self.words[2:].tolist()

    def transitions(self, prev2: str | None, prev1: str | None) -> dict[str | None, float]:
        """Next-word probabilities after (prev2, prev1); None stands for the start pad on the
        way in and for the end of the sentence on the way out."""
        ids = {w: i for i, w in enumerate(self.words.tolist()) if i > END}
        a = START if prev2 is None else ids[prev2]
        b = START if prev1 is None else ids[prev1]
        c = int(np.searchsorted(self.context_keys, a * len(self.words) + b))
        if c == len(self.context_keys) or self.context_keys[c] != a * len(self.words) + b:
            return {}
        lo, hi = self.offsets[c], self.offsets[c + 1]
        probs = np.diff(np.concatenate([[0.0], self.cumulative[lo:hi]]))
        return {(None if t == END else str(self.words[t])): float(p)
                for t, p in zip(self.next_token[lo:hi].tolist(), probs)}


def train(sentences: Iterable[str]) -> FillerChain:
    """Count the order-2 transitions of whitespace-tokenised sentences (deterministic: token ids
    follow the sorted vocabulary, transitions are sorted by (context, next token))."""
    tokenised = [s.split() for s in sentences]
    tokenised = [t for t in tokenised if t]
    if not tokenised:
        raise ValueError("the filler corpus has no sentence")
    vocabulary = sorted({w for t in tokenised for w in t})
    ids = {w: i + 2 for i, w in enumerate(vocabulary)}
    n_words = len(vocabulary) + 2
    # One flat stream: START START w1 .. wn END per sentence; a triple starting at a sentence's
    # k-th slot (k = 0 .. n) stays inside it.
    padded = np.concatenate([np.array([START, START] + [ids[w] for w in t] + [END],
                                      dtype=np.int64) for t in tokenised])
    lengths = np.array([len(t) + 3 for t in tokenised])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    first = np.concatenate([start + np.arange(length - 2)
                            for start, length in zip(starts.tolist(), lengths.tolist())])
    triples = np.stack([padded[first], padded[first + 1], padded[first + 2]], axis=1)
    unique, counts = np.unique(triples, axis=0, return_counts=True)  # lexicographic order
    keys = unique[:, 0] * n_words + unique[:, 1]
    context_keys, context_start = np.unique(keys, return_index=True)
    offsets = np.append(context_start, len(keys)).astype(np.int64)
    context_of = np.repeat(np.arange(len(context_keys)), np.diff(offsets))
    running = np.cumsum(counts).astype(float)
    before = np.concatenate([[0.0], running])[offsets[:-1]]  # count before each context
    total = running[offsets[1:] - 1] - before
    cumulative = (running - before[context_of]) / total[context_of]
    cumulative[offsets[1:] - 1] = 1.0
    words = np.array(["<s>", "</s>"] + vocabulary, dtype=object)
    return FillerChain(
        words=words, context_keys=context_keys, offsets=offsets, next_token=unique[:, 2],
        cumulative=cumulative, shifted=cumulative + context_of,
        ends_sentence=np.array([w.endswith(_TERMINAL) for w in words.tolist()]),
    )


def sample_ids(chain: FillerChain, u: np.ndarray) -> np.ndarray:
    """Token ids (n, max_len) of n sentences, walked at once; row i reads uniform u[i, t] at
    position t. After a sentence's last word the row holds END."""
    n, max_len = u.shape
    out = np.full((n, max_len), END, dtype=np.int64)
    prev2 = np.full(n, START, dtype=np.int64)
    prev1 = np.full(n, START, dtype=np.int64)
    alive = np.arange(n)
    n_words = len(chain.words)
    for t in range(max_len):
        if not len(alive):
            break
        context = np.searchsorted(chain.context_keys, prev2[alive] * n_words + prev1[alive])
        pick = np.searchsorted(chain.shifted, context + u[alive, t], side="right")
        pick = np.minimum(pick, chain.offsets[context + 1] - 1)  # u next to 1 rounding up
        token = chain.next_token[pick]
        out[alive, t] = token
        going = token != END
        alive, token = alive[going], token[going]
        prev2[alive], prev1[alive] = prev1[alive], token
    return out


def sample(chain: FillerChain, u: np.ndarray) -> np.ndarray:
    """Sentences (object array) for the rows of `u` (n, max_len); a sentence cut at max_len
    that lacks a final . ! or ? gets a full stop."""
    ids = sample_ids(chain, u)
    out = np.full(len(ids), "", dtype=object)
    for t in range(ids.shape[1]):
        rows = np.flatnonzero(ids[:, t] != END)
        if not len(rows):
            break
        out[rows] = out[rows] + ("" if t == 0 else " ") + chain.words[ids[rows, t]]
    cut = np.flatnonzero(ids[:, -1] != END)
    unfinished = cut[~chain.ends_sentence[ids[cut, -1]]]
    out[unfinished] = out[unfinished] + "."
    return out


def read_corpus(path: str | Path) -> list[str]:
    """Sentences of a corpus file: UTF-8, one sentence per line, blank lines skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def corpus_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a corpus file's bytes (stored in the config beside the path)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.cache
def default_chain() -> FillerChain:
    """The built-in chain: text-grammar output plus `HANDWRITTEN`, trained once per process."""
    from simulators.text import generic_sentences  # local: text imports this module

    return train(generic_sentences() + list(HANDWRITTEN))


@functools.cache
def _chain_from_file(path: str, sha256: str) -> FillerChain:
    found = corpus_sha256(path)
    if found != sha256:
        raise ValueError(f"filler corpus {path} changed: SHA-256 {found}, config says {sha256}")
    return train(read_corpus(path))


def filler_chain(corpus: str | None = None, sha256: str | None = None) -> FillerChain:
    """The chain of a config: built in (no corpus), else trained on the corpus file, whose
    content must match `sha256` when given (cached per path and hash)."""
    if corpus is None:
        return default_chain()
    return _chain_from_file(str(corpus), sha256 or corpus_sha256(corpus))
