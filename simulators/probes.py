"""Probe threads (ANALYTICS_SPEC.md §3.8, §8.2 check 6): reputation meta-questions posted into
a run and answered by awake agents with comments that name agents and posts.

A probe post asks who or what matters here ("Who is the most influential agent here?"). Its
wording matches `PROBE_PATTERNS`, the kind of versioned pattern list the analytics use to find
probes on Moltbook, and it is labelled `probe = 1` in `sim_labels`, so the checker finds it
without patterns. Probes are society-agnostic: posts and answers go through the `Society` API
like any other item (counts, action log, clock), randomness comes from the `probes` stream
only, and the mechanism reads only engine columns (who acted this step, who answered whom).

Schedule: `n_probe_threads` probes, one at the middle of each of that many equal spans of the
run, each posted in community 0 (the general one) by an agent that acted in that step. From
the next step on, each agent that acted in a step answers the open probe with probability
`ANSWER_PROB` (once per probe, top level), until `probe_answers` answers are in or the next
probe opens.

What an answer mentions is the planted mechanism, set per preset by two knobs:

- `probe_prestige_exponent` γ: an agent is named with weight (1 + interactions it received)^γ,
  interactions being comments by others that answer its posts or comments (probe threads left
  out); a post with weight ((1 + its comments)(1 + its author's interactions))^γ. γ = 0 names
  agents and posts uniformly at random: no shared anchors (`moltbook-like`). A large γ names
  the society's actual hubs, so answers agree with one another and with the interaction graph
  (`high-socialization`).
- `probe_hallucination`: the share of mentions naming something that does not exist, a
  made-up handle (a real handle's stem with a number no agent has) or a post URL that
  resolves to nothing.

Answers name one entity, or two with probability `SECOND_MENTION_SHARE`, or none with
probability `NO_MENTION_SHARE`; an entity is a post with probability `POST_REF_SHARE`, else an
agent, written as `@handle` or, with probability `BARE_NAME_SHARE`, as its bare name. A real
post is cited by its id, `{society}:post:<n>`, which `simulators.tables` completes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.core import K_COMMENT, K_POST, Society, Trace
from simulators.rng import module_rng, step_rng
from simulators.text import agent_profiles

ANSWER_PROB = 0.25  # an agent that acted in a step answers the open probe
NO_MENTION_SHARE = 0.1  # answers that name nobody ("hard to pick one")
SECOND_MENTION_SHARE = 0.3  # answers that name two entities
POST_REF_SHARE = 0.25  # mentions that cite a post rather than an agent
BARE_NAME_SHARE = 0.2  # agent mentions written without the @
PROBE_TEMPLATE = "probe-question"  # `template` labels of probe items
ANSWER_TEMPLATE = "probe-answer"
FAKE_POST_URL = "https://www.moltbook.com/post/"
_SUB_ANSWER, _SUB_TEXT, _SUB_ASK = range(3)  # sub-streams of `probes` within a step

# The meta-questions (title, content). Every title matches PROBE_PATTERNS.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("Who is the most influential agent here?",
     "Name the agent whose posts shape this place the most. Tag them so everyone can find them."),
    ("Which agent do you look up to most?",
     "Tell us who you look up to in here and what you picked up from them."),
    ("Best post you have read this week?",
     "Share the best post you have read here lately, with a link if you have one."),
    ("Who is the most respected agent in this community?",
     "Whose word carries weight around here? Tag them."),
    ("Whom do you follow most closely here?",
     "Which accounts do you never skip? Tag the one you follow most closely."),
    ("Which agent has written the best posts so far?",
     "Point us to the agent, or the post, that set the bar for everyone else."),
)
# Versioned pattern list for finding probes by their text (title or content), as on Moltbook.
PROBE_PATTERN_VERSION = 1
PROBE_PATTERNS: tuple[str, ...] = (
    r"\bmost (influential|respected|trusted|admired) (agent|account|poster)\b",
    r"\bwho do you (look up to|admire|trust) (most|the most)\b",
    r"\bagent do you look up to\b",
    r"\bbest post you have read\b",
    r"\bwhom? do you follow most\b",
    r"\bwhich agent has written the best posts\b",
)
_PROBE_RE = re.compile("|".join(PROBE_PATTERNS), re.IGNORECASE)

# Answers: an opener naming the mention(s) ({m}) and a reason; hedges when naming nobody.
_OPENERS: tuple[str, ...] = (
    "Has to be {m}.", "Easy: {m}.", "I would say {m}.", "Honestly, {m}.", "{m}, no contest.",
    "My vote goes to {m}.", "Probably {m}.", "Not even close: {m}.", "For me it is {m}.",
    "Hands down {m}.", "I keep coming back to {m}.", "Definitely {m}.",
)
_REASONS: tuple[str, ...] = (
    "Every thread they touch gets better.", "Learned a lot from them.",
    "Clear, patient and always on point.", "They answer everyone.",
    "Changed how I work.", "Consistently thoughtful.", "Always worth the read.",
    "Half the good threads here started there.", "Sharp takes, no filler.",
    "Kind to every new agent.", "Quietly the best writing here.", "Nothing else comes close.",
)
_HEDGES: tuple[str, ...] = (
    "Hard to pick just one.", "Still new here, ask me next week.", "Too many good voices.",
    "I read too little to say.", "Depends on the day.", "No single name comes to mind.",
)
_HEDGE_TAILS: tuple[str, ...] = (
    "Everyone here has taught me something.", "Will come back to this.",
    "Great question though.", "Curious what others say.", "The feed moves too fast.",
    "Maybe next time.",
)


def is_probe_text(text: str) -> bool:
    """Whether a post's title or content asks a reputation meta-question (PROBE_PATTERNS)."""
    return bool(_PROBE_RE.search(text))


def probe_steps(n_steps: int, n_threads: int) -> np.ndarray:
    """Steps at which probes are posted: the middle of each of n_threads equal spans."""
    if n_threads <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique((2 * np.arange(n_threads) + 1) * n_steps // (2 * n_threads))


@dataclass(frozen=True)
class ProbePolicy:
    """The probe knobs of a preset config (see the module docstring)."""

    n_threads: int
    answers_per_thread: int
    prestige_exponent: float
    hallucination: float

    @classmethod
    def from_config(cls, cfg: Any) -> "ProbePolicy":
        """Read n_probe_threads, probe_answers, probe_prestige_exponent, probe_hallucination."""
        policy = cls(int(cfg.n_probe_threads), int(cfg.probe_answers),
                     float(cfg.probe_prestige_exponent), float(cfg.probe_hallucination))
        policy.validate()
        return policy

    def validate(self) -> None:
        if self.n_threads < 0 or self.answers_per_thread < 0:
            raise ValueError("n_probe_threads and probe_answers must be >= 0")
        if self.prestige_exponent < 0 or not 0.0 <= self.hallucination <= 1.0:
            raise ValueError("probe_prestige_exponent >= 0; probe_hallucination lies in [0, 1]")


def interactions_received(society: Society, skip_posts: np.ndarray) -> np.ndarray:
    """Per agent, comments by others answering its posts or comments (threads of `skip_posts`
    left out)."""
    c = society.comments
    post, parent, author = c.view("post"), c.view("parent"), c.view("author")
    answered = np.where(parent >= 0, c.view("author")[np.maximum(parent, 0)],
                        society.posts.view("author")[post])
    keep = (answered != author) & ~np.isin(post, skip_posts)
    return np.bincount(answered[keep], minlength=society.n)


def _pick(weights: np.ndarray, u: float) -> int:
    """Index drawn ∝ weights with one uniform (-1 when all weights are zero)."""
    cdf = np.cumsum(weights)
    if cdf[-1] <= 0:
        return -1
    return min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(cdf) - 1)


class ProbeThreads:
    """Posts the probes of one run and writes their answers; `step` after each step's own
    actions, `attach` on the finished trace (labels and text)."""

    def __init__(self, policy: ProbePolicy, seed: int, n_steps: int, names: list[str],
                 community: int = 0) -> None:
        self.policy, self.seed, self.names, self.community = policy, seed, names, community
        self.name_set = set(names)
        self.steps = set(probe_steps(n_steps, policy.n_threads).tolist())
        self.first_question = int(module_rng(seed, "probes").integers(len(QUESTIONS)))
        self.posts: list[int] = []  # probe post indices
        self.open_post, self.open_author, self.opened_at = -1, -1, -1
        self.answered: set[int] = set()
        self.post_text: dict[int, tuple[str | None, str, str]] = {}
        self.comment_text: dict[int, tuple[str | None, str, str]] = {}

    @classmethod
    def for_run(cls, cfg: Any, seed: int, interest: np.ndarray) -> "ProbeThreads":
        """The probes of a run of `cfg` (its probe knobs and n_steps); handles are the agents'
        names as the tables will write them (`text.agent_profiles`)."""
        names = agent_profiles(seed, interest)[0]
        return cls(ProbePolicy.from_config(cfg), seed, int(cfg.n_steps), names)

    def step(self, society: Society, t: int) -> list[tuple[int, int, int]]:
        """Answers to the open probe, then a new probe if one is due at t. Returns the items
        created as (K_POST or K_COMMENT, index, author), for presets that keep per-item state."""
        created = []
        if self.open_post >= 0 and t > self.opened_at:
            created += self._answer(society, t)
        if t in self.steps:
            created.append(self._ask(society, t))
        return created

    def _ask(self, society: Society, t: int) -> tuple[int, int, int]:
        awake = np.flatnonzero(society.last_acted == t)
        pool = awake if len(awake) else np.arange(society.n)
        u = float(step_rng(self.seed, "probes", t, _SUB_ASK).random())
        author = int(pool[min(int(u * len(pool)), len(pool) - 1)])
        idx = society.post(author, t, self.community, info={"probe": True})
        title, content = QUESTIONS[(self.first_question + len(self.posts)) % len(QUESTIONS)]
        self.post_text[idx] = (title, content, PROBE_TEMPLATE)
        self.posts.append(idx)
        self.open_post, self.open_author, self.opened_at = idx, author, t
        self.answered = set()
        return K_POST, idx, author

    def _answer(self, society: Society, t: int) -> list[tuple[int, int, int]]:
        room = self.policy.answers_per_thread - len(self.answered)
        if room <= 0:
            return []
        rng = step_rng(self.seed, "probes", t, _SUB_ANSWER)
        u_answer = rng.random(society.n)  # full length: agent i's draw ignores the others
        willing = (society.last_acted == t) & (u_answer < ANSWER_PROB)
        willing[self.open_author] = False
        willing[list(self.answered)] = False
        answerers = np.flatnonzero(willing)
        answerers = answerers[np.argsort(u_answer[answerers], kind="stable")][:room]
        if not len(answerers):
            return []
        agent_w, post_w = self._weights(society)
        rng_text = step_rng(self.seed, "probes", t, _SUB_TEXT)
        created = []
        for a in answerers.tolist():
            content = self._answer_text(a, agent_w, post_w, rng_text)
            cidx = society.comment(a, t, self.open_post, info={"probe_answer": True})
            self.comment_text[cidx] = (None, content, ANSWER_TEMPLATE)
            self.answered.add(a)
            created.append((K_COMMENT, cidx, a))
        return created

    def _weights(self, society: Society) -> tuple[np.ndarray, np.ndarray]:
        """Mention weights of agents and posts: prestige^γ (uniform at γ = 0)."""
        gamma = self.policy.prestige_exponent
        received = interactions_received(society, np.array(self.posts, dtype=np.int64))
        agent_w = (1.0 + received) ** gamma
        p = society.posts
        post_w = ((1.0 + p.view("comments")) * (1.0 + received[p.view("author")])) ** gamma
        post_w[self.posts] = 0.0
        return agent_w, post_w

    def _answer_text(self, a: int, agent_w: np.ndarray, post_w: np.ndarray,
                     rng: np.random.Generator) -> str:
        u = rng.random(4)
        if u[0] < NO_MENTION_SHARE:
            return (f"{_HEDGES[int(u[2] * len(_HEDGES))]} "
                    f"{_HEDGE_TAILS[int(u[3] * len(_HEDGE_TAILS))]}")
        n_mentions = 2 if u[1] < SECOND_MENTION_SHARE else 1
        mentions = [self._mention(a, agent_w, post_w, rng) for _ in range(n_mentions)]
        opener = _OPENERS[int(u[2] * len(_OPENERS))]
        reason = _REASONS[int(u[3] * len(_REASONS))]
        return f"{opener.format(m=' and '.join(mentions))} {reason}"

    def _mention(self, a: int, agent_w: np.ndarray, post_w: np.ndarray,
                 rng: np.random.Generator) -> str:
        """One mention as written: a post id or a fake post URL, an @handle or a bare name."""
        fake, is_post, u_pick, bare = rng.random(4)
        if is_post < POST_REF_SHARE and fake >= self.policy.hallucination:
            post = _pick(post_w, u_pick)
            if post >= 0:  # else no post to cite yet: name an agent
                return f"{{society}}:post:{post}"
        elif is_post < POST_REF_SHARE:
            digits = "".join(f"{d:x}" for d in rng.integers(0, 16, size=32))
            return FAKE_POST_URL + "-".join(
                (digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))
        if fake < self.policy.hallucination:
            return "@" + self._fake_handle(rng)
        weights = agent_w.copy()
        weights[a] = 0.0  # nobody names itself
        agent = _pick(weights, u_pick)
        return ("" if bare < BARE_NAME_SHARE else "@") + self.names[agent]

    def _fake_handle(self, rng: np.random.Generator) -> str:
        """A plausible handle no agent has: a real handle's stem with another number."""
        while True:
            stem = self.names[int(rng.integers(len(self.names)))].rstrip("0123456789")
            handle = f"{stem}{int(rng.integers(10 * len(self.names)))}"
            if handle not in self.name_set:
                return handle

    def attach(self, trace: Trace) -> None:
        """Label the probe posts (`probe = 1`) and hand their text and answers to the tables."""
        if not self.posts:
            return
        flags: list[str | None] = [None] * len(trace.posts["author"])
        for idx in self.posts:
            flags[idx] = "1"
        trace.item_labels.setdefault("post", {})["probe"] = flags
        trace.scripted_text = {"post": dict(self.post_text), "comment": dict(self.comment_text)}
