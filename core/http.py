"""HttpTransport: one POST of one gzip envelope to Sentry's envelope endpoint.

A small HTTP/1.1 client of our own, because the request is always the same shape and the client
is the hot path of a real send: urllib3 spends about 190 µs of interpreter time per request
(measured by `make bench` against a loopback sink), this client about 25 µs. It keeps one
keep-alive connection per sender thread (TLS through the standard `ssl` module, verified against
the system's CA store as urllib3 does), sets TCP_NODELAY (Nagle's algorithm stalls small
keep-alive requests: reference peers-and-sdk.md §3.1), writes each request with one `sendall`,
and reads only what the sender needs: the status, `Retry-After` and `X-Sentry-Rate-Limits`. The
body is consumed (Content-Length, chunked, or up to the close) so the connection can be reused.
A connection the server closed while idle is noticed before reuse and replaced.

sentry-sdk supplies the DSN parsing and the X-Sentry-Auth header. There are no retries here:
the sender decides (core/workers.py).
"""

import contextlib
import gzip
import re
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sentry_sdk.consts import EndpointType
from sentry_sdk.utils import Dsn

from core import __version__
from core.ratelimit import parse_retry_after
from core.transport import Attempt, Transport, build_envelope

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
GZIP_LEVEL = 1  # envelopes are small; speed matters more than the last few bytes
MAX_HEAD = 64 * 1024  # status line and headers of one response
RECV_SIZE = 65536
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.x we can read; the connection is not reused."""


@dataclass(frozen=True, slots=True)
class Response:
    """What the sender needs of an answer; header names are lowercase."""

    status: int
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where requests go: scheme, host, port and the request target."""

    scheme: str
    host: str
    port: int
    target: str

    @classmethod
    def from_url(cls, url: str) -> "Endpoint":
        """An http(s) URL's endpoint."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname, port, target)

    @property
    def host_header(self) -> str:
        """The Host header: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


class Connection:
    """One keep-alive HTTP/1.1 connection, used by one thread at a time."""

    def __init__(self, endpoint: Endpoint, tls: ssl.SSLContext | None) -> None:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=CONNECT_TIMEOUT)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=endpoint.host)
            sock.settimeout(READ_TIMEOUT)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.reusable = True

    def dropped(self) -> bool:
        """True when the server closed the idle connection (or sent something unasked)."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))

    def post(self, head: bytes, body: bytes) -> Response:
        """Send one request (head ends with the blank line) and read its answer."""
        self.sock.sendall(head + body)
        return self._read_response()

    def close(self) -> None:
        """Close the socket; never raises."""
        self.reusable = False
        with contextlib.suppress(OSError):
            self.sock.close()

    def _recv(self) -> bytes:
        data = self.sock.recv(RECV_SIZE)
        if not data:
            raise ProtocolError("the server closed the connection before answering")
        return data

    def _read_response(self) -> Response:
        buffer = b""
        while True:  # skip 1xx answers (we never send Expect, but a server may still)
            while (end := _HEAD_END.search(buffer)) is None:
                if len(buffer) > MAX_HEAD:
                    raise ProtocolError("response headers too long")
                buffer += self._recv()
            lines = _LINE_END.split(buffer[: end.start()])
            buffer = buffer[end.end() :]
            version, status = _status_line(lines[0])
            if not 100 <= status < 200 or status == 101:
                break
        headers = _headers(lines[1:])
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.0":
            self.reusable = "keep-alive" in connection
        elif "close" in connection:
            self.reusable = False
        if status in (204, 304):
            leftover = buffer
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            leftover = self._skip_chunked(buffer)
        elif "content-length" in headers:
            leftover = self._skip_exactly(buffer, _content_length(headers["content-length"]))
        else:  # the body runs until the server closes the connection
            self.reusable = False
            leftover = b""
        if leftover:
            raise ProtocolError("more bytes than the response announced")
        return Response(status, headers)

    def _skip_exactly(self, buffer: bytes, length: int) -> bytes:
        while len(buffer) < length:
            buffer += self._recv()
        return buffer[length:]

    def _skip_chunked(self, buffer: bytes) -> bytes:
        while True:
            while (end := _LINE_END.search(buffer)) is None:
                if len(buffer) > MAX_HEAD:
                    raise ProtocolError("chunk size line too long")
                buffer += self._recv()
            size_text = buffer[: end.start()].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
            buffer = buffer[end.end() :]
            if size == 0:  # trailers, then the blank line that ends the message
                while True:
                    while (end := _LINE_END.search(buffer)) is None:
                        if len(buffer) > MAX_HEAD:
                            raise ProtocolError("trailers too long")
                        buffer += self._recv()
                    line, buffer = buffer[: end.start()], buffer[end.end() :]
                    if not line:
                        return buffer
            buffer = self._skip_exactly(buffer, size)
            while (end := _LINE_END.match(buffer)) is None:
                if len(buffer) >= 2:
                    raise ProtocolError("chunk not followed by a line end")
                buffer += self._recv()
            buffer = buffer[end.end() :]


def _status_line(line: bytes) -> tuple[str, int]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:40]!r}")
    return parts[0].decode("ascii", "replace"), int(parts[1])


def _headers(lines: list[bytes]) -> dict[str, str]:
    """Header names lowercased; a repeated header's values joined with ', '."""
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"not a header line: {line[:40]!r}")
        key = name.strip().decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _content_length(value: str) -> int:
    lengths = {part.strip() for part in value.split(",")}  # "5, 5" is allowed, "5, 6" is not
    if len(lengths) != 1 or not (length := lengths.pop()).isdigit():
        raise ProtocolError(f"bad Content-Length {value[:40]!r}")
    return int(length)


class HttpTransport(Transport):
    """Posts envelopes to the DSN's project; idle keep-alive connections are shared."""

    def __init__(self, dsn: str, *, connections: int) -> None:
        auth = Dsn(dsn).to_auth(f"rudder-sentry/{__version__}")
        self.url = auth.get_api_url(EndpointType.ENVELOPE)
        self.endpoint = Endpoint.from_url(self.url)
        self.tls = ssl.create_default_context() if self.endpoint.scheme == "https" else None
        if self.tls is not None:
            self.tls.set_alpn_protocols(["http/1.1"])
        self.head = (
            f"POST {self.endpoint.target} HTTP/1.1\r\n"
            f"Host: {self.endpoint.host_header}\r\n"
            "Content-Type: application/x-sentry-envelope\r\n"
            "Content-Encoding: gzip\r\n"
            f"X-Sentry-Auth: {auth.to_header()}\r\n"
            f"User-Agent: rudder-sentry/{__version__}\r\n"
            "Content-Length: "
        ).encode("latin-1")
        self.connections = connections  # at most this many idle connections are kept
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def send(self, event_id: str, payload: bytes, sent_at: datetime) -> Attempt:
        """POST once; network and protocol errors come back as status 0."""
        envelope = build_envelope(event_id, payload, sent_at)
        body = gzip.compress(envelope, compresslevel=GZIP_LEVEL, mtime=0)
        head = self.head + b"%d\r\n\r\n" % len(body)
        connection = None
        try:
            connection = self._connection()
            response = connection.post(head, body)
        except (OSError, ProtocolError):
            if connection is not None:
                connection.close()
            return Attempt(status=0)
        self._release(connection)
        return Attempt(
            status=response.status,
            retry_after=parse_retry_after(response.headers.get("retry-after"), time.time()),
            rate_limits=response.headers.get("x-sentry-rate-limits"),
        )

    def _connection(self) -> Connection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return Connection(self.endpoint, self.tls)
            if connection.dropped():
                connection.close()
                continue
            return connection

    def _release(self, connection: Connection) -> None:
        if connection.reusable:
            with self._lock:
                if len(self._idle) < self.connections:
                    self._idle.append(connection)
                    return
        connection.close()

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
