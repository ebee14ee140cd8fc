"""HTTP/1.1 to Sentry's envelope endpoint: requests, keep-alive connections, answers.

A small client of our own, because every request has the same shape and sending is the hot path
of a real run: urllib3 spends about 190 µs of interpreter time per request against the loopback
sink of `make bench`, this client about 25 µs. A connection sets TCP_NODELAY (Nagle's algorithm
stalls small keep-alive requests: reference peers-and-sdk.md §3.1), speaks TLS through the
standard `ssl` module verified against the system's CA store (as urllib3 does), writes each
request with one `sendall` and reads the answer incrementally (`feed`), so the sender can drive
many connections from one thread. Only what the sender needs is kept of an answer: the status,
`Retry-After` and `X-Sentry-Rate-Limits`; the body is framed (Content-Length, chunked, or up to
the close) so the connection can be reused; one the server closed while idle is noticed before
reuse. sentry-sdk supplies the DSN parsing and the X-Sentry-Auth header. There are no retries
here: the sender decides (core/delivery/sender.py).
"""

import contextlib
import re
import select
import socket
import ssl
import zlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sentry_sdk.consts import EndpointType
from sentry_sdk.utils import Dsn

from core import __version__
from core.delivery.envelope import build_envelope
from core.delivery.options import READ_TIMEOUT

CONNECT_TIMEOUT = 10.0
GZIP_LEVEL = 1  # envelopes are small; speed matters more than the last few bytes
GZIP_WBITS = 31  # a gzip header and trailer around a 32 KiB-window deflate stream
MAX_HEAD = 64 * 1024  # status line and headers of one answer; a chunk-size line
MAX_RESPONSE = 1024 * 1024  # a whole answer (Sentry's are a few dozen bytes)
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
    keep_alive: bool = True


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


def parse_response(buffer: bytes, eof: bool) -> Response | None:
    """The answer in `buffer` once it is complete, None while more bytes are needed; `eof`: the
    server closed the connection after these bytes. Raises ProtocolError for anything else."""
    position = 0
    while True:  # 1xx answers come before the real one (we never send Expect, but still)
        end = _HEAD_END.search(buffer, position)
        if end is None:
            if len(buffer) - position > MAX_HEAD:
                raise ProtocolError("response headers too long")
            _need_more(eof, "the server closed the connection before answering")
            return None
        lines = _LINE_END.split(buffer[position : end.start()])
        position = end.end()
        version, status = _status_line(lines[0])
        if not 100 <= status < 200 or status == 101:
            break
    headers = _headers(lines[1:])
    connection = headers.get("connection", "").lower()
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    if status in (101, 204, 304):
        body_end: int | None = position
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body_end = _chunked_end(buffer, position)
    elif "content-length" in headers:
        length = _content_length(headers["content-length"])
        body_end = position + length if len(buffer) - position >= length else None
    elif eof:  # the body ran until the close
        body_end, keep_alive = len(buffer), False
    else:
        return None
    if body_end is None:
        _need_more(eof, "the server closed the connection in the middle of an answer")
        return None
    if len(buffer) > body_end:
        raise ProtocolError("more bytes than the response announced")
    return Response(status, headers, keep_alive and not eof)


def _need_more(eof: bool, problem: str) -> None:
    """More bytes are needed: an error when none will come."""
    if eof:
        raise ProtocolError(problem)


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


def _chunked_end(buffer: bytes, position: int) -> int | None:
    """Where a chunked body that starts at `position` ends, None when it is not all here."""
    while True:
        end = _LINE_END.search(buffer, position)
        if end is None:
            if len(buffer) - position > MAX_HEAD:
                raise ProtocolError("chunk size line too long")
            return None
        size_text = buffer[position : end.start()].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        position = end.end()
        if size == 0:  # trailers, then the blank line that ends the message
            while (end := _LINE_END.search(buffer, position)) is not None:
                blank = end.start() == position
                position = end.end()
                if blank:
                    return position
            return None
        position += size
        tail = buffer[position : position + 2]
        if tail.startswith(b"\n"):
            position += 1
        elif tail == b"\r\n":
            position += 2
        elif tail in (b"", b"\r"):
            return None
        else:
            raise ProtocolError("chunk not followed by a line end")


class Connection:
    """One keep-alive HTTP/1.1 connection carrying one request at a time."""

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
        self._buffer = b""

    def fileno(self) -> int:
        """The socket's descriptor, for the sender's selector."""
        return self.sock.fileno()

    def dropped(self) -> bool:
        """True when the server closed the idle connection (or sent something unasked)."""
        if hasattr(select, "poll"):  # not on Windows; select() cannot take descriptors >= 1024
            poller = select.poll()
            poller.register(self.sock, select.POLLIN | select.POLLERR | select.POLLHUP)
            readable = bool(poller.poll(0))
        else:
            readable = bool(select.select([self.sock], [], [], 0)[0])
        if not readable or not isinstance(self.sock, ssl.SSLSocket):
            return readable
        # TLS 1.3 servers send session tickets after the handshake: the socket is readable,
        # yet no application data came. Only a close or real bytes mean the connection is gone.
        self.sock.setblocking(False)
        try:
            self.sock.recv(1)
        except ssl.SSLWantReadError:
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(READ_TIMEOUT)
        return True

    def start(self, request: bytes) -> None:
        """Write one whole request."""
        self._buffer = b""
        self.sock.sendall(request)

    def feed(self) -> Response | None:
        """Read what has arrived (the socket is readable); the answer once it is complete."""
        data = self.sock.recv(RECV_SIZE)
        if isinstance(self.sock, ssl.SSLSocket):  # decrypted bytes poll cannot see
            while pending := self.sock.pending():
                data += self.sock.recv(pending)
        self._buffer += data
        if len(self._buffer) > MAX_RESPONSE:
            raise ProtocolError(f"an answer of more than {MAX_RESPONSE} bytes")
        response = parse_response(self._buffer, eof=not data)
        if response is not None:
            self._buffer = b""
            self.reusable = response.keep_alive
        return response

    def post(self, request: bytes) -> Response:
        """Write a request and wait for its answer (blocking; the bench's bare poster)."""
        self.start(request)
        while (response := self.feed()) is None:
            pass
        return response

    def close(self) -> None:
        """Close the socket; never raises."""
        self.reusable = False
        with contextlib.suppress(OSError):
            self.sock.close()


class EnvelopeClient:
    """Requests to one DSN's envelope endpoint, and connections to it."""

    def __init__(self, dsn: str) -> None:
        auth = Dsn(dsn).to_auth(f"rudder-sentry/{__version__}")
        self.endpoint = Endpoint.from_url(auth.get_api_url(EndpointType.ENVELOPE))
        self.tls: ssl.SSLContext | None = None
        if self.endpoint.scheme == "https":
            self.tls = ssl.create_default_context()
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

    def request(self, event_id: str, payload: bytes, sent_at: datetime) -> bytes:
        """The whole POST of one event: headers and the gzip envelope stamped `sent_at`."""
        body = zlib.compress(build_envelope(event_id, payload, sent_at), GZIP_LEVEL, GZIP_WBITS)
        return b"%s%d\r\n\r\n%s" % (self.head, len(body), body)

    def connect(self) -> Connection:
        """A new connection (raises OSError when the server cannot be reached)."""
        return Connection(self.endpoint, self.tls)
