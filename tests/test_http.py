"""The HTTP/1.1 client of HttpTransport against scripted servers: every way an answer can be
framed, connections closed under it, TLS, and the envelope format it posts."""

import gzip
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from core.http import Endpoint, HttpTransport
from core.transport import build_envelope

KEY = "0123456789abcdef0123456789abcdef"
EVENT_ID = "ab" * 16
PAYLOAD = json.dumps({"event_id": EVENT_ID, "message": "m"}).encode()
WHEN = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

# An answer for one request: the bytes to write and whether to close the connection after.
Script = Callable[[int], tuple[bytes, bool]]


class ScriptedServer:
    """Reads whole requests (head + Content-Length body) and writes scripted answers, in
    pieces of `chunk` bytes to split them across TCP segments."""

    def __init__(self, script: Script, *, chunk: int = 0, tls: ssl.SSLContext | None = None):
        self.script = script
        self.chunk = chunk
        self.tls = tls
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dsn = f"{'https' if tls else 'http'}://{KEY}@localhost:{self.port}/1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(sock,), daemon=True).start()

    def _connection(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            stream = sock.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = stream.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = stream.read(length)
                self.requests.append((head, body))
                answer, close = self.script(len(self.requests))
                if self.chunk:
                    for start in range(0, len(answer), self.chunk):
                        sock.sendall(answer[start : start + self.chunk])
                else:
                    sock.sendall(answer)
                if close:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            sock.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script, **kwargs: object) -> ScriptedServer:
        server = ScriptedServer(script, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def always(answer: bytes, close: bool = False) -> Script:
    return lambda _: (answer, close)


def send(transport: HttpTransport, times: int = 1) -> list[tuple[int, float | None, str | None]]:
    results = []
    for _ in range(times):
        attempt = transport.send(EVENT_ID, PAYLOAD, WHEN)
        results.append((attempt.status, attempt.retry_after, attempt.rate_limits))
    return results


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


@pytest.mark.parametrize(
    "answer",
    [
        OK,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1\r\n{\r\n1\r\n}\r\n0\r\nX-T: 1\r\n\r\n",  # two chunks, then a trailer
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\n{}",  # bare line feeds
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}",
    ],
)
@pytest.mark.parametrize("chunk", [0, 1, 7])
def test_framed_answers_keep_the_connection(
    serve: Callable[..., ScriptedServer], answer: bytes, chunk: int
) -> None:
    server = serve(always(answer), chunk=chunk)
    transport = HttpTransport(server.dsn, connections=1)
    expected = 204 if b" 204 " in answer else 200
    assert [status for status, _, _ in send(transport, 3)] == [expected] * 3
    assert server.connections == 1
    transport.close()


@pytest.mark.parametrize(
    ("answer", "close"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\n{}", True),  # no length: the body runs to the close
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", True),
    ],
)
def test_answers_that_end_the_connection_get_a_new_one(
    serve: Callable[..., ScriptedServer], answer: bytes, close: bool
) -> None:
    server = serve(always(answer, close))
    transport = HttpTransport(server.dsn, connections=1)
    assert [status for status, _, _ in send(transport, 3)] == [200, 200, 200]
    assert server.connections == 3


def test_http_1_0_keep_alive_is_honoured(serve: Callable[..., ScriptedServer]) -> None:
    answer = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}"
    server = serve(always(answer))
    transport = HttpTransport(server.dsn, connections=1)
    assert [status for status, _, _ in send(transport, 2)] == [200, 200]
    assert server.connections == 1


def test_rate_limit_headers_are_read_and_repeats_joined(
    serve: Callable[..., ScriptedServer],
) -> None:
    answer = (
        b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\n"
        b"X-Sentry-Rate-Limits: 60:transaction:key\r\nX-Sentry-Rate-Limits: 30:error:key\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    server = serve(always(answer))
    transport = HttpTransport(server.dsn, connections=1)
    assert send(transport) == [(429, 7.0, "60:transaction:key, 30:error:key")]


def test_a_connection_the_server_closed_while_idle_is_replaced(
    serve: Callable[..., ScriptedServer],
) -> None:
    # the server answers, then closes: the next send must notice and reconnect, not fail
    server = serve(always(OK, close=True))
    transport = HttpTransport(server.dsn, connections=1)
    for _ in range(3):
        assert send(transport) == [(200, None, None)]
        threading.Event().wait(0.05)  # let the close arrive
    assert server.connections == 3


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closed without answering
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}",  # shorter than announced
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra",
    ],
)
def test_unreadable_answers_are_network_errors(
    serve: Callable[..., ScriptedServer], answer: bytes
) -> None:
    server = serve(always(answer, close=True))
    transport = HttpTransport(server.dsn, connections=1)
    assert send(transport) == [(0, None, None)]


def test_nobody_listening_is_a_network_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    transport = HttpTransport(f"http://{KEY}@127.0.0.1:{port}/1", connections=1)
    assert send(transport) == [(0, None, None)]


def test_the_request_is_a_gzip_envelope_with_auth(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(always(OK))
    transport = HttpTransport(server.dsn, connections=1)
    send(transport)
    head, body = server.requests[0]
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/1/envelope/ HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    assert headers["Host"] == f"localhost:{server.port}"
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/x-sentry-envelope"
    assert headers["X-Sentry-Auth"].startswith(f"Sentry sentry_key={KEY}, sentry_version=7")
    assert int(headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == build_envelope(EVENT_ID, PAYLOAD, WHEN)


@pytest.mark.parametrize(
    ("url", "host_header", "target"),
    [
        ("https://o1.ingest.sentry.io/api/5/envelope/", "o1.ingest.sentry.io", "/api/5/envelope/"),
        ("http://h:80/api/1/envelope/", "h", "/api/1/envelope/"),
        ("http://h:9000/s/api/1/envelope/", "h:9000", "/s/api/1/envelope/"),
        ("https://[::1]:8443/api/1/envelope/?a=b", "[::1]:8443", "/api/1/envelope/?a=b"),
    ],
)
def test_endpoint(url: str, host_header: str, target: str) -> None:
    endpoint = Endpoint.from_url(url)
    assert (endpoint.host_header, endpoint.target) == (host_header, target)


def test_tls_is_verified_against_the_trusted_authorities(
    serve: Callable[..., ScriptedServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    server = serve(always(OK), tls=server_context)

    untrusted = HttpTransport(server.dsn, connections=1)  # the system's store lacks this CA
    assert send(untrusted) == [(0, None, None)]

    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # OpenSSL's usual way to add a CA
    trusted = HttpTransport(server.dsn, connections=1)
    assert [status for status, _, _ in send(trusted, 2)] == [200, 200]
    assert server.connections == 2  # the refused handshake, then one kept-alive connection


def reference_envelope(event_id: str, payload: bytes, sent_at: str) -> bytes:
    envelope = Envelope(headers={"event_id": event_id, "sent_at": sent_at})
    envelope.add_item(
        Item(payload=PayloadRef(bytes=payload), type="event", content_type="application/json")
    )
    return envelope.serialize()


@given(
    st.binary(max_size=300),
    st.datetimes(timezones=st.just(UTC)),
    st.binary(min_size=16, max_size=16),
)
def test_envelopes_are_what_sentry_sdk_writes(
    payload: bytes, sent_at: datetime, raw_id: bytes
) -> None:
    from core.mapping import format_timestamp

    event_id = raw_id.hex()
    expected = reference_envelope(event_id, payload, format_timestamp(sent_at))
    assert build_envelope(event_id, payload, sent_at) == expected
