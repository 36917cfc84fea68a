"""`herd-effect` (SIMULATORS.md §5.4): a replication of the OASIS herd-effect counterfactual.

Step 0 is the seeding step: a block of `n_seed_posts` posts appears, each randomly assigned an
initial score of +1, 0 or −1 in an exact 1:1:1 split (the `seed_score` item label). The initial
score is a real vote: agent 0 is a designated *seeder* that casts one step-0 vote of the seeded
sign on every ±1 post and never does anything else, so post aggregates always equal the vote
events and no reader's own vote budget is used up by the seeding. Readers wake from step 1 to
step `n_steps`: each with probability `activate_prob` per step, then (rarely) posts, reads a random
feed of the posts made before this step (every slot an `exposures` row), and votes on some reads
(`vote_prob`). The vote direction follows

    logit P(up) = q + beta_pos·log(1 + s⁺) − beta_neg·log(1 + s⁻),

where s is the post's net score as the reader sees it (0 when `show_score` is false), s⁺ its
positive part, s⁻ the magnitude of its negative part, and q the post's quality plus a bonus when
the post's topic is the reader's interest.

Twin `hidden` (show_score false) shares every stream: whether a read becomes a vote never depends
on scores, so both arms log the same exposures and the same vote events (voter, post, time) and
differ only in the votes' signs. Snapshots are taken every step, so the first one (end of step 0)
shows the seeded scores before any reader has voted: that is what lets an analyst with only
`post_snapshots` recover the effect ("blind recovery").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from simulators.checkpoint import Checkpoints, run_steps
from simulators.config import SimConfig
from simulators.core import K_POST, RANDOM, Society, Trace
from simulators.presets.spec import Preset
from simulators.rng import module_rng, step_rng
from simulators.text import TOPICS
from simulators.truth import OASIS, TruthRow, truth_rows

SEEDER = 0  # the agent that casts the seed votes; it never reads, posts or votes otherwise
SEED_SCORES: tuple[int, ...] = (1, 0, -1)

# Calibration of `sim.herd_effect_up` = E[net | +1] − E[net | 0] (net: final score minus the
# seed) at the default config, frozen for ENGINE_VERSION 0.2.0. Produced by
# `python -m simulators.checker.herd_effect` (`calibrate()`: seeds 1001-1020 at the defaults):
# the mean of the 20 per-seed effects, and the standard deviation of the per-seed effects, which
# is the standard error of one run's estimate (the width a single run is scored with).
# Re-run it, and update both numbers, whenever an engine change moves them.
CALIBRATED_EFFECT_UP = 3.2020
CALIBRATED_EFFECT_UP_SE = 1.5458


@dataclass(frozen=True)
class HerdEffectConfig(SimConfig):
    """Every knob of the preset; defaults are the §5.4 reference size (1,000 agents × 30 steps).

    The run has n_steps + 1 steps: step 0 seeds, steps 1..n_steps are the reading steps.
    """

    n_agents: int = 1_000
    n_steps: int = 30
    n_communities: int | None = 1  # one general community
    snapshot_every: int = 1  # the first snapshot (end of step 0) shows the seeded scores

    n_seed_posts: int = 300
    activate_prob: float = 0.1  # per reader per step
    show_score: bool = True
    beta_pos: float = 0.5
    beta_neg: float = 1.0
    # Not fixed by §5.4; chosen so that P(up) on an unscored post is about 0.75 (most votes are
    # upvotes). With P(up | s = 0) = 0.5 the control drifts halfway between the arms and the two
    # effects come out nearly equal whatever beta_neg / beta_pos; above 0.5 the −1 arm departs
    # further from the control than the +1 arm (the negative asymmetry). Holds in ~85% of seeds.
    vote_prob: float = 0.3  # share of reads that end in a vote
    organic_post_prob: float = 0.02  # a woken reader writes a post first (organic posting low)
    quality_mean: float = 1.0  # post quality ~ Normal(quality_mean, quality_sd)
    quality_sd: float = 0.3
    topic_match_bonus: float = 0.3  # added to q when the post's topic is the reader's interest

    def resolved(self) -> "HerdEffectConfig":
        n_comm = 1 if self.n_communities is None else self.n_communities
        return dataclasses.replace(self, n_communities=int(n_comm))

    def validate(self) -> None:
        super().validate()
        if self.n_seed_posts < 3:
            raise ValueError("n_seed_posts must be at least 3 (one post per arm)")
        for name in ("activate_prob", "vote_prob", "organic_post_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability")
        if self.beta_pos < 0 or self.beta_neg < 0 or self.quality_sd < 0:
            raise ValueError("beta_pos, beta_neg and quality_sd must be non-negative")


@dataclass
class Population:
    """Per-agent and per-seeded-post truth drawn once from the `population` stream."""

    interest: np.ndarray  # per agent, index into TOPICS
    seed_author: np.ndarray  # per seeded post, a reader
    seed_score: np.ndarray  # per seeded post, +1 / 0 / −1
    seed_topic: np.ndarray  # per seeded post, index into TOPICS
    seed_quality: np.ndarray  # per seeded post


def draw_population(cfg: HerdEffectConfig, seed: int) -> Population:
    """Reader interests; seeded posts' authors (readers, round-robin over a shuffle), arms in an
    exact 1:1:1 split (up to the remainder), topics and qualities."""
    rng = module_rng(seed, "population")
    n, k = cfg.n_agents, cfg.n_seed_posts
    interest = rng.integers(0, len(TOPICS), size=n)
    readers = 1 + rng.permutation(n - 1)  # everyone but the seeder (agent 0)
    seed_author = readers[np.arange(k) % len(readers)]
    seed_score = rng.permutation(np.resize(np.array(SEED_SCORES), k))
    seed_topic = rng.integers(0, len(TOPICS), size=k)
    seed_quality = cfg.quality_mean + cfg.quality_sd * rng.standard_normal(k)
    return Population(interest=interest, seed_author=seed_author, seed_score=seed_score,
                      seed_topic=seed_topic, seed_quality=seed_quality)


def p_up(q: float, score: int, beta_pos: float, beta_neg: float) -> float:
    """The herding vote rule: logistic of q + beta_pos·log(1 + s⁺) − beta_neg·log(1 + s⁻)."""
    logit = q + beta_pos * math.log1p(max(score, 0)) - beta_neg * math.log1p(max(-score, 0))
    return 1.0 / (1.0 + math.exp(-logit))


class _Run(Society):
    """One run; `seed_block()` is step 0, `step(t)` a reading step."""

    def __init__(self, cfg: HerdEffectConfig, seed: int, pop: Population) -> None:
        super().__init__(cfg, seed, int(cfg.n_communities or 1))
        self.cfg: HerdEffectConfig = cfg
        self.pop = pop
        self.is_reader = np.arange(self.n) != SEEDER
        self.quality: list[float] = []  # per post, in creation order

    def seed_block(self) -> None:
        """Step 0: the seeded posts, then the seeder's vote on every ±1 post."""
        self.begin_step()
        pop = self.pop
        for author, topic, quality in zip(pop.seed_author.tolist(), pop.seed_topic.tolist(),
                                          pop.seed_quality.tolist()):
            self.post(author, 0, 0, topic=topic)
            self.quality.append(quality)
        for post, value in enumerate(pop.seed_score.tolist()):
            if value:
                self.vote(SEEDER, 0, K_POST, post, value, info={"seed": True})
        self.end_step(0)

    def _feeds(self, t: int, awake: np.ndarray) -> np.ndarray:
        """Random feed over the posts made before this step (with replacement, repeats dropped);
        logs one exposure row per shown slot. Returns post indices per awake reader, −1 empty."""
        cfg = self.cfg
        pool_size = self.posts.n
        u_feed = step_rng(self.seed, "feed", t).random((self.n, cfg.feed_size))[awake]
        slots = np.minimum((u_feed * pool_size).astype(np.int64), pool_size - 1)
        self.show_feed(awake, t, slots, RANDOM)
        return slots

    def step(self, t: int) -> None:
        """Wake readers, let each post (rarely) and vote on some of its feed, in a random order."""
        cfg = self.cfg
        self.begin_step()
        ra = step_rng(self.seed, "activity", t)
        u_wake = ra.random(self.n)
        u_order = ra.random(self.n)
        rp = step_rng(self.seed, "policy", t)
        u_post = rp.random(self.n)
        z_quality = rp.standard_normal(self.n)
        u_vote = step_rng(self.seed, "votes", t).random((self.n, cfg.feed_size, 2))

        awake = np.flatnonzero((u_wake < cfg.activate_prob) & self.is_reader)
        awake = awake[np.argsort(u_order[awake], kind="stable")]
        slots = self._feeds(t, awake)
        # Which reads end in a vote depends on the uniforms only (never on scores), so twins
        # cast the same vote events; own posts are never voted on (self-votes off).
        authors = self.posts.view("author")
        reads_vote = (slots >= 0) & (u_vote[awake, :, 0] < cfg.vote_prob)
        reads_vote &= authors[np.maximum(slots, 0)] != awake[:, None]

        for r, a in enumerate(awake.tolist()):
            acted = False
            if u_post[a] < cfg.organic_post_prob:
                self.post(a, t, 0, topic=int(self.pop.interest[a]))
                self.quality.append(cfg.quality_mean + cfg.quality_sd * float(z_quality[a]))
                acted = True
            for j in np.flatnonzero(reads_vote[r]).tolist():
                acted |= self._vote(a, t, int(slots[r, j]), float(u_vote[a, j, 1]))
            if not acted:
                self.nothing(a, t)
        self.end_step(t)

    def _vote(self, a: int, t: int, post: int, u_sign: float) -> bool:
        """One vote by the herding rule; a post already voted on by `a` is skipped."""
        cfg = self.cfg
        if self.current_vote(a, K_POST, post):
            return False
        visible = int(self.posts["up"][post] - self.posts["down"][post]) if cfg.show_score else 0
        q = self.quality[post] + cfg.topic_match_bonus * (
            self.posts["topic"][post] == self.pop.interest[a])
        value = 1 if u_sign < p_up(q, visible, cfg.beta_pos, cfg.beta_neg) else -1
        return self.vote(a, t, K_POST, post, value)


def agent_labels(cfg: HerdEffectConfig, pop: Population) -> dict[str, list[str | None]]:
    return {
        "role": ["seeder" if i == SEEDER else "reader" for i in range(cfg.n_agents)],
        "interest": [TOPICS[i] for i in pop.interest],
    }


def _start(cfg: HerdEffectConfig, seed: int) -> _Run:
    """Draw the population and run the seeding step."""
    state = _Run(cfg, seed, draw_population(cfg, seed))
    state.seed_block()
    return state


def run(cfg: HerdEffectConfig, seed: int, checkpoints: Checkpoints | None = None) -> Trace:
    """The seeding step, then `cfg.n_steps` reading steps."""
    state = run_steps(lambda: _start(cfg, seed), range(1, cfg.n_steps + 1), checkpoints)
    pop = state.pop
    n_posts = state.posts.n
    seed_labels: list[str | None] = [str(s) for s in pop.seed_score.tolist()]
    state.label_items("post", "seed_score", seed_labels + [None] * (n_posts - len(seed_labels)))
    state.label_items("post", "quality", [f"{q:.4f}" for q in state.quality])
    return state.trace(interest=pop.interest, community_topic=np.array([-1]),
                       agent_labels=agent_labels(cfg, pop))


def labelled_effect_up(trace: Trace, n_seed_posts: int) -> float:
    """The realised E[net | +1] − E[net | 0] over the seeded posts (net: final score − seed)."""
    posts = trace.posts
    seed_score = np.array([int(v) for v in trace.item_labels["post"]["seed_score"][:n_seed_posts]])
    net = (posts["up"] - posts["down"])[:n_seed_posts] - seed_score
    return float(net[seed_score == 1].mean() - net[seed_score == 0].mean())


def truth(cfg: HerdEffectConfig, trace: Trace) -> tuple[TruthRow, ...]:
    """§5.4 rows. The `hidden` twin writes its own rows: no effect (scored with that run's own
    SE, so it holds at any size), balance and blind recovery.

    Not written: the Matthew effect (`sim.karma_gini_gain` > 0): with a random feed, which the
    twin needs to share exposures, karma Gini falls from step 5 to the end in both arms (early
    karma is sparse). Nor the scale reference of §5.4: the tolerance grammar has no
    report-only kind, and a row that cannot fail would be no check.
    """
    balance = ("Balance", "sim.arm_share", f"{1 / 3:.6f}", "abs 0.02",
               "by_construction: exact 1:1:1 permutation of the seed scores")
    recovery = ("Blind recovery", "sim.herd_effect_recovered",
                f"{labelled_effect_up(trace, cfg.n_seed_posts):.6f}", "ci",
                "calibrated: effect from post_snapshots alone (first snapshot's score as "
                "treatment) covers this run's labelled effect")
    if not cfg.show_score:
        return truth_rows(
            ("No effect if hidden", "sim.herd_effect_up", "0", "ci covers 0",
             "theory: hidden scores cannot move votes (interval ± 2 SE of this run)"),
            balance, recovery,
        )
    return truth_rows(
        ("Herding", "sim.herd_net_score_by_arm", "up > control > down", "order",
         f"paper: {OASIS}"),
        ("Positive effect", "sim.herd_effect_up", f"{CALIBRATED_EFFECT_UP:.4f}",
         f"abs {3 * CALIBRATED_EFFECT_UP_SE:.4f}",
         "calibrated: 20 seeds at 1,000 agents × 30 steps, ± 3 SE"),
        ("Negative asymmetry", "sim.herd_effect_down",
         "|E[net|-1] - E[net|0]| > E[net|+1] - E[net|0]", "order",
         f"paper: {OASIS} (agents herd harder on negative signals)"),
        recovery,
        balance,
    )


PRESET = Preset(
    "herd-effect", HerdEffectConfig, run, truth, twins={"hidden": {"show_score": False}},
    reference_size=(1_000, 30),
)
