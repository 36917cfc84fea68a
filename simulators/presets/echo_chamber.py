"""`echo-chamber` (SIMULATORS.md §5.2): a homophilic personalized feed plus bounded confidence.

One topic. Stances start uniform. Every wake-up an agent gets a feed of `feed_size` posts
(personalized / new / random by `feed_mix`) and reads the first personalized post in full: that
post is its partner in the algorithmic-bias model of Sîrbu et al. (the personalized feed's rank 1
is one draw with weight (|Δu| + δ)^(−γ) · e^(−age/τ), simulators.feeds). It then posts, comments
on what it read (top level, or answering the thread's newest comment), votes on an item of its
feed, follows the author of one, or does nothing. Kernels fire in the State phase (§4.1): the
reader moves toward the stance of what it read and every answered author toward the stance of
the reply it got, one-sided Deffuant (simulators.kernels.bounded_confidence).

Camps are the two sides of u = ½. Posts go mostly to the author's camp community (two camp
communities plus a general one). Downvotes are more likely on items the voter disagrees with
(|Δu| ≥ ε) and `cross_camp_downvote_bias` times more likely across camps; a reply across camps is
hostile with a higher probability than one within. Follows weigh exposed authors by
preferential attachment × homophily × reciprocity (§4.6); an exposure to a followee's post
beyond ε counts as a disagreement, and after `unfollow_after` of them the follower unfollows.
Posts and comments carry the author's current stance and the topic, so the text carries the
stance signal. Latent stance goes to `sim_states` at the snapshot cadence.

`exposure` is the knob of the twins: `homophilic` (the personalized ranking above), `random`
(the personalized slots are drawn uniformly from the pool, so the read partner is random), or
`cross_cutting` (every slot holds only posts from the other side of ½; the personalized ranking
still orders them). With `random` exposure γ has no effect, so the `gamma0` twin of §6 (γ = 0
and feed random) and the `random` exposure arm run the same dynamics draw for draw.

Per step, wake-ups, feeds, action kinds and targets are vectorised over full length-N arrays of
common random numbers (§4.2); only the resolution of the step's decisions runs in Python. There
is no circadian or Hawkes modulation: activity is a flat Bernoulli wake-up per step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from simulators.checkpoint import Checkpoints, run_steps
from simulators.config import SimConfig
from simulators.core import (
    HOSTILE, K_COMMENT, K_POST, NEUTRAL, NEW, PERSONALIZED, RANDOM, THREAD, Society, Trace,
    gumbel_pick,
)
from simulators.feeds import FeedItems, new_feed, personalized_feed, random_feed
from simulators.kernels.bounded_confidence import deffuant_read
from simulators.presets.spec import Preset
from simulators.rng import module_rng, step_rng
from simulators.tables import society_id_for
from simulators.text import TOPICS
from simulators.truth import TruthRow, truth_rows

EXPOSURES: tuple[str, ...] = ("homophilic", "random", "cross_cutting")
CAMPS: tuple[str, ...] = ("low", "high")  # u < ½ and u ≥ ½
GENERAL, LOW_CAMP, HIGH_CAMP = range(3)  # community indices

_POLICY_ORDER = ("post", "comment", "vote", "follow", "nothing")
D_POST, D_COMMENT, D_VOTE, D_FOLLOW, D_NOTHING = range(5)
# Per-decision uniforms of the policy stream: [0] community, [1] reply or top level, [2] tone.
_N_MISC = 3

SIRBU = ("Sîrbu et al., Algorithmic bias amplifies opinion fragmentation and polarization: "
         "a bounded confidence model")
DEFFUANT = "Deffuant et al., Mixing beliefs among interacting agents"
CINELLI = "Cinelli et al., The echo chamber effect on social media"
AGENTSOCIETY = "AgentSociety polarization case (qualitative; 52% vs 39%; 89% moderated under " \
    "opposing-only exposure)"


def _feed_mix() -> dict[str, float]:
    return {"personalized": 0.7, "new": 0.2, "random": 0.1}


def _action_weights() -> dict[str, float]:
    return {"post": 0.15, "comment": 0.20, "vote": 0.30, "follow": 0.05, "nothing": 0.30}


@dataclass(frozen=True)
class EchoChamberConfig(SimConfig):
    """Every knob of the preset. Defaults are the test size (300 agents × 500 one-minute steps,
    about 150 reads per agent: the γ = 0 twin settles by step ~150, the treatment by ~450); the
    §5.2 reference size is 2,000 × 2,000."""

    n_agents: int = 300
    n_steps: int = 500
    topic: str = "manifesto"  # the single topic every item carries

    # Opinion (§4.9), on u = (s + 1)/2
    epsilon: float = 0.30
    mu: float = 0.30
    backfire_rho: float | None = None  # §4.9 backfire beyond this distance; None: off (§5.2)
    backfire_mu: float = 0.10  # share of the gap a backfiring reader moves away

    # Feeds (§4.5)
    exposure: str = "homophilic"  # homophilic | random | cross_cutting (the twin knob)
    gamma: float = 1.5
    bias_delta: float = 1e-4  # δ in (|Δu| + δ)^(−γ)
    recency_tau_steps: float = 10.0  # τ in e^(−age/τ)
    pool_window_steps: int = 20
    pool_cap: int = 20_000
    feed_mix: dict[str, float] = field(default_factory=_feed_mix)
    thread_exposed_comments: int = 5  # newest comments shown when an agent opens a thread

    # Activity: a Bernoulli wake-up per step, rates lognormal across agents
    wake_rate: float = 0.3
    wake_rate_sigma: float = 0.3
    max_wake_rate: float = 0.9

    # Policy
    action_weights: dict[str, float] = field(default_factory=_action_weights)
    p_reply: float = 0.3  # a comment answers the thread's newest comment instead of the post

    # Communities: own camp's, the other camp's, else the general one
    own_camp_community: float = 0.60
    other_camp_community: float = 0.05

    # Votes: P(down) by agreement, times the bias across camps (capped at 1)
    p_downvote_agree: float = 0.03
    p_downvote_disagree: float = 0.30
    cross_camp_downvote_bias: float = 3.0

    # Tone of comments
    p_hostile_within: float = 0.05
    p_hostile_cross: float = 0.25

    # Follows (§4.6): (followers + k0)^a · exp(−h·|Δu|) · (1 + r·[followee follows back])
    follow_pa_exponent: float = 1.0
    follow_k0: float = 1.0
    follow_homophily: float = 10.0
    follow_reciprocity: float = 2.0
    unfollow_after: int = 3  # disagreements (exposures beyond ε to a followee's post)

    def resolved(self) -> "EchoChamberConfig":
        return dataclasses.replace(self, n_communities=3 if self.n_communities is None
                                   else self.n_communities)

    def validate(self) -> None:
        super().validate()
        if self.exposure not in EXPOSURES:
            raise ValueError(f"exposure is one of {EXPOSURES}")
        if self.topic not in TOPICS:
            raise ValueError(f"topic is one of {TOPICS}")
        if self.n_communities != 3:
            raise ValueError("echo-chamber has exactly 3 communities: general and two camps")
        if set(self.feed_mix) != {"personalized", "new", "random"}:
            raise ValueError("echo-chamber serves the personalized, new and random feeds only")
        if abs(sum(self.feed_mix.values()) - 1.0) > 1e-9 or min(self.feed_mix.values()) < 0:
            raise ValueError("feed_mix weights are >= 0 and sum to 1")
        if set(self.action_weights) != set(_POLICY_ORDER):
            raise ValueError(f"action_weights needs exactly {_POLICY_ORDER}")
        if min(self.action_weights.values()) < 0 or sum(self.action_weights.values()) <= 0:
            raise ValueError("action weights must be >= 0 with a positive sum")
        if not (0 < self.epsilon <= 1 and 0 < self.mu <= 1):
            raise ValueError("epsilon lies in (0, 1] and mu in (0, 1]")
        if self.backfire_rho is not None and not (self.epsilon <= self.backfire_rho <= 1
                                                  and 0 < self.backfire_mu <= 1):
            raise ValueError("backfire_rho lies in [epsilon, 1] and backfire_mu in (0, 1]")
        if self.gamma < 0 or self.bias_delta <= 0 or self.recency_tau_steps <= 0:
            raise ValueError("gamma >= 0, bias_delta > 0 and recency_tau_steps > 0")
        if self.own_camp_community + self.other_camp_community > 1:
            raise ValueError("own_camp_community + other_camp_community must not exceed 1")
        if self.unfollow_after < 1 or self.pool_window_steps < 1:
            raise ValueError("unfollow_after and pool_window_steps must be at least 1")

    def feed_slots(self) -> tuple[int, int, int]:
        """Slots (personalized, new, random) by largest remainder, summing to feed_size."""
        names = ("personalized", "new", "random")
        raw = np.array([self.feed_mix[k] * self.feed_size for k in names])
        slots = np.floor(raw).astype(int)
        order = np.argsort(-(raw - slots), kind="stable")
        slots[order[: self.feed_size - slots.sum()]] += 1
        return int(slots[0]), int(slots[1]), int(slots[2])


@dataclass
class Population:
    """Per-agent truth drawn once from the `population` stream."""

    stance_u: np.ndarray  # initial stance on u ∈ [0, 1], uniform
    wake_rate: np.ndarray  # wake-up probability per step


def draw_population(cfg: EchoChamberConfig, seed: int) -> Population:
    rng = module_rng(seed, "population")
    stance_u = rng.uniform(0.0, 1.0, size=cfg.n_agents)
    spread = np.exp(cfg.wake_rate_sigma * rng.standard_normal(cfg.n_agents)
                    - cfg.wake_rate_sigma**2 / 2)
    wake_rate = np.minimum(cfg.wake_rate * spread, cfg.max_wake_rate)
    return Population(stance_u=stance_u, wake_rate=wake_rate)


def camp(u: np.ndarray | float) -> np.ndarray:
    """0 for the low camp (u < ½), 1 for the high camp."""
    return (np.asarray(u) >= 0.5).astype(np.int64)


@dataclass
class _Step:
    """The step's decisions in resolution order, with the uniforms each one owns."""

    agent: np.ndarray
    kind: np.ndarray  # D_*
    u_misc: np.ndarray  # (d, _N_MISC), policy stream
    u_vote: np.ndarray  # (d, feed_size + 1): target pick, then sign; votes stream
    u_follow: np.ndarray  # (d, feed_size), follows stream


class _Run(Society):
    """One run of the preset; `step(t)` runs the §4.1 phases once."""

    def __init__(self, cfg: EchoChamberConfig, seed: int, pop: Population) -> None:
        super().__init__(cfg, seed, 3)
        self.cfg: EchoChamberConfig = cfg
        self.pop = pop
        self.u = pop.stance_u.copy()
        self.topic = TOPICS.index(cfg.topic)
        self.n_pers, self.n_new, self.n_rand = cfg.feed_slots()
        first_feed = RANDOM if cfg.exposure == "random" else PERSONALIZED
        self.feed_cols = np.array([first_feed] * self.n_pers + [NEW] * self.n_new
                                  + [RANDOM] * self.n_rand)
        weights = np.array([cfg.action_weights[k] for k in _POLICY_ORDER], dtype=float)
        self.policy_cdf = np.cumsum(weights / weights.sum())
        self.policy_cdf[-1] = 1.0 + 1e-12
        self.post_u = np.zeros(1024)  # stance (on u) each post carries, by post index
        self.disagreements: dict[int, int] = {}  # follower * n + followee -> count
        self.unfollow_due: dict[int, list[int]] = {}  # follower -> followees to drop

    # 1-2. Activity and policy kinds ------------------------------------------------------
    def _decisions(self, t: int) -> _Step:
        """One decision per awake agent, shuffled into resolution order."""
        ra = step_rng(self.seed, "activity", t)
        u_wake, u_order = ra.random(self.n), ra.random(self.n)
        awake = np.flatnonzero(u_wake < self.pop.wake_rate)
        agent = awake[np.argsort(u_order[awake], kind="stable")]
        rp = step_rng(self.seed, "policy", t)
        u_kind, u_misc = rp.random(self.n), rp.random((self.n, _N_MISC))
        u_vote = step_rng(self.seed, "votes", t).random((self.n, self.cfg.feed_size + 1))
        u_follow = step_rng(self.seed, "follows", t).random((self.n, self.cfg.feed_size))
        kind = np.searchsorted(self.policy_cdf, u_kind[agent], side="right")
        return _Step(agent=agent, kind=kind, u_misc=u_misc[agent], u_vote=u_vote[agent],
                     u_follow=u_follow[agent])

    # 3. Feeds and exposures ---------------------------------------------------------------
    def _feeds(self, t: int, dec: _Step) -> np.ndarray:
        """Feed slots (post indices, -1 empty) per decision; one exposure row per slot.

        Personalized and random slots draw from the pool of posts made before this step; the
        new feed also shows posts made earlier in this step (their stance is the poster's
        stance at the start of the step, known before resolution).
        """
        cfg, viewers = self.cfg, dec.agent
        base = self.posts.n
        posting = dec.kind == D_POST
        planned_author = viewers[posting]
        self._ensure_post_capacity(base + len(planned_author))
        self.post_u[base : base + len(planned_author)] = self.u[planned_author]
        pool_start = self.pool_start(t, cfg.pool_window_steps, cfg.pool_cap)
        index = np.arange(pool_start, base + len(planned_author))
        author = np.concatenate([self.posts.view("author")[pool_start:], planned_author])
        age = t - np.concatenate([self.posts.view("step")[pool_start:],
                                  np.full(len(planned_author), t)])
        everything = FeedItems(post=index, author=author, stance_u=self.post_u[index], age=age)
        n_old = base - pool_start
        pool = FeedItems(post=index[:n_old], author=author[:n_old],
                         stance_u=everything.stance_u[:n_old], age=age[:n_old])

        # Every draw is made in every arm, full length-N, so twins stay comparable (§4.2).
        rf = step_rng(self.seed, "feed", t)
        key = int(rf.integers(0, 2**63))
        u_first = rf.random((self.n, 2 * self.n_pers + 2))[viewers]
        u_rand = rf.random((self.n, 2 * self.n_rand + 2))[viewers]
        viewer_u = self.u[viewers]
        cross = cfg.exposure == "cross_cutting"
        if cfg.exposure == "random":
            first = random_feed(viewers, viewer_u, pool, self.n_pers, u_first)
        else:
            first = personalized_feed(
                viewers, viewer_u, pool, self.n_pers, key, gamma=cfg.gamma,
                delta=cfg.bias_delta, tau=cfg.recency_tau_steps, opposite_only=cross,
            )
        visible_end = base + np.cumsum(posting) - posting  # posts planned before each viewer
        newest = new_feed(viewers, viewer_u, everything, visible_end, self.n_new,
                          opposite_only=cross)
        rand = random_feed(viewers, viewer_u, pool, self.n_rand, u_rand, opposite_only=cross)
        slots = np.concatenate([first, newest, rand], axis=1)
        rows, cols = self.show_feed(viewers, t, slots, self.feed_cols)
        self._count_disagreements(viewers[rows], slots[rows, cols], author, pool_start)
        return slots

    def _ensure_post_capacity(self, n: int) -> None:
        if n > len(self.post_u):
            self.post_u = np.concatenate([self.post_u, np.zeros(max(n, 2 * len(self.post_u)))])

    def _count_disagreements(self, viewers: np.ndarray, posts: np.ndarray, pool_author: np.ndarray,
                             pool_start: int) -> None:
        """Each exposure to a followee's post beyond ε counts one disagreement (§4.6)."""
        far = np.abs(self.u[viewers] - self.post_u[posts]) >= self.cfg.epsilon
        authors = pool_author[posts[far] - pool_start]
        for a, b in zip(viewers[far].tolist(), authors.tolist()):
            if self.is_following(a, b):
                key = a * self.n + b
                self.disagreements[key] = self.disagreements.get(key, 0) + 1
                if self.disagreements[key] == self.cfg.unfollow_after:
                    self.unfollow_due.setdefault(a, []).append(b)

    # 4. Policy: targets -------------------------------------------------------------------
    def _vote_targets(self, dec: _Step, slots: np.ndarray, authors: np.ndarray) -> np.ndarray:
        """A uniform pick among the feed's posts by others (votes stream)."""
        usable = (slots >= 0) & (authors != dec.agent[:, None])
        pick = gumbel_pick(usable.astype(float), dec.u_vote[:, : slots.shape[1]])
        return np.where(pick >= 0, slots[np.arange(len(slots)), np.maximum(pick, 0)], -1)

    # 5. Resolve ---------------------------------------------------------------------------
    def _community(self, u: float, draw: float) -> int:
        cfg = self.cfg
        own = HIGH_CAMP if u >= 0.5 else LOW_CAMP
        if draw < cfg.own_camp_community:
            return own
        if draw < cfg.own_camp_community + cfg.other_camp_community:
            return LOW_CAMP + HIGH_CAMP - own
        return GENERAL

    def _comment(self, a: int, t: int, post: int, u_misc: np.ndarray,
                 thread_log: list[tuple[int, ...]], replies: list[tuple[int, float]]) -> None:
        """Comment on the post just read: answer the thread's newest comment by someone else
        with probability p_reply, else the post. Hostile more often across camps."""
        cfg = self.cfg
        shown = self.threads.get(post, [])[-cfg.thread_exposed_comments :][::-1]
        for rank, c in enumerate(shown):
            thread_log.append((a, t, K_COMMENT, c, THREAD, rank + 1))
        others = [c for c in shown if self.comments["author"][c] != a]
        parent = others[0] if others and u_misc[1] < cfg.p_reply else -1
        if parent >= 0:
            answered = self.author_of(K_COMMENT, parent)
            answered_u = (self.comments["stance"][parent] + 1) / 2
        else:
            answered, answered_u = self.author_of(K_POST, post), self.post_u[post]
        across = (self.u[a] >= 0.5) != (answered_u >= 0.5)
        p_hostile = cfg.p_hostile_cross if across else cfg.p_hostile_within
        tone = HOSTILE if u_misc[2] < p_hostile else NEUTRAL
        self.comment(a, t, post, parent, topic=self.topic, stance=2 * self.u[a] - 1, tone=tone)
        if answered != a:
            replies.append((answered, float(self.u[a])))

    def _vote(self, a: int, t: int, post: int, u_sign: float) -> None:
        cfg = self.cfg
        if post < 0 or post >= self.posts.n:
            self.nothing(a, t, "no_target")
            return
        if self.current_vote(a, K_POST, post):
            self.nothing(a, t, "already_voted")
            return
        gap = abs(self.u[a] - self.post_u[post])
        p_down = cfg.p_downvote_disagree if gap >= cfg.epsilon else cfg.p_downvote_agree
        if (self.u[a] >= 0.5) != (self.post_u[post] >= 0.5):
            p_down = min(1.0, p_down * cfg.cross_camp_downvote_bias)
        self.vote(a, t, K_POST, post, -1 if u_sign < p_down else 1)

    def _follow(self, a: int, t: int, candidates: np.ndarray, u: np.ndarray) -> None:
        """Pick among the feed's authors: preferential attachment × homophily × reciprocity."""
        cfg = self.cfg
        ok = (candidates >= 0) & (candidates != a)
        cand = np.maximum(candidates, 0)
        follows_back = np.array([self.is_following(int(b), a) for b in cand], dtype=float)
        weight = ((self.followers[cand] + cfg.follow_k0) ** cfg.follow_pa_exponent
                  * np.exp(-cfg.follow_homophily * np.abs(self.u[a] - self.u[cand]))
                  * (1.0 + cfg.follow_reciprocity * follows_back)) * ok
        pick = gumbel_pick(weight[None, :], u[None, :])[0]
        if pick < 0:
            self.nothing(a, t, "no_target")
        elif not self.follow(a, t, int(candidates[pick])):
            self.nothing(a, t, "already_following")

    def _unfollow_disagreeing(self, a: int, t: int) -> None:
        """Drop the followees this agent has disagreed with `unfollow_after` times."""
        for b in self.unfollow_due.pop(a, []):
            self.disagreements.pop(a * self.n + b, None)
            self.unfollow(a, t, b, info={"reason": "disagreement"})

    def _resolve(self, t: int, dec: _Step, slots: np.ndarray) -> list[tuple[int, float]]:
        """Apply the step's decisions in order; returns the (answered author, reply stance)
        events for the State phase."""
        n_base = self.posts.n
        authors_now = np.concatenate([self.posts.view("author"), dec.agent[dec.kind == D_POST],
                                      [-1]])
        slot_authors = authors_now[slots]  # slot -1 reads the trailing -1
        vote_target = self._vote_targets(dec, slots, slot_authors)
        thread_log: list[tuple[int, ...]] = []
        replies: list[tuple[int, float]] = []
        for d, (a, kind) in enumerate(zip(dec.agent.tolist(), dec.kind.tolist())):
            self._unfollow_disagreeing(a, t)
            partner = int(slots[d, 0]) if self.n_pers else -1
            if kind == D_POST:
                community = self._community(self.u[a], dec.u_misc[d, 0])
                self.post(a, t, community, topic=self.topic, stance=2 * self.u[a] - 1)
            elif kind == D_COMMENT and 0 <= partner < self.posts.n:
                self._comment(a, t, partner, dec.u_misc[d], thread_log, replies)
            elif kind == D_VOTE:
                self._vote(a, t, int(vote_target[d]), dec.u_vote[d, -1])
            elif kind == D_FOLLOW:
                self._follow(a, t, slot_authors[d], dec.u_follow[d, : slots.shape[1]])
            else:
                self.nothing(a, t, "no_target" if kind == D_COMMENT else None)
        # The new feed showed same-step posts under the indices they were planned to get.
        assert self.posts.n == n_base + int((dec.kind == D_POST).sum())
        if thread_log:
            self.expose(*(np.array(col) for col in zip(*thread_log)))
        return replies

    # 6. State -----------------------------------------------------------------------------
    def _update_opinions(self, dec: _Step, slots: np.ndarray,
                         replies: list[tuple[int, float]]) -> None:
        """Readers move toward what they read, then answered authors toward their replies."""
        cfg = self.cfg
        if self.n_pers:
            partner = slots[:, 0]
            read = (partner >= 0) & (partner < self.posts.n)
            readers = dec.agent[read]
            self.u[readers] = deffuant_read(self.u[readers], self.post_u[partner[read]],
                                            cfg.epsilon, cfg.mu, backfire_rho=cfg.backfire_rho,
                                            backfire_mu=cfg.backfire_mu)
        for author, heard in replies:
            self.u[author] = deffuant_read(self.u[author], heard, cfg.epsilon, cfg.mu,
                                           backfire_rho=cfg.backfire_rho,
                                           backfire_mu=cfg.backfire_mu)

    def step(self, t: int) -> None:
        self.begin_step()
        dec = self._decisions(t)
        slots = self._feeds(t, dec)
        replies = self._resolve(t, dec, slots)
        self._update_opinions(dec, slots, replies)
        self.end_step(t)
        if (t + 1) % self.cfg.snapshot_every == 0 or t + 1 == self.cfg.n_steps:
            self.record_states(t + 1, "stance", np.arange(self.n), 2 * self.u - 1)


def agent_labels(cfg: EchoChamberConfig, pop: Population) -> dict[str, list[str | None]]:
    """Planted per-agent truth for `sim_labels` (§4.9)."""
    return {
        "stance": [f"{2 * x - 1:.6f}" for x in pop.stance_u],
        "camp": [CAMPS[c] for c in camp(pop.stance_u)],
        "wake_rate_per_step": [f"{x:.6g}" for x in pop.wake_rate],
        "epsilon": [f"{cfg.epsilon:g}"] * cfg.n_agents,
        "stubbornness": ["0"] * cfg.n_agents,
        "interest": [cfg.topic] * cfg.n_agents,
    }


def _start(cfg: EchoChamberConfig, seed: int) -> _Run:
    """Draw the population and record the initial stances."""
    pop = draw_population(cfg, seed)
    state = _Run(cfg, seed, pop)
    state.record_states(0, "stance", np.arange(cfg.n_agents), 2 * pop.stance_u - 1)
    state.label_items("community", "camp", [None, CAMPS[0], CAMPS[1]])
    return state


def run(cfg: EchoChamberConfig, seed: int, checkpoints: Checkpoints | None = None) -> Trace:
    """Simulate `cfg.n_steps` steps and return the trace."""
    state = run_steps(lambda: _start(cfg, seed), range(cfg.n_steps), checkpoints)
    topic = TOPICS.index(cfg.topic)
    return state.trace(interest=np.full(cfg.n_agents, topic),
                       community_topic=np.array([-1, topic, topic]),
                       agent_labels=agent_labels(cfg, state.pop))


# §5.2. Rows measured on a twin say "measured on twin <society_id>"; rows comparing the arms say
# "twin <society_id>" (two for the exposure arms). The checker reads those ids.
def truth(cfg: EchoChamberConfig, trace: Trace) -> tuple[TruthRow, ...]:
    """The rows of the run's arm; with backfire on, only those that hold by construction (the
    theory and calibration of the others assume plain bounded confidence)."""
    rows = _arm_rows(cfg, trace)
    if cfg.backfire_rho is None:
        return rows
    return tuple(row for row in rows if row.reference.startswith("by_construction"))


def _arm_rows(cfg: EchoChamberConfig, trace: Trace) -> tuple[TruthRow, ...]:
    """The treatment (homophilic feed, γ > 0) carries every §5.2 row, naming its twins. A
    random-exposure twin carries the two rows that describe it; camp rows are left out there
    (a consensus has no camps) and in the cross-cutting arm (its centre sits on u = ½)."""
    if cfg.exposure == "random":
        return truth_rows(
            ("Consensus without bias", "sim.stance_clusters", "1", "abs 0",
             f"theory: {DEFFUANT} (floor(1/(2 epsilon)) for uniform starts)"),
            ("Echo chamber", "sim.neighbour_leaning_corr", "0.2", "max 0.2",
             f"calibrated: measure from {CINELLI}"),
        )
    if cfg.exposure == "cross_cutting" or cfg.gamma == 0:
        return ()
    gamma0, random_arm, cross_arm = (society_id_for("echo-chamber", trace.seed, twin)
                                     for twin in ("gamma0", "random", "cross_cutting"))
    return truth_rows(
        ("Consensus without bias", "sim.stance_clusters", "1", "abs 0",
         f"theory: {DEFFUANT} (floor(1/(2 epsilon)) for uniform starts); "
         f"measured on twin {gamma0}"),
        ("Fragmentation under bias", "sim.stance_clusters", "3", "min 3",
         f"calibrated: {SIRBU} (gamma 1.5, epsilon 0.3 gave 5-10 in a reference run)"),
        ("Slower convergence", "sim.convergence_steps_ratio", "2", "min 2",
         f"paper: {SIRBU}; treatment / twin {gamma0}"),
        ("Echo chamber", "sim.neighbour_leaning_corr", "0.5", "min 0.5",
         f"calibrated: measure from {CINELLI}"),
        ("Echo chamber (twin)", "sim.neighbour_leaning_corr", "0.2", "max 0.2",
         f"calibrated: measure from {CINELLI}; measured on twin {gamma0}"),
        ("Diffusion bias", "sim.within_camp_edge_share", "0.70", "min 0.70",
         "calibrated: reply and vote edges"),
        ("Segregated graph", "sim.follow_modularity_gain", "0.10", "min 0.10",
         f"calibrated: camp-split modularity of the follow graph, treatment - twin {gamma0}"),
        ("Feed homophily", "sim.exposure_stance_gap", "treatment < twin", "order",
         f"by_construction: exposures reveal the cause; twin {gamma0}"),
        ("Exposure arms", "sim.more_extreme_share", "homophilic > random > cross_cutting",
         "order", f"paper: {AGENTSOCIETY}; twin {random_arm}; twin {cross_arm}"),
        ("Camp communities", "sim.camp_community_alignment", "0.80", "min 0.80",
         "calibrated: posts go to the author's camp community 60%, the other camp's 5%"),
        ("Cross-camp hostility", "sim.cross_camp_downvote_share", "0.70", "min 0.70",
         "by_construction: downvotes 3x as likely across camps and on items beyond epsilon"),
        ("Hostile tone across camps", "sim.cross_camp_hostility_ratio", "2", "min 2",
         "by_construction: hostile tone 0.25 across camps vs 0.05 within"),
    )


PRESET = Preset(
    "echo-chamber", EchoChamberConfig, run, truth,
    twins={
        "gamma0": {"gamma": 0.0, "exposure": "random"},
        "random": {"exposure": "random"},
        "cross_cutting": {"exposure": "cross_cutting"},
    },
    reference_size=(2_000, 2_000),
)
