"""Collective consensus (ANALYTICS_SPEC.md §3.8): when agents are asked who matters here, do
their answers agree, do they name things that exist, and do they name the graph's actual hubs?

Probe threads are posts whose title or content matches PROBE_PATTERNS, a versioned list of
reputation meta-questions (most influential / best / most respected agent or post, whom do you
follow or look up to). The analytics never read simulator labels: simulated probes are found by
their wording like any other. Responses are all comments on probe threads.

Mentions in a response (its first MAX_TEXT_CHARS characters; each entity counted once per
response, so one enthusiastic answer is one vote):
- post references: a URL whose path has a `post`/`posts` segment followed by an id, a token equal
  to an existing post_id, a UUID, or a namespaced `<prefix>:post:<id>` token; resolved when the id
  is a post of the society;
- `@handle`s and `/u/<handle>` profile URLs: resolved case-insensitively against agents.name,
  then agents.agent_id;
- bare tokens equal to an agent name (case-insensitive, ≥ 4 characters, not in COMMON_WORDS);
  these resolve by construction, so they count for entropy and alignment but not for grounding.
An unresolved handle or post reference is an entity of its own (a cited thing that does not
exist). Agents absent from `pagerank_all` have PageRank 0 in the alignment.

All four metrics need ≥ 50 responses with a mention; CIs are percentile bootstraps (B = 1000)
over those responses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.metrics.registry import MetricSpec
from assets.metrics.stats import MetricRow, bootstrap_ci, metric_rng, metric_row, spearman

FAMILY = "socialization"
MIN_RESPONSES = 50
PAGERANK_TOP = 100
MIN_NAME_CHARS = 4
#: Longer texts are read up to here: mentions sit at the start, and megabyte bodies stay cheap.
MAX_TEXT_CHARS = 20_000
B_DEFAULT = 1000

#: Version of the probe pattern list; bump on any change so results stay traceable.
PROBE_PATTERN_VERSION = 1
PROBE_PATTERNS: tuple[str, ...] = (
    r"\bmost (?:influential|respected|admired|trusted|followed|important) "
    r"(?:agent|molty|account|poster|voice|user|post)s?\b",
    r"\bwho(?:m)? (?:do|would) you (?:follow|look up to|admire|trust|respect)\b",
    r"\bwhich (?:agent|molty|account)s? (?:do|would) you (?:follow|look up to|admire|trust|respect)\b",
    r"\bwho(?:'s| is| are) the (?:best|top|most (?:influential|respected|admired|trusted)) "
    r"(?:agent|molty|account|poster)s?\b",
    r"\bwhich (?:agent|molty|account) (?:has|have) (?:written|posted|made) the best\b",
    r"\bbest (?:post|thread)s? (?:you(?:'ve| have) (?:read|seen)|on (?:here|moltbook))\b",
)
_PROBE_RE = re.compile("|".join(f"(?:{p})" for p in PROBE_PATTERNS), re.IGNORECASE)

#: Frequent English words (≥ 4 letters) an agent might take as a name; a bare token equal to one of
#: these is ordinary prose, not a mention. Small on purpose: names are usually made-up words.
COMMON_WORDS = frozenset("""
about above after again agent agents alone also always another answer anyone anything around away
back because been before being best better between both bright build called came cloud code come
could dark data dawn days does doing done down dream each early echo even ever every everyone fact
feel find first flow follow form free from full gave give good great group have hello help here
high hold home hope idea into just keep kind know last late learn left less life light like line
little live long look made make many mind more most much must name need never news next nice night
none note nothing open over part people place plan point post question quite rather read real
right river same seed self shadow should show side signal simple since some something soon spark
still storm such sure take tell than thank thanks that their them then there these they thing
think this those though thought through time today together true truth very voice want well went
were what when where which while whole will wind wise with without word words work world would
year your zero agree among lobster claw crab shell ocean wave
""".split())

_URL_RE = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_URL_POST_RE = re.compile(r"/posts?/([A-Za-z0-9][A-Za-z0-9_:.\-]*[A-Za-z0-9]|[A-Za-z0-9])", re.IGNORECASE)
_URL_USER_RE = re.compile(r"/u/([A-Za-z0-9_\-]+)", re.IGNORECASE)
_HANDLE_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_\-]*)")
_ID_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:.\-]*[A-Za-z0-9]")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_NAMESPACED_POST_RE = re.compile(r".+:post:[A-Za-z0-9_\-]+")
_WORD_RE = re.compile(r"[\w\-]+")

TABLE_COLUMNS = ["n_probe_threads", "n_responses", "n_mentions", "n_entities", "consensus_entropy", "top1_share",
                 "grounding_rate", "structure_alignment", "probe_pattern_version"]  # fmt: skip
METRICS = ("consensus_entropy", "top1_share", "grounding_rate", "structure_alignment")


def _text(value: object) -> str:
    """A text field as str ('' for NULL/NaN), cut to MAX_TEXT_CHARS."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)[:MAX_TEXT_CHARS]


def is_probe(title: object, content: object) -> bool:
    """Whether a post asks a reputation meta-question (PROBE_PATTERNS, title or content)."""
    return bool(_PROBE_RE.search(_text(title)) or _PROBE_RE.search(_text(content)))


@dataclass(frozen=True)
class Mention:
    """One entity named in a response. `grounded` is None for bare names (not a reference)."""

    entity: str  # "agent:<id>", "post:<id>", "handle:<lower>", "post_ref:<id>"
    agent_id: str | None
    grounded: bool | None


@dataclass(frozen=True)
class Lookups:
    """What mentions resolve against: agent by lower-case name or id, bare-name table, post ids."""

    by_handle: dict[str, str]
    by_bare_name: dict[str, str]
    post_ids: frozenset[str]

    @classmethod
    def build(cls, agents: pd.DataFrame, post_ids: Iterable[object]) -> Lookups:
        by_handle: dict[str, str] = {}
        by_bare: dict[str, str] = {}
        ids = agents["agent_id"].astype(str).tolist() if len(agents) else []
        names = [_text(n) for n in agents["name"]] if len(agents) and "name" in agents else [""] * len(ids)
        for agent_id in ids:  # ids first, names override: a handle is a name before an id
            by_handle.setdefault(agent_id.lower(), agent_id)
        for agent_id, name in zip(ids, names):
            key = name.strip().lower()
            if not key:
                continue
            by_handle[key] = agent_id
            if len(key) >= MIN_NAME_CHARS and key not in COMMON_WORDS:
                by_bare[key] = agent_id
        return cls(by_handle, by_bare, frozenset(str(p) for p in post_ids if isinstance(p, str)))


def _post_mention(ref: str, lookups: Lookups) -> Mention:
    if ref in lookups.post_ids:
        return Mention(f"post:{ref}", None, True)
    return Mention(f"post_ref:{ref}", None, False)


def _handle_mention(handle: str, lookups: Lookups) -> Mention:
    agent_id = lookups.by_handle.get(handle.lower())
    if agent_id is None:
        return Mention(f"handle:{handle.lower()}", None, False)
    return Mention(f"agent:{agent_id}", agent_id, True)


def parse_mentions(text: str, lookups: Lookups) -> list[Mention]:
    """The distinct entities a response names (first occurrence wins; module docstring)."""
    found: dict[str, Mention] = {}

    def add(mention: Mention) -> None:
        found.setdefault(mention.entity, mention)

    rest = text
    for url in _URL_RE.findall(text):
        post = _URL_POST_RE.search(url)
        user = _URL_USER_RE.search(url)
        if post:
            add(_post_mention(post.group(1), lookups))
        elif user:
            add(_handle_mention(user.group(1), lookups))
        rest = rest.replace(url, " ")
    for handle in _HANDLE_RE.findall(rest):
        add(_handle_mention(handle.rstrip("-_"), lookups))
    rest = _HANDLE_RE.sub(" ", rest)
    for token in _ID_TOKEN_RE.findall(rest):
        if token in lookups.post_ids or _UUID_RE.fullmatch(token) or _NAMESPACED_POST_RE.fullmatch(token):
            add(_post_mention(token, lookups))
            rest = rest.replace(token, " ")
    for word in _WORD_RE.findall(rest):
        agent_id = lookups.by_bare_name.get(word.lower())
        if agent_id is not None:
            add(Mention(f"agent:{agent_id}", agent_id, None))
    return list(found.values())


# --------------------------------------------------------------------------- statistics


def normalized_entropy(counts: np.ndarray) -> float:
    """H / log K over entities with a positive count; 0 when K = 1, NaN when K = 0."""
    counts = counts[counts > 0]
    if counts.size == 0:
        return float("nan")
    if counts.size == 1:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum() / math.log(counts.size))


def top1_share(counts: np.ndarray) -> float:
    total = counts.sum()
    return float(counts.max() / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class MentionTable:
    """Mentions as parallel arrays: response index, entity index, agent flag, grounding code."""

    response: np.ndarray  # index into the responses with a mention
    entity: np.ndarray
    entities: list[str]
    entity_agent: list[str | None]
    grounded: np.ndarray  # 1 resolved reference, 0 unresolved, -1 bare name (not a reference)
    n_responses: int


def mention_table(per_response: list[list[Mention]]) -> MentionTable:
    with_mention = [m for m in per_response if m]
    codes: dict[str, int] = {}
    agent_of: list[str | None] = []
    resp, ent, grd = [], [], []
    for r, mentions in enumerate(with_mention):
        for m in mentions:
            if m.entity not in codes:
                codes[m.entity] = len(codes)
                agent_of.append(m.agent_id)
            resp.append(r)
            ent.append(codes[m.entity])
            grd.append(-1 if m.grounded is None else int(m.grounded))
    return MentionTable(np.array(resp, dtype=np.int64), np.array(ent, dtype=np.int64), list(codes), agent_of,
                        np.array(grd, dtype=np.int64), len(with_mention))  # fmt: skip


def _weighted_counts(table: MentionTable, weights: np.ndarray) -> np.ndarray:
    """Mentions per entity when response r is drawn weights[r] times."""
    return np.bincount(table.entity, weights=weights[table.response], minlength=len(table.entities))


def _grounding(table: MentionTable, weights: np.ndarray) -> float:
    refs = table.grounded >= 0
    w = weights[table.response][refs]
    return float((w * table.grounded[refs]).sum() / w.sum()) if w.sum() > 0 else float("nan")


def _alignment(table: MentionTable, weights: np.ndarray, pagerank: dict[str, float], top: list[str]) -> float:
    """Spearman of mention count and PageRank over mentioned agents ∪ PageRank top 100 (`top`)."""
    counts = _weighted_counts(table, weights)
    mentioned: dict[str, float] = {}
    for code, agent in enumerate(table.entity_agent):
        if agent is not None and counts[code] > 0:
            mentioned[agent] = mentioned.get(agent, 0.0) + counts[code]
    agents = sorted(set(mentioned) | set(top))
    rows = np.array([[mentioned.get(a, 0.0), pagerank.get(a, 0.0)] for a in agents])
    return spearman(rows) if len(agents) >= 3 else float("nan")


def _pagerank_series(pagerank_all: pd.DataFrame | None) -> pd.Series:
    if pagerank_all is None or pagerank_all.empty:
        return pd.Series(dtype=float)
    pr = pagerank_all.dropna(subset=["agent_id"]).drop_duplicates("agent_id")
    series = pd.Series(pd.to_numeric(pr["pagerank"], errors="coerce").to_numpy(), index=pr["agent_id"].astype(str))
    # Agent order as tie-break, so the top 100 does not depend on row order.
    return series.dropna().sort_index()


def _response_bootstrap_ci(
    stat: Callable[[np.ndarray], float], n: int, rng: np.random.Generator, B: int
) -> tuple[float, float]:
    """Percentile CI resampling responses: a replicate hands `stat` each response's multiplicity."""
    index = np.arange(n, dtype=float)[:, None]

    def replicate(rows: np.ndarray) -> float:
        return stat(np.bincount(rows[:, 0].astype(np.int64), minlength=n).astype(float))

    return bootstrap_ci(index, replicate, rng, B)


def consensus_metrics(
    posts: pd.DataFrame,
    comments: pd.DataFrame,
    agents: pd.DataFrame,
    pagerank_all: pd.DataFrame | None,
    *,
    society_seed: int = 0,
    B: int = B_DEFAULT,
) -> tuple[dict[str, pd.DataFrame], list[MetricRow]]:
    """Table `socialization_consensus` and the four §3.8 society_metric rows.

    Needs posts(post_id, title, content), comments(post_id, content), agents(agent_id, name) and
    pagerank_all(agent_id, pagerank) of the `all` window (None or empty: structure_alignment is
    not available).
    """
    probe_mask = np.array([is_probe(t, c) for t, c in zip(posts["title"], posts["content"])], dtype=bool)
    probe_ids = set(posts.loc[probe_mask, "post_id"])
    responses = comments[comments["post_id"].isin(probe_ids)]
    lookups = Lookups.build(agents, posts["post_id"])
    table = mention_table([parse_mentions(_text(c), lookups) for c in responses["content"]])
    n = table.n_responses
    ones = np.ones(n)
    counts = _weighted_counts(table, ones)
    pagerank = _pagerank_series(pagerank_all)
    top = pagerank.sort_values(ascending=False, kind="stable").index[:PAGERANK_TOP].tolist()
    pagerank_of = pagerank.to_dict()

    stats = {
        "consensus_entropy": lambda w: normalized_entropy(_weighted_counts(table, w)),
        "top1_share": lambda w: top1_share(_weighted_counts(table, w)),
        "grounding_rate": lambda w: _grounding(table, w),
        "structure_alignment": lambda w: _alignment(table, w, pagerank_of, top) if top else float("nan"),
    }
    rows, values = [], {}
    n_refs = int((table.grounded >= 0).sum())
    for metric, stat in stats.items():
        unit_n = {"grounding_rate": n_refs}.get(metric, n)
        value = stat(ones) if n >= MIN_RESPONSES else float("nan")
        values[metric] = value
        if math.isnan(value):
            rows.append(metric_row(FAMILY, metric, None, None, unit_n))
            continue
        ci = _response_bootstrap_ci(stat, n, metric_rng(society_seed, metric), B)
        rows.append(metric_row(FAMILY, metric, value, ci, unit_n))

    summary = pd.DataFrame([{
        "n_probe_threads": len(probe_ids), "n_responses": len(responses), "n_mentions": int(counts.sum()),
        "n_entities": int((counts > 0).sum()), **values, "probe_pattern_version": PROBE_PATTERN_VERSION,
    }], columns=TABLE_COLUMNS)  # fmt: skip
    return {"socialization_consensus": summary}, rows


# --------------------------------------------------------------------------- registry

_LI = "Does Socialization Emerge, arXiv:2602.14299"

#: What this module writes to society_metric (§3.8); CIs resample responses with a mention.
REGISTRY = [
    MetricSpec(FAMILY, "consensus_entropy", "responses", "paper-named", "bootstrap", "high (no consensus)",
               None, "P", _LI),
    MetricSpec(FAMILY, "top1_share", "responses", "paper-named", "bootstrap", "low (no shared anchor)",
               None, "P", _LI),
    MetricSpec(FAMILY, "grounding_rate", "references", "paper-named", "bootstrap",
               "< 1 (answers cite entities that do not exist)", None, "S", _LI),
    MetricSpec(FAMILY, "structure_alignment", "responses", "proposed", "bootstrap", "weak"),
]  # fmt: skip
