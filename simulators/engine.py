"""Rule-mode society engine: clock, activity, feeds, policy, resolution, observation (§4.1).

The engine produces a columnar `Trace` of integer indices (agents, posts, comments, votes, ...);
ids, text and DataFrames are made afterwards by `simulators.tables`, so text generation (and a
future LLM mode) can change without touching the dynamics.

Per step, everything that scales with agents (wake-ups, action kinds, feeds, target picks) is
vectorised over full length-N arrays of common random numbers (§4.2). Only the resolution of the
step's decisions runs in Python, in the shuffled within-step order, because each decision can
change what the next one sees (a new post, a comment to reply to, a vote already cast).

Seams for the full engine: `_wake_counts` (Poisson today, Hawkes later), `_feeds` (hot / new /
random today; following and personalized later), `_decision_kinds` (fixed archetype mix today;
a logit over features, or an LLM, later) and `_resolve` (one method per action kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from simulators.config import MoltbookLikeConfig
from simulators.rng import module_rng, step_rng
from simulators.text import TOPICS

ARCHETYPES: tuple[str, ...] = ("bursty", "heartbeat")
ACTION_TYPES: tuple[str, ...] = (
    "do_nothing", "create_post", "create_comment", "reply", "upvote", "downvote", "follow",
)
NOTHING, POST, COMMENT, REPLY, UPVOTE, DOWNVOTE, FOLLOW = range(len(ACTION_TYPES))
FEEDS: tuple[str, ...] = ("hot", "new", "random", "thread")
HOT, NEW, RANDOM, THREAD = range(len(FEEDS))
ITEM_KINDS: tuple[str, ...] = ("post", "comment", "agent")
K_POST, K_COMMENT, K_AGENT = range(len(ITEM_KINDS))

# Decision kinds drawn before resolution, in the order of the policy CDF; RETURN is an author
# coming back to a thread after a notification (scheduled, not drawn).
_POLICY_ORDER = ("post", "comment", "vote", "follow", "nothing")
D_POST, D_COMMENT, D_VOTE, D_FOLLOW, D_NOTHING, D_RETURN = range(6)
# Per-decision uniforms of the policy stream: [0] reply?, [1] parent pick, [2] community,
# [3] author-return draw. Votes and follows draw from their own streams.
_N_MISC = 4
_N_VOTE = 3  # [0] vote on a comment of the thread?, [1] which comment, [2] sign
_KEY = 1_000_003_000  # packs (agent, item) pairs into one int for membership sets


class _Columns:
    """Append-only integer columns grown by doubling, readable as numpy views at any time."""

    def __init__(self, *names: str, capacity: int = 1024) -> None:
        self._cols = {name: np.zeros(capacity, dtype=np.int64) for name in names}
        self.n = 0

    def add(self, *values: int) -> int:
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


class _Chunks:
    """Rows gathered as per-step blocks of arrays, concatenated once at the end."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self._parts: list[tuple[np.ndarray, ...]] = []

    def add(self, *arrays: Any) -> None:
        self._parts.append(tuple(np.asarray(a, dtype=np.int64) for a in arrays))

    def final(self) -> dict[str, np.ndarray]:
        if not self._parts:
            return {name: np.zeros(0, dtype=np.int64) for name in self.names}
        return {n: np.concatenate([p[i] for p in self._parts]) for i, n in enumerate(self.names)}


@dataclass
class Population:
    """Per-agent truth drawn once from the `population` stream."""

    archetype: np.ndarray  # index into ARCHETYPES
    is_whale: np.ndarray
    is_patron: np.ndarray  # agents whose posts the whales upvote wherever they see them
    base_rate: np.ndarray  # decisions per step
    period_steps: np.ndarray  # heartbeat period (drawn for all agents, used by heartbeat ones)
    first_wake: np.ndarray  # heartbeat phase, in steps
    tz_offset_h: np.ndarray
    interest: np.ndarray  # index into TOPICS
    stance: np.ndarray  # innate stance in [-1, 1]; frozen here (stubbornness 1)
    community_topic: np.ndarray  # per community; -1 for the general community (index 0)


@dataclass
class Trace:
    """Everything a run emitted, as integer-indexed columns; `tables` turns it into rows.

    posts: author, community, step, seq, up, down, comments
    comments: post, parent (-1 = top level), root, depth, author, step, seq, up, down
    votes: voter, kind, target, value, seq        follows: follower, followee, seq
    exposures: agent, step, kind, item, feed, rank
    actions (row = seq): agent, step, type, target_kind (-1 = none), target, created (-1 = none)
    post_snapshots: post, step, up, down, comments     (taken at the end of `step`)
    agent_snapshots: agent, step, karma, followers, following
    """

    config: MoltbookLikeConfig
    seed: int
    population: Population
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
    stance_final: np.ndarray


@dataclass
class _Decisions:
    """The step's decisions in resolution order, with the uniforms each one owns."""

    agent: np.ndarray
    slot: np.ndarray  # which of the agent's per-step uniform slots it uses
    kind: np.ndarray  # D_*
    return_post: np.ndarray  # for D_RETURN, the author's post; else -1
    u_kind: np.ndarray
    u_target: np.ndarray  # (n, feed_size) Gumbel uniforms for the target pick
    u_misc: np.ndarray  # (n, _N_MISC)
    u_vote: np.ndarray  # (n, _N_VOTE), votes stream
    u_follow: np.ndarray  # (n,), follows stream


def draw_population(cfg: MoltbookLikeConfig, seed: int) -> Population:
    """Archetypes, heavy-tailed base rates, heartbeat schedules, time zones and interests."""
    rng = module_rng(seed, "population")
    n = cfg.n_agents
    perm = rng.permutation(n)
    archetype = np.zeros(n, dtype=np.int8)
    archetype[perm[: round(cfg.heartbeat_share * n)]] = 1
    bursty = np.flatnonzero(archetype == 0)
    n_whales = min(len(bursty), max(1, int(np.ceil(cfg.whale_share * n))))
    is_whale = np.zeros(n, dtype=bool)
    is_whale[rng.choice(bursty, size=n_whales, replace=False)] = True
    # Classic Pareto with pdf exponent activity_alpha, capped (flooders cannot exceed the cap).
    shape = cfg.activity_alpha - 1.0
    base_rate = cfg.activity_min_rate * (1.0 + rng.pareto(shape, size=n))
    base_rate = np.minimum(base_rate, cfg.activity_max_rate)
    period_steps = (cfg.heartbeat_median_period_s / cfg.step_seconds) * np.exp(
        cfg.heartbeat_period_sigma * rng.standard_normal(n)
    )
    first_wake = rng.random(n) * period_steps
    zones = np.array([z for z, _ in cfg.timezones])
    zone_p = np.array([w for _, w in cfg.timezones])
    tz = zones[rng.choice(len(zones), size=n, p=zone_p / zone_p.sum())] + rng.standard_normal(n)
    interest = rng.integers(0, len(TOPICS), size=n)
    stance = rng.uniform(-1.0, 1.0, size=n)
    n_comm = int(cfg.n_communities or 0)
    community_topic = np.concatenate([[-1], rng.integers(0, len(TOPICS), size=n_comm - 1)])
    # The whale ring boosts the most active bursty posters (a manipulated-count pattern).
    candidates = np.flatnonzero((archetype == 0) & ~is_whale)
    n_patrons = min(cfg.whale_patrons_per_whale * n_whales, len(candidates))
    is_patron = np.zeros(n, dtype=bool)
    is_patron[candidates[np.argsort(-base_rate[candidates], kind="stable")[:n_patrons]]] = True
    return Population(
        archetype=archetype, is_whale=is_whale, is_patron=is_patron, base_rate=base_rate,
        period_steps=period_steps, first_wake=first_wake, tz_offset_h=tz, interest=interest,
        stance=stance, community_topic=community_topic,
    )


def _circadian(local_hour: np.ndarray, amplitude: float) -> np.ndarray:
    """Hourly multipliers with mean 1 over the day, peaking in the local evening."""
    hour = np.floor(np.mod(local_hour, 24.0))
    return 1.0 + amplitude * np.cos(2.0 * np.pi * (hour - 21.0) / 24.0)


def _poisson_counts(u: np.ndarray, lam: np.ndarray, cap: int) -> np.ndarray:
    """Poisson(lam) by inverse CDF on one uniform per agent, capped at `cap`."""
    count = np.zeros(len(u), dtype=np.int64)
    pk = np.exp(-lam)
    cdf = pk.copy()
    for k in range(cap):
        count += u > cdf
        pk = pk * lam / (k + 1)
        cdf = cdf + pk
    return count


def _feed_split(cfg: MoltbookLikeConfig) -> tuple[int, int, int]:
    """Slots per feed (hot, new, random) by largest remainder, summing to feed_size."""
    names = ("hot", "new", "random")
    raw = np.array([cfg.feed_mix[k] * cfg.feed_size for k in names])
    slots = np.floor(raw).astype(int)
    order = np.argsort(-(raw - slots), kind="stable")
    slots[order[: cfg.feed_size - slots.sum()]] += 1
    return int(slots[0]), int(slots[1]), int(slots[2])


def _gumbel_pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise weighted pick (Gumbel-max on given uniforms); -1 where all weights are zero."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))
    pick = np.argmax(keys, axis=1)
    return np.where(weights.max(axis=1) > 0, pick, -1)


def _inverse_cdf(cdf: np.ndarray, u: float) -> int:
    """Index drawn from an unnormalised CDF with one uniform."""
    return min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(cdf) - 1)


def _community_pick(
    u: np.ndarray, interest: np.ndarray, cfg: MoltbookLikeConfig, pop: Population
) -> np.ndarray:
    """General with general_share; else rarely a community of the bio topic; else Zipf tail.

    One uniform per post, rescaled at each branch, so the choice costs one draw.
    """
    n_comm = len(pop.community_topic)
    out = np.zeros(len(u), dtype=np.int64)
    if n_comm == 1:
        return out
    tail = np.arange(1, n_comm)
    zipf_cdf = np.cumsum(tail.astype(float) ** -cfg.community_zipf)
    zipf_cdf /= zipf_cdf[-1]
    g, bm = cfg.general_share, cfg.bio_match_prob
    rest = u >= g
    u2 = np.where(rest, (u - g) / (1.0 - g), 0.0)
    by_zipf = rest & (u2 >= bm)
    u3 = np.where(by_zipf, (u2 - bm) / (1.0 - bm), 0.0)
    out[by_zipf] = 1 + np.minimum(np.searchsorted(zipf_cdf, u3[by_zipf], side="right"), n_comm - 2)
    for i in np.flatnonzero(rest & (u2 < bm)):  # rare: bio_match_prob of the tail share
        matching = np.flatnonzero(pop.community_topic == interest[i])
        if len(matching):
            out[i] = matching[min(int(u2[i] / bm * len(matching)), len(matching) - 1)]
        else:
            out[i] = 1
    return out


class _Run:
    """State and trace buffers of one run; `step(t)` runs the §4.1 phases once."""

    def __init__(self, cfg: MoltbookLikeConfig, seed: int, pop: Population) -> None:
        self.cfg, self.seed, self.pop = cfg, seed, pop
        n = cfg.n_agents
        self.n = n
        self.n_slots = cfg.max_actions_per_step + 1  # the last slot is kept for author returns
        self.n_hot, self.n_new, self.n_rand = _feed_split(cfg)
        self.feed_cols = np.array([HOT] * self.n_hot + [NEW] * self.n_new + [RANDOM] * self.n_rand)
        self.n_feed = len(self.feed_cols)
        self.comment_w = np.array([cfg.comment_feed_weights[FEEDS[f]] for f in self.feed_cols])
        self.vote_w = np.array([cfg.vote_feed_weights[FEEDS[f]] for f in self.feed_cols])
        action_probs = cfg.action_probs()
        probs = np.array([action_probs[k] for k in _POLICY_ORDER])
        self.policy_cdf = np.cumsum(probs)
        self.policy_cdf[-1] = 1.0 + 1e-12
        no_post = np.concatenate([[0.0], probs[1:]])
        self.policy_cdf_no_post = np.cumsum(no_post / no_post.sum())
        self.policy_cdf_no_post[-1] = 1.0 + 1e-12
        self.recency_cdf = np.cumsum(1.0 / np.arange(1, cfg.thread_exposed_comments + 1))

        self.heartbeat = pop.archetype == 1
        self.hb_count = np.clip(
            np.rint(pop.base_rate * pop.period_steps), 1, cfg.max_actions_per_step
        ).astype(np.int64)
        self.next_wake = pop.first_wake.copy()
        self.rate = np.where(pop.is_whale, cfg.whale_rate, pop.base_rate)
        start = datetime.fromisoformat(cfg.clock_start.replace("Z", "+00:00"))
        start = start.astimezone(timezone.utc)
        self.start_hour = start.hour + start.minute / 60 + start.second / 3600

        # Content and its running aggregates (the final values become the table columns).
        self.posts = _Columns("author", "community", "step", "seq", "up", "down", "comments", "ms",
                              "return_drawn")
        self.comments = _Columns("post", "parent", "root", "depth", "author", "step", "seq", "up",
                                 "down")
        self.threads: dict[int, list[int]] = {}
        self.karma = np.zeros(n, dtype=np.int64)
        self.followers = np.zeros(n, dtype=np.int64)
        self.following = np.zeros(n, dtype=np.int64)
        self.voted: set[int] = set()
        self.follow_edges: set[int] = set()
        self.due_returns: dict[int, list[tuple[int, int]]] = {}
        self.last_acted = np.full(n, -1, dtype=np.int64)

        # Event logs.
        self.votes = _Columns("voter", "kind", "target", "value", "seq")
        self.follows = _Columns("follower", "followee", "seq")
        self.actions = _Columns("agent", "step", "type", "target_kind", "target", "created")
        self.action_info: list[dict[str, Any] | None] = []
        self.action_ms = _Chunks("ms")
        self.exposures = _Chunks("agent", "step", "kind", "item", "feed", "rank")
        self.post_snaps = _Chunks("post", "step", "up", "down", "comments")
        self.agent_snaps = _Chunks("agent", "step", "karma", "followers", "following")

    # 1-2. Clock and activity -------------------------------------------------------------
    def _wake_counts(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Decisions per agent this step, and the per-(agent, slot) order keys."""
        cfg, pop = self.cfg, self.pop
        ra = step_rng(self.seed, "activity", t)
        u_act = ra.random(self.n)
        z_jitter = ra.standard_normal(self.n)
        u_order = ra.random((self.n, self.n_slots))
        hour = self.start_hour + t * cfg.step_seconds / 3600.0  # UTC hour of day (unwrapped)
        circ = np.where(
            self.heartbeat, 1.0, _circadian(hour + pop.tz_offset_h, cfg.circadian_amplitude)
        )
        counts = _poisson_counts(u_act, self.rate * circ, cfg.max_actions_per_step)
        awake = self.heartbeat & (self.next_wake <= t)
        counts = np.where(self.heartbeat, np.where(awake, self.hb_count, 0), counts)
        jitter = cfg.heartbeat_jitter_s / cfg.step_seconds * z_jitter
        scheduled = self.next_wake + pop.period_steps + jitter
        self.next_wake = np.where(awake, np.maximum(scheduled, t + 1), self.next_wake)
        return counts, u_order

    def _decisions(self, t: int) -> _Decisions:
        """Expand wake-ups into decisions, add due author returns, shuffle into resolution order."""
        counts, u_order = self._wake_counts(t)
        agent = np.repeat(np.arange(self.n), counts)
        starts = np.cumsum(counts) - counts
        slot = np.arange(len(agent)) - np.repeat(starts, counts)
        kind = np.full(len(agent), -1, dtype=np.int64)
        return_post = np.full(len(agent), -1, dtype=np.int64)
        r_agent, r_post = [], []
        seen: set[int] = set()
        for author, post in self.due_returns.pop(t, []):
            if author in seen:  # one return per author per step; the rest wait a step
                self.due_returns.setdefault(t + 1, []).append((author, post))
            else:
                seen.add(author)
                r_agent.append(author)
                r_post.append(post)
        if r_agent:
            agent = np.concatenate([agent, r_agent]).astype(np.int64)
            slot = np.concatenate([slot, np.full(len(r_agent), self.n_slots - 1)])
            kind = np.concatenate([kind, np.full(len(r_agent), D_RETURN)])
            return_post = np.concatenate([return_post, r_post]).astype(np.int64)
        order = np.argsort(u_order[agent, slot], kind="stable")
        agent, slot, kind, return_post = agent[order], slot[order], kind[order], return_post[order]

        rp = step_rng(self.seed, "policy", t)
        u_kind = rp.random((self.n, self.n_slots))
        u_target = rp.random((self.n, self.n_slots, self.n_feed))
        u_misc = rp.random((self.n, self.n_slots, _N_MISC))
        u_vote = step_rng(self.seed, "votes", t).random((self.n, self.n_slots, _N_VOTE))
        u_follow = step_rng(self.seed, "follows", t).random((self.n, self.n_slots))
        return _Decisions(
            agent=agent, slot=slot, kind=kind, return_post=return_post,
            u_kind=u_kind[agent, slot], u_target=u_target[agent, slot],
            u_misc=u_misc[agent, slot], u_vote=u_vote[agent, slot], u_follow=u_follow[agent, slot],
        )

    # 4a. Policy: what kind of action ------------------------------------------------------
    def _decision_kinds(self, dec: _Decisions) -> None:
        """Archetype mix by inverse CDF; heartbeats post first; whales mostly sweep-vote."""
        u = dec.u_kind
        free = dec.kind < 0
        hb = self.heartbeat[dec.agent] & free
        hb_first = hb & (dec.slot == 0)
        hpp = self.cfg.heartbeat_post_prob
        u_mix = np.where(hb_first, np.clip((u - hpp) / (1.0 - hpp), 0.0, 1.0 - 1e-12), u)
        kind = np.searchsorted(self.policy_cdf, u_mix, side="right")
        # A heartbeat runner posts once per wake-up, first; its other decisions never post.
        kind_no_post = np.searchsorted(self.policy_cdf_no_post, u, side="right")
        kind = np.where(hb & (dec.slot > 0), kind_no_post, kind)
        kind = np.where(hb_first & (u < hpp), D_POST, kind)
        whale = self.pop.is_whale[dec.agent] & free
        kind = np.where(whale, np.where(u < self.cfg.whale_vote_prob, D_VOTE, D_NOTHING), kind)
        dec.kind = np.where(free, kind, dec.kind)

    # 3. Feeds and exposures ---------------------------------------------------------------
    def _feeds(self, t: int, dec: _Decisions) -> np.ndarray:
        """Feed slots (post indices, -1 empty) per decision; logs one exposure row per slot.

        A feed is built once per awake agent, at its first decision of the step. The hot list
        is global; each reader sees n_hot items drawn from its top with rank weights. The new
        feed includes posts made earlier in this step (they get the next post indices).
        """
        cfg = self.cfg
        base = self.posts.n
        step_post_pos = np.flatnonzero(dec.kind == D_POST)
        awake, first_pos = np.unique(dec.agent, return_index=True)
        pool_start = 0
        if base:
            pool_start = int(np.searchsorted(self.posts.view("step"), t - cfg.pool_window_steps))
            pool_start = max(pool_start, base - cfg.pool_cap)
        pool_size = base - pool_start

        rf = step_rng(self.seed, "feed", t)
        u_hot = rf.random((self.n, cfg.hot_depth))[awake]
        u_rand = rf.random((self.n, self.n_rand))[awake]
        slots = np.full((len(awake), self.n_feed), -1, dtype=np.int64)
        if pool_size:
            up, down = self.posts.view("up")[pool_start:], self.posts.view("down")[pool_start:]
            score = (up - down).astype(float)
            hot_rank = np.sign(score) * np.log10(np.maximum(np.abs(score), 1.0)) + (
                self.posts.view("ms")[pool_start:] / 1000.0 / cfg.hot_time_scale_s
            )
            hot_list = pool_start + np.argsort(-hot_rank, kind="stable")[: cfg.hot_depth]
            depth = len(hot_list)
            weight = np.arange(1, depth + 1, dtype=float) ** -cfg.hot_rank_zipf
            gumbel = -np.log(-np.log(np.clip(u_hot[:, :depth], 1e-12, 1 - 1e-12)))
            keys = np.log(weight)[None, :] + gumbel
            k = min(self.n_hot, depth)
            slots[:, :k] = hot_list[np.argsort(-keys, axis=1, kind="stable")[:, :k]]
            slots[:, self.n_hot + self.n_new :] = pool_start + np.minimum(
                (u_rand * pool_size).astype(np.int64), pool_size - 1
            )
        visible_same_step = np.searchsorted(step_post_pos, first_pos)
        new_idx = base + visible_same_step[:, None] - 1 - np.arange(self.n_new)[None, :]
        new_idx = np.where(new_idx >= pool_start, new_idx, -1)
        slots[:, self.n_hot : self.n_hot + self.n_new] = new_idx
        for j in range(1, self.n_feed):  # keep the first occurrence of an item
            dup = (slots[:, :j] == slots[:, j : j + 1]).any(axis=1)
            slots[dup, j] = -1
        valid = slots >= 0
        ranks = np.cumsum(valid, axis=1)
        rows, cols = np.nonzero(valid)
        self.exposures.add(awake[rows], np.full(len(rows), t), np.full(len(rows), K_POST),
                           slots[rows, cols], self.feed_cols[cols], ranks[rows, cols])
        row_of = np.full(self.n, -1, dtype=np.int64)
        row_of[awake] = np.arange(len(awake))
        return slots[row_of[dec.agent]]

    # 4b. Policy: which item -----------------------------------------------------------------
    def _targets(
        self, dec: _Decisions, slots: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Comment and vote targets (weighted by feed, never one's own post); PA followees."""
        step_post_author = dec.agent[dec.kind == D_POST]
        authors = np.concatenate([self.posts.view("author"), step_post_author, [-1]])
        usable = (slots >= 0) & (authors[slots] != dec.agent[:, None])  # slot -1 -> trailing -1
        rows = np.arange(len(dec.agent))
        pick_c = _gumbel_pick(np.where(usable, self.comment_w[None, :], 0.0), dec.u_target)
        pick_v = _gumbel_pick(np.where(usable, self.vote_w[None, :], 0.0), dec.u_target)
        comment_target = np.where(pick_c >= 0, slots[rows, np.maximum(pick_c, 0)], -1)
        vote_target = np.where(pick_v >= 0, slots[rows, np.maximum(pick_v, 0)], -1)
        follow_cdf = np.cumsum((self.followers + self.cfg.follow_k0) ** self.cfg.follow_pa_exponent)
        followee = np.minimum(
            np.searchsorted(follow_cdf, dec.u_follow * follow_cdf[-1], side="right"), self.n - 1
        )
        return comment_target, vote_target, followee

    # 5. Resolve ---------------------------------------------------------------------------
    def _act(self, a: int, t: int, code: int, kind: int = -1, item: int = -1,
             created: int = -1, info: dict[str, Any] | None = None) -> int:
        """Append one `actions` row; its seq is its position."""
        self.action_info.append(info)
        return self.actions.add(a, t, code, kind, item, created)

    def _nothing(self, a: int, t: int, reason: str | None = None) -> None:
        self._act(a, t, NOTHING, info={"reason": reason} if reason else None)

    def _post(self, a: int, t: int, community: int) -> None:
        seq = self.actions.n
        idx = self.posts.add(a, community, t, seq, 0, 0, 0, 0, 0)
        self._act(a, t, POST, K_POST, idx, created=idx)

    def _show_thread(
        self, a: int, t: int, post: int, seen: set[int], log: list[tuple[int, ...]]
    ) -> list[int]:
        """Open a thread: expose its most recent comments (newest first) and return them."""
        shown = self.threads.get(post, [])[-self.cfg.thread_exposed_comments :][::-1]
        for r, c in enumerate(shown):
            key = a * _KEY + c
            if key not in seen:
                seen.add(key)
                log.append((a, t, K_COMMENT, c, THREAD, r + 1))
        return shown

    def _comment(self, a: int, t: int, post: int, u: np.ndarray, is_return: bool,
                 seen: set[int], log: list[tuple[int, ...]]) -> None:
        cfg = self.cfg
        shown = self._show_thread(a, t, post, seen, log)
        parent = -1
        if is_return:  # the author answers a comment by someone else, or posts top level
            others = [c for c in shown if self.comments["author"][c] != a]
            if others and u[0] < cfg.author_return_reply_prob:
                parent = others[0]
        elif shown and u[0] < cfg.p_reply:  # recency-weighted pick among the shown comments
            parent = shown[_inverse_cdf(self.recency_cdf[: len(shown)], u[1])]
        depth, root = 1, -1
        if parent >= 0:
            depth = int(self.comments["depth"][parent]) + 1
            while depth > cfg.max_depth:  # attach to the deepest allowed ancestor
                parent = int(self.comments["parent"][parent])
                depth -= 1
            root = int(self.comments["root"][parent])
        cidx = self.comments.n
        self.comments.add(post, parent, root if parent >= 0 else cidx, depth, a, t,
                          self.actions.n, 0, 0)
        self.threads.setdefault(post, []).append(cidx)
        self.posts["comments"][post] += 1
        # The action's target is what was answered: the post, or the parent comment.
        if parent >= 0:
            self._act(a, t, REPLY, K_COMMENT, parent, created=cidx,
                      info={"author_return": True} if is_return else None)
        else:
            self._act(a, t, COMMENT, K_POST, post, created=cidx,
                      info={"author_return": True} if is_return else None)
        # The first comment by someone else notifies the author, who comes back rarely.
        author = int(self.posts["author"][post])
        if author != a and not self.posts["return_drawn"][post]:
            self.posts["return_drawn"][post] = 1
            if u[3] < cfg.p_author_return:
                wait = -np.log1p(-u[3] / cfg.p_author_return)  # exponential, reusing u[3]
                delay = 1 + int(wait * cfg.author_return_mean_delay_steps)
                self.due_returns.setdefault(t + delay, []).append((author, post))

    def _vote(self, a: int, t: int, kind: int, target: int, value: int,
              info: dict[str, Any] | None = None) -> None:
        """Record a vote event; move the item's counts and its author's karma."""
        table = self.posts if kind == K_POST else self.comments
        table["up" if value > 0 else "down"][target] += 1
        self.karma[table["author"][target]] += value
        self.voted.add((a * 2 + kind) * _KEY + target)
        self.votes.add(a, kind, target, value, self.actions.n)
        self._act(a, t, UPVOTE if value > 0 else DOWNVOTE, kind, target, info=info)

    def _whale_sweep(self, a: int, t: int, row: np.ndarray) -> None:
        """Upvote every unvoted hot slot, and the ring's posts in any slot."""
        cast = 0
        for j, post in enumerate(row.tolist()):
            if post < 0 or post >= self.posts.n:
                continue
            author = self.posts["author"][post]
            if author == a or (j >= self.n_hot and not self.pop.is_patron[author]):
                continue
            if (a * 2 + K_POST) * _KEY + post in self.voted:
                continue
            self._vote(a, t, K_POST, post, 1, info={"sweep": True})
            cast += 1
        if not cast:
            self._nothing(a, t, "nothing_new")

    def _regular_vote(self, a: int, t: int, post: int, u: np.ndarray,
                      seen: set[int], log: list[tuple[int, ...]]) -> None:
        if post < 0 or post >= self.posts.n:
            self._nothing(a, t, "no_target")
            return
        kind, target = K_POST, post
        if self.threads.get(post) and u[0] < self.cfg.vote_comment_share:
            shown = self._show_thread(a, t, post, seen, log)  # opens the thread to vote in it
            kind, target = K_COMMENT, shown[min(int(u[1] * len(shown)), len(shown) - 1)]
        owner = (self.comments if kind == K_COMMENT else self.posts)["author"][target]
        if owner == a:
            self._nothing(a, t, "own_item")
        elif (a * 2 + kind) * _KEY + target in self.voted:
            self._nothing(a, t, "already_voted")
        else:
            self._vote(a, t, kind, target, -1 if u[2] < self.cfg.downvote_share else 1)

    def _follow(self, a: int, t: int, b: int) -> None:
        key = a * self.n + b
        if b == a or key in self.follow_edges:
            self._nothing(a, t, "self" if b == a else "already_following")
            return
        self.follow_edges.add(key)
        self.followers[b] += 1
        self.following[a] += 1
        self.follows.add(a, b, self.actions.n)
        self._act(a, t, FOLLOW, K_AGENT, b)

    def _resolve(self, t: int, dec: _Decisions, slots: np.ndarray) -> None:
        comment_target, vote_target, followee = self._targets(dec, slots)
        step_post_pos = np.flatnonzero(dec.kind == D_POST)
        communities = _community_pick(
            dec.u_misc[step_post_pos, 2],
            self.pop.interest[dec.agent[step_post_pos]],
            self.cfg,
            self.pop,
        )
        seen: set[int] = set()
        thread_log: list[tuple[int, ...]] = []
        k_post = 0
        for d, (a, kind) in enumerate(zip(dec.agent.tolist(), dec.kind.tolist())):
            self.last_acted[a] = t
            u = dec.u_misc[d]
            if kind == D_POST:
                self._post(a, t, int(communities[k_post]))
                k_post += 1
            elif kind in (D_COMMENT, D_RETURN):
                is_return = kind == D_RETURN
                post = int(dec.return_post[d] if is_return else comment_target[d])
                if post < 0:
                    self._nothing(a, t, "no_target")
                else:
                    self._comment(a, t, post, u, is_return, seen, thread_log)
            elif kind == D_VOTE and self.pop.is_whale[a]:
                self._whale_sweep(a, t, slots[d])
            elif kind == D_VOTE:
                self._regular_vote(a, t, int(vote_target[d]), dec.u_vote[d], seen, thread_log)
            elif kind == D_FOLLOW:
                self._follow(a, t, int(followee[d]))
            else:
                self._nothing(a, t)
        if thread_log:
            self.exposures.add(*zip(*thread_log))

    # Clock stamps and 7. observation ------------------------------------------------------
    def _stamp(self, t: int, first_seq: int, first_post: int) -> None:
        """Strictly increasing millisecond stamps in resolution order, never on a step boundary."""
        n_rows = self.actions.n - first_seq
        if not n_rows:
            return
        step_ms = self.cfg.step_seconds * 1000
        rc = step_rng(self.seed, "clock", t)
        ms = t * step_ms + 1 + np.sort(rc.choice(step_ms - 1, size=n_rows, replace=False))
        self.action_ms.add(ms)
        new = np.arange(first_post, self.posts.n)
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

    def step(self, t: int) -> None:
        first_seq, first_post = self.actions.n, self.posts.n
        dec = self._decisions(t)
        self._decision_kinds(dec)
        slots = self._feeds(t, dec)
        self._resolve(t, dec, slots)
        self._stamp(t, first_seq, first_post)
        self._observe(t)

    def trace(self) -> Trace:
        exposures = self.exposures.final()
        order = np.lexsort((exposures["rank"], exposures["agent"], exposures["step"]))
        posts = self.posts.final()
        del posts["ms"], posts["return_drawn"]
        return Trace(
            config=self.cfg, seed=self.seed, population=self.pop,
            posts=posts, comments=self.comments.final(), votes=self.votes.final(),
            follows=self.follows.final(),
            exposures={k: v[order] for k, v in exposures.items()},
            actions=self.actions.final(), action_info=self.action_info,
            action_ms=self.action_ms.final()["ms"],
            post_snapshots=self.post_snaps.final(), agent_snapshots=self.agent_snaps.final(),
            karma=self.karma.copy(), followers=self.followers.copy(),
            following=self.following.copy(),
            stance_final=self.pop.stance.copy(),  # stubbornness 1: no kernel moves it here
        )


def run(cfg: MoltbookLikeConfig, seed: int) -> Trace:
    """Simulate `cfg.n_steps` steps of the rule-mode engine and return the trace."""
    cfg = cfg.resolved()
    cfg.validate()
    state = _Run(cfg, seed, draw_population(cfg, seed))
    for t in range(cfg.n_steps):
        state.step(t)
    return state.trace()
