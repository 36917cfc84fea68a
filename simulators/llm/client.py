"""A small client for any OpenAI-compatible `/v1/chat/completions` endpoint (§4.11).

Standard library only (urllib). Plain chat requests: no function calling, no JSON-mode flag.
Each request has a timeout; 429 and 5xx answers are retried with exponential backoff (honouring
Retry-After); other failures are reported, never retried. `complete_many` runs a batch on a
thread pool capped at `concurrency` and returns the results keyed by request, so the order in
which threads finish never reaches the caller. The API key goes into the Authorization header
and nowhere else: it is not logged, not part of any repr, not returned.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Hashable, TypeVar
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[tuple[str, str], ...]  # (role, content)
    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None = None  # passed through; servers that honour it repeat themselves


@dataclass(frozen=True)
class ChatReply:
    content: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int  # wall time of the successful request (a measurement, kept in the cache)
    attempts: int = 1  # HTTP attempts, backoff retries included

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatError(Exception):
    """A request that produced no usable reply; `reason` is a short code for the action log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def chat_url(base_url: str) -> str:
    """`<base_url>/chat/completions`, where base_url is the API root (e.g. http://host:8080/v1)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the LLM base URL must be an http(s) URL such as http://127.0.0.1:8080/v1")
    root = base_url.rstrip("/")
    return root if root.endswith("/chat/completions") else root + "/chat/completions"


class ChatClient:
    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout_s: float = 30.0,
                 max_retries: int = 4, backoff_s: float = 1.0, max_backoff_s: float = 30.0,
                 concurrency: int = 2) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.url = chat_url(base_url)
        self.model = model
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.concurrency = concurrency
        # Loopback endpoints (local servers, the test server) never go through a proxy.
        handlers = [urllib.request.ProxyHandler({})] if urlsplit(self.url).hostname in _LOOPBACK \
            else []
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"ChatClient(url={self.url!r}, model={self.model!r})"

    def complete(self, request: ChatRequest) -> ChatReply:
        """One chat completion, with backoff on 429/5xx; raises ChatError."""
        body = json.dumps(self._payload(request)).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        for attempt in range(self.max_retries + 1):
            started = time.perf_counter()
            try:
                http_request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with self._opener.open(http_request, timeout=self.timeout_s) as response:
                    raw = response.read()
                latency_ms = round((time.perf_counter() - started) * 1000)
                return _reply(raw, latency_ms, attempt + 1)
            except urllib.error.HTTPError as err:
                retry_after = err.headers.get("Retry-After") if err.headers else None
                err.close()
                if err.code != 429 and err.code < 500:
                    raise ChatError(f"http_{err.code}") from None
                if attempt == self.max_retries:
                    raise ChatError(f"http_{err.code}", "retries exhausted") from None
                delay = self._delay(attempt, retry_after)
                log.warning("LLM endpoint answered %s; retrying in %.2fs", err.code, delay)
                time.sleep(delay)
            except (TimeoutError, socket.timeout):
                raise ChatError("timeout", f"no reply within {self.timeout_s}s") from None
            except urllib.error.URLError as err:
                if isinstance(err.reason, (TimeoutError, socket.timeout)):
                    raise ChatError("timeout", f"no reply within {self.timeout_s}s") from None
                raise ChatError("connection", type(err.reason).__name__) from None
            except OSError as err:
                raise ChatError("connection", type(err).__name__) from None
            except http.client.HTTPException as err:
                raise ChatError("bad_response", type(err).__name__) from None
        raise AssertionError("unreachable")

    def complete_many(self, requests: dict[K, ChatRequest]) -> dict[K, ChatReply | ChatError]:
        """A batch on at most `concurrency` threads; results keyed like the requests."""
        if not requests:
            return {}
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            futures = {key: pool.submit(self._complete_or_error, req)
                       for key, req in requests.items()}
            return {key: future.result() for key, future in futures.items()}

    def _complete_or_error(self, request: ChatRequest) -> ChatReply | ChatError:
        try:
            return self.complete(request)
        except ChatError as err:
            return err

    def _payload(self, request: ChatRequest) -> dict[str, object]:
        payload: dict[str, object] = {
            "model": self.model,
            "messages": [{"role": r, "content": c} for r, c in request.messages],
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            payload["seed"] = request.seed
        return payload

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = self.backoff_s * 2**attempt
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        return min(delay, self.max_backoff_s)


def _reply(raw: bytes, latency_ms: int, attempts: int) -> ChatReply:
    """The message content and token usage of a chat-completions response body."""
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ChatError("bad_response", "not a chat-completions response") from None
    if not isinstance(content, str):
        raise ChatError("bad_response", "message content is not text")
    usage = data.get("usage") or {}
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        prompt, completion = 0, max(1, len(content) // 4)  # no usage reported: estimate
    return ChatReply(content=content, prompt_tokens=prompt, completion_tokens=completion,
                     latency_ms=latency_ms, attempts=attempts)
