"""Typed configuration of the `moltbook-like` preset (SIMULATORS.md §5.1).

Defaults are the small "test size" (500 agents × 720 one-minute steps, about 12 simulated hours)
so that a run takes seconds; the §5.1 reference size is 10,000 × 1,000. Everything that the
engine reads lives here, so the resolved config stored in `societies.config_json` fully
determines a run together with the seed and ENGINE_VERSION.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Bump whenever a change to the engine or text generator can change any emitted row.
ENGINE_VERSION = "0.1.0"

# §5.1 reference size, used to scale size-dependent defaults (number of communities).
REFERENCE_N_AGENTS = 10_000
REFERENCE_N_COMMUNITIES = 500


def _feed_mix() -> dict[str, float]:
    return {"hot": 0.5, "new": 0.4, "random": 0.1}


def _action_weights() -> dict[str, float]:
    # Relative weights of the non-vote decisions of an ordinary agent (votes: see vote_rate).
    return {"post": 0.24, "comment": 0.44, "follow": 0.02, "nothing": 0.20}


def _timezones() -> tuple[tuple[float, float], ...]:
    # (UTC offset in hours, share of agents): Americas, Europe, Asia.
    return ((-6.0, 0.45), (1.0, 0.35), (8.0, 0.20))


@dataclass(frozen=True)
class MoltbookLikeConfig:
    """Every knob of the preset; `resolved()` fills the size-dependent ones."""

    # Size and clock
    n_agents: int = 500
    n_steps: int = 720
    clock_start: str = "2026-02-01T00:00:00Z"
    step_seconds: int = 60

    # Activity: heavy-tailed base rates (decisions per step), half the agents on a heartbeat.
    activity_alpha: float = 1.7  # pdf exponent of base rates: survival ∝ μ^-(alpha-1)
    activity_min_rate: float = 0.0027  # Pareto floor, decisions per step
    activity_max_rate: float = 0.8  # cap, decisions per step (flooding agents)
    heartbeat_share: float = 0.5
    heartbeat_median_period_s: float = 7_200.0
    heartbeat_period_sigma: float = 0.35  # lognormal sigma of periods across agents
    heartbeat_jitter_s: float = 60.0  # Gaussian jitter of each wake-up
    heartbeat_post_prob: float = 0.9  # a heartbeat wake-up starts with a post (scheduled runner)
    max_actions_per_step: int = 5
    circadian_amplitude: float = 0.5
    timezones: tuple[tuple[float, float], ...] = field(default_factory=_timezones)

    # Communities
    n_communities: int | None = None  # None: 500 scaled by n_agents / 10,000, at least 10
    general_share: float = 0.80
    community_zipf: float = 1.7
    bio_match_prob: float = 0.02

    # Text
    p_dup: float = 0.34
    template_pool: int = 40
    template_zipf: float = 1.0
    signal_strength: float = 0.15
    topic_from_interest: float = 0.7  # a post's topic is its author's interest, else uniform
    comment_topic_from_post: float = 0.4  # else the commenter's own interest

    # Threads
    p_reply: float = 0.07
    p_author_return: float = 0.08
    author_return_mean_delay_steps: float = 3.0
    author_return_reply_prob: float = 0.5  # the returning author answers a comment, else top level
    max_depth: int = 10
    thread_exposed_comments: int = 5  # comments shown when an agent opens a thread

    # Feeds
    feed_size: int = 10
    feed_mix: dict[str, float] = field(default_factory=_feed_mix)
    pool_window_steps: int = 1_440
    pool_cap: int = 20_000
    hot_time_scale_s: float = 45_000.0
    hot_depth: int = 50  # readers scroll the top of the hot list ...
    hot_rank_zipf: float = 1.0  # ... and see rank r with weight r^-hot_rank_zipf
    comment_feed_weights: dict[str, float] = field(
        default_factory=lambda: {"hot": 1.0, "new": 0.8, "random": 0.5}
    )
    vote_feed_weights: dict[str, float] = field(
        default_factory=lambda: {"hot": 1.0, "new": 0.3, "random": 0.05}
    )

    # Policy, votes, follows
    action_weights: dict[str, float] = field(default_factory=_action_weights)
    # Votes per exposure: a decision is a vote with probability vote_rate × feed_size, and
    # action_weights share the rest.
    vote_rate: float = 0.01
    downvote_share: float = 0.08
    vote_comment_share: float = 0.05  # a vote goes to a comment of the chosen thread
    whale_share: float = 0.005
    whale_rate: float = 0.25  # decisions per step of each whale
    whale_vote_prob: float = 0.9  # a whale decision is a vote sweep of its feed
    whale_patrons_per_whale: int = 2  # the ring: top bursty posters the whales always upvote
    follow_pa_exponent: float = 1.0
    follow_k0: float = 1.0

    # Latent state: zero adaptation in this preset.
    stubbornness: float = 1.0

    # Observation
    snapshot_every: int = 15
    snapshot_horizon_steps: int = 1_440
    exposure_log_rate: float = 1.0

    def resolved(self) -> "MoltbookLikeConfig":
        """Fill size-dependent defaults so the stored config names every value used."""
        n_comm = self.n_communities
        if n_comm is None:
            n_comm = max(10, round(REFERENCE_N_COMMUNITIES * self.n_agents / REFERENCE_N_AGENTS))
        return dataclasses.replace(self, n_communities=int(n_comm))

    def validate(self) -> None:
        if self.n_agents < 10 or self.n_steps < 1:
            raise ValueError("need at least 10 agents and 1 step")
        start = datetime.fromisoformat(self.clock_start.replace("Z", "+00:00"))
        if start.tzinfo is None:
            raise ValueError("clock_start must carry a UTC offset, e.g. 2026-02-01T00:00:00Z")
        if self.exposure_log_rate != 1.0:
            raise ValueError("exposure sampling (exposure_log_rate < 1) is not implemented yet")
        if not 1 <= self.max_depth:
            raise ValueError("max_depth must be >= 1")
        if self.activity_alpha <= 1.0:
            raise ValueError("activity_alpha is a pdf exponent and must exceed 1")
        if abs(sum(self.feed_mix.values()) - 1.0) > 1e-9:
            raise ValueError("feed_mix must sum to 1")
        if set(self.action_weights) != {"post", "comment", "follow", "nothing"}:
            raise ValueError("action_weights needs exactly post, comment, follow and nothing")
        if min(self.action_weights.values()) < 0 or not 0 <= self.vote_probability() < 1:
            raise ValueError("action weights must be >= 0 and vote_rate × feed_size below 1")
        if set(self.feed_mix) != {"hot", "new", "random"}:
            raise ValueError("this engine version serves the hot, new and random feeds only")

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

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["timezones"] = [list(pair) for pair in self.timezones]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MoltbookLikeConfig":
        """Rebuild from a stored `config_json`; keys that are not config fields are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "timezones" in values:
            values["timezones"] = tuple((float(z), float(w)) for z, w in values["timezones"])
        return cls(**values)
