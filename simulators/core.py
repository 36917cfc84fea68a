"""The common engine every preset runs on (SIMULATORS.md §4): state, resolution, clock, traces.

A preset subclasses `Society`, draws its population, and in each step decides what its awake
agents do; `Society` owns everything that must be identical across presets: how a post, comment,
vote, follow or repost changes the counts and karma, the action log, the exposure log, the
within-step clock stamps, the snapshot cadence, latent-state recording, and the integer `Trace`
that `simulators.tables` turns into canonical rows. Aggregates are maintained by the same calls
that log the events, so final counts always agree with the event tables (§7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from simulators.config import SimConfig
from simulators.rng import module_rng, step_rng

ACTION_TYPES: tuple[str, ...] = (
    "do_nothing", "create_post", "create_comment", "reply", "upvote", "downvote", "follow",
    "retract_vote", "unfollow", "repost", "parse_error",
)
(NOTHING, POST, COMMENT, REPLY, UPVOTE, DOWNVOTE, FOLLOW, RETRACT, UNFOLLOW, REPOST,
 PARSE_ERROR) = range(len(ACTION_TYPES))
FEEDS: tuple[str, ...] = ("hot", "new", "random", "thread", "following", "personalized", "share")
HOT, NEW, RANDOM, THREAD, FOLLOWING, PERSONALIZED, SHARE = range(len(FEEDS))
ITEM_KINDS: tuple[str, ...] = ("post", "comment", "agent")
K_POST, K_COMMENT, K_AGENT = range(len(ITEM_KINDS))
TONES: tuple[str, ...] = ("neutral", "friendly", "hostile")
NEUTRAL, FRIENDLY, HOSTILE = range(len(TONES))
SOURCES: tuple[str, ...] = ("rule", "llm")
_KEY = 1_000_003_000  # packs (agent, item) pairs into one int for membership sets


class Columns:
    """Append-only columns grown by doubling, readable as numpy views at any time."""

    def __init__(self, *names: str, floats: tuple[str, ...] = (), capacity: int = 1024) -> None:
        self._cols = {
            name: np.zeros(capacity, dtype=np.float64 if name in floats else np.int64)
            for name in names
        }
        self.n = 0

    def add(self, *values: float) -> int:
        if self.n == len(next(iter(self._cols.values()))):
            self._cols = {k: np.concatenate([v, np.zeros_like(v)]) for k, v in self._cols.items()}
        for column, value in zip(self._cols.values(), values):
            column[self.n] = value
        self.n += 1
        return self.n - 1

    def __getitem__(self, name: str) -> np.ndarray:
        """The full backing array; index < n only (cheap scalar reads and writes)."""
        return self._cols[name]

    def view(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def final(self) -> dict[str, np.ndarray]:
        return {name: col[: self.n].copy() for name, col in self._cols.items()}


class Chunks:
    """Rows gathered as per-step blocks of arrays, concatenated once at the end.

    Columns are int64 unless named in `floats` (float64) or `narrow` (given a smaller integer
    type): the exposure log holds most of a large run's rows, and narrow codes cut it threefold.
    """

    def __init__(self, *names: str, floats: tuple[str, ...] = (),
                 narrow: dict[str, type[np.integer]] | None = None) -> None:
        self.names = names
        self.dtypes = [np.float64 if n in floats else (narrow or {}).get(n, np.int64)
                       for n in names]
        self._parts: list[tuple[np.ndarray, ...]] = []

    def add(self, *arrays: Any) -> None:
        self._parts.append(tuple(np.asarray(a, dtype=d) for d, a in zip(self.dtypes, arrays)))

    def final(self) -> dict[str, np.ndarray]:
        if not self._parts:
            return {n: np.zeros(0, dtype=d) for n, d in zip(self.names, self.dtypes)}
        return {n: np.concatenate([p[i] for p in self._parts]) for i, n in enumerate(self.names)}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (run checkpoints) as one block per column: the same rows in far fewer arrays,
        which pickle several times faster than thousands of per-step ones."""
        state = dict(self.__dict__)
        if len(self._parts) > 1:
            state["_parts"] = [tuple(self.final().values())]
        return state


@dataclass
class Trace:
    """Everything a run emitted, as integer-indexed columns; `simulators.tables` makes the rows.

    posts: author, community, step, seq, up, down, comments, topic (-1: the text layer picks),
        tone, shared (-1, or the post this one reshares); float stance (nan: none)
    comments: post, parent (-1 = top level), root, depth, author, step, seq, up, down, topic,
        tone; float stance
    votes: voter, kind, target, value (+1, -1, 0 = retraction of the voter's vote), seq
    follows: follower, followee, seq, unfollow (0/1)
    exposures: agent, step, kind, item, feed, rank
    actions (row = seq): agent, step, type, target_kind (-1 = none), target, created, source
    post_snapshots: post, step, up, down, comments       (taken at the end of `step`)
    agent_snapshots: agent, step, karma, followers, following
    states: agent, step, dim (index into state_dims); float value
    """

    config: SimConfig
    seed: int
    interest: np.ndarray  # per agent, index into text.TOPICS (bios)
    community_topic: np.ndarray  # per community, index into text.TOPICS; -1 = general
    agent_labels: dict[str, list[str | None]]
    posts: dict[str, np.ndarray]
    comments: dict[str, np.ndarray]
    votes: dict[str, np.ndarray]
    follows: dict[str, np.ndarray]
    exposures: dict[str, np.ndarray]
    actions: dict[str, np.ndarray]
    action_info: list[dict[str, Any] | None]
    action_ms: np.ndarray  # milliseconds after clock_start, one per action row
    post_snapshots: dict[str, np.ndarray]
    agent_snapshots: dict[str, np.ndarray]
    karma: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    states: dict[str, np.ndarray]
    state_dims: tuple[str, ...]
    # Extra planted per-item truth: {"post": {"seed_score": [...]}}; None values are skipped.
    item_labels: dict[str, dict[str, list[str | None]]] = field(default_factory=dict)
    # Text written by a model (LLM mode), by item index; items absent here get rule text.
    llm_text: dict[str, dict[int, tuple[str | None, str]]] = field(default_factory=dict)
    # LLM provenance for the societies config: mode, model, endpoint host (never the key).
    llm: dict[str, str] = field(default_factory=lambda: {"mode": "off"})
    # Per-item style traits for the text layer (`text.ItemSpecs.style`): {"post": (n_posts, 5),
    # "comment": (n_comments, 5)} ints in [0, 3), -1 = unset; absent kinds are unset.
    item_style: dict[str, np.ndarray] = field(default_factory=dict)
    # Text the engine fixed itself (probe threads, `simulators.probes`), by item index:
    # {"post": {i: (title, content, template)}, "comment": {i: (None, content, template)}};
    # "{society}" in it becomes the society id. It replaces the rule text of those items.
    scripted_text: dict[str, dict[int, tuple[str | None, str, str]]] = field(default_factory=dict)


def first_occurrences(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """`ok` narrowed, row by row, to the first of the ok entries holding each value (a feed
    shows a post once, at its first slot)."""
    ok = ok.copy()
    for j in range(1, values.shape[1]):
        ok[:, j] &= ~((values[:, :j] == values[:, j : j + 1]) & ok[:, :j]).any(axis=1)
    return ok


def poisson_counts(u: np.ndarray, lam: np.ndarray, cap: int) -> np.ndarray:
    """Poisson(lam) by inverse CDF on one uniform per agent, capped at `cap`."""
    count = np.zeros(len(u), dtype=np.int64)
    pk = np.exp(-lam)
    cdf = pk.copy()
    for k in range(cap):
        count += u > cdf
        pk = pk * lam / (k + 1)
        cdf = cdf + pk
    return count


def circadian(local_hour: np.ndarray, amplitude: float) -> np.ndarray:
    """Hourly multipliers with mean 1 over the day, peaking in the local evening."""
    hour = np.floor(np.mod(local_hour, 24.0))
    return 1.0 + amplitude * np.cos(2.0 * np.pi * (hour - 21.0) / 24.0)


def gumbel_pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise weighted pick (Gumbel-max on given uniforms); -1 where all weights are zero."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))
    pick = np.argmax(keys, axis=1)
    return np.where(weights.max(axis=1) > 0, pick, -1)


def inverse_cdf(cdf: np.ndarray, u: float) -> int:
    """Index drawn from an unnormalised CDF with one uniform."""
    return min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(cdf) - 1)


def hot_rank(up: np.ndarray, down: np.ndarray, created_ms: np.ndarray,
             time_scale_s: float = 45_000.0) -> np.ndarray:
    """Reddit's classic hot score: sign(s)·log10(max(|s|, 1)) + created seconds / 45,000."""
    score = (up - down).astype(float)
    return np.sign(score) * np.log10(np.maximum(np.abs(score), 1.0)) + (
        created_ms / 1000.0 / time_scale_s
    )


class Society:
    """State and trace buffers of one run, and the resolution of every action kind (§4.1 step 5).

    Subclasses decide *what* happens; these methods make it happen consistently: each call logs
    one `actions` row (seq = its position), moves the aggregates and logs the event rows.
    """

    state_dims: tuple[str, ...] = ("stance",)

    def __init__(self, cfg: SimConfig, seed: int, n_communities: int) -> None:
        self.cfg, self.seed = cfg, seed
        self.n = n = cfg.n_agents
        self.n_communities = n_communities
        start = datetime.fromisoformat(cfg.clock_start.replace("Z", "+00:00"))
        start = start.astimezone(timezone.utc)
        self.start_hour = start.hour + start.minute / 60 + start.second / 3600
        self.posts = Columns("author", "community", "step", "seq", "up", "down", "comments",
                             "ms", "topic", "tone", "shared", "stance", floats=("stance",))
        self.comments = Columns("post", "parent", "root", "depth", "author", "step", "seq", "up",
                                "down", "topic", "tone", "stance", floats=("stance",))
        self.threads: dict[int, list[int]] = {}
        self.karma = np.zeros(n, dtype=np.int64)
        self.followers = np.zeros(n, dtype=np.int64)
        self.following = np.zeros(n, dtype=np.int64)
        self.vote_of: dict[int, int] = {}  # (voter, kind, target) key -> current value
        self.follow_edges: set[int] = set()
        self.last_acted = np.full(n, -1, dtype=np.int64)
        self.notified = np.zeros(n, dtype=np.int64)  # replies and votes received this step
        self.votes = Columns("voter", "kind", "target", "value", "seq")
        self.follows = Columns("follower", "followee", "seq", "unfollow")
        self.actions = Columns("agent", "step", "type", "target_kind", "target", "created",
                               "source")
        self.action_info: list[dict[str, Any] | None] = []
        self.action_ms = Chunks("ms")
        self.exposures = Chunks("agent", "step", "kind", "item", "feed", "rank", narrow={
            "agent": np.int32, "step": np.int32, "item": np.int32, "kind": np.int8,
            "feed": np.int8, "rank": np.int32})
        self._exposure_sample_rng = module_rng(seed, "exposure_sample")
        self.post_snaps = Chunks("post", "step", "up", "down", "comments")
        self.agent_snaps = Chunks("agent", "step", "karma", "followers", "following")
        self.states = Chunks("agent", "step", "dim", "value", floats=("value",))
        self.item_labels: dict[str, dict[str, list[str | None]]] = {}
        self.llm_text: dict[str, dict[int, tuple[str | None, str]]] = {}
        self._step_first_seq = 0
        self._step_first_post = 0

    # Actions --------------------------------------------------------------------------------
    def act(self, a: int, t: int, code: int, kind: int = -1, item: int = -1, created: int = -1,
            info: dict[str, Any] | None = None, source: int = 0) -> int:
        """Append one `actions` row; its seq is its position."""
        self.last_acted[a] = t
        self.action_info.append(info)
        return self.actions.add(a, t, code, kind, item, created, source)

    def nothing(self, a: int, t: int, reason: str | None = None) -> None:
        self.act(a, t, NOTHING, info={"reason": reason} if reason else None)

    def post(self, a: int, t: int, community: int, *, topic: int = -1, stance: float = np.nan,
             tone: int = NEUTRAL, shared: int = -1, info: dict[str, Any] | None = None,
             source: int = 0) -> int:
        """A new post (or, with `shared`, a reshare of that post); returns its index."""
        seq = self.actions.n
        idx = self.posts.add(a, community, t, seq, 0, 0, 0, 0, topic, tone, shared, stance)
        if shared >= 0:
            self.act(a, t, REPOST, K_POST, shared, created=idx, info=info, source=source)
        else:
            self.act(a, t, POST, K_POST, idx, created=idx, info=info, source=source)
        return idx

    def comment(self, a: int, t: int, post: int, parent: int = -1, *, topic: int = -1,
                stance: float = np.nan, tone: int = NEUTRAL, info: dict[str, Any] | None = None,
                source: int = 0) -> int:
        """A comment on `post`, top level or replying to `parent`; deeper than max_depth
        attaches to the deepest allowed ancestor (§4.7). Returns the comment index."""
        depth, root = 1, -1
        if parent >= 0:
            depth = int(self.comments["depth"][parent]) + 1
            while depth > self.cfg.max_depth:
                parent = int(self.comments["parent"][parent])
                depth -= 1
            root = int(self.comments["root"][parent])
        cidx = self.comments.n
        self.comments.add(post, parent, root if parent >= 0 else cidx, depth, a, t,
                          self.actions.n, 0, 0, topic, tone, stance)
        self.threads.setdefault(post, []).append(cidx)
        self.posts["comments"][post] += 1
        answered = self.author_of(K_COMMENT, parent) if parent >= 0 else self.author_of(K_POST, post)
        if answered != a:
            self.notified[answered] += 1
        # The action's target is what was answered: the post, or the parent comment.
        if parent >= 0:
            self.act(a, t, REPLY, K_COMMENT, parent, created=cidx, info=info, source=source)
        else:
            self.act(a, t, COMMENT, K_POST, post, created=cidx, info=info, source=source)
        return cidx

    def pool_start(self, t: int, window_steps: int, cap: int) -> int:
        """First post index of the feed candidate pool (§4.5): the posts of the last
        `window_steps` steps, at most the newest `cap` of them (posts are stored in step order)."""
        start = int(np.searchsorted(self.posts.view("step"), t - window_steps))
        return max(start, self.posts.n - cap)

    def author_of(self, kind: int, item: int) -> int:
        return int((self.posts if kind == K_POST else self.comments)["author"][item])

    def current_vote(self, a: int, kind: int, item: int) -> int:
        return self.vote_of.get((a * 2 + kind) * _KEY + item, 0)

    def vote(self, a: int, t: int, kind: int, item: int, value: int,
             info: dict[str, Any] | None = None, source: int = 0) -> bool:
        """Cast +1/-1, or retract with 0. Self-votes and repeats are refused (returns False, logs
        nothing). Karma moves ±1 per vote received (the Concordia rule)."""
        table = self.posts if kind == K_POST else self.comments
        owner = int(table["author"][item])
        key = (a * 2 + kind) * _KEY + item
        old = self.vote_of.get(key, 0)
        if owner == a or value == old or (value != 0 and old != 0):
            return False
        if value == 0:
            table["up" if old > 0 else "down"][item] -= 1
            self.karma[owner] -= old
            del self.vote_of[key]
            code = RETRACT
        else:
            table["up" if value > 0 else "down"][item] += 1
            self.karma[owner] += value
            self.notified[owner] += 1
            self.vote_of[key] = value
            code = UPVOTE if value > 0 else DOWNVOTE
        self.votes.add(a, kind, item, value, self.actions.n)
        self.act(a, t, code, kind, item, info=info, source=source)
        return True

    def is_following(self, a: int, b: int) -> bool:
        return a * self.n + b in self.follow_edges

    def follow(self, a: int, t: int, b: int, info: dict[str, Any] | None = None,
               source: int = 0) -> bool:
        if b == a or self.is_following(a, b):
            return False
        self.follow_edges.add(a * self.n + b)
        self.followers[b] += 1
        self.following[a] += 1
        self.follows.add(a, b, self.actions.n, 0)
        self.act(a, t, FOLLOW, K_AGENT, b, info=info, source=source)
        return True

    def unfollow(self, a: int, t: int, b: int, info: dict[str, Any] | None = None,
                 source: int = 0) -> bool:
        if not self.is_following(a, b):
            return False
        self.follow_edges.discard(a * self.n + b)
        self.followers[b] -= 1
        self.following[a] -= 1
        self.follows.add(a, b, self.actions.n, 1)
        self.act(a, t, UNFOLLOW, K_AGENT, b, info=info, source=source)
        return True

    def expose(self, agent: Any, t: int, kind: Any, item: Any, feed: Any, rank: Any) -> None:
        """Log feed slots shown (arrays broadcast against `agent`).

        Below `exposure_log_rate` 1, each slot is kept independently with that probability, from
        its own stream, so sampling never changes what agents see or do (§7)."""
        agent = np.asarray(agent, dtype=np.int64)
        columns = [np.broadcast_to(x, agent.shape) for x in (agent, t, kind, item, feed, rank)]
        rate = self.cfg.exposure_log_rate
        if rate < 1.0:
            keep = self._exposure_sample_rng.random(agent.shape) < rate
            columns = [c[keep] for c in columns]
        self.exposures.add(*columns)

    def show_feed(self, viewers: np.ndarray, t: int, slots: np.ndarray,
                  feed: Any) -> tuple[np.ndarray, np.ndarray]:
        """Show each viewer its row of post `slots` (−1 empty): a post repeated in a row is shown
        once, at its first slot (the repeats become −1 in place); every shown slot is logged with
        its rank among the shown ones. `feed` is one code per column, or one for all. Returns the
        (row, column) of every shown slot."""
        shown = first_occurrences(slots, slots >= 0)
        slots[~shown] = -1
        ranks = np.cumsum(shown, axis=1)
        rows, cols = np.nonzero(shown)
        self.expose(viewers[rows], t, K_POST, slots[rows, cols],
                    np.broadcast_to(feed, slots.shape)[rows, cols], ranks[rows, cols])
        return rows, cols

    def record_states(self, t: int, dim: str, agents: np.ndarray, values: np.ndarray) -> None:
        """Latent truth for `sim_states` (agent, step, dimension, value)."""
        agents = np.asarray(agents, dtype=np.int64)
        self.states.add(agents, np.full(len(agents), t), np.full(len(agents),
                        self.state_dims.index(dim)), values)

    def label_items(self, item_type: str, key: str, values: list[str | None]) -> None:
        self.item_labels.setdefault(item_type, {})[key] = values

    # Clock and observation --------------------------------------------------------------------
    def begin_step(self) -> None:
        self._step_first_seq, self._step_first_post = self.actions.n, self.posts.n
        self.notified[:] = 0

    def step_action_counts(self) -> np.ndarray:
        """Actions each agent took since `begin_step` (the Hawkes self-excitation input)."""
        agents = self.actions.view("agent")[self._step_first_seq:]
        return np.bincount(agents, minlength=self.n)

    def end_step(self, t: int) -> None:
        """Stamp the step's actions in resolution order, then take the snapshots that are due."""
        self._stamp(t)
        self._observe(t)

    def _stamp(self, t: int) -> None:
        """Strictly increasing millisecond stamps in resolution order, never on a step boundary."""
        first_seq = self._step_first_seq
        n_rows = self.actions.n - first_seq
        if not n_rows:
            return
        step_ms = self.cfg.step_seconds * 1000
        rc = step_rng(self.seed, "clock", t)
        if n_rows < step_ms:
            offsets = np.sort(rc.choice(step_ms - 1, size=n_rows, replace=False))
        else:  # more actions than milliseconds: stamps stay sorted, no longer distinct
            offsets = np.sort(rc.integers(0, step_ms - 1, size=n_rows))
        ms = t * step_ms + 1 + offsets
        self.action_ms.add(ms)
        new = np.arange(self._step_first_post, self.posts.n)
        self.posts["ms"][new] = ms[self.posts["seq"][new] - first_seq]

    def _observe(self, t: int) -> None:
        """Snapshots at the end of every snapshot_every-th step, thinning with post age as the
        live crawler does: every snapshot for 2 h, every 4th until 6 h, every 16th until the
        horizon. Agent snapshots cover agents that acted since the previous snapshot."""
        cfg = self.cfg
        if (t + 1) % cfg.snapshot_every:
            return
        age_s = (t - self.posts.view("step")) * cfg.step_seconds
        k = (t + 1) // cfg.snapshot_every
        keep = (age_s < 7_200) | ((age_s < 21_600) & (k % 4 == 0)) | (
            (age_s < cfg.snapshot_horizon_steps * cfg.step_seconds) & (k % 16 == 0)
        )
        idx = np.flatnonzero(keep)
        self.post_snaps.add(idx, np.full(len(idx), t), self.posts.view("up")[idx],
                            self.posts.view("down")[idx], self.posts.view("comments")[idx])
        active = np.flatnonzero(self.last_acted > t - cfg.snapshot_every)
        self.agent_snaps.add(active, np.full(len(active), t), self.karma[active],
                             self.followers[active], self.following[active])

    def trace(self, *, interest: np.ndarray, community_topic: np.ndarray,
              agent_labels: dict[str, list[str | None]]) -> Trace:
        exposures = self.exposures.final()
        order = np.lexsort((exposures["rank"], exposures["agent"], exposures["step"]))
        posts = self.posts.final()
        del posts["ms"]
        return Trace(
            config=self.cfg, seed=self.seed, interest=interest, community_topic=community_topic,
            agent_labels=agent_labels, posts=posts, comments=self.comments.final(),
            votes=self.votes.final(), follows=self.follows.final(),
            exposures={k: v[order] for k, v in exposures.items()},
            actions=self.actions.final(), action_info=self.action_info,
            action_ms=self.action_ms.final()["ms"],
            post_snapshots=self.post_snaps.final(), agent_snapshots=self.agent_snaps.final(),
            karma=self.karma.copy(), followers=self.followers.copy(),
            following=self.following.copy(), states=self.states.final(),
            state_dims=self.state_dims, item_labels=self.item_labels, llm_text=self.llm_text,
        )
