"""`high-socialization` (SIMULATORS.md §5.3): agents adapt to the partners they talk with.

The mirror image of `moltbook-like`, built so that socialization analytics can tell the two
apart. Every comment is an *interaction* between the commenter and the agent it answers (the
post's author, or the parent comment's author); both remember the other in a ring of their last
`partner_memory` partners. On top of that memory:

- **Opinion**: Friedkin–Johnsen with low stubbornness. Every step each agent re-weighs the
  partners it remembers, u ← ΛWu + (I − Λ)s⁰ with W row-normalised over its ring
  (`simulators.kernels.social_influence`). From step `fj_freeze_step` on, the rings the kernel
  reads are frozen, so stances settle on the closed-form equilibrium (the
  `sim.fj_equilibrium_linf` row) while the reply memory keeps moving.
- **Culture**: an Axelrod vector of F = 5 features with q = 3 traits (tone, format, signature
  phrase, topic focus, length band; `simulators.kernels.culture`). A commenter meets the author
  of the post it comments on (an author answering in its own thread meets nobody), up to
  `culture_rounds` meetings per agent and step; with probability `read_meeting_prob` an awake
  agent also meets the author of one post it read, picked with weight (1 + author
  karma)^`prestige_bias`. A meeting copies one differing feature with probability equal to the
  pair's similarity. Culture thus spreads mostly through the comments the socialization
  diagnostics pair agents by, and slowly enough (the rates above) that partners still differ
  until late in the run. Posts are written in the author's culture, each feature tried with a
  random trait with probability `style_explore`; traits go to the text layer (`ItemSpecs.style`,
  rendered with `style_strength` style phrases per sentence and trait, so that one trait moves
  a post's TF-IDF vector clearly) and the topic-focus trait picks the topic.
- **Karma reinforcement**: readers upvote posts close to their own culture (probability
  closeness^`vote_homophily`, long posts liked most), and the features of an author's
  best-received post gain weight: after k posts written while it stays the best, each feature
  of a new post repeats the best post's trait with probability
  `karma_max`·(1 − (1 − `karma_lr`)^k), so posts move toward the best one (the §3.5 gap).
- **Success-biased attention**: the `front_page` posts with the highest net scores draw the
  comments. For a share `attention_share` of comments (always, for authors on the front page)
  a feed post weighs (1 + net score, capped at the front page's lowest)^`attention_bias`, so
  the same authors receive most comments bin after bin (persistent supernodes) and, met by
  their commenters, spread one culture; the other comments answer the newest posts (weight 1)
  or followed authors' posts (weight `background_following`), which keeps the long tail of
  authors in the conversation.
- **Reciprocity memory**: the weight of a feed item as a comment target, of a thread comment as
  a parent, and the chance to answer a reply all grow with how often its author sits in the
  reader's ring: weight 1 + `reciprocity_boost`·m, answer probability
  min(`answer_max`, `p_answer`·(1 + boost·m)). Answers chain into deep threads, and authors
  come back to their own threads.

Feeds: following 0.5 / hot 0.3 / new 0.2 of `feed_size` slots. Follows go to remembered
partners (so they are often reciprocated), else by preferential attachment.

Per step everything that scales with agents is vectorised over full length-N arrays of common
random numbers (§4.2); only the resolution of the step's decisions runs in Python. Twin
`stubborn`: stubbornness 1, Axelrod copying off and karma_lr 0, so social influence (on
opinions, on culture and from votes) is removed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from simulators.checkpoint import Checkpoints, run_steps
from simulators.config import SimConfig
from simulators.core import (
    FOLLOWING, HOT, K_COMMENT, K_POST, NEW, THREAD, Society, Trace, circadian, gumbel_pick,
    hot_rank, poisson_counts,
)
from simulators.feeds import following_feed
from simulators.kernels.culture import axelrod_step
from simulators.kernels.social_influence import NO_PARTNER, fj_step, partner_mean
from simulators.presets.spec import Preset
from simulators.probes import ProbeThreads
from simulators.rng import module_rng, step_rng
from simulators.text import LONG, STYLE_FEATURES, STYLE_FOCUS, STYLE_LENGTH, STYLE_TONE, TOPICS
from simulators.truth import LI, ZERHOUDI, TruthRow, truth_rows

CULTURE_FEATURES: tuple[str, ...] = STYLE_FEATURES  # tone, format, signature, focus, length
STATE_DIMS: tuple[str, ...] = ("stance",) + tuple(f"culture_{f}" for f in range(5))

# Decision kinds, in the order of the policy CDF; ANSWER is a scheduled reply to a notification.
_POLICY_ORDER = ("post", "comment", "vote", "follow", "nothing")
D_POST, D_COMMENT, D_VOTE, D_FOLLOW, D_NOTHING, D_ANSWER = range(6)
# Per-decision uniforms of the policy stream: [0] reply?, [1] parent pick, [2] community,
# [3] comment topic, [4] answer draw, [5] answer delay, [6] front page or new posts.
_N_MISC = 7
_ANSWER_CAP_PER_STEP = 1  # scheduled answers an agent resolves per step; the rest wait


def _feed_mix() -> dict[str, float]:
    return {"following": 0.5, "hot": 0.3, "new": 0.2}


def _action_weights() -> dict[str, float]:
    return {"post": 0.22, "comment": 0.32, "vote": 0.34, "follow": 0.08, "nothing": 0.04}


@dataclass(frozen=True)
class HighSocializationConfig(SimConfig):
    """Every knob of the preset. Defaults are the test size (300 agents × 720 one-minute steps,
    12 simulated hours), where the truth rows are calibrated; §5.3 names 2,000 × 2,000, where
    the scale-dependent rows (supernode share, thread depth, author return) are not yet
    calibrated and miss (seeds 1 and 6)."""

    n_agents: int = 300
    n_steps: int = 720

    # Text: style and topic words carry the culture, so the text-based diagnostics see it.
    signal_strength: float = 0.6
    style_strength: float = 3.0  # style phrases per sentence and set trait (simulators.text)

    # Activity: lognormal base rates (decisions per step), mild circadian rhythm.
    activity_median_rate: float = 0.12
    activity_sigma: float = 0.8
    activity_max_rate: float = 1.0
    max_actions_per_step: int = 3
    circadian_amplitude: float = 0.3

    # Latent state (§4.9)
    stubbornness: float = 0.1
    fj_freeze_step: int | None = None  # None: three quarters of the run
    axelrod: bool = True
    n_features: int = 5  # F
    n_traits: int = 3  # q
    style_explore: float = 0.2  # a post tries a random trait on a feature
    karma_lr: float = 0.1  # weight the best post's features gain per post written since ...
    karma_max: float = 0.8  # ... up to this weight
    culture_rounds: int = 2  # comment meetings per agent and step that reach the culture
    read_meeting_prob: float = 0.05  # an awake agent takes a read post's author as a model ...
    prestige_bias: float = 2.0  # ... picked with weight (1 + author karma)^prestige_bias
    long_post_appeal: float = 0.7  # readers like short posts 1 − this as often as long ones
    state_every: int | None = None  # sim_states cadence; None: about 8 records per run

    # Success-biased attention: comments go to the front page, the highest-scored posts.
    front_page: int = 10  # posts on the front page
    attention_bias: float = 3.0  # a feed post weighs (1 + net score, capped there)^this ...
    attention_share: float = 0.75  # ... for this share of comments; the rest answer new posts
    background_following: float = 0.1  # (or, with this weight, followed authors' posts)

    # Reciprocity memory and threads
    partner_memory: int = 20
    reciprocity_boost: float = 2.0
    p_reply: float = 0.45
    p_answer: float = 0.25  # chance to answer a reply from a stranger (grows with memory) ...
    answer_max: float = 0.6  # ... up to this cap, so reply chains stay finite
    answer_mean_delay_steps: float = 3.0
    thread_exposed_comments: int = 5

    # Communities: the general one, then one per topic focus (that is, per item topic).
    general_share: float = 0.5

    # Feeds
    feed_mix: dict[str, float] = field(default_factory=_feed_mix)
    pool_window_steps: int = 1_440
    pool_cap: int = 20_000
    hot_time_scale_s: float = 45_000.0
    hot_depth: int = 30
    hot_rank_zipf: float = 1.0

    # Policy, votes, follows
    action_weights: dict[str, float] = field(default_factory=_action_weights)
    vote_homophily: float = 2.0  # a reader likes a post with probability closeness^this
    downvote_share: float = 0.05
    follow_k0: float = 1.0
    follow_partner_share: float = 0.3

    # Probe threads (`simulators.probes`, ANALYTICS_SPEC §3.8): answers name agents with weight
    # (1 + interactions received)^probe_prestige_exponent, so they agree on the hubs.
    n_probe_threads: int = 4
    probe_answers: int = 25  # answers each probe collects at most
    probe_prestige_exponent: float = 3.0
    probe_hallucination: float = 0.0

    def resolved(self) -> "HighSocializationConfig":
        freeze = self.fj_freeze_step
        if freeze is None:
            freeze = (3 * self.n_steps) // 4
        every = self.state_every
        if every is None:
            every = max(1, int(np.ceil(self.n_steps / 8)))
        return dataclasses.replace(self, n_communities=1 + self.n_traits,
                                   fj_freeze_step=int(freeze), state_every=int(every))

    def validate(self) -> None:
        super().validate()
        if set(self.feed_mix) != {"following", "hot", "new"}:
            raise ValueError("high-socialization serves the following, hot and new feeds only")
        if abs(sum(self.feed_mix.values()) - 1.0) > 1e-9:
            raise ValueError("feed_mix must sum to 1")
        if set(self.action_weights) != set(_POLICY_ORDER) or min(self.action_weights.values()) < 0:
            raise ValueError(f"action_weights needs non-negative {_POLICY_ORDER}")
        if not 0.0 <= self.stubbornness <= 1.0:
            raise ValueError("stubbornness lies in [0, 1]")
        if self.n_features != len(CULTURE_FEATURES) or self.n_traits != 3:
            raise ValueError("the text layer renders F = 5 features with q = 3 traits")
        if self.partner_memory < 1 or self.n_communities != 1 + self.n_traits:
            raise ValueError("partner_memory >= 1; communities are general + one per focus")
        if self.culture_rounds < 1 or self.front_page < 1:
            raise ValueError("culture_rounds and front_page must be >= 1")
        if not (0.0 <= self.attention_share <= 1.0 and self.background_following >= 0.0
                and 0.0 <= self.karma_max <= 1.0):
            raise ValueError("attention_share and karma_max lie in [0, 1]; "
                             "background_following >= 0")

    def policy_cdf(self) -> np.ndarray:
        w = np.array([self.action_weights[k] for k in _POLICY_ORDER])
        return np.cumsum(w / w.sum())


class Styles:
    """Per-item culture traits (rows of F ints), grown by doubling, readable as a view."""

    def __init__(self, n_features: int) -> None:
        self._rows = np.zeros((1024, n_features), dtype=np.int64)
        self.n = 0

    def add(self, style: np.ndarray) -> None:
        if self.n == len(self._rows):
            self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
        self._rows[self.n] = style
        self.n += 1

    def view(self) -> np.ndarray:
        return self._rows[: self.n]


@dataclass
class Population:
    """Per-agent truth drawn once from the `population` stream."""

    base_rate: np.ndarray  # decisions per step
    tz_offset_h: np.ndarray
    interest: np.ndarray  # index into TOPICS: the topic of the bio
    innate: np.ndarray  # innate stance s⁰ in [-1, 1]
    culture: np.ndarray  # (n, F) initial traits


def draw_population(cfg: HighSocializationConfig, seed: int) -> Population:
    rng = module_rng(seed, "population")
    n = cfg.n_agents
    base_rate = np.minimum(
        cfg.activity_median_rate * np.exp(cfg.activity_sigma * rng.standard_normal(n)),
        cfg.activity_max_rate,
    )
    tz = rng.uniform(-12.0, 12.0, size=n)
    interest = rng.integers(0, len(TOPICS), size=n)
    innate = rng.uniform(-1.0, 1.0, size=n)
    culture = rng.integers(0, cfg.n_traits, size=(n, cfg.n_features)).astype(np.int64)
    return Population(base_rate=base_rate, tz_offset_h=tz, interest=interest, innate=innate,
                      culture=culture)


def item_topic(focus: int) -> int:
    """The topic an item is about, set by its topic-focus trait (one of three topics), so that
    a society converging on one focus writes about one topic; the text layer also favours a
    sub-lexicon per focus. The author's interest only shapes its bio."""
    return 2 * focus


def _feed_split(cfg: HighSocializationConfig) -> dict[str, int]:
    """Slots per feed by largest remainder, summing to feed_size."""
    names = ("following", "hot", "new")
    raw = np.array([cfg.feed_mix[k] * cfg.feed_size for k in names])
    slots = np.floor(raw).astype(int)
    order = np.argsort(-(raw - slots), kind="stable")
    slots[order[: cfg.feed_size - slots.sum()]] += 1
    return dict(zip(names, slots.tolist()))


@dataclass
class _Decisions:
    """The step's decisions in resolution order, with the uniforms each one owns."""

    agent: np.ndarray
    kind: np.ndarray  # D_*
    answer_to: np.ndarray  # for D_ANSWER, the comment answered; else -1
    u_target: np.ndarray  # (n, feed_size) Gumbel uniforms for the comment target
    u_misc: np.ndarray  # (n, _N_MISC)
    u_style: np.ndarray  # (n, 3F): explore?, random trait, repeat the best post's trait?
    u_vote: np.ndarray  # (n, feed_size): like or dislike each feed item
    u_follow: np.ndarray  # (n,)


class _Run(Society):
    """One run of the preset; `step(t)` runs the §4.1 phases once."""

    state_dims = STATE_DIMS

    def __init__(self, cfg: HighSocializationConfig, seed: int, pop: Population) -> None:
        super().__init__(cfg, seed, 1 + cfg.n_traits)
        self.cfg: HighSocializationConfig = cfg
        self.pop = pop
        n = cfg.n_agents
        self.stance_u = (pop.innate + 1.0) / 2.0
        self.innate_u = self.stance_u.copy()
        self.susceptibility = np.full(n, 1.0 - cfg.stubbornness)
        self.culture = pop.culture.copy()
        self.partners = np.full((n, cfg.partner_memory), NO_PARTNER, dtype=np.int64)
        self.partner_count = np.zeros(n, dtype=np.int64)  # ring write position
        self.frozen_partners: np.ndarray | None = None
        self.post_style = Styles(cfg.n_features)
        # Karma reinforcement: each author's best-received post (the first to reach its
        # highest net score) and how many posts it has written since that post became best.
        self.best_post = np.full(n, -1, dtype=np.int64)
        self.posts_since_best = np.zeros(n, dtype=np.int64)
        self.comment_style = Styles(cfg.n_features)
        self.due_answers: dict[int, list[tuple[int, int]]] = {}
        # The step's culture meetings, in order: each commenter and the agent it met.
        self.step_listeners: list[int] = []
        self.step_models: list[int] = []
        split = _feed_split(cfg)
        self.n_following, self.n_hot, self.n_new = split["following"], split["hot"], split["new"]
        self.feed_cols = np.array([FOLLOWING] * self.n_following + [HOT] * self.n_hot
                                  + [NEW] * self.n_new)
        self.n_slots = cfg.max_actions_per_step + 1  # the last slot is kept for answers
        self.policy_cdf = cfg.policy_cdf()
        self.rate = pop.base_rate
        self.follow_cdf: np.ndarray | None = None  # preferential-attachment CDF of the step
        self.probes = ProbeThreads.for_run(cfg, seed, pop.interest)

    # Memory -------------------------------------------------------------------------------
    def remember(self, a: int, b: int) -> None:
        """a and b interacted: each writes the other into its ring of recent partners."""
        k = self.cfg.partner_memory
        for me, other in ((a, b), (b, a)):
            self.partners[me, self.partner_count[me] % k] = other
            self.partner_count[me] += 1

    def times_remembered(self, me: int, other: int) -> int:
        return int(np.count_nonzero(self.partners[me] == other))

    # 2. Activity and decisions ------------------------------------------------------------
    def _decisions(self, t: int) -> _Decisions:
        cfg = self.cfg
        ra = step_rng(self.seed, "activity", t)
        u_act = ra.random(self.n)
        u_order = ra.random((self.n, self.n_slots))
        hour = self.start_hour + t * cfg.step_seconds / 3600.0
        rate = self.rate * circadian(hour + self.pop.tz_offset_h, cfg.circadian_amplitude)
        counts = poisson_counts(u_act, rate, cfg.max_actions_per_step)
        agent = np.repeat(np.arange(self.n), counts)
        slot = np.arange(len(agent)) - np.repeat(np.cumsum(counts) - counts, counts)
        kind = np.full(len(agent), -1, dtype=np.int64)
        answer_to = np.full(len(agent), -1, dtype=np.int64)
        due: list[tuple[int, int]] = []
        taken: dict[int, int] = {}
        for who, comment in self.due_answers.pop(t, []):
            if taken.get(who, 0) >= _ANSWER_CAP_PER_STEP:
                self.due_answers.setdefault(t + 1, []).append((who, comment))
            else:
                taken[who] = taken.get(who, 0) + 1
                due.append((who, comment))
        if due:
            who_arr = np.array([w for w, _ in due], dtype=np.int64)
            agent = np.concatenate([agent, who_arr])
            slot = np.concatenate([slot, np.full(len(due), self.n_slots - 1)])
            kind = np.concatenate([kind, np.full(len(due), D_ANSWER)])
            answer_to = np.concatenate([answer_to, [c for _, c in due]]).astype(np.int64)
        order = np.argsort(u_order[agent, slot], kind="stable")
        agent, slot, kind, answer_to = agent[order], slot[order], kind[order], answer_to[order]

        rp = step_rng(self.seed, "policy", t)
        n_feed, f = cfg.feed_size, cfg.n_features
        u_kind = rp.random((self.n, self.n_slots))
        u_target = rp.random((self.n, self.n_slots, n_feed))
        u_misc = rp.random((self.n, self.n_slots, _N_MISC))
        u_style = step_rng(self.seed, "policy", t, 1).random((self.n, self.n_slots, 3 * f))
        u_vote = step_rng(self.seed, "votes", t).random((self.n, self.n_slots, n_feed))
        u_follow = step_rng(self.seed, "follows", t).random((self.n, self.n_slots))
        free = kind < 0
        drawn = np.searchsorted(self.policy_cdf, u_kind[agent, slot], side="right")
        kind = np.where(free, np.minimum(drawn, D_NOTHING), kind)
        return _Decisions(
            agent=agent, kind=kind, answer_to=answer_to, u_target=u_target[agent, slot],
            u_misc=u_misc[agent, slot], u_style=u_style[agent, slot], u_vote=u_vote[agent, slot],
            u_follow=u_follow[agent, slot],
        )

    # 3. Feeds and exposures ---------------------------------------------------------------
    def _feeds(self, t: int, dec: _Decisions) -> np.ndarray:
        """Feed slots (post indices, -1 empty) per decision; one exposure row per slot.

        Built once per awake agent. Following: the pool's posts by followees, best net score
        first, then newest. Hot: a rank-weighted draw from the top of the global hot list.
        New: the newest posts, including those made earlier in this step.
        """
        cfg = self.cfg
        base = self.posts.n
        step_post_pos = np.flatnonzero(dec.kind == D_POST)
        awake, first_pos = np.unique(dec.agent, return_index=True)
        pool_start = self.pool_start(t, cfg.pool_window_steps, cfg.pool_cap)
        pool_size = base - pool_start
        u_hot = step_rng(self.seed, "feed", t).random((self.n, cfg.hot_depth))[awake]
        slots = np.full((len(awake), cfg.feed_size), -1, dtype=np.int64)
        hot0, new0 = self.n_following, self.n_following + self.n_hot
        if pool_size:
            up, down = self.posts.view("up"), self.posts.view("down")
            slots[:, :hot0] = following_feed(
                awake, self.follows.view("follower"), self.follows.view("followee"),
                self.posts.view("author"), up - down, pool_start, self.n_following,
            )
            hot = hot_rank(up[pool_start:], down[pool_start:], self.posts.view("ms")[pool_start:],
                           cfg.hot_time_scale_s)
            hot_list = pool_start + np.argsort(-hot, kind="stable")[: cfg.hot_depth]
            depth = len(hot_list)
            weight = np.arange(1, depth + 1, dtype=float) ** -cfg.hot_rank_zipf
            pick = gumbel_top_k(np.broadcast_to(weight, (len(awake), depth)), u_hot[:, :depth],
                                min(self.n_hot, depth))
            slots[:, hot0 : hot0 + pick.shape[1]] = hot_list[pick]
        visible_same_step = np.searchsorted(step_post_pos, first_pos)
        new_idx = base + visible_same_step[:, None] - 1 - np.arange(self.n_new)[None, :]
        slots[:, new0:] = np.where(new_idx >= pool_start, new_idx, -1)
        self.show_feed(awake, t, slots, self.feed_cols)
        row_of = np.full(self.n, -1, dtype=np.int64)
        row_of[awake] = np.arange(len(awake))
        return slots[row_of[dec.agent]]

    # 4. Policy: which item ----------------------------------------------------------------
    def _targets(self, dec: _Decisions, slots: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Comment targets (never one's own post), and each feed item's closeness and appeal.

        Success-biased attention: with probability attention_share, and always for an author
        on the front page (the front_page posts with the highest net scores), a commenter
        weighs each feed post by (1 + its net score, capped at the front page's lowest)
        ^attention_bias, so the front-page posts draw most comments while they stay there;
        otherwise it weighs the newest posts (the new feed) 1, followed authors' posts
        background_following and hot posts 0, which keeps the long tail in the conversation.
        Either weight is multiplied by the reciprocity memory 1 + reciprocity_boost·m.
        Closeness is the share of a post's traits the reader holds (-1 for own posts, empty
        slots and posts made this step, which are not voted on); appeal grows with the length
        band (long posts are liked most)."""
        cfg = self.cfg
        step_post_author = dec.agent[dec.kind == D_POST]
        authors = np.concatenate([self.posts.view("author"), step_post_author, [-1]])
        slot_author = authors[slots]  # slot -1 reads the trailing -1
        usable = (slots >= 0) & (slot_author != dec.agent[:, None])
        ring = self.partners[dec.agent]  # (d, k)
        met = (ring[:, None, :] == slot_author[:, :, None]).sum(axis=2)
        rows = np.arange(len(dec.agent))
        net = self.posts.view("up") - self.posts.view("down")
        front = np.argpartition(net, -cfg.front_page)[-cfg.front_page:] \
            if len(net) > cfg.front_page else np.arange(len(net))
        cutoff = max(int(net[front].min()), 0) if len(front) else 0
        capped = np.concatenate([np.clip(net, 0, cutoff), np.zeros(len(step_post_author) + 1)])
        on_front = np.zeros(self.n, dtype=bool)
        on_front[self.posts.view("author")[front]] = True
        focused = (dec.u_misc[:, 6] < cfg.attention_share) | on_front[dec.agent]
        newest = np.where(self.feed_cols == NEW, 1.0,
                          np.where(self.feed_cols == FOLLOWING, cfg.background_following, 0.0))
        attention = np.where(focused[:, None], (1.0 + capped[slots]) ** cfg.attention_bias,
                             newest[None, :])
        w_comment = np.where(usable, (1.0 + cfg.reciprocity_boost * met) * attention, 0.0)
        pick = gumbel_pick(w_comment, dec.u_target)
        comment_target = np.where(pick >= 0, slots[rows, np.maximum(pick, 0)], -1)
        styled = usable & (slots < self.posts.n)
        style = np.zeros(slots.shape + (cfg.n_features,), dtype=np.int64)
        style[styled] = self.post_style.view()[slots[styled]]
        closeness = (style == self.culture[dec.agent][:, None, :]).mean(axis=2)
        appeal = 1.0 - cfg.long_post_appeal * (LONG - style[:, :, STYLE_LENGTH]) / LONG
        return comment_target, np.where(styled, closeness, -1.0), appeal

    # 5. Resolve ---------------------------------------------------------------------------
    def _style(self, a: int, u: np.ndarray) -> np.ndarray:
        """An item's traits: the author's culture, each feature tried out with a random trait
        with probability style_explore."""
        cfg = self.cfg
        f, q = cfg.n_features, cfg.n_traits
        random_trait = np.minimum((u[f : 2 * f] * q).astype(np.int64), q - 1)
        return np.where(u[:f] < cfg.style_explore, random_trait, self.culture[a])

    def _post_style(self, a: int, u: np.ndarray) -> np.ndarray:
        """A post's traits (`_style`), then karma reinforcement: the features of the author's
        best-received post gain weight, so after k posts written while it stays the best, each
        feature repeats the best post's trait with probability
        karma_max·(1 − (1 − karma_lr)^k)."""
        cfg = self.cfg
        style = self._style(a, u)
        best = int(self.best_post[a])
        if best < 0:
            return style
        weight = cfg.karma_max * (1.0 - (1.0 - cfg.karma_lr) ** self.posts_since_best[a])
        return np.where(u[2 * cfg.n_features :] < weight, self.post_style.view()[best], style)

    def _post(self, a: int, t: int, d: int, dec: _Decisions) -> None:
        style = self._post_style(a, dec.u_style[d])
        self.posts_since_best[a] += 1
        topic = item_topic(int(style[STYLE_FOCUS]))
        u_comm = dec.u_misc[d, 2]
        community = 0 if u_comm < self.cfg.general_share else 1 + int(style[STYLE_FOCUS])
        self.post(a, t, community, topic=topic, stance=2.0 * self.stance_u[a] - 1.0,
                  tone=int(style[STYLE_TONE]))
        self.post_style.add(style)

    def _comment(self, a: int, t: int, d: int, dec: _Decisions, post: int, parent: int) -> None:
        """Write the comment, remember the partner, maybe schedule the answered agent's answer."""
        cfg = self.cfg
        u = dec.u_misc[d]
        style = self._style(a, dec.u_style[d])
        topic = int(self.posts["topic"][post]) if u[3] < cfg.comment_topic_from_post \
            else item_topic(int(style[STYLE_FOCUS]))
        cidx = self.comment(a, t, post, parent, topic=topic,
                            stance=2.0 * self.stance_u[a] - 1.0, tone=int(style[STYLE_TONE]))
        self.comment_style.add(style)
        parent = int(self.comments["parent"][cidx])  # the depth cap may have moved it up
        answered = (self.author_of(K_COMMENT, parent) if parent >= 0
                    else self.author_of(K_POST, post))
        if answered == a:
            return
        self.remember(a, answered)
        # A culture meeting with the author of the post commented on, the partner the §3.6
        # diagnostics pair the commenter with. An author answering in its own thread is the
        # one being read: it meets nobody, so hosts of busy threads are not pulled around.
        author = self.author_of(K_POST, post)
        if author != a:
            self.step_listeners.append(a)
            self.step_models.append(author)
        met = self.times_remembered(answered, a) - 1  # this interaction is already in the ring
        p = min(cfg.answer_max, cfg.p_answer * (1.0 + cfg.reciprocity_boost * met))
        if self.comments["depth"][cidx] < cfg.max_depth and u[4] < p:
            wait = -np.log1p(-u[4] / p)  # exponential, reusing the draw
            delay = 1 + int(wait * cfg.answer_mean_delay_steps)
            self.due_answers.setdefault(t + delay, []).append((answered, cidx))

    def _thread_comment(self, a: int, t: int, d: int, dec: _Decisions, post: int,
                        seen: set[tuple[int, int]], log: list[tuple[int, ...]]) -> None:
        """Open a thread, then reply to one of its shown comments (p_reply, weighted by memory)
        or comment at top level."""
        cfg = self.cfg
        shown = self.threads.get(post, [])[-cfg.thread_exposed_comments :][::-1]
        for r, c in enumerate(shown):
            if (a, c) not in seen:
                seen.add((a, c))
                log.append((a, t, K_COMMENT, c, THREAD, r + 1))
        u = dec.u_misc[d]
        parent = -1
        candidates = [c for c in shown if self.comments["author"][c] != a]
        if candidates and u[0] < cfg.p_reply:
            weight = np.array([1.0 + cfg.reciprocity_boost * self.times_remembered(
                a, int(self.comments["author"][c])) for c in candidates])
            cdf = np.cumsum(weight)
            parent = candidates[min(int(np.searchsorted(cdf, u[1] * cdf[-1], side="right")),
                                    len(candidates) - 1)]
        self._comment(a, t, d, dec, post, parent)

    def _vote(self, a: int, t: int, d: int, dec: _Decisions, row: np.ndarray,
              closeness: np.ndarray, appeal: np.ndarray) -> None:
        """Go through the feed: upvote each post liked (probability
        appeal·closeness^vote_homophily), downvote a disliked one with probability
        downvote_share·(1 − closeness)."""
        cfg = self.cfg
        u = dec.u_vote[d]
        like = appeal * np.where(closeness >= 0, closeness, 0.0) ** cfg.vote_homophily
        dislike = 1.0 - cfg.downvote_share * (1.0 - closeness)
        cast = 0
        for j in np.flatnonzero(closeness >= 0).tolist():
            post = int(row[j])
            value = 1 if u[j] < like[j] else (-1 if u[j] > dislike[j] else 0)
            if value and not self.current_vote(a, K_POST, post):
                cast += self.vote(a, t, K_POST, post, value)
                if value > 0:
                    self._track_best(post)
        if not cast:
            self.nothing(a, t, "nothing_liked")

    def _track_best(self, post: int) -> None:
        """An upvoted post becomes its author's best when it beats the best's net score."""
        author = self.author_of(K_POST, post)
        best = int(self.best_post[author])
        net = self.posts["up"][post] - self.posts["down"][post]
        if best != post and (best < 0 or net > self.posts["up"][best] - self.posts["down"][best]):
            self.best_post[author] = post
            self.posts_since_best[author] = 0

    def _follow(self, a: int, t: int, d: int, dec: _Decisions) -> None:
        """With probability follow_partner_share follow a remembered partner (a random ring
        slot); else pick by preferential attachment, ∝ followers + follow_k0 (§4.6)."""
        cfg = self.cfg
        u = float(dec.u_follow[d])
        remembered = self.partners[a][self.partners[a] != NO_PARTNER]
        if len(remembered) and u < cfg.follow_partner_share:
            u = u / cfg.follow_partner_share
            b = int(remembered[min(int(u * len(remembered)), len(remembered) - 1)])
        else:
            if len(remembered):
                u = (u - cfg.follow_partner_share) / (1.0 - cfg.follow_partner_share)
            if self.follow_cdf is None:  # once per step
                self.follow_cdf = np.cumsum(self.followers + cfg.follow_k0)
            cdf = self.follow_cdf
            b = min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), self.n - 1)
        if not self.follow(a, t, b):
            self.nothing(a, t, "self" if b == a else "already_following")

    def _resolve(self, t: int, dec: _Decisions, slots: np.ndarray) -> None:
        comment_target, closeness, appeal = self._targets(dec, slots)
        self.follow_cdf = None
        seen: set[tuple[int, int]] = set()
        log: list[tuple[int, ...]] = []
        for d, (a, kind) in enumerate(zip(dec.agent.tolist(), dec.kind.tolist())):
            if kind == D_POST:
                self._post(a, t, d, dec)
            elif kind == D_COMMENT:
                post = int(comment_target[d])
                if post < 0:
                    self.nothing(a, t, "no_target")
                else:
                    self._thread_comment(a, t, d, dec, post, seen, log)
            elif kind == D_ANSWER:
                reply_to = int(dec.answer_to[d])
                log.append((a, t, K_COMMENT, reply_to, THREAD, 1))
                post = int(self.comments["post"][reply_to])
                self._comment(a, t, d, dec, post, reply_to)
            elif kind == D_VOTE:
                self._vote(a, t, d, dec, slots[d], closeness[d], appeal[d])
            elif kind == D_FOLLOW:
                self._follow(a, t, d, dec)
            else:
                self.nothing(a, t)
        if log:
            self.expose(*(np.array(col) for col in zip(*log)))

    # 6. State -----------------------------------------------------------------------------
    def _update_state(self, t: int, dec: _Decisions, slots: np.ndarray) -> None:
        """Axelrod meetings: each awake agent, with probability read_meeting_prob, with the
        author of one post it read (weighted by author karma); then each commenter with every
        agent it met this step, in order (up to culture_rounds). Then one Friedkin–Johnsen
        step over the remembered partners (frozen from fj_freeze_step on)."""
        cfg = self.cfg
        ro = step_rng(self.seed, "opinion", t)
        u_interact = ro.random((1 + cfg.culture_rounds, self.n))
        u_feature = ro.random((1 + cfg.culture_rounds, self.n))
        u_read = ro.random((self.n, cfg.feed_size))
        u_meet = ro.random(self.n)

        if cfg.axelrod and len(dec.agent):
            reader, first = np.unique(dec.agent, return_index=True)
            meets = u_meet[reader] < cfg.read_meeting_prob
            reader, first = reader[meets], first[meets]
            row = slots[first]
            row = np.where(row < self.posts.n, row, -1)
            karma = self.karma[self.posts.view("author")[np.maximum(row, 0)]]
            weight = np.where(row >= 0, (1.0 + np.maximum(karma, 0)) ** cfg.prestige_bias, 0.0)
            pick = gumbel_pick(weight, u_read[reader])
            ok = pick >= 0
            read = row[np.flatnonzero(ok), pick[ok]]
            reader = reader[ok]
            model = self.culture[self.posts.view("author")[read]]
            self.culture = axelrod_step(self.culture, reader, model,
                                        u_interact[0, reader], u_feature[0, reader])
        if cfg.axelrod and self.step_listeners:
            listener = np.array(self.step_listeners, dtype=np.int64)
            order = np.argsort(listener, kind="stable")
            listener, model = listener[order], self.culture[np.array(self.step_models)[order]]
            rank = np.arange(len(listener)) - np.searchsorted(listener, listener, side="left")
            for r in range(min(int(rank.max()) + 1, cfg.culture_rounds)):
                now = rank == r
                who = listener[now]
                self.culture = axelrod_step(self.culture, who, model[now],
                                            u_interact[1 + r, who], u_feature[1 + r, who])
        self.step_listeners, self.step_models = [], []
        if t + 1 == cfg.fj_freeze_step:
            self.frozen_partners = self.partners.copy()
        ring = self.partners if self.frozen_partners is None else self.frozen_partners
        self.stance_u = fj_step(self.stance_u, self.innate_u, self.susceptibility,
                                partner_mean(self.stance_u, ring))

    def record(self, t: int) -> None:
        everyone = np.arange(self.n)
        self.record_states(t, "stance", everyone, 2.0 * self.stance_u - 1.0)
        for f in range(self.cfg.n_features):
            self.record_states(t, f"culture_{f}", everyone, self.culture[:, f].astype(float))

    def step(self, t: int) -> None:
        self.begin_step()
        dec = self._decisions(t)
        slots = self._feeds(t, dec)
        self._resolve(t, dec, slots)
        # Probe items take their author's culture; an answer, like any comment, is an
        # interaction with the agent it answers (the asker).
        for kind, item, author in self.probes.step(self, t):
            if kind == K_POST:
                self.post_style.add(self.culture[author])
            else:
                self.comment_style.add(self.culture[author])
                self.remember(author, self.author_of(K_POST, int(self.comments["post"][item])))
        self._update_state(t, dec, slots)
        self.end_step(t)
        if (t + 1) % self.cfg.state_every == 0 and t + 1 < self.cfg.n_steps:
            self.record(t + 1)


def gumbel_top_k(weights: np.ndarray, u: np.ndarray, k: int) -> np.ndarray:
    """Row-wise k picks without replacement, ∝ weights (Gumbel top-k on given uniforms)."""
    keys = np.log(weights) - np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))
    return np.argsort(-keys, axis=1, kind="stable")[:, :k]


def agent_labels(cfg: HighSocializationConfig, pop: Population) -> dict[str, list[str | None]]:
    """Planted per-agent truth for `sim_labels`."""
    return {
        "base_rate_per_step": [f"{x:.6g}" for x in pop.base_rate],
        "tz_offset_h": [f"{x:.3f}" for x in pop.tz_offset_h],
        "interest": [TOPICS[i] for i in pop.interest],
        "stance": [f"{x:.6f}" for x in pop.innate],
        "stubbornness": [f"{cfg.stubbornness:g}"] * cfg.n_agents,
        "culture": [",".join(map(str, row)) for row in pop.culture],
    }


def _style_strings(styles: Styles) -> list[str | None]:
    return [",".join(map(str, row)) for row in styles.view().tolist()]


def _start(cfg: HighSocializationConfig, seed: int) -> _Run:
    """Draw the population and record the initial state."""
    state = _Run(cfg, seed, draw_population(cfg, seed))
    state.record(0)
    return state


def run(cfg: HighSocializationConfig, seed: int, checkpoints: Checkpoints | None = None
        ) -> Trace:
    """Simulate `cfg.n_steps` steps and return the trace."""
    state = run_steps(lambda: _start(cfg, seed), range(cfg.n_steps), checkpoints)
    pop = state.pop
    state.record(cfg.n_steps)
    state.label_items("post", "style", _style_strings(state.post_style))
    state.label_items("comment", "style", _style_strings(state.comment_style))
    community_topic = np.array([-1] + [item_topic(f) for f in range(cfg.n_traits)])
    trace = state.trace(interest=pop.interest, community_topic=community_topic,
                        agent_labels=agent_labels(cfg, pop))
    state.probes.attach(trace)
    trace.item_style = {"post": state.post_style.view().copy(),
                        "comment": state.comment_style.view().copy()}
    return trace


# §5.3. Rows scored by the simulator checker (`sim.*` and the directly measured ones) and by
# the socialization analytics; calibrated directions hold at the test size too.
TRUTH: tuple[TruthRow, ...] = truth_rows(
    # phenomenon, metric (family.metric), expected, tolerance, reference
    ("Semantic convergence", "socialization.pairwise_diversity_slope_day", "< 0", "order",
     f"calibrated: {LI} diagnostic, sign flipped"),
    ("Falling lexical turnover", "socialization.lexical_birth_rate_slope_n2", "< 0", "order",
     "calibrated"),
    ("Drift, not inertia", "socialization.excess_drift_median", "> 0", "ci excludes 0",
     "calibrated"),
    ("Partner adaptation", "socialization.partner_influence_effect", "> 0", "ci excludes 0",
     f"calibrated: {LI}, sign flipped"),
    ("Partner adaptation", "socialization.interaction_influence_effect", "> 0", "ci excludes 0",
     f"calibrated: {LI}, sign flipped"),
    ("Learning from votes", "socialization.feedback_gap_mean", "> 0", "ci excludes 0",
     "by_construction: karma reinforcement"),
    ("Persistent influencers", "socialization.persistent_supernode_share_k10", "0.30",
     "min 0.30", "calibrated"),
    ("Opinion convergence", "sim.stance_variance_ratio", "0.30", "max 0.30",
     "theory: Friedkin-Johnsen with low stubbornness"),
    ("FJ equilibrium", "sim.fj_equilibrium_linf", "0.02", "max 0.02",
     "theory: Friedkin & Johnsen, Social influence and opinions"),
    ("Cultural order", "sim.largest_culture_domain_share", "0.80", "min 0.80",
     "theory: Axelrod, The dissemination of culture (q = 3 below the measured q_c)"),
    ("Human-like reciprocity", "influence.dyad_reciprocity", "0.22..0.60", "range 0.22 0.60",
     f"paper: human-platform range quoted by {ZERHOUDI}"),
    ("Deep threads", "threads.mean_max_depth", "2.0", "min 2.0", "calibrated"),
    ("Present authors", "moltnet.author_return_rate", "0.30", "min 0.30", "calibrated"),
    ("Contrast with P1", "sim.contrast_with_moltbook_like",
     "ANALYTICS_SPEC §8.2 checks 2-6 fail opposite to moltbook-like", "order",
     f"paper: {LI}"),
)

# Twin `stubborn`: social influence (opinion, culture copying, learning from votes) removed, so
# convergence should vanish.
STUBBORN_TRUTH: tuple[TruthRow, ...] = truth_rows(
    ("No opinion convergence", "sim.stance_variance_ratio", "0.95", "min 0.95",
     "by_construction: stubbornness 1"),
    ("FJ equilibrium", "sim.fj_equilibrium_linf", "0.02", "max 0.02",
     "theory: with stubbornness 1 the equilibrium is the innate stance"),
    ("No cultural order", "sim.largest_culture_domain_share", "0.10", "max 0.10",
     "by_construction: Axelrod copying off"),
    ("No partner adaptation", "socialization.partner_influence_effect", "0", "ci covers 0",
     "by_construction: Axelrod copying off, stubbornness 1"),
    ("No partner adaptation", "socialization.interaction_influence_effect", "0", "ci covers 0",
     "by_construction: Axelrod copying off, stubbornness 1"),
)


def truth(cfg: HighSocializationConfig, trace: Trace) -> tuple[TruthRow, ...]:
    if cfg.stubbornness >= 1.0 and not cfg.axelrod:
        return STUBBORN_TRUTH
    return TRUTH


PRESET = Preset(
    "high-socialization", HighSocializationConfig, run, truth,
    twins={"stubborn": {"stubbornness": 1.0, "axelrod": False, "karma_lr": 0.0}},
    reference_size=(300, 720),  # the size the rows are calibrated at (see the config)
)
