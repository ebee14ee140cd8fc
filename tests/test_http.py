"""The libcurl client against scripted servers: the request it posts, the answers it reads,
connections closed under it, TLS verification and the CA search, and the envelope format."""

import gzip
import json
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pycurl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from core.delivery.envelope import build_envelope, build_session_envelope
from core.delivery.http import Answer, EnvelopeClient, Exchange, find_ca_bundle
from core.delivery.seam import SESSION, Parcel
from core.errors import ConfigError
from tests.scripted import KEY, ScriptedServer, always

EVENT_ID = "ab" * 16
PAYLOAD = json.dumps({"event_id": EVENT_ID, "message": "m"}).encode()
WHEN = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
JOB = Parcel(EVENT_ID, PAYLOAD, "s:1", "track", "m1", "", False)


class Poster:
    """One blocking attempt at a time on one easy handle, kept alive between posts."""

    def __init__(self, dsn: str, **options: str | float | None) -> None:
        self.client = EnvelopeClient(dsn, **options)  # type: ignore[arg-type]
        self.exchange: Exchange = self.client.exchange()

    def post(self) -> Answer:
        self.exchange.prepare(self.client.body(JOB, WHEN))
        try:
            self.exchange.curl.perform()
        except pycurl.error as exc:
            code, message = exc.args  # type: ignore[misc]  # (libcurl's code, its message)
            return self.exchange.answer(int(code), str(message))
        return self.exchange.answer()


@pytest.mark.parametrize(
    "answer",
    [
        OK,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ],
)
@pytest.mark.parametrize("chunk", [0, 1])
def test_answers_are_read_and_the_connection_kept(
    serve: Callable[..., ScriptedServer], answer: bytes, chunk: int
) -> None:
    server = serve(always(answer), chunk=chunk)
    poster = Poster(server.dsn)
    assert [poster.post().status for _ in range(3)] in ([200] * 3, [204] * 3)
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
    assert Poster(server.dsn).post() == Answer(429, "7", "60:transaction:key, 30:error:key")


def test_sentrys_answer_text_is_kept(serve: Callable[..., ScriptedServer]) -> None:
    text = b'{"detail":"envelope exceeded size limits"}'
    answer = b"HTTP/1.1 413 Too Large\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)
    server = serve(always(answer))
    assert Poster(server.dsn).post() == Answer(413, text=text.decode())


def test_a_connection_the_server_closed_while_idle_is_replaced(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(always(OK, close=True))
    poster = Poster(server.dsn)
    for _ in range(3):
        assert poster.post().status == 200
        threading.Event().wait(0.02)  # let the close arrive
    assert server.connections == 3


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closed without answering
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}",  # shorter than announced
    ],
)
def test_unreadable_answers_are_network_errors(
    serve: Callable[..., ScriptedServer], answer: bytes
) -> None:
    server = serve(always(answer, close=True))
    result = Poster(server.dsn).post()
    assert result.status == 0
    assert result.error != 0
    assert result.text


def test_nobody_listening_is_a_network_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = Poster(f"http://{KEY}@127.0.0.1:{port}/1").post()
    assert (result.status, result.error) == (0, pycurl.E_COULDNT_CONNECT)


def test_the_request_is_a_gzip_envelope_with_auth(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(always(OK))
    Poster(server.dsn).post()
    head, body = server.requests[0]
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/1/envelope/ HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    assert headers["Host"] == f"localhost:{server.port}"
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/x-sentry-envelope"
    assert headers["X-Sentry-Auth"].startswith(f"Sentry sentry_key={KEY}, sentry_version=7")
    assert "Expect" not in headers
    assert int(headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == build_envelope(EVENT_ID, PAYLOAD, WHEN)


@pytest.fixture
def tls_server(
    serve: Callable[..., ScriptedServer], tmp_path: Path
) -> tuple[ScriptedServer, Path, Path]:
    """A TLS server for `localhost` under a fresh CA; its bundle, and another CA's."""
    trustme = pytest.importorskip("trustme")
    authority, stranger = trustme.CA(), trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    server = serve(always(OK), tls=context)
    bundle, other = tmp_path / "ca.pem", tmp_path / "other-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    stranger.cert_pem.write_to_path(str(other))
    return server, bundle, other


def test_tls_is_verified_against_the_trusted_authorities(
    tls_server: tuple[ScriptedServer, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bundle, other = tls_server
    untrusted = Poster(server.dsn, ca_bundle=str(other)).post()
    assert (untrusted.status, untrusted.error) == (0, pycurl.E_PEER_FAILED_VERIFICATION)
    assert Poster(server.dsn, ca_bundle=str(bundle)).post().status == 200
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert Poster(server.dsn).post().status == 200  # the environment's bundle


def test_a_certificate_for_another_host_is_refused(
    tls_server: tuple[ScriptedServer, Path, Path],
) -> None:
    server, bundle, _ = tls_server
    dsn = server.dsn.replace("@localhost:", "@127.0.0.1:")  # the certificate names localhost
    result = Poster(dsn, ca_bundle=str(bundle)).post()
    assert (result.status, result.error) == (0, pycurl.E_PEER_FAILED_VERIFICATION)


def test_the_ca_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first.pem", tmp_path / "second.pem"
    first.write_text("x")
    second.write_text("x")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(second))
    assert find_ca_bundle() == str(second)
    monkeypatch.setenv("SSL_CERT_FILE", str(first))
    assert find_ca_bundle() == str(first)
    assert find_ca_bundle(str(second)) == str(second)  # --ca-bundle wins
    with pytest.raises(ConfigError, match=r"--ca-bundle .*missing\.pem: no such CA file"):
        find_ca_bundle(str(tmp_path / "missing.pem"))
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert Path(find_ca_bundle()).is_file()  # the system store, or certifi's


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


@given(st.dictionaries(st.text(), st.text() | st.integers() | st.booleans(), max_size=5))
def test_session_envelopes_are_what_sentry_sdk_writes(session: dict[str, object]) -> None:
    from core.event.timestamps import format_timestamp

    envelope = Envelope(headers={"sent_at": format_timestamp(WHEN)})
    envelope.add_session(session)
    payload = envelope.items[0].get_bytes()
    assert build_session_envelope(payload, WHEN) == envelope.serialize()
    parcel = Parcel("cd" * 16, payload, "s:1", "session", "m1", "", False, SESSION)
    assert parcel.envelope(WHEN) == envelope.serialize()
