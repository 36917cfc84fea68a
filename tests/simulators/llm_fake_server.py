"""A loopback `/v1/chat/completions` server for the LLM-mode tests (never the network).

It listens on 127.0.0.1 on a free port, records every request (headers and JSON body), tracks
how many requests are in flight at once, and answers each request with the next behaviour of
its script (then with `default`):

- "good": a valid archetype reply built from the request (the actions listed in the system
  message, the aliases of the front page in the data block), with `text` in every sample;
- "malformed": prose around broken JSON;
- "invalid": well-formed JSON that breaks the schema (unknown key, distribution summing to 1.5);
- "429" / "500": an error status (429 carries Retry-After: 0);
- "slow": a good reply after `slow_s` seconds.

Good replies depend only on the request, so the same request always gets the same reply.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BEHAVIOURS = ("good", "malformed", "invalid", "429", "500", "slow")
_ACTION_LINE = re.compile(r"^- ([a-z_]+): ", re.MULTILINE)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def system(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "system")

    @property
    def data(self) -> dict[str, Any]:
        """The JSON data block of the first user message."""
        user = next(m["content"] for m in self.body["messages"] if m["role"] == "user")
        return json.loads(user.split("\n", 1)[1])


class FakeChatServer:
    def __init__(self, script: tuple[str, ...] = (), *, default: str = "good",
                 delay_s: float = 0.0, slow_s: float = 1.0, text: str = "fake model text",
                 weights: dict[str, float] | None = None) -> None:
        for behaviour in (*script, default):
            if behaviour not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {behaviour!r}")
        self.script, self.default = list(script), default
        self.delay_s, self.slow_s, self.text = delay_s, slow_s, text
        self.weights = weights or {"create_post": 0.3, "create_comment": 0.4, "vote": 0.2,
                                   "follow": 0.0, "do_nothing": 0.1}
        self.requests: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_behaviour(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def good_reply(self, body: dict[str, Any]) -> str:
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        menu = _ACTION_LINE.findall(system)
        weights = {a: self.weights.get(a, 0.0) for a in menu}
        total = sum(weights.values()) or 1.0
        aliases = [item["alias"] for item in json.loads(user.split("\n", 1)[1])["front_page"]]
        tag = hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:8]
        return json.dumps({
            "distribution": {a: w / total for a, w in weights.items()},
            "samples": [
                {"action": "create_post", "target": None, "title": f"{self.text} title {tag}",
                 "body": f"{self.text} post {tag}"},
                {"action": "create_comment", "target": aliases[0] if aliases else None,
                 "title": None, "body": f"{self.text} comment {tag}"},
            ],
        })

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                # In flight from reading the request until the answer is ready: the client
                # cannot send its next request before it reads this answer, so the count never
                # overlaps one worker's consecutive calls.
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    status, payload, headers = self._answer()
                finally:
                    with server._lock:
                        server.in_flight -= 1
                try:
                    self._send(status, payload, headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

            def _answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                with server._lock:
                    server.requests.append(Received(self.path, dict(self.headers), body))
                if self.path != "/v1/chat/completions" or "messages" not in body:
                    return 404, {"error": "not found"}, {}
                behaviour = server._next_behaviour()
                time.sleep(server.delay_s)
                if behaviour in ("429", "500"):
                    return int(behaviour), {"error": {"message": "busy"}}, {"Retry-After": "0"}
                if behaviour == "slow":
                    time.sleep(server.slow_s)
                content = {
                    "malformed": 'Sure! Here is the JSON: {"distribution": {"vote": 1.0,',
                    "invalid": json.dumps({"distribution": {"vote": 1.5}, "mood": "great",
                                           "samples": []}),
                }.get(behaviour) or server.good_reply(body)
                return 200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": len(raw) // 4,
                              "completion_tokens": len(content) // 4,
                              "total_tokens": len(raw) // 4 + len(content) // 4},
                }, {}

            def _send(self, status: int, payload: dict[str, Any],
                      headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
