"""The HTTP/1.1 client and the sender loop against scripted servers: every way an answer can be
framed or cut, connections closed under it, TLS, and the envelope format posted."""

import gzip
import json
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from core.delivery.envelope import build_envelope
from core.delivery.http import Endpoint, EnvelopeClient, ProtocolError, parse_response
from tests.scripted import KEY, ScriptedServer, always

EVENT_ID = "ab" * 16
PAYLOAD = json.dumps({"event_id": EVENT_ID, "message": "m"}).encode()
WHEN = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


class Transport:
    """One attempt at a time through EnvelopeClient connections, kept alive between sends as
    the sender keeps them: (status, retry-after, rate limits), status 0 for a network error."""

    def __init__(self, dsn: str) -> None:
        self.client = EnvelopeClient(dsn)
        self.idle: list[Any] = []

    def send(self) -> tuple[int, str | None, str | None]:
        try:
            connection = self.idle.pop() if self.idle else self.client.connect()
            if connection.dropped():
                connection.close()
                connection = self.client.connect()
            response = connection.post(self.client.request(EVENT_ID, PAYLOAD, WHEN))
        except (OSError, ProtocolError):
            return (0, None, None)
        if connection.reusable:
            self.idle.append(connection)
        else:
            connection.close()
        return (
            response.status,
            response.headers.get("retry-after"),
            response.headers.get("x-sentry-rate-limits"),
        )


def send(transport: Transport, times: int = 1) -> list[tuple[int, str | None, str | None]]:
    return [transport.send() for _ in range(times)]


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
    transport = Transport(server.dsn)
    expected = 204 if b" 204 " in answer else 200
    assert [status for status, _, _ in send(transport, 3)] == [expected] * 3
    assert server.connections == 1


FRAMED = [
    OK,
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\n{\n1\r\n}\r\n0\r\nX: 1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
]


@pytest.mark.parametrize("answer", FRAMED)
def test_an_answer_is_complete_only_with_its_last_byte(answer: bytes) -> None:
    for cut in range(len(answer)):
        assert parse_response(answer[:cut], eof=False) is None
        with pytest.raises(ProtocolError):
            parse_response(answer[:cut], eof=True)  # the server closed mid-answer
    response = parse_response(answer, eof=False)
    assert response is not None
    assert response.keep_alive


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    for eof in (False, True):
        try:
            response = parse_response(data, eof)
        except ProtocolError:
            continue
        if eof:  # nothing more will come: complete, or an error, never "wait"
            assert response is not None
        assert response is None or response.status >= 100


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
    transport = Transport(server.dsn)
    assert [status for status, _, _ in send(transport, 3)] == [200, 200, 200]
    assert server.connections == 3


def test_http_1_0_keep_alive_is_honoured(serve: Callable[..., ScriptedServer]) -> None:
    answer = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}"
    server = serve(always(answer))
    transport = Transport(server.dsn)
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
    transport = Transport(server.dsn)
    assert send(transport) == [(429, "7", "60:transaction:key, 30:error:key")]


def test_a_connection_the_server_closed_while_idle_is_replaced(
    serve: Callable[..., ScriptedServer],
) -> None:
    # the server answers, then closes: the next send must notice and reconnect, not fail
    server = serve(always(OK, close=True))
    transport = Transport(server.dsn)
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
    transport = Transport(server.dsn)
    assert send(transport) == [(0, None, None)]


def test_an_endless_answer_is_cut_off(serve: Callable[..., ScriptedServer]) -> None:
    endless = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n" + b"x" * (2 * 1024 * 1024)
    server = serve(always(endless, close=True))
    assert send(Transport(server.dsn)) == [(0, None, None)]


def test_nobody_listening_is_a_network_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    transport = Transport(f"http://{KEY}@127.0.0.1:{port}/1")
    assert send(transport) == [(0, None, None)]


def test_the_request_is_a_gzip_envelope_with_auth(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(always(OK))
    transport = Transport(server.dsn)
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

    untrusted = Transport(server.dsn)  # the system's store lacks this CA
    assert send(untrusted) == [(0, None, None)]

    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # OpenSSL: use this CA bundle instead
    trusted = Transport(server.dsn)
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
    from core.event.timestamps import format_timestamp

    event_id = raw_id.hex()
    expected = reference_envelope(event_id, payload, format_timestamp(sent_at))
    assert build_envelope(event_id, payload, sent_at) == expected
