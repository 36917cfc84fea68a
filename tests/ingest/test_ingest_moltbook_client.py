"""The Moltbook read-API client against a scripted loopback server (MOLTBOOK_API §1, §4, §5).

The server answers a queue of scripted responses and records what it was asked; a fake clock
stands in for waiting, so every wait the client decides on is asserted without real sleeping.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from assets.ingest.moltbook_client import (
    DEFAULT_BASE_URL,
    ApiConfigurationError,
    ApiUnavailable,
    MoltbookClient,
    RateLimitExhausted,
    api_key_from_env,
    api_path,
)

WALL_START = 1_767_225_600.75  # 2026-01-01T00:00:00.75Z, on the fake wall clock
CURSOR = "eyJpZCI6ICJhYmMifQ+/x/y==+"  # opaque base64 with every character that needs encoding


# --------------------------------------------------------------------------------------------
# Scripted loopback server


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes → sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # stall before answering (timeouts)
    truncate_to: int | None = None  # announce the full length, send this many bytes, hang up
    drop_after: bool = False  # close the connection afterwards without saying so


@dataclass
class Seen:
    path: str
    query: str
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    client_port: int


class ScriptedServer:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.seen.append(
                        Seen(
                            path=parts.path,
                            query=parts.query,
                            params=parse_qs(parts.query, keep_blank_values=True),
                            headers={k.lower(): v for k, v in self.headers.items()},
                            client_port=self.client_address[1],
                        )
                    )
                    exhausted = Reply(410, {"error": "script exhausted"})
                    reply = server.script.pop(0) if server.script else exhausted
                time.sleep(reply.delay_s)
                if isinstance(reply.body, (dict, list)):
                    data = json.dumps(reply.body).encode()
                    content_type = "application/json; charset=utf-8"
                elif isinstance(reply.body, str):
                    data, content_type = reply.body.encode(), "text/plain"
                else:
                    data, content_type = reply.body or b"", "application/json"
                headers = {"Content-Type": content_type, **reply.headers}
                try:
                    self.send_response_only(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if reply.truncate_to is not None:
                        data = data[: reply.truncate_to]
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    pass  # the client gave up (timeout test)
                if reply.truncate_to is not None or reply.drop_after:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()

    def then(self, *replies: Reply) -> ScriptedServer:
        self.script.extend(replies)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class FakeClock:
    """monotonic/sleep/wall clock that only move when the client sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def wall(self) -> float:
        return WALL_START + (self.now - 100.0)


@pytest.fixture()
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def make_client(server: ScriptedServer, clock: FakeClock) -> Iterator[Any]:
    clients: list[MoltbookClient] = []

    def make(**options: Any) -> MoltbookClient:
        settings: dict[str, Any] = {
            "requests_per_minute": None,
            "seed": 7,
            "sleep": clock.sleep,
            "monotonic": clock.monotonic,
            "wall_clock": clock.wall,
            "timeout_s": 5.0,
        }
        settings.update(options)
        client = MoltbookClient(server.url, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


OK = Reply(200, {"success": True, "posts": []})


# --------------------------------------------------------------------------------------------
# Answers


def test_a_200_comes_back_decoded_with_only_the_kept_headers(server, make_client):
    headers = {
        "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
        "Set-Cookie": "s=1",
        "X-RateLimit-Limit": "100",
    }
    server.then(Reply(200, {"success": True, "posts": [{"id": "p1"}]}, headers=headers))
    response = make_client().get("/posts", {"sort": "new", "limit": 50})
    assert response.status == 200
    assert response.body == {"success": True, "posts": [{"id": "p1"}]}
    assert json.loads(response.text) == response.body
    assert response.path == "/posts"
    assert response.params == (("limit", "50"), ("sort", "new"))
    assert set(response.headers) == {"date", "content-type", "x-ratelimit-limit"}
    assert response.observed_at == datetime(2026, 10, 21, 7, 28, tzinfo=timezone.utc)
    assert response.fetched_at == datetime.fromtimestamp(WALL_START, tz=timezone.utc)
    assert (response.attempts, response.authenticated) == (1, False)
    assert server.seen[0].path == "/api/v1/posts"


def test_observed_at_falls_back_to_the_fetch_time_to_the_second(server, make_client):
    server.then(Reply(200, {"ok": 1}, headers={"Date": "yesterday-ish"}))
    response = make_client().get("/stats")
    assert response.observed_at == datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)


def test_a_404_is_an_answer_with_its_json_body(server, make_client):
    server.then(Reply(404, {"success": False, "error": "Post not found"}))
    response = make_client().get(api_path("posts", "gone-id"))
    assert response.status == 404
    assert response.body == {"success": False, "error": "Post not found"}
    assert response.attempts == 1
    assert len(server.seen) == 1


def test_bodies_keep_invalid_utf8_and_non_json_text(server, make_client):
    raw = b'{"title": "bad \xff byte"}'
    server.then(Reply(200, raw), Reply(200, "<html>maintenance</html>"))
    client = make_client()
    response = client.get("/posts")
    assert response.body == {"title": "bad \udcff byte"}
    assert response.text.encode("utf-8", "surrogateescape") == raw
    html = client.get("/posts")
    assert (html.body, html.text) == (None, "<html>maintenance</html>")


# --------------------------------------------------------------------------------------------
# Requests


def test_params_and_cursors_reach_the_server_intact(server, make_client):
    server.then(OK)
    params = {"cursor": CURSOR, "limit": 25, "submolt": None, "top": True}
    response = make_client().get("/posts", params)
    seen = server.seen[0]
    assert seen.params == {"cursor": [CURSOR], "limit": ["25"], "top": ["true"]}
    assert "%2B" in seen.query and "%2F" in seen.query and "%3D" in seen.query
    assert response.params == (("cursor", CURSOR), ("limit", "25"), ("top", "true"))


def test_path_segments_from_agent_data_are_encoded_whole(server, make_client):
    server.then(OK)
    make_client().get(api_path("posts", "a/b?c d", "comments"))
    assert server.seen[0].path == "/api/v1/posts/a%2Fb%3Fc%20d/comments"
    with pytest.raises(ValueError):
        api_path("posts", "..")


def test_headers_without_and_with_a_key(server, make_client):
    server.then(OK, OK)
    make_client().get("/posts")
    keyed = make_client(api_key="moltbook_sk_abc123").get("/posts")
    anonymous, authenticated = server.seen
    assert "authorization" not in anonymous.headers
    assert anonymous.headers["accept"] == "application/json"
    assert anonymous.headers["user-agent"].startswith("agent-society-observatory/")
    assert authenticated.headers["authorization"] == "Bearer moltbook_sk_abc123"
    assert keyed.authenticated is True


def test_the_key_comes_from_the_environment_or_not_at_all():
    assert api_key_from_env({"OBSERVATORY_MOLTBOOK_API_KEY": "  moltbook_x \n"}) == "moltbook_x"
    assert api_key_from_env({"OBSERVATORY_MOLTBOOK_API_KEY": "   "}) is None
    assert api_key_from_env({}) is None


def test_one_connection_is_kept_alive_and_a_dropped_one_reopened_for_free(server, make_client):
    server.then(OK, Reply(200, {"ok": 1}, drop_after=True), OK)
    client = make_client()
    client.get("/posts")
    client.get("/posts")
    after_drop = client.get("/posts")
    ports = [seen.client_port for seen in server.seen]
    assert ports[0] == ports[1] != ports[2]
    assert after_drop.attempts == 1
    assert client.stats.retries == 0


# --------------------------------------------------------------------------------------------
# Base URL


def test_the_bare_host_is_refused_and_www_accepted():
    with pytest.raises(ApiConfigurationError, match="www"):
        MoltbookClient("https://moltbook.com/api/v1")
    assert MoltbookClient(DEFAULT_BASE_URL + "/").base_url == DEFAULT_BASE_URL
    for bad in (
        "http://www.moltbook.com/api/v1",  # https only, except loopback
        "ftp://www.moltbook.com/api/v1",
        "https://user:pass@www.moltbook.com/api/v1",
    ):
        with pytest.raises(ApiConfigurationError):
            MoltbookClient(bad)
    assert MoltbookClient("http://localhost:8080/api/v1").base_url == "http://localhost:8080/api/v1"


def test_a_redirect_is_a_configuration_error_and_never_followed(server, make_client):
    server.then(Reply(301, "", headers={"Location": "https://moltbook.com/api/v1/posts"}), OK)
    with pytest.raises(ApiConfigurationError, match="301"):
        make_client().get("/posts")
    assert len(server.seen) == 1


# --------------------------------------------------------------------------------------------
# Pacing


def test_the_token_bucket_spaces_requests(server, make_client, clock):
    server.then(OK, OK, OK, OK, OK)
    client = make_client(requests_per_minute=60)
    for _ in range(5):
        client.get("/posts")
    assert clock.sleeps == pytest.approx([1.0] * 4)
    assert client.stats.waited_s == pytest.approx(4.0)


def test_retries_take_their_tokens_from_the_same_bucket(server, make_client, clock):
    server.then(OK, Reply(500, {"error": "boom"}), OK)
    client = make_client(requests_per_minute=60, backoff_base_s=0.1)
    client.get("/posts")
    client.get("/posts")
    pacing, backoff, top_up = clock.sleeps
    assert pacing == pytest.approx(1.0)
    assert 0.08 <= backoff <= 0.12
    assert backoff + top_up == pytest.approx(1.0)  # the retry still waited a full second


def test_more_than_90_per_minute_needs_an_explicit_override():
    with pytest.raises(ValueError, match="90"):
        MoltbookClient(DEFAULT_BASE_URL, requests_per_minute=120)
    MoltbookClient(DEFAULT_BASE_URL, requests_per_minute=120, allow_faster=True)
    MoltbookClient("http://127.0.0.1:9/api/v1", requests_per_minute=6000)  # replay server


def test_a_nearly_spent_window_holds_the_next_request_until_reset(server, make_client, clock):
    reset = str(int(WALL_START) + 30)
    nearly_spent = {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": reset}
    server.then(Reply(200, {"ok": 1}, headers=nearly_spent), OK)
    client = make_client()
    client.get("/posts")
    assert clock.sleeps == []
    client.get("/posts")
    assert clock.sleeps == pytest.approx([29.25])


# --------------------------------------------------------------------------------------------
# 429


RETRY_DATE = "Thu, 01 Jan 2026 00:01:30 GMT"  # 89.25 s after the fake wall clock's start
RESET_IN_45 = {"X-RateLimit-Reset": str(int(WALL_START) + 45)}  # 44.25 s away
GARBAGE = {"retry_after_seconds": "-3", "retryAfter": "NaN", "retry_after_minutes": "a while"}


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        pytest.param(
            {"Retry-After": "7"}, {"retry_after_seconds": 99}, 7.0, id="retry-after-delta"
        ),
        pytest.param(
            {"Retry-After": RETRY_DATE}, {"retry_after_seconds": 99}, 89.25, id="retry-after-date"
        ),
        pytest.param(
            {},
            {"retry_after_seconds": "12", "retryAfter": 50, "retry_after_minutes": 5},
            12.0,
            id="body-seconds-as-string",
        ),
        pytest.param({}, {"retryAfter": 15, "retry_after_minutes": 5}, 15.0, id="sdk-retryAfter"),
        pytest.param(RESET_IN_45, {"retry_after_minutes": "2"}, 120.0, id="body-minutes"),
        pytest.param(RESET_IN_45, {"error": "slow down"}, 44.25, id="ratelimit-reset"),
        pytest.param(
            {"Retry-After": "soon", **RESET_IN_45}, GARBAGE, 44.25, id="garbage-skips-to-next-rule"
        ),
        pytest.param({"Retry-After": "999999"}, None, 3600.0, id="capped-at-max-wait"),
    ],
)
def test_429_waits_by_the_first_usable_rule(server, make_client, clock, headers, body, expected):
    server.then(Reply(429, body, headers=headers), OK)
    client = make_client()
    response = client.get("/posts", {"sort": "new"})
    assert response.status == 200
    assert response.attempts == 2
    assert clock.sleeps == pytest.approx([expected])
    assert client.stats.rate_limited == 1


def test_429_without_hints_backs_off_exponentially_with_jitter(server, make_client, clock):
    server.then(*[Reply(429, {"error": "rate limited"}) for _ in range(5)], OK)
    make_client().get("/posts")
    bases = [30, 60, 120, 240, 300]  # doubling from 30 s, capped at 300 s
    for wait, base in zip(clock.sleeps, bases, strict=True):
        assert 0.8 * base <= wait <= 1.2 * base
    assert clock.sleeps != pytest.approx(bases)  # jittered, not exact


def test_ten_429s_in_a_row_raise_rate_limit_exhausted(server, make_client, clock):
    server.then(*[Reply(429, {"retry_after_seconds": 1}) for _ in range(10)], OK)
    client = make_client()
    with pytest.raises(RateLimitExhausted, match="/posts"):
        client.get("/posts")
    assert len(server.seen) == 10
    assert clock.sleeps == [1.0] * 9
    assert client.stats.rate_limited == 10


# --------------------------------------------------------------------------------------------
# Transient failures


def test_a_500_is_retried_after_a_jittered_backoff(server, make_client, clock):
    server.then(Reply(500, {"error": "boom"}), OK)
    client = make_client()
    response = client.get("/posts")
    assert (response.status, response.attempts) == (200, 2)
    assert len(clock.sleeps) == 1 and 0.8 <= clock.sleeps[0] <= 1.2
    assert (client.stats.server_errors, client.stats.retries, client.stats.requests) == (1, 1, 2)


def test_a_timeout_is_retried(server, make_client):
    server.then(Reply(200, {"late": True}, delay_s=0.5), Reply(200, {"late": False}))
    client = make_client(timeout_s=0.2)
    response = client.get("/posts")
    assert response.body == {"late": False}
    assert client.stats.timeouts == 1


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(
            Reply(200, {"posts": [{"id": "p1"}, {"id": "p2"}]}, truncate_to=12),
            id="short-of-content-length",
        ),
        pytest.param(Reply(200, b'{"posts": [{"id": "p1"}, {"id"'), id="json-cut-mid-object"),
    ],
)
def test_a_truncated_body_is_retried(server, make_client, broken):
    server.then(broken, Reply(200, {"posts": []}))
    client = make_client()
    response = client.get("/posts")
    assert response.body == {"posts": []}
    assert client.stats.truncated == 1


def test_exhausted_retries_raise_api_unavailable(server, make_client, clock):
    server.then(*[Reply(503, {"error": "down"}) for _ in range(4)], OK)
    with pytest.raises(ApiUnavailable, match=r"/posts.*503") as raised:
        make_client(max_retries=3).get("/posts", {"offset": 366000})
    assert raised.value.path == "/posts"
    assert len(server.seen) == 4
    for wait, base in zip(clock.sleeps, [1, 2, 4], strict=True):
        assert 0.8 * base <= wait <= 1.2 * base


# --------------------------------------------------------------------------------------------
# Key: anonymous fallback and hygiene


def test_a_401_with_the_key_is_retried_once_without_it(server, make_client, clock):
    server.then(Reply(401, {"error": "Authentication required"}), OK)
    client = make_client(api_key="moltbook_sk_abc123")
    response = client.get("/posts")
    first, second = server.seen
    assert first.headers["authorization"] == "Bearer moltbook_sk_abc123"
    assert "authorization" not in second.headers
    assert (response.status, response.authenticated, response.attempts) == (200, False, 2)
    assert client.stats.anonymous_fallbacks == 1
    assert clock.sleeps == []


def test_the_key_never_leaks(server, make_client, caplog):
    key = "moltbook_sk_CANARY_9f8e7d6c5b4a"
    server.then(
        Reply(429, {"retry_after_seconds": "2"}),
        Reply(500, {"error": "Search failed"}),  # authenticated → anonymous fallback
        *[Reply(500, {"error": "Search failed"}) for _ in range(4)],
        Reply(200, {"ok": True}),
        Reply(302, "", headers={"Location": f"https://moltbook.com/api/v1/posts?key={key}"}),
    )
    caplog.set_level(logging.DEBUG)
    client = make_client(api_key=key, max_retries=3)
    with pytest.raises(ApiUnavailable) as unavailable:
        client.get("/search", {"q": "agents", "type": "posts"})
    response = client.get("/posts")
    with pytest.raises(ApiConfigurationError) as redirected:
        client.get("/posts")

    assert server.seen[0].headers["authorization"] == f"Bearer {key}"  # the key was really in use
    assert client.stats.anonymous_fallbacks == 1
    assert any("/search" in record.getMessage() for record in caplog.records)
    texts = [record.getMessage() for record in caplog.records]
    texts += [str(error) for error in (unavailable.value, redirected.value)]
    texts += [repr(error) for error in (unavailable.value, redirected.value)]
    texts += [repr(client), str(client), repr(client.stats), repr(response)]
    assert all(key not in text for text in texts)
    assert "Bearer" not in " ".join(texts)
