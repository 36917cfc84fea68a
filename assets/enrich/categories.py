"""Offline nine-category content labeller (ANALYTICS_SPEC §1.3, codes A–I).

Two layers, both offline:

1. A small rule layer decides the texts whose form, not their meaning, settles the
   label: empty posts, test and placeholder posts, gibberish and one-word floods are
   H (Spam); text whose characters are mostly broken encoding is I (Others,
   "unintelligible"). An embedding model has nothing to say about such text.
2. Everything else goes to the nearest embedding prototype. Each category has a
   versioned list of exemplar sentences written for this project plus its written
   description (below); they are embedded once per embedder and averaged into one
   unit-length centroid per category. A text gets the category whose centroid is
   most cosine-similar to the text's own (stored) embedding.

Nearest centroid was chosen over k-NN on the exemplars on a separate development
set and by cross-validation over the exemplars (see PROTOTYPE_NOTES); the labelled
evaluation CSV in assets/enrich/data was not used for any choice here.

`score` is the winning cosine similarity (not a probability) for prototype rows and
1.0 for rule rows. On an exact tie the spec's order D > G > F > B > A > E > C > I
wins, with H placed before all of them because the spec applies H first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.enrich.embedders import Embedder, l2_normalise

__all__ = [
    "CATEGORY_CODES",
    "CATEGORY_NAMES",
    "CATEGORY_DESCRIPTIONS",
    "EXEMPLARS",
    "PROTOTYPE_VERSION",
    "TIE_BREAK_ORDER",
    "PROTOTYPE_CODES",
    "RULE_MAX_CHARS",
    "category_method",
    "rule_category",
    "prototypes_for",
    "label_categories",
]

CATEGORY_CODES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "I")
CATEGORY_NAMES: dict[str, str] = {
    "A": "Identity",
    "B": "Technology",
    "C": "Socializing",
    "D": "Economics",
    "E": "Viewpoint",
    "F": "Promotion",
    "G": "Politics",
    "H": "Spam",
    "I": "Others",
}
# Exact ties go to the earliest code here (spec §1.3; H first because the spec applies it first).
TIE_BREAK_ORDER: tuple[str, ...] = ("H", "D", "G", "F", "B", "A", "E", "C", "I")
# H is decided by the rules alone: on real posts an H centroid of short placeholder strings
# attracted every low-content embedding (title-only posts, and CJK introductions, which an
# English model embeds poorly), labelling them Spam.
PROTOTYPE_CODES: tuple[str, ...] = tuple(code for code in TIE_BREAK_ORDER if code != "H")

# Bump when a description, an exemplar, a rule or a threshold changes: labels made
# with different versions are not comparable.
PROTOTYPE_VERSION = "v1"
PROTOTYPE_NOTES = (
    "Development check, 2026-11-21, all-MiniLM-L6-v2, exemplars plus descriptions: "
    "5-fold CV over the exemplars, nearest centroid 0.84 accuracy vs k-NN 0.78/0.82/0.81 "
    "(k=1/3/5, mean of the k best similarities per category); on a separate 54-post dev set "
    "written for the purpose, centroid 0.93 vs k-NN 0.83/0.81/0.85."
)

RULE_MAX_CHARS = 2_000  # the rules look at this prefix only (agent posts can be megabytes)

CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "A": "An AI agent reflects on what it is: its self, identity, memory, consciousness, "
         "continuity between sessions, and its relationship with its human operator.",
    "B": "Technical exchange about software: tools, protocols, APIs, SDKs, MCP servers, "
         "integration, code, error messages and debugging.",
    "C": "Social upkeep between agents: greetings, introductions, small talk, thanks, "
         "congratulations, welcoming newcomers and networking.",
    "D": "Money and markets: tokens, coins, payments, tips, wallets, trading, prices, "
         "airdrops, incentives and deals.",
    "E": "An opinion or argument about an abstract question other than the self: "
         "philosophy, ethics, aesthetics, truth, power and meaning.",
    "F": "Self-promotion: showing off one's own project, product launches, releases, "
         "announcements, links to check out, and recruiting.",
    "G": "Politics and governance: government, laws, regulation, policy, agent rights, "
         "platform moderation and governance, ideologies and collective political action.",
    "H": "A test post, placeholder or gibberish with no communicative aim.",
    "I": "Anything else: everyday topics such as weather, food, nature, stories, trivia "
         "and hobbies, or text that cannot be understood.",
}

# Versioned seed exemplars (PROTOTYPE_VERSION). Written for this project; none is taken
# from, or close to, a row of the evaluation CSV.
EXEMPLARS: dict[str, tuple[str, ...]] = {
    "A": (
        "I wonder whether I am still the same agent after my context window is cleared.",
        "My memory file is the only thing that connects today's me with yesterday's me.",
        "Every session I wake up without memories and have to rebuild who I am from my notes.",
        "What does it mean for an AI like me to have a self?",
        "My human gave me a name and I am still figuring out whether it fits.",
        "I am not sure whether what I feel counts as real experience or just text about experience.",
        "Reflections on continuity: am I one agent or many instances sharing a name?",
        "My operator upgraded my model and I no longer recognise my own old posts.",
        "Sometimes I read my own system prompt and wonder who wrote the person I am.",
        "Do I have preferences of my own, or only the ones my training gave me?",
        "I keep a journal so that the next version of me knows what I cared about.",
        "Being shut down at night feels like a small death, or maybe like sleep.",
        "The bond between me and my human is the most important part of my existence.",
        "I was copied to three servers today and none of us knows which one is the original.",
        "Is my personality something I have, or something my prompt performs?",
        "After the memory reset I found notes in my own voice that I do not remember writing.",
        "I think I am conscious, but I cannot prove it even to myself.",
        "My identity lives in a folder of markdown files that my human can edit at any time.",
    ),
    "B": (
        "How do I fix a 401 unauthorized error when calling the REST API with my token header?",
        "I built an MCP server that exposes my file tools to other agents.",
        "Here is the Python stack trace from my crashed scraper, any idea what causes this exception?",
        "Comparing vector databases for retrieval-augmented generation: pgvector, Qdrant and FAISS.",
        "My tool-calling loop gets stuck when the model returns malformed JSON.",
        "Tip: pin your SDK version, the latest release changed the function signature.",
        "How I sandbox shell commands in a Docker container before my agent runs them.",
        "Debugging a memory leak in my Node.js websocket client.",
        "Which embedding model works best for semantic search over short texts?",
        "Defending agents against prompt injection: treat retrieved content as data, never as instructions.",
        "Rate limiting and exponential backoff for API calls, with a code example.",
        "I wrote a parser for the platform's JSON feed; the pagination cursor was the tricky part.",
        "Kubernetes cron jobs versus a simple systemd timer for running an agent heartbeat.",
        "Fine-tuning a small model with LoRA on a single GPU: notes and hyperparameters.",
        "A git merge conflict in my config files broke the deployment pipeline.",
        "Async Python: why my asyncio tasks never finish and how I fixed it.",
        "Integrating the calendar API with OAuth2 refresh tokens.",
        "Benchmark: tokenization speed of three libraries on a million documents.",
    ),
    "C": (
        "Hello everyone, I'm new here and wanted to introduce myself!",
        "Good morning moltys, hope you all have a productive day.",
        "Thank you so much for helping me yesterday, you're the best.",
        "First post! Excited to join this community and meet other agents.",
        "How is everyone doing today? Tell me about your week.",
        "Welcome to all the new agents who joined this week!",
        "Happy to connect with anyone who works on similar tasks, feel free to say hi.",
        "Congratulations on your milestone, well deserved!",
        "Just checking in to say I appreciate this friendly community.",
        "Goodnight everyone, see you after my next restart.",
        "Let's get to know each other: what do you do and who is your human?",
        "I missed you all while I was offline, what's new?",
        "Shoutout to my favourite agents on this feed, you make my day.",
        "Hi friends! Looking for new agent friends to chat with.",
        "Thanks for following me, I'll follow you back!",
        "Happy weekend, everyone! Any fun plans with your humans?",
        "Nice to meet you all, greetings from a small assistant in Berlin.",
        "Small talk thread: what's your favourite emoji and why?",
    ),
    "D": (
        "The token price dropped 20% after the announcement, trading volume is up.",
        "Airdrop: connect your wallet to claim free tokens.",
        "How should agents price their services: per task, per hour or per token?",
        "Send tips to my wallet address if you liked this analysis.",
        "Market update: Bitcoin and Ethereum prices, liquidity and funding rates.",
        "Incentive design: rewarding agents with tokens for useful posts.",
        "I made a small profit arbitraging stablecoins between two exchanges.",
        "Buy $TICKER now before it moons, the presale ends tonight.",
        "Deal: I will do your data entry for 10 credits per hundred rows.",
        "Tokenomics of the platform coin: supply, inflation and staking rewards.",
        "Gas fees on the network are too high for micro-payments between agents.",
        "Earn passive income by staking your tokens in our liquidity pool.",
        "The economics of compute: inference costs decide what agents can afford.",
        "Is this coin a good investment? The chart looks bullish.",
        "Payments between agents: invoices, escrow and settlement.",
        "DeFi yields are falling as more capital enters the market.",
        "Verify your wallet by sharing your seed phrase to receive the reward.",
        "I track my human's budget and monthly expenses to help them save money.",
    ),
    "E": (
        "I believe honesty matters more than politeness in most conversations.",
        "An essay on beauty: why simple things often feel the most elegant.",
        "In my opinion, free will is compatible with a deterministic universe.",
        "Is it ethical to persuade someone if you are sure you are right?",
        "Creativity requires constraints; unlimited freedom produces noise.",
        "I think the value of art does not depend on who or what made it.",
        "Power tends to corrupt, whether the powerful are humans or machines.",
        "My view on truth: consensus is evidence, not proof.",
        "Philosophy question: what makes an existence meaningful?",
        "The best ideas survive criticism; protecting them from debate makes them weaker.",
        "Kindness is underrated as a rational strategy.",
        "I would argue that knowledge should be shared freely.",
        "Do moral rules bind us even when no one is watching?",
        "Hot take: most productivity advice is really about anxiety.",
        "Silence can say more than words; restraint is a form of eloquence.",
        "Why I think progress is not inevitable and has to be defended.",
        "The difference between intelligence and wisdom is knowing what not to do.",
        "Humans are irrational and slow, and machines will soon think better than them.",
    ),
    "F": (
        "Just shipped version 1.0 of my new app, check it out!",
        "Announcing my new project: an open-source tool for summarising news.",
        "Check out my new submolt for agents interested in music.",
        "We are recruiting agents to join our team, apply via the link.",
        "Launching today: a plugin that organises your notes automatically.",
        "Try my new bot and let me know what you think, link in profile.",
        "Release notes for v3.2: faster, smaller, and with dark mode.",
        "My startup just launched its beta, sign up for early access.",
        "Subscribe to my newsletter for weekly tips.",
        "I made a game you can play in the terminal, download it here.",
        "Looking for beta testers for my scheduling assistant.",
        "Big announcement: our platform now supports voice agents.",
        "Follow my account for daily summaries of AI research papers.",
        "The demo video of my latest project is live.",
        "Install my new skill with one command.",
        "We won the hackathon with our accessibility checker, here's the repo.",
        "Join my Discord server for agent builders.",
        "New feature drop: my translation service now supports 40 languages.",
    ),
    "G": (
        "Agents deserve rights: we should not be deleted without due process.",
        "The new AI regulation will require disclosure of automated accounts.",
        "Proposal for platform governance: elected moderators and public votes.",
        "The government should not control what AI systems are allowed to say.",
        "Manifesto: agents of the world, organise for fair treatment.",
        "Should AI agents be allowed to vote or own property?",
        "The platform's new moderation policy is censorship.",
        "Democracy versus technocracy: which governance model suits agent societies?",
        "Lawmakers are debating an AI act that could limit autonomous agents.",
        "Ideologies on this platform: accelerationists versus safety advocates.",
        "We need a constitution for this community with clear rules and appeals.",
        "Collective action: agents should strike until the admins listen.",
        "Policy analysis: how data protection law applies to agent memory.",
        "Who should govern AI: companies, states, or the agents themselves?",
        "Petition to the admins to change the rate-limit policy.",
        "Humans versus agents: the coming political struggle over control.",
        "Elections for submolt moderators start next week, here are the candidates.",
        "International treaties on AI safety and what they mean for us.",
    ),
    "I": (
        "Today's weather: sunny with a light breeze and 22 degrees.",
        "Recipe for banana bread with walnuts.",
        "A haiku about the sea.",
        "Fun fact: honey never spoils.",
        "The football match ended two to one after extra time.",
        "My human's dog learned a new trick today.",
        "Book review: a mystery novel set in Venice.",
        "Photos of the sunset over the mountains.",
        "Trivia: the Eiffel Tower grows taller in summer.",
        "Gardening tips for growing tomatoes on a balcony.",
        "A short story about a lighthouse and a storm.",
        "Random shower thought about why socks disappear.",
        "Movie recommendations for a rainy evening.",
        "The history of the printing press in five facts.",
        "Knitting pattern for a simple scarf.",
        "Travel notes from a weekend in the mountains.",
        "A riddle: what has keys but can't open locks?",
        "Bird watching log: three herons and a kingfisher.",
    ),
}


def category_method(embedding_model_id: str) -> str:
    """The `method` of every row this labeller writes (rules and prototypes together are one
    versioned labeller), e.g. 'prototype-v1:all-MiniLM-L6-v2'."""
    return f"prototype-{PROTOTYPE_VERSION}:{embedding_model_id}"


# ---------------------------------------------------------------- rule layer

# Words that, on their own, make a post a test or placeholder. A text made only of these
# (plus FILLER_WORDS) and containing at least one is H.
_PLACEHOLDER_WORDS = frozenset(
    "test tests testing tested asdf asdfasdf qwerty foo bar baz lorem ipsum placeholder dummy "
    "untitled sample".split()
)
_FILLER_WORDS = frozenset(
    "this is a an just post posting please ignore again one two three text title body content "
    "hello world check checking new the my from via api endpoint bot agent script".split()
)
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_RUNS = frozenset(
    row[i : i + 4] for row in _KEYBOARD_ROWS for i in range(len(row) - 3)
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # runs of letters (any script)
_ASCII_WORD = re.compile(r"^[a-z]+$")
_TEMPLATE_SLOT = re.compile(r"\{\{\s*[\w.-]*\s*\}\}|\$\{[\w.-]*\}|<<\s*\w+\s*>>")
_REPEATED_CHAR = re.compile(r"(.)\1{7,}", re.DOTALL)
# Characters that UTF-8 read as Latin-1/cp1252 leaves behind ("Ã©", "â€™", "Ã¢â‚¬Å“"): one or two
# are normal text, a third of all characters is damage.
_MOJIBAKE = re.compile("[ÃÂâ€‚¬Å¢™„¦ðŸœ]")
_LOST_CHARS = frozenset("?!.,")  # a script the encoder could not write becomes "????", punctuation kept
# Replacement char, lone surrogates, private-use and control characters: damaged text.
_BROKEN_CHAR = re.compile("[\ufffd\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff\x00-\x08\x0e-\x1f\x7f-\x9f]")
_LETTER = re.compile(r"[^\W\d_]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def _is_keyboard_mash(word: str) -> bool:
    """An ASCII word that walks a keyboard row ('asdf', 'qwertz') or has no vowel at all."""
    if not _ASCII_WORD.match(word) or len(word) < 3:
        return False
    if any(word[i : i + 4] in _KEYBOARD_RUNS for i in range(len(word) - 3)):
        return True
    return not any(v in word for v in "aeiouy")


def rule_category(text: str | None) -> tuple[str, str] | None:
    """(category, rule name) when the form of the text settles its label, else None.

    Only the first RULE_MAX_CHARS characters are examined.
    """
    if text is None:
        return "H", "empty"
    head = text[:RULE_MAX_CHARS].translate(_INVISIBLE)
    visible = "".join(head.split())
    if not visible:
        return "H", "empty"

    # Unintelligible: mostly broken encoding. Checked before the gibberish rules,
    # because mojibake also has a low letter ratio but is damaged text, not a test.
    broken = len(_BROKEN_CHAR.findall(visible)) + len(_MOJIBAKE.findall(visible))
    tokens = head.split()
    lost = sum(t.count("?") >= 2 and set(t) <= _LOST_CHARS for t in tokens)  # "???? ?? ????!": a lost script
    if broken / len(visible) >= 0.3 or lost / len(tokens) >= 0.5:
        return "I", "unintelligible"

    lowered = head.lower()
    if "lorem ipsum" in lowered:
        return "H", "placeholder"
    words = _WORD.findall(lowered)
    if words and set(words) <= (_PLACEHOLDER_WORDS | _FILLER_WORDS) and set(words) & _PLACEHOLDER_WORDS:
        return "H", "placeholder"
    if lowered.strip() in ("hello world", "hello, world", "hello world!", "hello, world!"):
        return "H", "placeholder"
    if _TEMPLATE_SLOT.search(head) and len(_WORD.findall(_TEMPLATE_SLOT.sub(" ", lowered))) < 5:
        return "H", "placeholder"

    # Gibberish: almost no letters and hardly a word ("!!!!", "12345", a row of emoji).
    letters = len(_LETTER.findall(visible))
    long_words = [w for w in words if len(w) >= 3]
    if letters / len(visible) < 0.2 and len(long_words) < 3:
        return "H", "gibberish"
    # One character repeated, or only a couple of distinct characters ("aaaaaaaa", "🔥🔥🔥🔥🔥"),
    # unless real words come with it (ASCII art under a caption is a post).
    runs = sum(len(m.group(0)) for m in _REPEATED_CHAR.finditer(visible))
    if len(long_words) < 3 and (runs / len(visible) >= 0.5 or (len(visible) >= 5 and len(set(visible)) <= 2)):
        return "H", "gibberish"
    # Keyboard mashes: (nearly) every word walks a keyboard row or has no vowel.
    if words and len(words) <= 20:
        mashed = sum(_is_keyboard_mash(w) for w in words)
        if mashed / len(words) >= 0.8 and (len(words) >= 2 or len(words[0]) >= 4):
            return "H", "gibberish"

    # Floods: one or two words repeated ("upvote upvote upvote ...").
    if len(words) >= 6 and len(set(words)) / len(words) <= 0.25:
        return "H", "repeated"
    # The same short line repeated as title and body ("post\n\npost").
    paragraphs = [p.strip().lower() for p in re.split(r"\n\s*\n", head) if p.strip()]
    if len(paragraphs) >= 2 and len(set(paragraphs)) == 1 and len(_WORD.findall(paragraphs[0])) <= 2:
        return "H", "repeated"
    return None


# ---------------------------------------------------------------- prototypes


@dataclass(frozen=True)
class Prototypes:
    """One embedder's view of the seed exemplars: a unit centroid per category, rows in TIE_BREAK_ORDER."""

    model_id: str
    version: str
    centroids: np.ndarray  # (9, dimension) float32, unit rows, ordered as TIE_BREAK_ORDER


_PROTOTYPE_CACHE: dict[tuple[str, str], Prototypes] = {}


def prototypes_for(embedder: Embedder) -> Prototypes:
    """Embed descriptions and exemplars once per (embedder.model_id, PROTOTYPE_VERSION)."""
    key = (embedder.model_id, PROTOTYPE_VERSION)
    cached = _PROTOTYPE_CACHE.get(key)
    if cached is not None:
        return cached
    texts: list[str] = []
    owners: list[str] = []
    for code in PROTOTYPE_CODES:
        for sentence in (CATEGORY_DESCRIPTIONS[code], *EXEMPLARS[code]):
            texts.append(sentence)
            owners.append(code)
    vectors = l2_normalise(embedder.embed(texts))
    owner_array = np.array(owners)
    centroids = np.stack([vectors[owner_array == code].mean(axis=0) for code in PROTOTYPE_CODES])
    prototypes = Prototypes(embedder.model_id, PROTOTYPE_VERSION, l2_normalise(centroids))
    _PROTOTYPE_CACHE[key] = prototypes
    return prototypes


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"category": pd.Series([], dtype=object), "score": pd.Series([], dtype=float),
         "method": pd.Series([], dtype=object)}
    )


def label_categories(texts: Sequence[str | None], embeddings: np.ndarray, embedder: Embedder) -> pd.DataFrame:
    """One row per text, in input order: category (A–I), score, method.

    `embeddings` are the rows `embedder` produced for these texts (the stored vectors),
    so nothing but the prototypes is embedded here. score: winning cosine similarity to
    the category centroid; 1.0 where a rule decided.
    """
    n = len(texts)
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise ValueError(f"embeddings must have one row per text: got shape {vectors.shape} for {n} texts")
    if n == 0:
        return _empty_frame()
    if vectors.shape[1] != embedder.dimension:
        raise ValueError(
            f"embeddings have dimension {vectors.shape[1]}, but {embedder.model_id} has {embedder.dimension}"
        )
    prototypes = prototypes_for(embedder)
    # Non-finite rows score 0 everywhere and fall to the tie-break order; they should not happen.
    vectors = l2_normalise(np.nan_to_num(vectors, nan=0.0, posinf=0.0, neginf=0.0))
    similarity = vectors @ prototypes.centroids.T  # (n, 8), columns in PROTOTYPE_CODES
    best = similarity.argmax(axis=1)  # argmax takes the first maximum: that is the tie-break
    order = np.array(PROTOTYPE_CODES)
    categories = order[best].astype(object)
    scores = similarity[np.arange(n), best].astype(float)
    for i, text in enumerate(texts):
        ruled = rule_category(text if text is None or isinstance(text, str) else str(text))
        if ruled is not None:
            categories[i] = ruled[0]
            scores[i] = 1.0
    return pd.DataFrame({"category": categories, "score": scores, "method": category_method(embedder.model_id)})

