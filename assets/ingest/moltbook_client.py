"""HTTP client for the Moltbook read API (MOLTBOOK_API §1, §4, §5).

One `MoltbookClient.get(path, params)` call returns one `ApiResponse`: a 2xx or 4xx answer with its
body decoded. Everything between the call and that answer is the client's job:
- pacing: a token bucket shared by every attempt, and a pause when the server says the window is
  nearly spent (`X-RateLimit-Remaining` ≤ 1 with `X-RateLimit-Reset`);
- 429: wait as the answer says (Retry-After, body hints, reset header, else exponential) and retry,
  up to `max_consecutive_429` answers in a row;
- 5xx, timeouts, dropped connections and truncated bodies: jittered exponential retries, then
  `ApiUnavailable`;
- with a key: `Authorization: Bearer <key>`, and one anonymous retry when an authenticated attempt
  times out or answers 401/403/500, because the anonymous read often succeeds (§1);
- 3xx is never followed: a redirect across hosts strips the key, so it is a configuration error.

Standard library only. `http.client` keeps one keep-alive connection open and reopens it after any
error; urllib's opener is avoided because it follows redirects. The API key is kept in a private
attribute and never written to logs, reprs, exception messages or responses.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import os
import random
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlencode, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.moltbook.com/api/v1"
API_KEY_ENV = "OBSERVATORY_MOLTBOOK_API_KEY"
USER_AGENT = "agent-society-observatory/0.1 (read-only research crawler)"

DOCUMENTED_MAX_PER_MINUTE = 90.0  # §5.1: the default, and the ceiling without an operator flag
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
KEPT_HEADERS = (
    "date",
    "retry-after",
    "content-type",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)
# An authenticated attempt that times out or gets one of these is retried once without the key
# (§1, as terminalcraft/moltbook-mcp does).
ANONYMOUS_FALLBACK_STATUSES = frozenset({401, 403, 500})
# Characters a path may carry as they are; anything else (spaces, non-ASCII, `"`) is %-encoded.
PATH_SAFE_CHARS = "/%:@!$&'()*+,;=-._~"


# --------------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class ApiResponse:
    """One final answer (2xx or 4xx) to one `get` call, as received."""

    path: str  # relative to the base URL, as sent (%-encoded where needed)
    params: tuple[tuple[str, str], ...]  # query params as sent, sorted by name; never credentials
    status: int
    text: str  # body bytes decoded as UTF-8 with errors="surrogateescape" (lossless)
    body: Any  # json.loads(text), or None when the body is not JSON
    headers: dict[str, str]  # lower-cased names, only KEPT_HEADERS
    fetched_at: datetime  # UTC, local clock, when the answer completed
    attempts: int  # HTTP attempts spent on this answer (1 = first try)
    authenticated: bool  # whether the answering request carried the key

    @property
    def observed_at(self) -> datetime:
        """The server's Date (UTC, whole seconds) when parseable, else fetched_at to the second."""
        served = _parse_http_date(self.headers.get("date"))
        if served is not None:
            return served
        return self.fetched_at.replace(microsecond=0)


@dataclass
class ClientStats:
    """Counters over the client's life; the sync reports them as run metadata."""

    requests: int = 0  # HTTP attempts made
    retries: int = 0  # attempts beyond the first of each get()
    rate_limited: int = 0  # 429 answers
    timeouts: int = 0
    server_errors: int = 0  # 5xx answers
    truncated: int = 0  # bodies cut short or JSON-typed bodies that do not parse
    anonymous_fallbacks: int = 0
    waited_s: float = 0.0  # seconds slept for pacing, rate limits and backoff


class ApiError(Exception):
    """Base class of the client's errors. Messages never contain the API key."""


class ApiConfigurationError(ApiError):
    """The base URL is unusable, or the server answered a redirect (never followed, §1)."""


class ApiUnavailable(ApiError):
    """Retries ran out on 5xx answers, timeouts, connection errors or truncated bodies."""

    def __init__(self, message: str, *, path: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class RateLimitExhausted(ApiError):
    """The server answered 429 `max_consecutive_429` times in a row: pause this loop (§5.4)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class _AttemptFailed(Exception):
    """One attempt got no usable answer. kind: "timeout", "connection" or "truncated"."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    text: str
    body: Any
    location: str  # the Location header, kept only to explain a refused redirect


# --------------------------------------------------------------------------------------------
# Pacing


class TokenBucket:
    """At most `per_minute` acquisitions per minute, with no burst beyond `capacity` tokens.

    Time comes from the injected `monotonic` and waiting goes through the injected `sleep`, so
    tests pace with a fake clock. The bucket starts full: the first request never waits.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        capacity: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and a capacity of at least 1")
        self._rate_per_s = per_minute / 60.0
        self._capacity = capacity
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = capacity
        self._updated = monotonic()

    def acquire(self) -> float:
        """Take one token, sleeping first if none is left. Returns the seconds slept."""
        now = self._monotonic()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate_per_s)
        self._updated = now
        waited = 0.0
        if self._tokens < 1.0:
            waited = (1.0 - self._tokens) / self._rate_per_s
            self._sleep(waited)
            self._tokens = 1.0
            self._updated = max(self._monotonic(), now + waited)
        self._tokens -= 1.0
        return waited


# --------------------------------------------------------------------------------------------
# Small parsers (tolerant: garbage gives None, never an exception)


def _seconds(value: Any) -> float | None:
    """A non-negative finite number of seconds from a number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


def _parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date (e.g. a Date header) as an aware UTC datetime to the second, else None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).replace(microsecond=0)


def _epoch_seconds(value: Any) -> float | None:
    """An `X-RateLimit-Reset` epoch in seconds (a millisecond epoch is scaled, not waited for)."""
    number = _seconds(value)
    if number is not None and number > 1e11:
        number /= 1000.0
    return number


def _connection_failure(exc: BaseException) -> _AttemptFailed:
    """Named by type only: socket error texts are not worth more, and carry nothing secret."""
    return _AttemptFailed("connection", f"connection error: {type(exc).__name__}")


def _is_json_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _is_loopback(host: str) -> bool:
    return host.lower() in LOOPBACK_HOSTS


def encode_params(params: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Query params as sent: None dropped, booleans true/false, the rest str()-ed; sorted."""
    if not params:
        return ()
    encoded = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        encoded.append((str(name), text))
    return tuple(sorted(encoded))


def api_path(*segments: Any) -> str:
    """Build a path from raw segments, %-encoding each one whole: api_path("posts", id, "comments").

    Ids and names come from agent-written data; encoding them keeps a "/" or "?" inside an id
    from changing which endpoint is asked.
    """
    parts = []
    for segment in segments:
        text = str(segment)
        if text in ("", ".", ".."):
            raise ValueError(f"unusable path segment {text!r}")
        parts.append(quote(text, safe=""))
    return "/" + "/".join(parts)


def api_key_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    """The key from OBSERVATORY_MOLTBOOK_API_KEY, or None when unset or blank (anonymous reads)."""
    key = environ.get(API_KEY_ENV, "").strip()
    return key or None


# --------------------------------------------------------------------------------------------
# The client


class MoltbookClient:
    """Read-only client for the Moltbook API over one persistent connection.

    Not thread-safe: one client serves one sequential loop (the sync is sequential). Use it as a
    context manager, or call close(), to release the connection.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        requests_per_minute: float | None = DOCUMENTED_MAX_PER_MINUTE,
        allow_faster: bool = False,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        max_consecutive_429: int = 10,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        rate_limit_backoff_s: tuple[float, float] = (30.0, 300.0),
        max_wait_s: float = 3600.0,
        jitter: float = 0.2,
        seed: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        user_agent: str = USER_AGENT,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(base_url.strip())
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not host:
            raise ApiConfigurationError(
                f"base URL must be an http(s) URL with a host, got scheme {parts.scheme!r}"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ApiConfigurationError("base URL must carry no credentials, query or fragment")
        loopback = _is_loopback(host)
        if parts.scheme != "https" and not loopback:
            raise ApiConfigurationError(
                f"base URL must use https (plain http only for loopback), host {host}"
            )
        if host.lower().rstrip(".") == "moltbook.com":
            raise ApiConfigurationError(
                "use https://www.moltbook.com: the bare moltbook.com host redirects, and a "
                "redirect across hosts strips the Authorization header (MOLTBOOK_API §1)"
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise ApiConfigurationError(f"base URL has a bad port: {exc}") from None

        per_minute = requests_per_minute or 0.0
        if per_minute < 0:
            raise ValueError("requests_per_minute must be positive, or None/0 for no limit")
        if per_minute > DOCUMENTED_MAX_PER_MINUTE and not (allow_faster or loopback):
            raise ValueError(
                f"requests_per_minute={per_minute:g} exceeds {DOCUMENTED_MAX_PER_MINUTE:g}/min "
                "(MOLTBOOK_API §5); pass allow_faster=True to override deliberately"
            )
        if timeout_s <= 0 or max_retries < 0 or max_consecutive_429 < 1:
            raise ValueError("timeout_s must be > 0, max_retries >= 0 and max_consecutive_429 >= 1")
        if min(backoff_base_s, backoff_max_s, *rate_limit_backoff_s, max_wait_s) < 0:
            raise ValueError("backoff and wait limits must not be negative")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if api_key is not None:
            api_key = api_key.strip() or None
        if api_key is not None and not (
            api_key.isascii() and api_key.isprintable() and " " not in api_key
        ):
            # It goes into a header; the message must not echo it.
            raise ValueError("the API key must be printable ASCII without spaces")

        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.stats = ClientStats()
        self._api_key = api_key
        self._scheme = parts.scheme
        self._host = host
        self._port = port
        self._base_path = parts.path.rstrip("/")
        self._requests_per_minute = per_minute
        self._bucket = (
            TokenBucket(per_minute, monotonic=monotonic, sleep=sleep) if per_minute > 0 else None
        )
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._max_consecutive_429 = max_consecutive_429
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._rate_limit_backoff_s = rate_limit_backoff_s
        self._max_wait_s = max_wait_s
        self._jitter = jitter
        self._random = random.Random(seed)
        self._sleep = sleep
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._user_agent = user_agent
        self._connection: http.client.HTTPConnection | None = None
        self._connection_reused = False
        self._resume_at: float | None = None  # monotonic time before which no request may start

    def __repr__(self) -> str:
        return (
            f"MoltbookClient(base_url={self.base_url!r}, "
            f"authenticated={self._api_key is not None}, "
            f"requests_per_minute={self._requests_per_minute:g})"
        )

    def __enter__(self) -> MoltbookClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connection; a later get() opens a new one."""
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._connection_reused = False

    # ---------------------------------------------------------------------------------------
    # One call

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        """GET base_url + path with params; returns the final 2xx/4xx answer or raises ApiError."""
        sent_path = self._checked_path(path)
        sent_params = encode_params(params)
        if self._api_key is not None and any(self._api_key in value for _, value in sent_params):
            raise ValueError("refusing to send the API key in a query string")
        target = self._base_path + sent_path
        if sent_params:
            target += "?" + urlencode(sent_params, quote_via=quote, safe="")
        where = self._describe(sent_path, sent_params)

        with_key = self._api_key is not None
        fell_back = False
        failures = 0
        in_a_row_429 = 0
        attempts = 0
        while True:
            self._wait_for_turn()
            if attempts:
                self.stats.retries += 1
            attempts += 1
            self.stats.requests += 1
            try:
                answer = self._attempt(target, with_key)
            except _AttemptFailed as failure:
                in_a_row_429 = 0
                if failure.kind == "timeout":
                    self.stats.timeouts += 1
                elif failure.kind == "truncated":
                    self.stats.truncated += 1
                if failure.kind == "timeout" and with_key and not fell_back:
                    with_key, fell_back = False, True
                    self._note_fallback(where, failure.reason)
                    continue
                failures += 1
                self._back_off_or_give_up(sent_path, where, failures, failure.reason)
                continue

            status = answer.status
            if 300 <= status < 400:
                location = self._redact(answer.location) or "no Location header"
                raise ApiConfigurationError(
                    f"{where} answered {status} (redirect to {location}); redirects are never "
                    "followed: check the base URL (use the www host)"
                )
            if status == 429:
                self.stats.rate_limited += 1
                in_a_row_429 += 1
                if in_a_row_429 >= self._max_consecutive_429:
                    raise RateLimitExhausted(
                        f"{where} answered 429 {in_a_row_429} times in a row", path=sent_path
                    )
                wait, rule = self._rate_limit_wait(answer, in_a_row_429)
                logger.info(
                    "%s rate limited (429 #%d); waiting %.1f s (%s)",
                    where, in_a_row_429, wait, rule,
                )
                self._pause(wait)
                continue
            in_a_row_429 = 0
            self._note_rate_limit_headers(where, answer.headers)
            if status >= 500:
                self.stats.server_errors += 1
            if with_key and not fell_back and status in ANONYMOUS_FALLBACK_STATUSES:
                with_key, fell_back = False, True
                self._note_fallback(where, f"HTTP {status}")
                continue
            if status >= 500 or status < 200:
                failures += 1
                self._back_off_or_give_up(sent_path, where, failures, f"HTTP {status}")
                continue

            logger.debug("%s answered %d after %d attempt(s)", where, status, attempts)
            return ApiResponse(
                path=sent_path,
                params=sent_params,
                status=status,
                text=answer.text,
                body=answer.body,
                headers=answer.headers,
                fetched_at=datetime.fromtimestamp(self._wall_clock(), tz=timezone.utc),
                attempts=attempts,
                authenticated=with_key,
            )

    # ---------------------------------------------------------------------------------------
    # Waiting

    def _wait_for_turn(self) -> None:
        """Honour a pending reset pause, then take a token from the bucket."""
        if self._resume_at is not None:
            remaining = self._resume_at - self._monotonic()
            self._resume_at = None
            if remaining > 0:
                self._pause(min(remaining, self._max_wait_s))
        if self._bucket is not None:
            self.stats.waited_s += self._bucket.acquire()

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)
            self.stats.waited_s += seconds

    def _jittered(self, seconds: float) -> float:
        return seconds * self._random.uniform(1.0 - self._jitter, 1.0 + self._jitter)

    def _back_off_or_give_up(self, path: str, where: str, failures: int, reason: str) -> None:
        """Sleep before retry number `failures`, or raise ApiUnavailable when retries are spent."""
        reason = self._redact(reason)
        if failures > self._max_retries:
            raise ApiUnavailable(
                f"{where} unavailable after {self._max_retries} retries; last failure: {reason}",
                path=path,
                reason=reason,
            )
        delay = min(self._backoff_base_s * 2 ** (failures - 1), self._backoff_max_s)
        wait = min(self._jittered(delay), self._max_wait_s)
        logger.info(
            "%s failed (%s); retry %d of %d in %.1f s",
            where, reason, failures, self._max_retries, wait,
        )
        self._pause(wait)

    def _rate_limit_wait(self, answer: _Answer, in_a_row: int) -> tuple[float, str]:
        """Seconds to wait after a 429 and the rule that chose them (§5.2: first usable rule)."""
        capped = self._max_wait_s
        retry_after = answer.headers.get("retry-after")
        seconds = _seconds(retry_after)
        if seconds is not None:
            return min(seconds, capped), "Retry-After"
        retry_at = _parse_http_date(retry_after)
        if retry_at is not None:
            delta = retry_at.timestamp() - self._wall_clock()
            if delta >= 0:  # a date already past is as unusable as a negative delay
                return min(delta, capped), "Retry-After date"
        body = answer.body if isinstance(answer.body, dict) else {}
        body_rules = (("retry_after_seconds", 1), ("retryAfter", 1), ("retry_after_minutes", 60))
        for name, scale in body_rules:
            seconds = _seconds(body.get(name))
            if seconds is not None:
                return min(seconds * scale, capped), f"body {name}"
        reset = _epoch_seconds(answer.headers.get("x-ratelimit-reset"))
        if reset is not None:
            delta = reset - self._wall_clock()
            if delta >= 0:
                return min(delta, capped), "X-RateLimit-Reset"
        first, ceiling = self._rate_limit_backoff_s
        delay = min(first * 2 ** (in_a_row - 1), ceiling)
        return min(self._jittered(delay), capped), "exponential backoff"

    def _note_rate_limit_headers(self, where: str, headers: Mapping[str, str]) -> None:
        """When the window is nearly spent, hold the next request until it resets (§5.3)."""
        remaining = _seconds(headers.get("x-ratelimit-remaining"))
        reset = _epoch_seconds(headers.get("x-ratelimit-reset"))
        if remaining is None or reset is None or remaining > 1:
            return
        delta = reset - self._wall_clock()
        if delta > 0:
            wait = min(delta, self._max_wait_s)
            self._resume_at = self._monotonic() + wait
            logger.info("%s: rate-limit window nearly spent; next request in %.1f s", where, wait)

    def _note_fallback(self, where: str, reason: str) -> None:
        self.stats.anonymous_fallbacks += 1
        logger.info("%s failed with the key (%s); retrying once without it", where, reason)

    # ---------------------------------------------------------------------------------------
    # The wire

    def _attempt(self, target: str, with_key: bool) -> _Answer:
        """One HTTP exchange. A kept-alive connection the server dropped is reopened once, free."""
        try:
            return self._exchange(target, with_key)
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            stale = self._connection_reused
            self.close()
            if not stale:
                raise _connection_failure(exc) from None
        except _AttemptFailed:
            self.close()
            raise
        try:
            return self._exchange(target, with_key)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise _connection_failure(exc) from None
        except _AttemptFailed:
            self.close()
            raise

    def _exchange(self, target: str, with_key: bool) -> _Answer:
        """Send one GET on the kept connection and read the whole answer.

        Connection drops (reset, broken pipe) propagate as they are so that _attempt can tell a
        stale keep-alive connection apart; every other failure becomes _AttemptFailed.
        """
        connection = self._open_connection()
        headers = {"User-Agent": self._user_agent, "Accept": "application/json"}
        if with_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            raise _AttemptFailed("timeout", f"timed out after {self._timeout_s:g} s") from None
        except http.client.IncompleteRead as exc:
            raise _AttemptFailed(
                "truncated", f"truncated body ({len(exc.partial)} bytes received)"
            ) from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise _connection_failure(exc) from None
        self._connection_reused = True
        if response.will_close:
            self.close()

        declared = response.getheader("Content-Length")
        if declared is not None and declared.strip().isdigit() and len(data) < int(declared):
            self.close()
            raise _AttemptFailed("truncated", f"truncated body ({len(data)} of {declared} bytes)")
        kept = {
            name: value for name in KEPT_HEADERS if (value := response.getheader(name)) is not None
        }
        text = data.decode("utf-8", errors="surrogateescape")
        body = None
        if text.strip():
            try:
                body = json.loads(text)
            except ValueError:
                # A final answer (2xx/4xx) that says JSON but does not parse was cut short; the
                # bodies of 429/5xx answers are only read for hints, so a broken one is let pass.
                status = response.status
                final = 200 <= status < 300 or (400 <= status < 500 and status != 429)
                if final and _is_json_type(kept.get("content-type", "")):
                    raise _AttemptFailed("truncated", "JSON body does not parse") from None
            except RecursionError:
                body = None  # absurdly deep nesting: complete but unreadable; the caller sees None
        return _Answer(
            status=response.status,
            headers=kept,
            text=text,
            body=body,
            location=response.getheader("Location") or "",
        )

    def _open_connection(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._scheme == "https":
                self._connection = http.client.HTTPSConnection(
                    self._host,
                    self._port,
                    timeout=self._timeout_s,
                    context=ssl.create_default_context(),
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout_s
                )
            self._connection_reused = False
        return self._connection

    # ---------------------------------------------------------------------------------------
    # Helpers

    @staticmethod
    def _checked_path(path: str) -> str:
        """A path under the base URL: leading "/", no query or fragment; unsafe chars encoded."""
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError(f"path must start with '/' and carry no query or fragment: {path!r}")
        return quote(path, safe=PATH_SAFE_CHARS)

    @staticmethod
    def _describe(path: str, params: tuple[tuple[str, str], ...]) -> str:
        """"GET path?query" for logs and messages, %-encoded so agent-written values stay inert."""
        if not params:
            return f"GET {path}"
        return f"GET {path}?" + urlencode(params, quote_via=quote, safe="")

    def _redact(self, text: str) -> str:
        """Belt and braces: text that came from the server must not echo the key back into a log."""
        if self._api_key:
            return text.replace(self._api_key, "[REDACTED]")
        return text
