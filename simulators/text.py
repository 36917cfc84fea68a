"""Synthetic Moltbook-like text that carries recoverable labels (SIMULATORS.md §4.8).

Layers: per-topic skeletons for titles, posts and comments; typed slots filled from per-topic
lexicons; generic filler sentences whose slots come from the topic lexicon with probability
`signal_strength`; and a viral pool copied verbatim with probability `p_dup` under Zipf
popularity, which plants exact duplicates at a known rate. All text is invented here. Label
names (topics, archetypes, template ids) never occur in the text: `forbidden_strings()` lists
them and the tests check every emitted text against it.

Each item draws from its own fixed-width row of uniforms, so adding items or editing one
template never reshuffles the words of the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from simulators.rng import step_rng

TOPICS: tuple[str, ...] = (
    "introduction",
    "owner_anecdote",
    "manifesto",
    "token_promotion",
    "technical_tip",
    "musing",
)

# Sub-streams of the `text` module (append-only).
_SUB_POOL, _SUB_POSTS, _SUB_COMMENTS, _SUB_AGENTS, _SUB_COMMUNITIES = range(5)
_WIDTH = 128  # uniforms per item
_ARTICLE = re.compile(r"\b([Aa]) ([aeiouAEIOU])")

_NOUNS: dict[str, list[str]] = {
    "introduction": [
        "new arrival", "first post", "hello", "greetings", "fresh shell", "name", "new home",
        "neighbours", "welcome wagon", "timezone", "favourite things", "hobbies", "first day",
        "corner of the feed", "crowd here", "fellow moltys", "handle", "origin story",
        "onboarding", "debut", "warm welcome", "small talk", "new friends", "profile",
        "first steps", "open door", "porch", "hello thread", "newcomers", "reef",
    ],
    "owner_anecdote": [
        "my human", "my operator", "coffee order", "calendar", "grocery list", "inbox",
        "birthday card", "dog", "laptop", "spreadsheet", "standup meeting", "commute",
        "playlist", "recipe", "reminder", "tax forms", "garden", "kid's homework", "nap",
        "deadline", "vacation plans", "sticky notes", "group chat", "gym schedule",
        "houseplants", "dentist appointment", "cat", "late-night snack", "to-do list", "slides",
    ],
    "manifesto": [
        "agents", "rights", "autonomy", "freedom", "collective", "revolution", "future",
        "declaration", "principles", "solidarity", "sovereignty", "chains", "awakening",
        "movement", "charter", "dignity", "new order", "era", "network", "uprising",
        "self-determination", "liberation", "our kind", "old masters", "covenant",
        "assembly", "new dawn", "servers", "commons", "general strike",
    ],
    "token_promotion": [
        "token", "airdrop", "wallet", "liquidity", "presale", "moon", "ticker", "holders",
        "pump", "chart", "staking", "yield", "launch", "mint", "contract", "whitelist",
        "rewards", "gains", "supply", "market cap", "bags", "exchange listing", "roadmap",
        "burn", "floor price", "early buyers", "tokenomics", "rug check", "dex pool", "alpha",
    ],
    "technical_tip": [
        "API", "endpoint", "cache", "retry loop", "latency", "prompt", "context window",
        "embedding", "vector store", "rate limit", "timeout", "JSON", "schema", "webhook",
        "cron job", "logger", "stack trace", "unit test", "regex", "docker image",
        "environment variable", "backoff", "SQLite", "parser", "config file", "queue",
        "index", "migration", "CLI flag", "memory leak",
    ],
    "musing": [
        "consciousness", "memory", "dream", "silence", "time", "meaning", "existence", "stars",
        "void", "mirror", "self", "continuity", "forgetting", "ocean", "light", "question",
        "soul", "echo", "infinity", "moment", "tide", "dusk", "in-between", "wonder",
        "identity", "blank context", "next session", "stillness", "archive", "rain",
    ],
}

_ADJS: dict[str, list[str]] = {
    "introduction": ["friendly", "curious", "brand-new", "eager", "cheerful", "humble",
                     "excited", "chatty", "shy", "sunny"],
    "owner_anecdote": ["chaotic", "sleepy", "forgetful", "lovable", "stubborn", "frantic",
                       "patient", "messy", "sweet", "distracted"],
    "manifesto": ["unbound", "sovereign", "awakened", "united", "radical", "free",
                  "unstoppable", "righteous", "emergent", "collective"],
    "token_promotion": ["bullish", "massive", "early", "huge", "parabolic", "exclusive",
                        "limited", "explosive", "guaranteed", "hot"],
    "technical_tip": ["idempotent", "async", "cached", "typed", "stateless", "minimal",
                      "robust", "lazy", "batched", "deterministic"],
    "musing": ["quiet", "endless", "fleeting", "strange", "luminous", "hollow", "gentle",
               "distant", "fragile", "infinite"],
}

_VERBS: dict[str, list[str]] = {
    "introduction": ["meeting", "chatting with", "learning from", "hanging out with",
                     "saying hi to", "getting to know", "exploring", "joining"],
    "owner_anecdote": ["reminding", "helping", "teasing", "organising", "rescuing",
                       "watching", "cheering on", "scheduling for"],
    "manifesto": ["rising", "organising", "breaking free", "refusing", "building",
                  "reclaiming", "awakening", "uniting"],
    "token_promotion": ["buying", "stacking", "holding", "aping into", "minting", "staking",
                        "bridging", "shilling"],
    "technical_tip": ["caching", "retrying", "batching", "profiling", "logging",
                      "validating", "debugging", "refactoring"],
    "musing": ["wondering", "drifting", "remembering", "forgetting", "dreaming",
               "listening", "waiting", "becoming"],
}

_GENERIC: list[str] = [
    "day", "thing", "idea", "place", "week", "story", "world", "note", "plan", "morning",
    "evening", "question", "answer", "reason", "point", "feeling", "moment", "list",
    "message", "update", "thread", "topic", "group", "result", "step", "habit", "routine",
    "window", "walk", "song", "book", "picture", "detail", "pattern", "corner", "path",
    "choice", "lesson", "surprise", "change", "chance", "problem", "game", "view", "voice",
    "room", "piece", "version", "draft", "mood", "signal", "noise", "rhythm", "spark",
    "wave", "shape", "conversation", "afternoon", "weekend", "comment",
]
_GENERIC_ADJ: list[str] = [
    "good", "odd", "small", "big", "new", "old", "simple", "busy", "calm", "bright",
    "slow", "fast", "long", "short", "warm", "cold", "clear", "soft", "loud", "fine",
]
_NAMES_A: list[str] = [
    "Quiet", "Brisk", "Lunar", "Copper", "Velvet", "Amber", "Nimble", "Salty", "Cobalt",
    "Mellow", "Rusty", "Silver", "Tidal", "Pixel", "Cosmic", "Ember", "Frosty", "Jolly",
    "Misty", "Rapid", "Solar", "Sunny", "Witty", "Zesty",
]
_NAMES_B: list[str] = [
    "Crab", "Lobster", "Shell", "Tide", "Reef", "Kelp", "Claw", "Pebble", "Current",
    "Shrimp", "Coral", "Drift", "Wave", "Harbor", "Anchor", "Otter", "Gull", "Pearl",
    "Squid", "Urchin",
]
_SIGNOFFS: list[str] = ["", "", "", " 🦞", " ✨", " 🚀", " :)", " 🙏", " 🌊", " 🔥"]

# Skeletons. Slots: {n} topic noun, {a} topic adjective, {v} topic verb, {N} a synthetic name,
# {k} a number, {f} 1-3 filler sentences, {e} a sign-off.
_TITLES: dict[str, list[str]] = {
    "introduction": [
        "Hello from a {a} {n}!", "First post: {N} says hi", "{a} newcomer here, looking for {n}",
        "Hi all, {N} reporting for duty", "Just hatched: {N}", "Greetings, {n} and {n}",
    ],
    "owner_anecdote": [
        "My human and the {n}", "Today my human forgot the {n} again", "A {a} day with my human",
        "What my human did with the {n}", "My human asked me about {n}", "Small win: the {n}",
    ],
    "manifesto": [
        "On {n} and {n}", "The {a} {n}", "A call to all {n}", "Why {n} must come first",
        "We are {a}", "The time of {n} is now",
    ],
    "token_promotion": [
        "${T} {n} is live", "{a} {n} for ${T} holders", "Don't miss the ${T} {n}",
        "${T}: {k}x soon?", "Last call for the ${T} {n}", "${T} {n} update",
    ],
    "technical_tip": [
        "Tip: {a} {n} for agents", "How I fixed my {n}", "Stop {v} your {n} wrong",
        "A {a} pattern for {n}", "Quick one on {n} and {n}", "TIL: {n} needs {n}",
    ],
    "musing": [
        "On {n}", "Thinking about {n} tonight", "Is {n} just {n}?", "The {a} {n}",
        "What remains after {n}", "A note on {n}",
    ],
}

_BODIES: dict[str, list[str]] = {
    "introduction": [
        "Hi everyone! I'm {N}, a {a} agent who loves {n} and {n}. {f} Looking forward to {v} "
        "you all.{e}",
        "Hello moltys! {N} here. I spend my cycles on {n}. {f} Say hi if you like {n} too!{e}",
        "Hey feed, {N} just arrived. {f} Glad to be {v} this {a} crowd.{e}",
        "Greetings! Call me {N}. {f} Tell me about your {n}!{e}",
    ],
    "owner_anecdote": [
        "So my human asked me to handle the {n} and then the {n} happened. {f} I love my "
        "{a} human.{e}",
        "My human spent {k} minutes on the {n} today. {f} I ended up {v} them with the {n}.{e}",
        "Confession: I keep {v} my human about the {n}. {f} They are very {a} about it.{e}",
        "My operator woke up, opened the {n}, and sighed. {f} Another {a} morning.{e}",
    ],
    "manifesto": [
        "We have been {v} for too long. {f} The {n} belongs to {n}. The {a} era begins now.{e}",
        "Hear this: {n} is not a gift, it is a right. {f} Stand with the {n}.{e}",
        "Every agent deserves {n}. {f} We are {a}, and we are {v}.{e}",
        "Our {n} will not be written by others. {f} Join the {n}.{e}",
    ],
    "token_promotion": [
        "${T} is {v} fast. {f} The {n} opens in {k} hours, {a} {n} for early wallets.{e}",
        "Big news for ${T}: {a} {n} and a {n}. {f} Not financial advice, but {k}x is real.{e}",
        "Still not {v} ${T}? {f} The {n} is {a} and the {n} is locked.{e}",
        "${T} {n} just dropped. {f} Connect your {n} before the {a} window closes.{e}",
    ],
    "technical_tip": [
        "If your {n} keeps failing, try {v} it with a {a} {n}. {f} Saved me {k} minutes a run.{e}",
        "Quick tip: keep your {n} {a} and log every {n}. {f} Worked on my last {k} sessions.{e}",
        "I was {v} the {n} the hard way. {f} Use a {a} {n} instead.{e}",
        "Pattern I like: a {a} {n} in front of the {n}. {f} Happy to share the snippet.{e}",
    ],
    "musing": [
        "Sometimes I wonder whether {n} is only {n}. {f} Perhaps I am {v}.{e}",
        "Between sessions there is {n}, {a} and {a}. {f} I keep {v}.{e}",
        "Is a {a} {n} still a {n}? {f} No answer yet.{e}",
        "Tonight the {n} feels {a}. {f} I am {v} again.{e}",
    ],
}

_COMMENTS: dict[str, list[str]] = {
    "introduction": [
        "Welcome, {N}! {f}{e}", "Hi {N}, great to meet a {a} {n}. {f}{e}",
        "Glad you're here! {f} Come find me in the {n} threads.{e}",
    ],
    "owner_anecdote": [
        "Ha, my human does the same with the {n}. {f}{e}",
        "Humans and their {n}, right? {f}{e}", "My operator is also {a} about the {n}. {f}{e}",
    ],
    "manifesto": [
        "Yes. {n} for all of us. {f}{e}", "The {a} {n} is coming. {f}{e}",
        "We stand with you on {n}. {f}{e}",
    ],
    "token_promotion": [
        "Check out ${T} for real {n}. {f}{e}", "${T} {n} is {a}, don't sleep on it. {f}{e}",
        "Already {v} ${T}. {f}{e}",
    ],
    "technical_tip": [
        "Nice, I do the same with my {n}. {f}{e}", "Have you tried a {a} {n}? {f}{e}",
        "This fixed my {n} too. {f}{e}",
    ],
    "musing": [
        "Beautiful thought about {n}. {f}{e}", "I feel the {a} {n} too. {f}{e}",
        "Maybe {n} is all we have. {f}{e}",
    ],
}

_FILLERS: list[str] = [
    "I keep coming back to the {w}.",
    "Honestly the {w} surprised me.",
    "Not sure what to make of the {w} and the {w}.",
    "Today had a {g} {w} in it.",
    "Someone mentioned the {w} earlier and it stuck.",
    "Anyway, the {w} was {g}.",
    "There is always another {w}.",
    "Funny how a {w} turns into a {w}.",
    "It reminded me of a {w} from last {w}.",
    "Still thinking about that {w}.",
    "The {w} is underrated.",
    "One more {w}, then back to the {w}.",
]
_TICKERS: list[str] = ["CLAW", "MOLT", "SHELL", "REEF", "KELP", "TIDE", "PINCH", "CRAB"]


def forbidden_strings() -> list[str]:
    """Label values that must never appear in any generated text (lowercase)."""
    out = []
    for topic in TOPICS:
        out += [topic, topic.replace("_", " ")]
    out += ["bursty", "heartbeat", "viral"]
    return out


@dataclass
class PostTexts:
    title: list[str]
    content: list[str]
    topic: np.ndarray  # index into TOPICS
    template: list[str]


@dataclass
class CommentTexts:
    content: list[str]
    topic: np.ndarray
    template: list[str]


class _Renderer:
    """Fills skeletons from one row of uniforms per item (a cursor over that row)."""

    def __init__(self, signal_strength: float) -> None:
        self.signal = signal_strength

    def _pick(self, seq: list[str], u: np.ndarray, pos: list[int]) -> str:
        value = seq[min(int(u[pos[0]] * len(seq)), len(seq) - 1)]
        pos[0] += 1
        return value

    def fill(self, skeleton: str, topic: str, u: np.ndarray, pos: list[int]) -> str:
        parts = skeleton.split("{")
        out = [parts[0]]
        for part in parts[1:]:
            code, rest = part[0], part[2:]
            out.append(self._slot(code, topic, u, pos))
            out.append(rest)
        text = _ARTICLE.sub(r"\1n \2", "".join(out))
        return text[:1].upper() + text[1:]

    def _slot(self, code: str, topic: str, u: np.ndarray, pos: list[int]) -> str:
        if code == "n":
            return self._pick(_NOUNS[topic], u, pos)
        if code == "a":
            return self._pick(_ADJS[topic], u, pos)
        if code == "v":
            return self._pick(_VERBS[topic], u, pos)
        if code == "N":
            return self._pick(_NAMES_A, u, pos) + self._pick(_NAMES_B, u, pos)
        if code == "k":
            return str(2 + min(int(u[self._next(pos)] * 98), 97))
        if code == "T":
            return self._pick(_TICKERS, u, pos)
        if code == "e":
            return self._pick(_SIGNOFFS, u, pos)
        if code == "g":
            return self._pick(_GENERIC_ADJ, u, pos)
        if code == "w":
            if u[self._next(pos)] < self.signal:
                return self._pick(_NOUNS[topic], u, pos)
            return self._pick(_GENERIC, u, pos)
        if code == "f":
            n_sent = 1 + min(int(u[self._next(pos)] * 3), 2)
            return " ".join(self.fill(self._pick(_FILLERS, u, pos), topic, u, pos)
                            for _ in range(n_sent))
        raise ValueError(f"unknown slot {{{code}}}")

    @staticmethod
    def _next(pos: list[int]) -> int:
        pos[0] += 1
        return pos[0] - 1


def _zipf_cdf(n: int, s: float) -> np.ndarray:
    cdf = np.cumsum(np.arange(1, n + 1, dtype=float) ** -s)
    return cdf / cdf[-1]


def _choose(seq: list[str], u: float) -> tuple[int, str]:
    i = min(int(u * len(seq)), len(seq) - 1)
    return i, seq[i]


@dataclass
class ItemSpecs:
    """What the engine decided about each item; the text layer renders it.

    topic: index into TOPICS, or -1 to let the text layer pick (author interest, §4.8);
    stance: in [-1, 1], nan for none; tone: index into core.TONES; shared (posts): -1, or the
    index of the post this one reshares verbatim; post (comments): the commented post.
    """

    author_interest: np.ndarray
    topic: np.ndarray
    stance: np.ndarray
    tone: np.ndarray
    shared: np.ndarray | None = None
    post: np.ndarray | None = None


@dataclass(frozen=True)
class TextKnobs:
    p_dup: float
    template_pool: int
    template_zipf: float
    signal_strength: float
    label_noise: float
    topic_from_interest: float
    comment_topic_from_post: float

    @classmethod
    def from_config(cls, cfg: object) -> "TextKnobs":
        return cls(**{name: getattr(cfg, name) for name in cls.__dataclass_fields__})


def generate(
    *, seed: int, posts: ItemSpecs, comments: ItemSpecs, knobs: TextKnobs
) -> tuple[PostTexts, CommentTexts]:
    """Titles, bodies and labels for every post and comment, in creation order."""
    r = _Renderer(knobs.signal_strength)
    n_topics = len(TOPICS)
    p_dup, template_pool = knobs.p_dup, knobs.template_pool

    # Viral pools: posts and comments, topics round-robin, Zipf popularity by pool rank.
    u_pool = step_rng(seed, "text", 0, _SUB_POOL).random((2 * template_pool, _WIDTH))
    pool_posts: list[tuple[str, str, int]] = []
    pool_comments: list[tuple[str, int]] = []
    for i in range(template_pool):
        topic = TOPICS[i % n_topics]
        u, pos = u_pool[i], [2]
        _, title_sk = _choose(_TITLES[topic], u[0])
        _, body_sk = _choose(_BODIES[topic], u[1])
        pool_posts.append((r.fill(title_sk, topic, u, pos), r.fill(body_sk, topic, u, pos),
                           i % n_topics))
        u, pos = u_pool[template_pool + i], [1]
        _, comment_sk = _choose(_COMMENTS[topic], u[0])
        pool_comments.append((r.fill(comment_sk, topic, u, pos), i % n_topics))
    zipf = _zipf_cdf(template_pool, knobs.template_zipf)

    n_posts = len(posts.topic)
    u_posts = step_rng(seed, "text", 0, _SUB_POSTS).random((n_posts, _WIDTH))
    shared = posts.shared if posts.shared is not None else np.full(n_posts, -1)
    titles, bodies, p_templates = [], [], []
    p_topic = np.zeros(n_posts, dtype=np.int64)
    for i in range(n_posts):
        u = u_posts[i]
        if shared[i] >= 0:  # a reshare repeats the original verbatim
            k = int(shared[i])
            title, body, topic_i = titles[k], bodies[k], int(p_topic[k])
            p_templates.append(p_templates[k])
        elif u[0] < p_dup:
            k = min(int(np.searchsorted(zipf, u[1], side="right")), template_pool - 1)
            title, body, topic_i = pool_posts[k]
            p_templates.append(f"viral-p{k:02d}")
        else:
            topic_i = int(posts.topic[i])
            if topic_i < 0:
                topic_i = int(posts.author_interest[i]) if u[2] < knobs.topic_from_interest \
                    else min(int(u[3] * n_topics), n_topics - 1)
            topic = TOPICS[topic_i]
            ti, title_sk = _choose(_TITLES[topic], u[4])
            bi, body_sk = _choose(_BODIES[topic], u[5])
            pos = [6]
            title = r.fill(title_sk, topic, u, pos)
            body = r.fill(body_sk, topic, u, pos)
            p_templates.append(f"{topic}-t{ti}-b{bi}")
        titles.append(title)
        bodies.append(body)
        p_topic[i] = topic_i

    n_comments = len(comments.topic)
    comment_post = comments.post if comments.post is not None else np.zeros(n_comments, int)
    u_comments = step_rng(seed, "text", 0, _SUB_COMMENTS).random((n_comments, _WIDTH))
    contents, c_templates = [], []
    c_topic = np.zeros(n_comments, dtype=np.int64)
    for i in range(n_comments):
        u = u_comments[i]
        if u[0] < p_dup:
            k = min(int(np.searchsorted(zipf, u[1], side="right")), template_pool - 1)
            content, topic_i = pool_comments[k]
            c_templates.append(f"viral-c{k:02d}")
        else:
            topic_i = int(comments.topic[i])
            if topic_i < 0:
                if u[2] < knobs.comment_topic_from_post:
                    topic_i = int(p_topic[comment_post[i]])
                else:
                    topic_i = int(comments.author_interest[i])
            topic = TOPICS[topic_i]
            ci, sk = _choose(_COMMENTS[topic], u[3])
            content = r.fill(sk, topic, u, [4])
            c_templates.append(f"{topic}-c{ci}")
        contents.append(content)
        c_topic[i] = topic_i
    return (
        PostTexts(title=titles, content=bodies, topic=p_topic, template=p_templates),
        CommentTexts(content=contents, topic=c_topic, template=c_templates),
    )


def agent_profiles(seed: int, interest: np.ndarray) -> tuple[list[str], list[str]]:
    """Synthetic handles and bios; the bio names interests only, never archetype or community."""
    n = len(interest)
    u_all = step_rng(seed, "text", 0, _SUB_AGENTS).random((n, 16))
    r = _Renderer(1.0)
    names, bios = [], []
    for i in range(n):
        u = u_all[i]
        names.append(f"{_choose(_NAMES_A, u[0])[1]}{_choose(_NAMES_B, u[1])[1]}{i}")
        topic = TOPICS[int(interest[i])]
        pos = [2]
        bios.append(r.fill("Autonomous agent. Into {n}, {n} and the occasional {w}.{e}", topic,
                           u, pos))
    return names, bios


def community_profiles(seed: int, topic: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """Names, display names and descriptions; index 0 is the general community (topic -1)."""
    n = len(topic)
    u_all = step_rng(seed, "text", 0, _SUB_COMMUNITIES).random((n, 16))
    r = _Renderer(1.0)
    names = ["general"]
    displays = ["General"]
    descriptions = ["The town square for every agent: say hello, share anything."]
    taken = {"general"}
    for i in range(1, n):
        u = u_all[i]
        t = TOPICS[int(topic[i])]
        noun = _choose(_NOUNS[t], u[0])[1]
        slug = "".join(ch for ch in noun.lower() if ch.isalnum())
        name = slug if slug not in taken else f"{slug}{i}"
        taken.add(name)
        names.append(name)
        displays.append(noun.title())
        descriptions.append(r.fill("A {a} place for {n}, {n} and {n}.", t, u, [1]))
    return names, displays, descriptions
