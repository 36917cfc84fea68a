"""The plain-JSON reply of one archetype call, and its validator (SIMULATORS.md §4.11).

A group call returns one JSON object: an action distribution over the menu the prompt offered,
plus up to k text samples, each shaped like the §4.11 action object:

    {"distribution": {"create_post": 0.2, "create_comment": 0.5, "do_nothing": 0.3},
     "samples": [{"action": "create_comment", "target": "p2", "title": null, "body": "..."}]}

The flat §4.11 form (`action`, `target`, `title`, `body` and `distribution` at the top level) is
read as a single sample. Validation is strict and its message is what the model sees on the one
retry: keys on an allow-list, known actions, targets among the aliases shown, length bounds, a
distribution summing to 1 ± 0.05 (then renormalised) and non-empty text.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

TOP_KEYS: tuple[str, ...] = ("distribution", "samples", "action", "target", "title", "body")
SAMPLE_KEYS: tuple[str, ...] = ("action", "target", "title", "body")
POST_ACTIONS: tuple[str, ...] = ("create_post",)
COMMENT_ACTIONS: tuple[str, ...] = ("create_comment", "reply")
TITLE_MAX_CHARS = 200
BODY_MAX_CHARS = 2_000
SUM_TOLERANCE = 0.05
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class ReplyError(ValueError):
    """A reply that breaks the schema; the message tells the model what to fix."""


@dataclass(frozen=True)
class TextSample:
    action: str
    target: str | None
    title: str | None
    body: str | None


@dataclass(frozen=True)
class GroupReply:
    distribution: tuple[float, ...]  # aligned with the menu, sums to 1
    samples: tuple[TextSample, ...]

    def texts_for(self, actions: tuple[str, ...]) -> tuple[TextSample, ...]:
        return tuple(s for s in self.samples if s.action in actions)


def reply_hash(raw: str) -> str:
    """What a `parse_error` row keeps of the raw reply (never the reply itself)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def extract_json(raw: str) -> Any:
    """The JSON object of a reply, tolerating a code fence or prose around one object."""
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            pass
    raise ReplyError("the reply is not one JSON object")


def parse_reply(
    raw: str, *, menu: tuple[str, ...], shown: tuple[str, ...], max_samples: int
) -> GroupReply:
    """Validate a raw model reply against the menu and the aliases shown in the prompt."""
    data = extract_json(raw)
    if not isinstance(data, dict):
        raise ReplyError("the reply must be a JSON object")
    _check_keys(data, TOP_KEYS, "the reply")
    distribution = _distribution(data.get("distribution"), menu)
    if "samples" in data:
        if any(k in data for k in SAMPLE_KEYS):
            raise ReplyError("give either 'samples' or one flat action, not both")
        items = data["samples"]
        if not isinstance(items, list) or not 1 <= len(items) <= max_samples:
            raise ReplyError(f"'samples' must be a list of 1 to {max_samples} objects")
    else:
        items = [{k: data[k] for k in SAMPLE_KEYS if k in data}]
    samples = tuple(_sample(item, i, menu, shown) for i, item in enumerate(items))
    return GroupReply(distribution=distribution, samples=samples)


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ReplyError(f"{where} has unknown keys {unknown}; allowed: {list(allowed)}")


def _distribution(value: Any, menu: tuple[str, ...]) -> tuple[float, ...]:
    if not isinstance(value, dict) or not value:
        raise ReplyError("'distribution' must be an object mapping actions to probabilities")
    probs = []
    for key in value:
        if key not in menu:
            raise ReplyError(f"unknown action {key!r} in 'distribution'; known: {list(menu)}")
    for action in menu:
        p = value.get(action, 0.0)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p) or p < 0:
            raise ReplyError(f"probability of {action!r} must be a number >= 0")
        probs.append(float(p))
    total = sum(probs)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ReplyError(f"'distribution' sums to {total:.3f}; it must sum to 1 ± {SUM_TOLERANCE}")
    return tuple(p / total for p in probs)


def _sample(item: Any, i: int, menu: tuple[str, ...], shown: tuple[str, ...]) -> TextSample:
    where = f"sample {i}"
    if not isinstance(item, dict):
        raise ReplyError(f"{where} must be an object")
    _check_keys(item, SAMPLE_KEYS, where)
    action = item.get("action")
    if action not in menu:
        raise ReplyError(f"{where}: unknown action {action!r}; known: {list(menu)}")
    target = item.get("target")
    if target is not None and target not in shown:
        raise ReplyError(f"{where}: target {target!r} is not among the items shown {list(shown)}")
    title = _text(item.get("title"), TITLE_MAX_CHARS, f"{where} title")
    body = _text(item.get("body"), BODY_MAX_CHARS, f"{where} body")
    if action in POST_ACTIONS and (title is None or body is None):
        raise ReplyError(f"{where}: a {action} needs a non-empty title and body")
    if action in COMMENT_ACTIONS and body is None:
        raise ReplyError(f"{where}: a {action} needs a non-empty body")
    return TextSample(action=action, target=target, title=title, body=body)


def _text(value: Any, max_chars: int, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReplyError(f"{where} must be a string or null")
    value = value.strip()
    if not value:
        raise ReplyError(f"{where} is empty; give text or null")
    if len(value) > max_chars:
        raise ReplyError(f"{where} is {len(value)} characters; at most {max_chars}")
    return value
