"""Drift detector for API answers (MOLTBOOK_API §3.7.7): the key paths and value types each
endpoint answered with, compared run to run.

The parser tolerates drift (camelCase authors, counts as strings, new fields); this module makes
it visible. A shape is `{key path: sorted value types}` where list items share one path
(`posts[].author.followerCount`) and nested replies collapse to one level, so a deep thread does
not look like a new shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Shape = dict[str, list[str]]  # key path → sorted value types seen there

MAX_PATHS_PER_ENDPOINT = 400  # a body with thousands of distinct keys is noise, not a shape
_UUIDISH = re.compile(r"^[0-9a-fA-F-]{16,}$")


def endpoint_of(path: str) -> str:
    """`/posts/1cafdc87-.../comments` → `/posts/{id}/comments`: ids and names become placeholders."""
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] in ("posts", "submolts", "agents") and parts[1] not in ("profile", "recent"):
        parts[1] = "{id}" if parts[0] == "posts" or _UUIDISH.match(parts[1]) else "{name}"
    return "/" + "/".join(parts)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "str", list: "list", dict: "object"}.get(type(value), type(value).__name__)


def add_to_shape(shape: Shape, body: Any, prefix: str = "") -> None:
    """Fold one answer's key paths and types into `shape` (in place)."""
    types = set(shape.get(prefix, [])) if prefix else set()
    if prefix:
        types.add(_type_name(body))
        if len(shape) < MAX_PATHS_PER_ENDPOINT or prefix in shape:
            shape[prefix] = sorted(types)
    if isinstance(body, dict):
        for key, value in body.items():
            if not isinstance(key, str):
                continue
            if key == "replies" and prefix.endswith("replies[]"):
                add_to_shape(shape, value, prefix[:-2])  # deeper replies fold onto the first level
            else:
                add_to_shape(shape, value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(body, list):
        for item in body:
            add_to_shape(shape, item, f"{prefix}[]")


@dataclass(frozen=True)
class ShapeChanges:
    added: dict[str, list[str]]  # endpoint → key paths new in this run
    removed: dict[str, list[str]]  # endpoint → key paths the previous run saw and this one did not
    retyped: dict[str, list[str]]  # endpoint → "path: old → new" for paths whose non-null types changed

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def markdown(self) -> str:
        lines = []
        for title, changes in (("added", self.added), ("removed", self.removed), ("retyped", self.retyped)):
            for endpoint, paths in sorted(changes.items()):
                lines.append(f"- {title} at `{endpoint}`: " + ", ".join(f"`{p}`" for p in paths[:20])
                             + (f" and {len(paths) - 20} more" if len(paths) > 20 else ""))
        return "\n".join(lines) or "no change"


def compare_shapes(previous: dict[str, Shape], current: dict[str, Shape]) -> ShapeChanges:
    """Changes per endpoint that both runs called; an endpoint only one run called is not drift."""
    added, removed, retyped = {}, {}, {}
    for endpoint in sorted(set(previous) & set(current)):
        old, new = previous[endpoint], current[endpoint]
        if gained := sorted(set(new) - set(old)):
            added[endpoint] = gained
        if lost := sorted(set(old) - set(new)):
            removed[endpoint] = lost
        changed = []
        for path in sorted(set(old) & set(new)):
            before, after = set(old[path]) - {"null"}, set(new[path]) - {"null"}
            if before and after and before != after:
                changed.append(f"{path}: {'|'.join(sorted(before))} → {'|'.join(sorted(after))}")
        if changed:
            retyped[endpoint] = changed
    return ShapeChanges(added, removed, retyped)
