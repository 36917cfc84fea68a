"""`cascade` (SIMULATORS.md §5.5): information and misinformation on a scale-free follower graph.

The follower graph is Barabási–Albert with edges oriented at random; its edges are the `follows`
rows of step 0. K true and K false items are posted by random agents at times spread over the
seeding window. Every post of a cascade (the seed or a reshare) is delivered to all of its
author's followers: one `exposures` row per delivery, feed `share`. A reshare is a post whose
`shared` link (and `repost` action target) is the post it reshares.

Branching mode (the default, used for calibration): each cascade's Galton–Watson tree is drawn
when the item is planted: every node has Poisson(n) children (n = n_true or n_false) and every
child an exponential reaction delay (mean `reshare_delay_steps`). The run then embeds the tree in
the graph: a post's children go, in priority order, to its author's followers not yet exposed to
the item. When an author has fewer such followers than children, the rest go to random
not-yet-exposed agents reached outside the follow graph (exposure feed `random`), so the offspring
law stays exactly Poisson(n) and an unmoderated cascade's size is Borel: mean 1/(1 − n),
variance n/(1 − n)³. Graph mode: every not-yet-exposed follower reshares with a fixed
probability, and the realised branching ratio is what the truth rows use.

Moderation (twins `node` and `edge`) acts on reshares only. A moderator sees reshare attempts
`detect_delay` steps late and ranks spreaders by their attempts in a moving window of
`moderation_window_steps`, expecting each to go on at its window rate. Its allowance is `budget`
× all reshare deliveries attempted so far (as seen) minus the deliveries it has already blocked;
each step it goes down the ranking until the expected deliveries of what it blocks reach the
allowance. `node` suspends those spreaders (their reshares do not happen, so their subtrees
vanish); `edge` blocks their follow edges, which are the busiest edges since an edge carries one
delivery per attempt of its author (a reshare is not delivered along them, and only the children
behind them are lost). Both arms thus spend one budget of blocked deliveries (§5.5, the
AgentSociety design); the count is in the `info` of the actions concerned. Because the trees
are drawn before the run, a moderated arm differs from the unmoderated one only by the subtrees
it cut and by who received the surviving children.

Background activity: agents also post organic items, as a discretised Hawkes process
(`simulators.activity`) with base rate μ (`background_rate` per agent per step, flat in time) and
self-excitation only, branching ratio n_bg = α_self/β. `sim.stationary_rate_ratio` measures this
organic post process: observed organic posts per agent-step ÷ μ/(1 − n_bg). Cascades neither
excite nor are excited by it.

Per-step draws are full length-N arrays indexed by agent (§4.2): organic wake-ups, and a
recipient's priority (and, in graph mode, reaction delay) when a post's children are placed.
"""

from __future__ import annotations

import dataclasses
import heapq
from dataclasses import dataclass

import numpy as np

from simulators.activity import MAX_BRANCHING_RATIO, HawkesExcitation, HawkesParams
from simulators.checkpoint import Checkpoints, run_steps
from simulators.config import SimConfig
from simulators.core import K_POST, NOTHING, RANDOM, SHARE, Society, Trace, poisson_counts
from simulators.graphs import FollowerGraph, follower_graph
from simulators.presets.spec import Preset
from simulators.rng import module_rng, step_rng
from simulators.text import TOPICS
from simulators.truth import OASIS, TruthRow, truth_rows

VERACITY: tuple[str, ...] = ("true", "false")
TRUE, FALSE = range(len(VERACITY))
MODERATION: tuple[str, ...] = ("off", "node", "edge")
SPREAD: tuple[str, ...] = ("branching", "graph")

# Event kinds on the run's time line, ordered by continuous time (in steps).
ORGANIC, SEED, RESHARE = range(3)

AGENT_SOCIETY = "AgentSociety (tsinghua-fib-lab/agentsociety), inflammatory-message study"
HAWKES = "Hawkes, Spectra of some self-exciting and mutually exciting point processes (1971)"
BARABASI = "Barabási & Albert, Emergence of scaling in random networks (1999)"
HODAS = "Hodas, Kooti & Lerman, Friendship Paradox Redux (2013)"


@dataclass(frozen=True)
class CascadeConfig(SimConfig):
    """Every knob of the preset; defaults are the §5.5 reference size (10,000 agents, K 1,000,
    one simulated day: a 12-hour seeding window and 12 hours for the last cascades to die)."""

    n_agents: int = 10_000
    n_steps: int = 1_440
    n_communities: int | None = 1

    # Follower graph
    m: int = 3  # Barabási–Albert edges per new node

    # Seeded items and spreading
    n_items_per_kind: int = 1_000  # K: seeded true items, and as many false ones
    seed_window_steps: int | None = None  # seed times uniform over [0, window); None: half the run
    spread: str = "branching"  # branching | graph
    n_true: float = 0.5  # branching mode: mean reshares spawned per true-item post
    n_false: float = 0.8
    reshare_prob_true: float = 0.05  # graph mode: reshare probability per exposed follower
    reshare_prob_false: float = 0.10
    reshare_delay_steps: float = 10.0  # mean of the exponential reaction delay

    # Moderation (acts on reshares)
    moderation: str = "off"  # off | node | edge
    budget: float = 0.01  # share of the attempted reshare deliveries it may block
    detect_delay: int = 10  # steps before an attempt is seen by the moderator
    moderation_window_steps: int = 60

    # Background organic posting: discretised Hawkes with self-excitation only
    background_rate: float = 0.001  # μ, organic posts per agent per step
    hawkes_alpha_self: float = 0.25
    hawkes_beta: float = 0.5  # n_bg = alpha_self / beta = 0.5
    max_actions_per_step: int = 5

    def resolved(self) -> "CascadeConfig":
        """The seeding window defaults to the first half of the run (720 of the reference 1,440
        steps), so shorter runs leave the same share of time for the last cascades to die."""
        base = super().resolved()
        window = base.seed_window_steps
        return dataclasses.replace(base, seed_window_steps=max(1, base.n_steps // 2)
                                   if window is None else window)

    def validate(self) -> None:
        super().validate()
        if self.spread not in SPREAD:
            raise ValueError(f"spread is one of {SPREAD}")
        if self.moderation not in MODERATION:
            raise ValueError(f"moderation is one of {MODERATION}")
        if not all(0.0 <= n < MAX_BRANCHING_RATIO for n in (self.n_true, self.n_false)):
            raise ValueError(f"branching ratios must lie in [0, {MAX_BRANCHING_RATIO})")
        if not (0.0 <= self.reshare_prob_true <= 1.0 and 0.0 <= self.reshare_prob_false <= 1.0):
            raise ValueError("reshare probabilities lie in [0, 1]")
        if not 1 <= self.m < self.n_agents:
            raise ValueError("m must lie in [1, n_agents)")
        if (self.n_items_per_kind < 1 or self.seed_window_steps is None
                or not 1 <= self.seed_window_steps <= self.n_steps):
            raise ValueError("need at least one item per kind and a seeding window within the run")
        if not (0.0 <= self.budget < 1.0 and self.detect_delay >= 0
                and self.moderation_window_steps >= 1):
            raise ValueError("budget in [0, 1), detect_delay >= 0, moderation window >= 1")
        if self.reshare_delay_steps <= 0 or self.background_rate < 0:
            raise ValueError("reshare delay must be positive and background rate non-negative")
        self.hawkes().check()

    def hawkes(self) -> HawkesParams:
        return HawkesParams(self.hawkes_alpha_self, 0.0, self.hawkes_beta,
                            notifications_per_action=0.0)

    def branching_ratio(self, veracity: int) -> float:
        return self.n_true if veracity == TRUE else self.n_false

    def reshare_prob(self, veracity: int) -> float:
        return self.reshare_prob_true if veracity == TRUE else self.reshare_prob_false


@dataclass
class Seeds:
    """The planted items, one per cascade (true ones first), and the agents' interests (text)."""

    author: np.ndarray
    time: np.ndarray  # continuous, in steps
    veracity: np.ndarray
    interest: np.ndarray  # per agent, index into text.TOPICS


def draw_seeds(cfg: CascadeConfig, seed: int, graph: FollowerGraph) -> Seeds:
    """K true and K false items by agents drawn uniformly among those with a follower, at
    uniform times over the seeding window."""
    rng = module_rng(seed, "population")
    k = cfg.n_items_per_kind
    with_followers = np.flatnonzero(graph.follower_counts() > 0)
    author = with_followers[rng.integers(0, len(with_followers), size=2 * k)]
    time = rng.random(2 * k) * cfg.seed_window_steps
    interest = rng.integers(0, len(TOPICS), size=cfg.n_agents)
    return Seeds(author=author, time=time, veracity=np.repeat([TRUE, FALSE], k),
                 interest=interest)


@dataclass(frozen=True)
class OffspringTree:
    """A cascade's Galton–Watson tree in breadth-first order: node 0 is the seed, and node i's
    children are nodes first_child[i] .. first_child[i] + n_children[i] − 1."""

    n_children: np.ndarray
    first_child: np.ndarray
    delay: np.ndarray  # steps from the parent's post to this node's reshare (0 for the seed)


def draw_tree(rng: np.random.Generator, n: float, mean_delay: float) -> OffspringTree:
    """Poisson(n) offspring, generation by generation, until a generation is empty."""
    counts: list[np.ndarray] = []
    generation = 1
    while generation:
        born = rng.poisson(n, size=generation)
        counts.append(born)
        generation = int(born.sum())
    n_children = np.concatenate(counts)
    first_child = 1 + np.cumsum(n_children) - n_children
    delay = rng.exponential(mean_delay, size=len(n_children))
    delay[0] = 0.0
    return OffspringTree(n_children=n_children, first_child=first_child, delay=delay)


def draw_trees(cfg: CascadeConfig, seed: int, seeds: Seeds) -> list[OffspringTree]:
    """Every cascade's tree, drawn at planting from the policy stream (branching mode)."""
    rng = module_rng(seed, "policy")
    return [draw_tree(rng, cfg.branching_ratio(int(v)), cfg.reshare_delay_steps)
            for v in seeds.veracity.tolist()]


@dataclass
class _StepDraws:
    """The step's per-agent draws for placing children, made on first use."""

    priority: np.ndarray  # a recipient's rank among the author's not-yet-exposed followers
    delay: np.ndarray  # graph mode: a recipient's reaction-delay uniform
    fallback: np.random.Generator | None = None  # recipients reached outside the graph


class _Run(Society):
    """One run; `step(t)` resolves the events of [t, t + 1) in order of continuous time."""

    def __init__(self, cfg: CascadeConfig, seed: int, graph: FollowerGraph, seeds: Seeds,
                 trees: list[OffspringTree]) -> None:
        super().__init__(cfg, seed, n_communities=1)
        self.cfg: CascadeConfig = cfg
        self.graph = graph
        self.n_followers = graph.follower_counts()
        self.seeds = seeds
        self.trees = trees
        self.hawkes = HawkesExcitation(self.n, cfg.hawkes())
        self.exposed: list[set[int]] = [{int(a)} for a in seeds.author]
        self.seed_post = np.full(len(seeds.author), -1, dtype=np.int64)
        # The time line: (time, order, kind, agent, cascade, parent post, tree node).
        self.queue: list[tuple[float, int, int, int, int, int, int]] = []
        self._order = 0
        for c in np.argsort(seeds.time, kind="stable").tolist():
            self._push(float(seeds.time[c]), SEED, int(seeds.author[c]), c, -1, 0)
        # Moderation state: reshare attempts by step (until the window drops them), attempts per
        # author in the window, deliveries attempted as seen so far, and deliveries blocked.
        self.attempts: dict[int, list[int]] = {}
        self.window_attempts = np.zeros(self.n, dtype=np.int64)
        self.seen_deliveries = 0
        self.blocked_deliveries = 0
        self.suspended = np.zeros(self.n, dtype=bool)
        self.suspended_list = np.zeros(0, dtype=np.int64)
        self.blocked_prefix: dict[int, int] = {}  # author -> its first k followers are blocked
        self._draws: _StepDraws | None = None

    def _push(self, time: float, kind: int, agent: int, cascade: int = -1, parent: int = -1,
              node: int = -1) -> None:
        heapq.heappush(self.queue, (time, self._order, kind, agent, cascade, parent, node))
        self._order += 1

    def follow_graph_at_step_zero(self) -> None:
        """The BA graph becomes the initial `follows` rows."""
        for a, b in zip(self.graph.follower.tolist(), self.graph.followee.tolist()):
            self.follow(a, 0, b)

    # Moderation ------------------------------------------------------------------------------
    def _moderate(self, t: int) -> None:
        """Refresh what the moderator has seen (attempts detect_delay steps late, a moving
        window of them) and choose the step's blocks within the remaining allowance."""
        cfg = self.cfg
        entering = t - cfg.detect_delay - 1
        leaving = entering - cfg.moderation_window_steps
        authors = self.attempts.get(entering)
        if authors:
            np.add.at(self.window_attempts, np.array(authors), 1)
            self.seen_deliveries += int(self.n_followers[np.array(authors)].sum())
        authors = self.attempts.pop(leaving, None)
        if authors:
            np.subtract.at(self.window_attempts, np.array(authors), 1)
        self.suspended[self.suspended_list] = False
        self.suspended_list = np.zeros(0, dtype=np.int64)
        self.blocked_prefix = {}
        allowance = cfg.budget * self.seen_deliveries - self.blocked_deliveries
        if allowance <= 0:
            return
        # Expected deliveries per step, as the window's rate: per spreader, and per follow edge
        # (an edge carries one delivery per attempt of its author).
        active = np.flatnonzero(self.window_attempts)
        edge_rate = self.window_attempts[active] / cfg.moderation_window_steps
        spreader_rate = edge_rate * self.n_followers[active]
        # Both arms rank spreaders by attempts in the window (ties: lower agent id first).
        order = np.lexsort((active, -edge_rate))
        if cfg.moderation == "node":  # the top spreaders
            before = np.cumsum(spreader_rate[order]) - spreader_rate[order]
            self.suspended_list = active[order[before < allowance]]
            self.suspended[self.suspended_list] = True
        else:  # their edges, the busiest; the lowest follower ids first among equally busy ones
            remaining = allowance
            for i in order.tolist():
                k = min(int(self.n_followers[active[i]]), int(np.ceil(remaining / edge_rate[i])))
                self.blocked_prefix[int(active[i])] = k
                remaining -= k * edge_rate[i]
                if remaining <= 0:
                    break

    # Spreading -------------------------------------------------------------------------------
    def _step_draws(self, t: int) -> _StepDraws:
        if self._draws is None:
            priority = step_rng(self.seed, "feed", t).random(self.n)
            delay = step_rng(self.seed, "policy", t).random(self.n)
            self._draws = _StepDraws(priority=priority, delay=delay)
        return self._draws

    def _outside_graph(self, t: int, draws: _StepDraws, excluded: set[int], k: int) -> list[int]:
        """Up to k distinct random agents outside `excluded` (the branching-mode fallback when
        an author has too few not-yet-exposed followers)."""
        if draws.fallback is None:
            draws.fallback = step_rng(self.seed, "feed", t, 1)
        picked: list[int] = []
        while len(picked) < k and len(excluded) + len(picked) < self.n:
            a = int(draws.fallback.integers(0, self.n))
            if a not in excluded and a not in picked:
                picked.append(a)
        return picked

    def _spread(self, t: int, time: float, kind: int, agent: int, cascade: int, parent: int,
                node: int) -> None:
        """Post a seed or reshare, deliver it to the author's followers, schedule the children."""
        cfg = self.cfg
        blocked = 0
        if kind == RESHARE:
            if cfg.moderation != "off":
                self.attempts.setdefault(t, []).append(agent)
            if self.suspended[agent]:  # the reshare, and with it the whole subtree, is cut
                blocked = int(self.n_followers[agent])
                self.blocked_deliveries += blocked
                self.act(agent, t, NOTHING,
                         info={"reason": "suspended", "blocked_deliveries": blocked})
                return
            blocked = self.blocked_prefix.get(agent, 0)
            self.blocked_deliveries += blocked
            post = self.post(agent, t, 0, shared=parent,
                             info={"blocked_deliveries": blocked} if blocked else None)
        else:
            post = self.post(agent, t, 0)
            self.seed_post[cascade] = post
        draws = self._step_draws(t)
        exposed = self.exposed[cascade]
        followers = self.graph.followers(agent)
        fresh = np.flatnonzero(np.fromiter((f not in exposed for f in followers.tolist()),
                                           dtype=bool, count=len(followers)))
        outside: list[int] = []
        if cfg.spread == "branching":
            tree = self.trees[cascade]
            n_children = int(tree.n_children[node])
            ranked = fresh[np.argsort(draws.priority[followers[fresh]], kind="stable")]
            chosen = ranked[:n_children]  # positions in `followers`, in child order
            if n_children > len(ranked):  # reach others than the author's followers
                excluded = exposed | set(followers.tolist())
                outside = self._outside_graph(t, draws, excluded, n_children - len(ranked))
            child_nodes = tree.first_child[node] + np.arange(len(chosen) + len(outside))
            delays = tree.delay[child_nodes]
        else:
            veracity = int(self.seeds.veracity[cascade])
            chosen = fresh[draws.priority[followers[fresh]] < cfg.reshare_prob(veracity)]
            child_nodes = np.full(len(chosen), -1)
            delays = -cfg.reshare_delay_steps * np.log1p(-draws.delay[followers[chosen]])
        delivered = followers[blocked:]
        if len(delivered):
            self.expose(delivered, t, K_POST, post, SHARE, 1)
        if outside:
            self.expose(np.array(outside), t, K_POST, post, RANDOM, 1)
        exposed.update(delivered.tolist())
        exposed.update(outside)
        recipients = followers[chosen].tolist() + outside
        reached = np.concatenate([chosen >= blocked, np.ones(len(outside), dtype=bool)])
        for child, child_node, wait, ok in zip(recipients, child_nodes.tolist(), delays.tolist(),
                                               reached.tolist()):
            if ok:  # a child behind a blocked edge never sees the post
                self._push(time + wait, RESHARE, child, cascade, post, child_node)

    # Background activity ---------------------------------------------------------------------
    def _schedule_organic(self, t: int) -> np.ndarray:
        """Organic posts of the step: Poisson(μ + E) per agent, at uniform times in the step."""
        ra = step_rng(self.seed, "activity", t)
        u_count = ra.random(self.n)
        u_time = ra.random(self.n)
        rate = self.cfg.background_rate + self.hawkes.level
        # Count 0 exactly where u ≤ P(0) = e^(−rate); the full inverse CDF runs on the others.
        awake = np.flatnonzero(u_count > np.exp(-rate))
        counts = np.zeros(self.n, dtype=np.int64)
        counts[awake] = poisson_counts(u_count[awake], rate[awake], self.cfg.max_actions_per_step)
        for a, k in zip(awake.tolist(), counts[awake].tolist()):
            for _ in range(k):
                self._push(t + float(u_time[a]), ORGANIC, a)
        return counts

    def step(self, t: int) -> None:
        self.begin_step()
        if t == 0:
            self.follow_graph_at_step_zero()
        self._draws = None
        if self.cfg.moderation != "off":
            self._moderate(t)
        organic = self._schedule_organic(t)
        while self.queue and self.queue[0][0] < t + 1:
            time, _, kind, agent, cascade, parent, node = heapq.heappop(self.queue)
            if kind == ORGANIC:
                self.post(agent, t, 0)
            else:
                self._spread(t, time, kind, agent, cascade, parent, node)
        self.hawkes.update(organic, np.zeros(self.n))
        self.end_step(t)


def _start(cfg: CascadeConfig, seed: int) -> _Run:
    """Build the graph and plant the items."""
    graph = follower_graph(cfg.n_agents, cfg.m, module_rng(seed, "topology"))
    seeds = draw_seeds(cfg, seed, graph)
    trees = draw_trees(cfg, seed, seeds) if cfg.spread == "branching" else []
    return _Run(cfg, seed, graph, seeds, trees)


def run(cfg: CascadeConfig, seed: int, checkpoints: Checkpoints | None = None) -> Trace:
    """Build the graph, plant the items and simulate `cfg.n_steps` steps."""
    state = run_steps(lambda: _start(cfg, seed), range(cfg.n_steps), checkpoints)
    seeds = state.seeds
    veracity: list[str | None] = [None] * state.posts.n
    for c, post in enumerate(state.seed_post.tolist()):
        if post >= 0:
            veracity[post] = VERACITY[int(seeds.veracity[c])]
    state.label_items("post", "veracity", veracity)
    labels = {"background_rate_per_step": [f"{cfg.background_rate:g}"] * cfg.n_agents,
              "initial_followers": [str(x) for x in state.n_followers.tolist()]}
    return state.trace(interest=seeds.interest, community_topic=np.array([-1]),
                       agent_labels=labels)


def realised_branching_ratio(trace: Trace, veracity: str) -> float:
    """Reshares per cascade post among the cascades of one veracity (graph mode's n)."""
    shared = trace.posts["shared"]
    root = np.arange(len(shared))
    while (shared[root] >= 0).any():  # follow reshare links up to the seed
        root = np.where(shared[root] >= 0, shared[root], root)
    seeds = np.array([v == veracity for v in trace.item_labels["post"]["veracity"]])
    in_cascade = seeds[root]
    return float(1.0 - seeds.sum() / max(in_cascade.sum(), 1))


def borel_tolerance(n: float, k: int) -> float:
    """3 standard errors of the mean of k Borel(n) cascade sizes: 3·√(n/(1 − n)³ / k)."""
    return 3.0 * float(np.sqrt(n / (1.0 - n) ** 3 / k))


def truth(cfg: CascadeConfig, trace: Trace) -> tuple[TruthRow, ...]:
    """§5.5 rows. Cascade sizes hold without moderation; the ordering rows in every arm; the
    moderation row sits in the moderated twins, which name the other arms."""
    k = cfg.n_items_per_kind
    rows: list[tuple[str, str, str, str, str]] = []
    if cfg.moderation == "off":
        for veracity in VERACITY:
            if cfg.spread == "branching":
                n = cfg.branching_ratio(VERACITY.index(veracity))
                source = f"n = {n:g}"
            else:
                n = realised_branching_ratio(trace, veracity)
                source = f"realised n = {n:.4f} (graph mode)"
            rows.append((
                "Cascade size", f"sim.cascade_mean_size_{veracity}", f"{1.0 / (1.0 - n):.4f}",
                f"abs {borel_tolerance(n, k):.4f}",
                f"theory: Galton–Watson / Hawkes cluster size, Borel mean 1/(1 − n), {source}, "
                f"K = {k}; tolerance 3·√(n/(1 − n)³ / K)",
            ))
    for metric in ("cascade_scale", "cascade_depth", "cascade_max_breadth"):
        rows.append(("False spreads further", f"sim.{metric}", "false > true", "order",
                     f"paper: {OASIS} (propagation metrics)"))
    if cfg.moderation != "off":
        rows.append((
            "Moderation", "sim.moderation_reduction", "node > edge", "order",
            f"paper: {AGENT_SOCIETY} (qualitative); cascade posts removed, off vs node vs edge "
            "twins of this seed at one budget of blocked deliveries. Expected ordering: per "
            "blocked delivery a suspension also removes the spreader's own reshare. At a 1% "
            "budget a run cuts only a handful of subtrees, so pool seeds (§6) to resolve it",
        ))
    n_bg = cfg.hawkes().branching_ratio()
    if cfg.background_rate > 0:
        rows.append(("Activity level", "sim.stationary_rate_ratio", "1.0", "abs 0.05",
                     f"theory: {HAWKES}; organic posts per agent-step over μ/(1 − n_bg), "
                     f"μ = {cfg.background_rate:g}, n_bg = {n_bg:g}"))
    rows += [
        ("Scale-free degrees", "sim.follow_degree_alpha", "3.0", "abs 0.3", f"theory: {BARABASI}"),
        ("Friendship paradox", "sim.friendship_paradox_share", "0.85", "min 0.85",
         f"calibrated: 0.88–0.92 for m = 2–5, n = 10k; {HODAS}"),
    ]
    return truth_rows(*rows)


PRESET = Preset(
    "cascade", CascadeConfig, run, truth,
    twins={"node": {"moderation": "node"}, "edge": {"moderation": "edge"}},
    reference_size=(10_000, 1_440),
)

