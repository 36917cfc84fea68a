"""On-disk response cache: a warm cache makes an LLM run exactly repeatable (§4.11).

The key hashes (model, endpoint host, normalised messages, temperature, top_p, max_tokens,
sample index, prompt-template version). An entry holds the reply text, its token usage and the
latency measured when it was fetched, nothing else: no headers, no URL, never the API key.
One small JSON file per entry, written atomically, read and written by the calling thread only.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from simulators.llm.client import ChatReply

Messages = tuple[tuple[str, str], ...]


def normalise_messages(messages: Messages) -> list[list[str]]:
    """Line endings unified, trailing spaces and surrounding blank lines dropped."""
    out = []
    for role, content in messages:
        lines = content.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
        out.append([role, "\n".join(line.rstrip() for line in lines)])
    return out


def cache_key(*, model: str, host: str, messages: Messages, temperature: float, top_p: float,
              max_tokens: int, sample_index: int, template_version: str) -> str:
    material = {
        "model": model,
        "host": host,
        "messages": normalise_messages(messages),
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "sample_index": sample_index,
        "template_version": template_version,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies by key under `directory` (None: a cache that remembers nothing)."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory else None

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> ChatReply | None:
        if self.directory is None:
            return None
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return ChatReply(content=data["content"], prompt_tokens=data["prompt_tokens"],
                             completion_tokens=data["completion_tokens"],
                             latency_ms=data["latency_ms"], attempts=0)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: fetch again

    def put(self, key: str, reply: ChatReply) -> None:
        if self.directory is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"content": reply.content, "prompt_tokens": reply.prompt_tokens,
                 "completion_tokens": reply.completion_tokens, "latency_ms": reply.latency_ms}
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
