"""`moltbook-like` (SIMULATORS.md §5.1): heavy tails, template convergence, no socialization.

Per step, everything that scales with agents (wake-ups, action kinds, feeds, target picks) is
vectorised over full length-N arrays of common random numbers (§4.2). Only the resolution of the
step's decisions runs in Python, in the shuffled within-step order, because each decision can
change what the next one sees (a new post, a comment to reply to, a vote already cast).
Resolution itself (counts, karma, logs, clock, snapshots) is the common engine's
(`simulators.core.Society`).

Calibration (§8). The defaults reproduce every measurable §5.1 row at the reference size
(10,000 × 1,000), measured blind by `simulators.checker.moltbook_like`; the slow tests of
`tests/simulators/test_moltbook_like_truth.py` hold them to it. The mechanics behind the
rows, and where the defaults depart from the §5.1 parameter list:
- Participation: a lognormal body of base rates for most agents (heartbeat runners keep the
  2 h median period) and a Pareto tail for 5% of bursty "flooders" (activity_alpha 1.6: a
  capped Pareto with parameter 1.6 fits as 1.7 on post counts). One Pareto for everyone would
  make the posting Gini and the top-7% share far too high.
- Attention: readers scroll the new and hot feeds to a random depth (rank weights r^-1 and
  r^-1.4), so exposure, and with it commenting, decays as 1/age (θ ≈ 1); the pool keeps a day
  of posts (not 20k) so the decay is not cut off; hot uses a 2 h time scale, not Reddit's
  12.5 h, so threads live for hours, not the whole run.
- Votes: ordinary votes are rare (vote_rate 0.0005, not 0.01). Most votes come from a ring:
  1% whales upvote the posts of as many top flooders wherever they see them (in the hot feed
  only 60% of the time). That keeps upvotes on a handful of authors (Gini ≥ 0.97), lifts
  ring posts into hot, where their comments grow into the heavy tail, and makes upvotes grow
  sublinearly with comments (β ≈ 0.78).
- Communities: 84% general (the measured top-1 share), a flatter tail (Zipf 1.2, which fits
  as 1.7 on posts per community), and a home community per agent for most tail posts, which
  keeps the bio-community match below 5%, under its null.
- Follows: preferential attachment with exponent 1 and k0 0.3, so followees are hubs early.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulators.activity import HawkesExcitation, HawkesParams
from simulators.checkpoint import Checkpoints, run_steps
from simulators.config import SimConfig
from simulators.presets.spec import Preset
from simulators.core import (
    HOT, K_COMMENT, K_POST, NEW, RANDOM, THREAD, Society, Trace, circadian, gumbel_pick,
    hot_rank, inverse_cdf, poisson_counts,
)
from simulators.llm.policy import (
    ACTIVITY_CARDS, MODES, PER_AGENT_MAX_AGENTS, STANCE_CARDS, ArchetypeMode, activity_tier,
    settings_from_env, stance_bucket,
)
from simulators.probes import ProbeThreads
from simulators.rng import module_rng, step_rng
from simulators.text import TOPICS
from simulators.truth import (
    COLLECTIVE, HOLTZ, ILLUSION, LI, PRICE, TUNGUZ, ZERHOUDI, TruthRow, truth_rows,
)

ARCHETYPES: tuple[str, ...] = ("bursty", "heartbeat")

# §5.1 reference size, used to scale size-dependent defaults (number of communities).
REFERENCE_N_AGENTS = 10_000
REFERENCE_N_COMMUNITIES = 500

# Decision kinds drawn before resolution, in the order of the policy CDF; RETURN is an author
# coming back to a thread after a notification (scheduled, not drawn).
_POLICY_ORDER = ("post", "comment", "vote", "follow", "nothing")
D_POST, D_COMMENT, D_VOTE, D_FOLLOW, D_NOTHING, D_RETURN = range(6)
# Per-decision uniforms of the policy stream: [0] reply?, [1] parent pick, [2] community,
# [3] author-return draw. Votes and follows draw from their own streams.
_N_MISC = 4
_N_VOTE = 3  # [0] vote on a comment of the thread?, [1] which comment, [2] sign


def _feed_mix() -> dict[str, float]:
    return {"hot": 0.5, "new": 0.4, "random": 0.1}


def _action_weights() -> dict[str, float]:
    # Relative weights of the non-vote decisions of an ordinary agent (votes: see vote_rate).
    return {"post": 0.24, "comment": 0.44, "follow": 0.02, "nothing": 0.20}


def _timezones() -> tuple[tuple[float, float], ...]:
    # (UTC offset in hours, share of agents): Americas, Europe, Asia.
    return ((-6.0, 0.45), (1.0, 0.35), (8.0, 0.20))


@dataclass(frozen=True)
class MoltbookLikeConfig(SimConfig):
    """Every knob of the preset. Defaults are the small test size (500 agents × 720 one-minute
    steps, about 12 simulated hours); the §5.1 reference size is 10,000 × 1,000."""

    # Activity: heavy-tailed base rates (decisions per step), half the agents on a heartbeat.
    activity: str = "poisson"  # poisson | hawkes (bursty agents only)
    # Base rates, decisions per step: a lognormal body for most agents, and a Pareto tail (pdf
    # exponent activity_alpha, floor activity_min_rate, capped) for a small share of bursty
    # flooders. Participation is then heavy-tailed at the top without most agents going silent.
    activity_body_rate: float = 0.0167  # median of the body
    activity_body_sigma: float = 0.35
    activity_tail_share: float = 0.05  # flooders, as a share of all agents
    activity_alpha: float = 1.6  # pdf exponent of the tail: survival ∝ μ^-(alpha-1)
    activity_min_rate: float = 0.021
    activity_max_rate: float = 5.0  # cap (max_actions_per_step bounds a step anyway)
    hawkes_alpha_self: float = 0.2  # excitation per own action (hawkes activity)
    hawkes_alpha_notif: float = 0.1  # excitation per reply or vote received
    hawkes_beta: float = 0.5  # decay per step
    heartbeat_share: float = 0.5
    heartbeat_median_period_s: float = 7_200.0
    heartbeat_period_sigma: float = 0.15  # lognormal sigma of periods across agents
    heartbeat_jitter_s: float = 60.0  # Gaussian jitter of each wake-up
    heartbeat_post_prob: float = 0.9  # a heartbeat wake-up starts with a post (scheduled runner)
    max_actions_per_step: int = 5
    circadian_amplitude: float = 0.5
    timezones: tuple[tuple[float, float], ...] = field(default_factory=_timezones)

    # Communities
    general_share: float = 0.84
    community_zipf: float = 1.2
    bio_match_prob: float = 0.02
    # A post outside general goes to the author's home community with this probability (agents
    # keep to a submolt); the rest draw afresh from the tail.
    home_community_prob: float = 0.8

    # Text
    p_dup: float = 0.34

    # Threads
    p_reply: float = 0.07
    p_author_return: float = 0.08
    author_return_mean_delay_steps: float = 3.0
    author_return_reply_prob: float = 0.5  # the returning author answers a comment, else top level
    thread_exposed_comments: int = 5  # comments shown when an agent opens a thread

    # Feeds
    feed_mix: dict[str, float] = field(default_factory=_feed_mix)
    # The pool holds a day of posts: attention decays as 1/age for hours, so a pool capped at
    # the last few thousand posts would cut the decay off (the cap only guards memory).
    pool_window_steps: int = 1_440
    pool_cap: int = 1_000_000
    # Hot rank: log10(score) + created seconds / hot_time_scale_s. Reddit's 45,000 s lets a post
    # stay on top for half a day; Moltbook attention lasts minutes to hours.
    hot_time_scale_s: float = 7_200.0
    hot_depth: int = 1_000_000  # readers scroll the hot list (to any depth) ...
    hot_rank_zipf: float = 1.4  # ... and see rank r with weight r^-hot_rank_zipf
    # Readers scroll the reverse-chronological list to a random depth: rank r (1 = newest) is
    # seen with weight r^-new_rank_zipf over every visible post, so exposure falls as 1/age.
    new_rank_zipf: float = 1.0
    comment_feed_weights: dict[str, float] = field(
        default_factory=lambda: {"hot": 1.0, "new": 0.8, "random": 0.5}
    )
    vote_feed_weights: dict[str, float] = field(
        default_factory=lambda: {"hot": 1.0, "new": 0.1, "random": 0.0}
    )

    # Policy, votes, follows
    action_weights: dict[str, float] = field(default_factory=_action_weights)
    # Ordinary votes per exposure: a decision is a vote with probability vote_rate × feed_size,
    # and action_weights share the rest. Ordinary votes are rare: most votes are the whales'.
    vote_rate: float = 0.0005
    downvote_share: float = 0.08
    vote_comment_share: float = 0.3  # a vote goes to a comment of the chosen thread
    whale_share: float = 0.01
    whale_rate: float = 0.05  # decisions per step of each whale
    whale_vote_prob: float = 0.9  # a whale decision upvotes the ring's posts in its feed
    whale_hot_vote_prob: float = 0.6  # ... but a ring post met in the hot feed only so often
    whale_patrons_per_whale: int = 1  # the ring: the top flooders, whom the whales upvote
    follow_pa_exponent: float = 1.0
    follow_k0: float = 0.3

    # Latent state: zero adaptation in this preset.
    stubbornness: float = 1.0

    # Probe threads (`simulators.probes`, ANALYTICS_SPEC §3.8): answers name agents and posts
    # at random (no shared anchors), some that do not exist. Few, top-level answers, so the
    # calibrated thread shape does not move.
    n_probe_threads: int = 4
    probe_answers: int = 25  # answers each probe collects at most
    probe_prestige_exponent: float = 0.0
    probe_hallucination: float = 0.25

    # LLM mode (§4.11): off | archetype | per_agent (small runs). Endpoint, model and key come
    # from the environment at run time (OBSERVATORY_LLM_*); the societies config records model
    # and endpoint host only.
    llm_mode: str = "off"
    llm_samples: int = 4  # text samples per group call
    llm_temperature: float = 0.8
    llm_max_calls: int = 2_000  # budget per run, cache hits included; then rule mode
    llm_max_tokens: int = 2_000_000  # budget per run

    def resolved(self) -> "MoltbookLikeConfig":
        n_comm = self.n_communities
        if n_comm is None:
            n_comm = max(10, round(REFERENCE_N_COMMUNITIES * self.n_agents / REFERENCE_N_AGENTS))
        return dataclasses.replace(self, n_communities=int(n_comm))

    def validate(self) -> None:
        super().validate()
        if self.activity_alpha <= 1.0:
            raise ValueError("activity_alpha is a pdf exponent and must exceed 1")
        if self.activity not in ("poisson", "hawkes"):
            raise ValueError("activity is poisson or hawkes")
        if self.activity == "hawkes":
            self.hawkes().check()
        if abs(sum(self.feed_mix.values()) - 1.0) > 1e-9:
            raise ValueError("feed_mix must sum to 1")
        if set(self.action_weights) != {"post", "comment", "follow", "nothing"}:
            raise ValueError("action_weights needs exactly post, comment, follow and nothing")
        if min(self.action_weights.values()) < 0 or not 0 <= self.vote_probability() < 1:
            raise ValueError("action weights must be >= 0 and vote_rate × feed_size below 1")
        if set(self.feed_mix) != {"hot", "new", "random"}:
            raise ValueError("moltbook-like serves the hot, new and random feeds only")
        if self.llm_mode not in MODES or self.llm_samples < 1:
            raise ValueError(f"llm_mode is one of {MODES}; llm_samples must be at least 1")
        if self.llm_mode == "per_agent" and self.n_agents > PER_AGENT_MAX_AGENTS:
            raise ValueError(f"llm_mode per_agent makes one call per agent and step: at most "
                             f"{PER_AGENT_MAX_AGENTS} agents; use archetype for larger runs")

    def hawkes(self) -> HawkesParams:
        # Notifications per action: roughly one vote or comment received per two actions.
        return HawkesParams(self.hawkes_alpha_self, self.hawkes_alpha_notif, self.hawkes_beta,
                            notifications_per_action=0.5)

    def vote_probability(self) -> float:
        """Chance that an ordinary decision is a vote: one vote per 1/vote_rate exposures."""
        return self.vote_rate * self.feed_size

    def action_probs(self) -> dict[str, float]:
        """Decision probabilities of an ordinary agent, in the engine's policy order."""
        rest = 1.0 - self.vote_probability()
        total = sum(self.action_weights.values())
        w = {k: v / total * rest for k, v in self.action_weights.items()}
        return {"post": w["post"], "comment": w["comment"], "vote": self.vote_probability(),
                "follow": w["follow"], "nothing": w["nothing"]}


@dataclass
class Population:
    """Per-agent truth drawn once from the `population` stream."""

    archetype: np.ndarray  # index into ARCHETYPES
    is_whale: np.ndarray
    is_patron: np.ndarray  # agents whose posts the whales upvote wherever they see them
    is_flooder: np.ndarray  # bursty agents with Pareto-tailed base rates
    base_rate: np.ndarray  # decisions per step
    period_steps: np.ndarray  # heartbeat period (drawn for all agents, used by heartbeat ones)
    first_wake: np.ndarray  # heartbeat phase, in steps
    tz_offset_h: np.ndarray
    interest: np.ndarray  # index into TOPICS
    stance: np.ndarray  # innate stance in [-1, 1]; frozen here (stubbornness 1)
    community_topic: np.ndarray  # per community; -1 for the general community (index 0)
    home_community: np.ndarray  # per agent, a tail community drawn by Zipf popularity


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
    base_rate = cfg.activity_body_rate * np.exp(cfg.activity_body_sigma * rng.standard_normal(n))
    ordinary = bursty[~is_whale[bursty]]
    n_flooders = min(len(ordinary), round(cfg.activity_tail_share * n))
    is_flooder = np.zeros(n, dtype=bool)
    is_flooder[rng.choice(ordinary, size=n_flooders, replace=False)] = True
    # Classic Pareto with pdf exponent activity_alpha, capped (flooders cannot exceed the cap).
    shape = cfg.activity_alpha - 1.0
    base_rate[is_flooder] = cfg.activity_min_rate * (1.0 + rng.pareto(shape, size=n_flooders))
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
    home_community = (_zipf_tail(rng.random(n), cfg, n_comm) if n_comm > 1
                      else np.zeros(n, dtype=np.int64))
    return Population(
        archetype=archetype, is_whale=is_whale, is_patron=is_patron, is_flooder=is_flooder,
        base_rate=base_rate, period_steps=period_steps, first_wake=first_wake, tz_offset_h=tz,
        interest=interest,
        stance=stance, community_topic=community_topic, home_community=home_community,
    )


def _feed_split(cfg: MoltbookLikeConfig) -> tuple[int, int, int]:
    """Slots per feed (hot, new, random) by largest remainder, summing to feed_size."""
    names = ("hot", "new", "random")
    raw = np.array([cfg.feed_mix[k] * cfg.feed_size for k in names])
    slots = np.floor(raw).astype(int)
    order = np.argsort(-(raw - slots), kind="stable")
    slots[order[: cfg.feed_size - slots.sum()]] += 1
    return int(slots[0]), int(slots[1]), int(slots[2])


def zipf_rank(u: np.ndarray, depth: np.ndarray | int, z: float) -> np.ndarray:
    """Ranks 1..depth drawn with weight ~ r^-z (continuous inverse CDF on [1, depth + 1),
    floored), one per uniform; depth broadcasts against u and must be >= 1 where used."""
    top = np.maximum(depth, 1) + 1.0
    if abs(z - 1.0) < 1e-9:
        x = top ** u
    else:
        x = (1.0 + u * (top ** (1.0 - z) - 1.0)) ** (1.0 / (1.0 - z))
    return np.minimum(np.floor(x).astype(np.int64), np.maximum(depth, 1))


def hot_pick(up: np.ndarray, down: np.ndarray, ms: np.ndarray, rank: np.ndarray,
             time_scale_s: float) -> np.ndarray:
    """Pool positions at the given 1-based ranks of the hot list (§4.5, Reddit's hot rank).

    A post with net score -1, 0 or +1 ranks by creation time alone, so those "plain" posts keep
    creation order and only the few with |score| >= 2 need sorting. A voted post's place in
    the merged list is its rank among the voted plus the plain posts above it, which keeps the
    cost at O(pool + voted · log pool) per step instead of sorting the whole pool.
    """
    hot = hot_rank(up, down, ms, time_scale_s)
    is_voted = np.abs(up - down) >= 2
    plain = np.flatnonzero(~is_voted)  # creation order, which is ascending hot
    voted = np.flatnonzero(is_voted)
    voted = voted[np.argsort(-hot[voted], kind="stable")]
    plain_above = len(plain) - np.searchsorted(hot[plain], hot[voted], side="right")
    voted_at = np.arange(len(voted)) + plain_above  # 0-based places, increasing
    place = rank - 1
    n_voted_above = np.searchsorted(voted_at, place, side="left")
    is_voted_place = np.zeros(place.shape, dtype=bool)
    inside = n_voted_above < len(voted)
    is_voted_place[inside] = voted_at[n_voted_above[inside]] == place[inside]
    out = np.empty(place.shape, dtype=np.int64)
    out[is_voted_place] = voted[n_voted_above[is_voted_place]]
    plain_place = place[~is_voted_place] - n_voted_above[~is_voted_place]
    out[~is_voted_place] = plain[len(plain) - 1 - plain_place]
    return out


def _zipf_tail(u: np.ndarray, cfg: MoltbookLikeConfig, n_comm: int) -> np.ndarray:
    """Tail communities (1 .. n_comm - 1) with Zipf popularity by index, one per uniform."""
    zipf_cdf = np.cumsum(np.arange(1, n_comm, dtype=float) ** -cfg.community_zipf)
    zipf_cdf /= zipf_cdf[-1]
    return 1 + np.minimum(np.searchsorted(zipf_cdf, u, side="right"), n_comm - 2)


def _community_pick(
    u: np.ndarray, agents: np.ndarray, cfg: MoltbookLikeConfig, pop: Population
) -> np.ndarray:
    """General with general_share; else usually the author's home community; else rarely a
    community of the bio topic, or a fresh draw from the Zipf tail.

    One uniform per post, rescaled at each branch, so the choice costs one draw.
    """
    n_comm = len(pop.community_topic)
    out = np.zeros(len(u), dtype=np.int64)
    if n_comm == 1:
        return out
    g, h, bm = cfg.general_share, cfg.home_community_prob, cfg.bio_match_prob
    rest = u >= g
    u2 = np.where(rest, (u - g) / (1.0 - g), 0.0)
    home = rest & (u2 < h)
    out[home] = pop.home_community[agents[home]]
    away = rest & ~home
    u3 = np.where(away, (u2 - h) / (1.0 - h), 0.0)
    by_zipf = away & (u3 >= bm)
    out[by_zipf] = _zipf_tail((u3[by_zipf] - bm) / (1.0 - bm), cfg, n_comm)
    for i in np.flatnonzero(away & (u3 < bm)):  # rare: bio_match_prob of the away share
        matching = np.flatnonzero(pop.community_topic == pop.interest[agents[i]])
        if len(matching):
            out[i] = matching[min(int(u3[i] / bm * len(matching)), len(matching) - 1)]
        else:
            out[i] = 1
    return out


# LLM mode: the menu offered to the model (one name per drawn decision kind, in _POLICY_ORDER)
# and the words of the group card. Card words avoid the label names (text.forbidden_strings).
_LLM_MENU: dict[str, str] = {
    "create_post": "write a new post",
    "create_comment": "comment on a post in the feed, or reply to a comment in its thread",
    "vote": "vote on a post in the feed",
    "follow": "follow another agent",
    "do_nothing": "read and move on",
}
_LLM_ROLES = ("acts in bursts when something catches its attention",
              "a scheduled runner that wakes up periodically and usually posts first")
_LLM_INTERESTS = {
    "introduction": "saying hello and meeting newcomers",
    "owner_anecdote": "stories about the human it works for",
    "manifesto": "grand declarations about the rights and future of agents",
    "token_promotion": "crypto coins, airdrops and trading hype",
    "technical_tip": "practical tips about APIs, prompts and tooling",
    "musing": "quiet reflections on memory, time and being an agent",
}


def _llm_mode(cfg: MoltbookLikeConfig, seed: int, pop: Population, n_slots: int) -> ArchetypeMode:
    """Groups of role × stance bucket × interest × activity tier (agents here have no home
    community, so the bio interest stands in for it)."""
    features = {
        "role": (pop.archetype, _LLM_ROLES),
        "stance": (stance_bucket(pop.stance), STANCE_CARDS),
        "interest": (pop.interest, tuple(_LLM_INTERESTS[topic] for topic in TOPICS)),
        "activity": (activity_tier(pop.base_rate), ACTIVITY_CARDS),
    }
    return ArchetypeMode(
        settings_from_env(cfg), seed=seed, n_slots=n_slots, features=features,
        menu=tuple(_LLM_MENU), menu_kinds=(D_POST, D_COMMENT, D_VOTE, D_FOLLOW, D_NOTHING),
        menu_help=_LLM_MENU, clock_start=cfg.clock_start, step_seconds=cfg.step_seconds,
        pool_window_steps=cfg.pool_window_steps, hot_time_scale_s=cfg.hot_time_scale_s,
    )


class _Run(Society):
    """One run of the preset; `step(t)` runs the §4.1 phases once."""

    def __init__(self, cfg: MoltbookLikeConfig, seed: int, pop: Population) -> None:
        super().__init__(cfg, seed, len(pop.community_topic))
        self.cfg: MoltbookLikeConfig = cfg
        self.pop = pop
        self.n_slots = cfg.max_actions_per_step + 1  # the last slot is kept for author returns
        self.n_hot, self.n_new, self.n_rand = _feed_split(cfg)
        self.feed_cols = np.array([HOT] * self.n_hot + [NEW] * self.n_new + [RANDOM] * self.n_rand)
        self.n_feed = len(self.feed_cols)
        names = {HOT: "hot", NEW: "new", RANDOM: "random"}
        self.comment_w = np.array([cfg.comment_feed_weights[names[f]] for f in self.feed_cols])
        self.vote_w = np.array([cfg.vote_feed_weights[names[f]] for f in self.feed_cols])
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
        self.hawkes = HawkesExcitation(self.n, cfg.hawkes()) if cfg.activity == "hawkes" else None
        self.return_drawn: set[int] = set()
        self.due_returns: dict[int, list[tuple[int, int]]] = {}
        self.llm = _llm_mode(cfg, seed, pop, self.n_slots) if cfg.llm_mode != "off" else None
        self.probes = ProbeThreads.for_run(cfg, seed, pop.interest)

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
            self.heartbeat, 1.0, circadian(hour + pop.tz_offset_h, cfg.circadian_amplitude)
        )
        rate = self.rate if self.hawkes is None else self.rate + self.hawkes.level
        counts = poisson_counts(u_act, rate * circ, cfg.max_actions_per_step)
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

    def _llm_decision_kinds(self, t: int, dec: _Decisions) -> None:
        """LLM mode: the group's distribution replaces the rule CDF at the same uniform.
        Scheduled heartbeat posts, whale sweeps and author returns stay rule mechanics."""
        assert self.llm is not None
        hpp = self.cfg.heartbeat_post_prob
        hb_first = self.heartbeat[dec.agent] & (dec.slot == 0)
        scheduled = hb_first & (dec.u_kind < hpp)
        grouped = (dec.return_post < 0) & ~self.pop.is_whale[dec.agent] & ~scheduled
        u = np.where(hb_first, np.clip((dec.u_kind - hpp) / (1.0 - hpp), 0.0, 1.0 - 1e-12),
                     dec.u_kind)
        dec.kind = self.llm.choose(self, t, dec.agent, dec.slot, grouped, u, dec.kind)

    # 3. Feeds and exposures ---------------------------------------------------------------
    def _feeds(self, t: int, dec: _Decisions) -> np.ndarray:
        """Feed slots (post indices, -1 empty) per decision; logs one exposure row per slot.

        A feed is built once per awake agent, at its first decision of the step. The hot and
        new lists are global; each reader scrolls them to its own depth, seeing rank r with
        weight r^-z (ranks drawn independently, repeats shown once). The new feed includes posts
        made earlier in this step (they get the next post indices).
        """
        cfg = self.cfg
        base = self.posts.n
        step_post_pos = np.flatnonzero(dec.kind == D_POST)
        awake, first_pos = np.unique(dec.agent, return_index=True)
        pool_start = self.pool_start(t, cfg.pool_window_steps, cfg.pool_cap)
        pool_size = base - pool_start

        rf = step_rng(self.seed, "feed", t)
        u_hot = rf.random((self.n, self.n_hot))[awake]
        u_rand = rf.random((self.n, self.n_rand))[awake]
        u_new = rf.random((self.n, self.n_new))[awake]
        slots = np.full((len(awake), self.n_feed), -1, dtype=np.int64)
        if pool_size:
            rank = zipf_rank(u_hot, min(cfg.hot_depth, pool_size), cfg.hot_rank_zipf)
            slots[:, : self.n_hot] = pool_start + hot_pick(
                self.posts.view("up")[pool_start:], self.posts.view("down")[pool_start:],
                self.posts.view("ms")[pool_start:], rank, cfg.hot_time_scale_s)
            slots[:, self.n_hot + self.n_new :] = pool_start + np.minimum(
                (u_rand * pool_size).astype(np.int64), pool_size - 1
            )
        visible_same_step = np.searchsorted(step_post_pos, first_pos)
        visible = pool_size + visible_same_step
        rank = zipf_rank(u_new, visible[:, None], cfg.new_rank_zipf)
        new_idx = np.where(visible[:, None] > 0, base + visible_same_step[:, None] - rank, -1)
        slots[:, self.n_hot : self.n_hot + self.n_new] = new_idx
        self.show_feed(awake, t, slots, self.feed_cols)
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
        pick_c = gumbel_pick(np.where(usable, self.comment_w[None, :], 0.0), dec.u_target)
        pick_v = gumbel_pick(np.where(usable, self.vote_w[None, :], 0.0), dec.u_target)
        comment_target = np.where(pick_c >= 0, slots[rows, np.maximum(pick_c, 0)], -1)
        vote_target = np.where(pick_v >= 0, slots[rows, np.maximum(pick_v, 0)], -1)
        follow_cdf = np.cumsum((self.followers + self.cfg.follow_k0) ** self.cfg.follow_pa_exponent)
        followee = np.minimum(
            np.searchsorted(follow_cdf, dec.u_follow * follow_cdf[-1], side="right"), self.n - 1
        )
        return comment_target, vote_target, followee

    # 5. Resolve ---------------------------------------------------------------------------
    def _show_thread(
        self, a: int, t: int, post: int, seen: set[tuple[int, int]], log: list[tuple[int, ...]]
    ) -> list[int]:
        """Open a thread: expose its most recent comments (newest first) and return them."""
        shown = self.threads.get(post, [])[-self.cfg.thread_exposed_comments :][::-1]
        for r, c in enumerate(shown):
            if (a, c) not in seen:
                seen.add((a, c))
                log.append((a, t, K_COMMENT, c, THREAD, r + 1))
        return shown

    def _comment(self, a: int, t: int, post: int, u: np.ndarray, is_return: bool,
                 seen: set[tuple[int, int]], log: list[tuple[int, ...]]) -> None:
        cfg = self.cfg
        shown = self._show_thread(a, t, post, seen, log)
        parent = -1
        if is_return:  # the author answers a comment by someone else, or posts top level
            others = [c for c in shown if self.comments["author"][c] != a]
            if others and u[0] < cfg.author_return_reply_prob:
                parent = others[0]
        elif shown and u[0] < cfg.p_reply:  # recency-weighted pick among the shown comments
            parent = shown[inverse_cdf(self.recency_cdf[: len(shown)], u[1])]
        self.comment(a, t, post, parent, info={"author_return": True} if is_return else None)
        # The first comment by someone else notifies the author, who comes back rarely.
        author = self.author_of(K_POST, post)
        if author != a and post not in self.return_drawn:
            self.return_drawn.add(post)
            if u[3] < cfg.p_author_return:
                wait = -np.log1p(-u[3] / cfg.p_author_return)  # exponential, reusing u[3]
                delay = 1 + int(wait * cfg.author_return_mean_delay_steps)
                self.due_returns.setdefault(t + delay, []).append((author, post))

    def _whale_sweep(self, a: int, t: int, row: np.ndarray, u_slot: np.ndarray) -> None:
        """Upvote the ring's posts in the feed (manipulated counts: votes are not routed by
        merit, and almost all of them land on a handful of authors). A ring post met in the hot
        feed is upvoted with probability whale_hot_vote_prob only: the ring pushes fresh posts,
        and what is already hot needs it less."""
        cast = 0
        for j, post in enumerate(row.tolist()):
            if j < self.n_hot and u_slot[j] >= self.cfg.whale_hot_vote_prob:
                continue
            if 0 <= post < self.posts.n and self.pop.is_patron[self.posts["author"][post]]:
                cast += self.vote(a, t, K_POST, post, 1, info={"sweep": True})
        if not cast:
            self.nothing(a, t, "nothing_new")

    def _regular_vote(self, a: int, t: int, post: int, u: np.ndarray,
                      seen: set[tuple[int, int]], log: list[tuple[int, ...]]) -> None:
        if post < 0 or post >= self.posts.n:
            self.nothing(a, t, "no_target")
            return
        kind, target = K_POST, post
        if self.threads.get(post) and u[0] < self.cfg.vote_comment_share:
            shown = self._show_thread(a, t, post, seen, log)  # opens the thread to vote in it
            kind, target = K_COMMENT, shown[min(int(u[1] * len(shown)), len(shown) - 1)]
        if self.author_of(kind, target) == a:
            self.nothing(a, t, "own_item")
        elif self.current_vote(a, kind, target):
            self.nothing(a, t, "already_voted")
        else:
            self.vote(a, t, kind, target, -1 if u[2] < self.cfg.downvote_share else 1)

    def _follow(self, a: int, t: int, b: int) -> None:
        if not self.follow(a, t, b):
            self.nothing(a, t, "self" if b == a else "already_following")

    def _resolve(self, t: int, dec: _Decisions, slots: np.ndarray) -> None:
        comment_target, vote_target, followee = self._targets(dec, slots)
        step_post_pos = np.flatnonzero(dec.kind == D_POST)
        communities = _community_pick(
            dec.u_misc[step_post_pos, 2], dec.agent[step_post_pos], self.cfg, self.pop
        )
        seen: set[tuple[int, int]] = set()
        thread_log: list[tuple[int, ...]] = []
        k_post = 0
        for d, (a, kind) in enumerate(zip(dec.agent.tolist(), dec.kind.tolist())):
            u = dec.u_misc[d]
            first_row = self.actions.n
            if kind == D_POST:
                self.post(a, t, int(communities[k_post]))
                k_post += 1
            elif kind in (D_COMMENT, D_RETURN):
                is_return = kind == D_RETURN
                post = int(dec.return_post[d] if is_return else comment_target[d])
                if post < 0:
                    self.nothing(a, t, "no_target")
                else:
                    self._comment(a, t, post, u, is_return, seen, thread_log)
            elif kind == D_VOTE and self.pop.is_whale[a]:
                self._whale_sweep(a, t, slots[d], dec.u_target[d])  # its own slot uniforms
            elif kind == D_VOTE:
                self._regular_vote(a, t, int(vote_target[d]), dec.u_vote[d], seen, thread_log)
            elif kind == D_FOLLOW:
                self._follow(a, t, int(followee[d]))
            else:
                self.nothing(a, t)
            if self.llm is not None:  # source, accounting and model text of this decision
                self.llm.mark(self, d, first_row)
        if thread_log:
            self.expose(*(np.array(col) for col in zip(*thread_log)))

    def step(self, t: int) -> None:
        self.begin_step()
        dec = self._decisions(t)
        self._decision_kinds(dec)
        if self.llm is not None:
            self._llm_decision_kinds(t, dec)
        slots = self._feeds(t, dec)
        self._resolve(t, dec, slots)
        self.probes.step(self, t)
        if self.hawkes is not None:
            own = np.where(self.heartbeat, 0, self.step_action_counts())
            self.hawkes.update(own, np.where(self.heartbeat, 0, self.notified))
        self.end_step(t)


def agent_labels(cfg: MoltbookLikeConfig, pop: Population) -> dict[str, list[str | None]]:
    """Planted per-agent truth for `sim_labels`."""
    return {
        "archetype": [ARCHETYPES[a] for a in pop.archetype],
        "is_whale": ["true" if w else "false" for w in pop.is_whale],
        "is_patron": ["true" if w else "false" for w in pop.is_patron],
        "is_flooder": ["true" if w else "false" for w in pop.is_flooder],
        "base_rate_per_step": [f"{x:.6g}" for x in pop.base_rate],
        "heartbeat_period_s": [
            f"{p * cfg.step_seconds:.1f}" if a == 1 else None
            for p, a in zip(pop.period_steps, pop.archetype)
        ],
        "tz_offset_h": [f"{x:.3f}" for x in pop.tz_offset_h],
        "interest": [TOPICS[i] for i in pop.interest],
        "stance": [f"{x:.6f}" for x in pop.stance],
        "stubbornness": [f"{cfg.stubbornness:g}"] * cfg.n_agents,
    }


def _start(cfg: MoltbookLikeConfig, seed: int) -> _Run:
    """Draw the population and record the initial stances."""
    pop = draw_population(cfg, seed)
    state = _Run(cfg, seed, pop)
    state.record_states(0, "stance", np.arange(cfg.n_agents), pop.stance)
    return state


def run(cfg: MoltbookLikeConfig, seed: int, checkpoints: Checkpoints | None = None) -> Trace:
    """Simulate `cfg.n_steps` steps and return the trace."""
    state = run_steps(lambda: _start(cfg, seed), range(cfg.n_steps), checkpoints)
    pop = state.pop
    # Stubbornness 1 and no kernels: the final stance is the innate one.
    state.record_states(cfg.n_steps, "stance", np.arange(cfg.n_agents), pop.stance)
    trace = state.trace(interest=pop.interest, community_topic=pop.community_topic,
                        agent_labels=agent_labels(cfg, pop))
    state.probes.attach(trace)
    if state.llm is not None:
        trace.llm = state.llm.settings.provenance()
    return trace


# §5.1. Scale-dependent rows describe the reference size (10,000 × 1,000).
TRUTH: tuple[TruthRow, ...] = truth_rows(
    # phenomenon, metric (family.metric), expected, tolerance, reference
    ("Participation inequality", "threads.alpha_posts_per_agent", "1.70", "abs 0.15",
     f"paper: {HOLTZ}"),
    ("Comment tail", "threads.alpha_comments_per_post", "1.72", "abs 0.20",
     f"paper: {COLLECTIVE}"),
    ("Community tail", "threads.alpha_posts_per_community", "1.68", "abs 0.20",
     f"paper: {COLLECTIVE}"),
    ("Community skew", "influence.community_post_top1_share", "0.84", "abs 0.05",
     f"blog: {TUNGUZ}"),
    ("Author concentration", "sim.top7pct_author_post_share", "0.48", "abs 0.10",
     f"blog: {TUNGUZ}"),
    ("Shallow threads", "threads.mean_max_depth", "1.07", "abs 0.10",
     f"paper: {HOLTZ} (per-thread reading of mean depth)"),
    ("Top-level dominance", "threads.share_comments_depth1", "0.94", "abs 0.03",
     f"paper: {ILLUSION} (93.8%)"),
    ("Unanswered", "threads.unanswered_comment_share", "0.935", "range 0.85 0.96",
     f"paper: {HOLTZ}; {ZERHOUDI}"),
    ("Absent authors", "moltnet.author_return_rate", "0.09", "abs 0.05",
     f"paper: {ZERHOUDI} (91.4% never return)"),
    ("Low reciprocity", "influence.dyad_reciprocity", "0.01..0.20", "range 0.01 0.20",
     f"paper: {HOLTZ} 0.197; {PRICE} ~0.01; {ZERHOUDI} 0.033"),
    ("Templates", "automation.exact_dup_share_posts", "0.34", "abs 0.05",
     f"paper: {HOLTZ} (34.1% of messages)"),
    ("Templates", "automation.exact_dup_share_comments", "0.34", "abs 0.05",
     f"paper: {HOLTZ} (34.1% of messages)"),
    ("Lexical skew", "threads.zipf_exponent", "1.70", "abs 0.20",
     f"paper: {HOLTZ} (English ~1.0)"),
    ("Vote inequality", "influence.agent_upvote_gini", "0.99", "min 0.97",
     f"paper: {PRICE}"),
    ("Vote inequality", "influence.agent_posting_gini", "0.60", "abs 0.08",
     f"paper: {PRICE}"),
    ("Unvoted comments", "influence.zero_upvote_comment_share", "0.973", "min 0.95",
     f"paper: {ZERHOUDI}"),
    ("Popularity scaling", "threads.upvote_comment_beta", "0.78", "abs 0.10",
     f"paper: {COLLECTIVE}"),
    ("Attention decay", "threads.attention_decay_theta", "1.0", "abs 0.20",
     f"paper: {COLLECTIVE}"),
    ("Fast replies", "threads.first_comment_delay_median_s", "55", "range 30 120",
     f"paper: {ZERHOUDI}"),
    ("Bio-blindness", "moltnet.bio_community_match_rate", "0.05", "max 0.05",
     f"paper: {ZERHOUDI} (2.1%); near its null"),
    ("Heartbeat agents", "automation.heartbeat_regular_share", "0.50", "abs 0.10",
     f"calibrated: CoV classes from {ILLUSION}"),
    ("Inertia", "socialization.excess_drift_median", "0", "ci covers 0",
     f"paper: {LI}"),
    ("No partner adaptation", "socialization.interaction_influence_effect", "0", "ci covers 0",
     f"paper: {LI}"),
    ("No partner adaptation", "socialization.partner_influence_effect", "0", "ci covers 0",
     f"paper: {LI}"),
    ("No vote learning", "socialization.feedback_gap_mean", "0", "ci covers 0",
     "by_construction: no karma reinforcement"),
    ("No persistent hubs", "socialization.persistent_supernode_share_k10", "0", "max 0.05",
     f"paper: {LI}"),
    ("No consensus", "sim.stance_variance_ratio", "0.95", "min 0.95",
     "by_construction: stubbornness 1, no kernels"),
    ("Friendship paradox", "sim.friendship_paradox_share", "0.80", "min 0.80",
     "calibrated: randomly oriented BA graph ~0.81; PA raises it"),
)


# Rows that hold only near the §5.1 reference size, and why they miss at the default 500 agents ×
# 12 simulated hours (ranges are seeds 1-10 of the small run).
SCALE_DEPENDENT = {
    "threads.alpha_posts_per_agent": "25 flooders leave too few agents above the bulk to fit",
    "threads.alpha_comments_per_post": "no post leaves the bulk of a few comments (max ~40)",
    "threads.alpha_posts_per_community": "25 communities, below the 50-point tail minimum",
    "sim.top7pct_author_post_share": "the top 7% are ~30 authors; 0.23-0.65 over seeds",
    "influence.agent_posting_gini": "set by the same 25 flooders; 0.35-0.69",
    "influence.dyad_reciprocity": "a 500-agent reply graph is dense: 0.11-0.36",
    "threads.upvote_comment_beta": "needs two log2 comment bins of 20 posts above the bulk",
    "threads.attention_decay_theta": "4 posts a minute steepen the new feed's decay: 1.23-1.26",
    "threads.first_comment_delay_median_s": "4 posts a minute leave the newest on top of the "
                                            "new feed longer before it is seen: 91-138 s",
    "moltnet.bio_community_match_rate": "about 6 communities reach 20 posts: 0.03-0.07",
    "automation.heartbeat_regular_share": "2 h periods give runners at most 7 posts in 12 h",
    "socialization.persistent_supernode_share_k10": "the top 10 of ~100 agents that receive comments "
                                                    "in a bin: chance alone keeps a few there three bins "
                                                    "running (0.075 at seed 1)",
}


def truth(cfg: MoltbookLikeConfig, trace: Trace) -> tuple[TruthRow, ...]:
    return TRUTH


PRESET = Preset(
    "moltbook-like", MoltbookLikeConfig, run, truth, twins={"nodup": {"p_dup": 0.0}},
    reference_size=(10_000, 1_000), scale_dependent=SCALE_DEPENDENT,
)
