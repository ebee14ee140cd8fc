"""A Sentry-like envelope sink on 127.0.0.1 that injects faults: 429s with rate-limit headers,
503s, dropped connections, latency, fixed statuses. It stores each event id once (first wins),
as Sentry does, and counts every POST so tests can prove exactly-once delivery."""

import gzip
import json
import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.httpbase import QuietKeepAliveHandler


@dataclass
class Faults:
    """Probabilities and fixed behaviours; all zero = a well-behaved server."""

    p429: float = 0.0
    retry_after: str = "0.05"
    rate_limits: str | None = None  # X-Sentry-Rate-Limits sent with the 429s
    p503: float = 0.0
    pdrop: float = 0.0  # close the connection without answering, before storing
    pdrop_after_store: float = 0.0  # store, then drop: the client must retry, Sentry dedups
    latency: float = 0.0
    status: int | None = None  # answer every request with this status
    always_headers: dict[str, str] = field(default_factory=dict)
    limit_after: int | None = None  # once this many events are stored, 429 every request
    seed: int = 7


@dataclass
class Sink:
    """What the server saw."""

    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # session updates, in order
    accepted_duplicates: int = 0
    posts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    drops: int = 0
    auth_headers: set[str] = field(default_factory=set)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def wait_stored(self, count: int, timeout: float) -> bool:
        """Block until `count` events are stored (False when `timeout` passed first)."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.stored) >= count, timeout)


class FaultServer:
    """Start with `with FaultServer(Faults(...)) as server:`; `server.dsn` points at it."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.sink = Sink()
        self._random = random.Random(self.faults.seed)
        handler = self._handler()
        ThreadingHTTPServer.request_queue_size = 1024  # hundreds of connects at once
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.dsn = f"http://0123456789abcdef0123456789abcdef@127.0.0.1:{self.port}/1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def roll(self) -> float:
        with self.sink.lock:
            return self._random.random()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietKeepAliveHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.handle(self, body)

        return Handler

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        sink = self.sink
        with sink.lock:
            sink.posts += 1
            sink.auth_headers.add(request.headers.get("X-Sentry-Auth", ""))
            sink.in_flight += 1
            sink.most_in_flight = max(sink.most_in_flight, sink.in_flight)
        try:
            self._handle(request, body)
        finally:
            with sink.lock:
                sink.in_flight -= 1

    def _handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        faults, sink = self.faults, self.sink
        if faults.latency:
            threading.Event().wait(faults.latency)
        if self.roll() < faults.pdrop:
            self._drop(request)
            return
        if faults.status is not None:
            self._answer(request, faults.status, b'{"detail":"fixed status"}')
            return
        with sink.lock:
            limited = faults.limit_after is not None and len(sink.stored) >= faults.limit_after
        if limited or self.roll() < faults.p429:
            headers = {"Retry-After": faults.retry_after}
            if faults.rate_limits:
                headers["X-Sentry-Rate-Limits"] = faults.rate_limits
            self._answer(request, 429, b"", headers)
            return
        if self.roll() < faults.p503:
            self._answer(request, 503, b"unavailable")
            return
        event_id, event = parse_envelope(request.headers.get("Content-Encoding"), body)
        with sink.lock:
            if not event_id:  # a session update: kept as it came, repeats too
                sink.sessions.append(event)
            elif event_id in sink.stored:
                sink.accepted_duplicates += 1
            else:
                sink.stored[event_id] = event
                sink.changed.notify_all()
        if self.roll() < faults.pdrop_after_store:
            self._drop(request)
            return
        self._answer(request, 200, json.dumps({"id": event_id}).encode())

    def _drop(self, request: BaseHTTPRequestHandler) -> None:
        with self.sink.lock:
            self.sink.drops += 1
        request.close_connection = True
        request.connection.shutdown(socket.SHUT_RDWR)

    def _answer(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        with self.sink.lock:
            self.sink.statuses[status] += 1
        request.send_response(status)
        for key, value in {**self.faults.always_headers, **(headers or {})}.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def parse_envelope(encoding: str | None, body: bytes) -> tuple[str, dict[str, Any]]:
    """The event id and event of a one-event envelope; "" and the session of a session one."""
    if encoding == "gzip":
        body = gzip.decompress(body)
    header, item_header, payload = body.split(b"\n", 2)
    event = json.loads(payload.rstrip(b"\n"))
    if json.loads(item_header)["type"] == "session":
        return "", event
    envelope_id = json.loads(header)["event_id"]
    assert envelope_id == event["event_id"]
    return str(envelope_id), event
