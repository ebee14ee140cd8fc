"""Delivery as users meet it in the field, through the real entry point: proxies (HTTP, HTTPS
through CONNECT, SOCKS5), TLS that cannot be trusted, HTTP/2, a sink 100 ms away, and a host
that cannot be reached."""

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, error_event
from tests.faultserver import Faults, FaultServer
from tests.proxies import free_port, http_proxy, silent_listener, socks_proxy
from tests.scripted import KEY, ScriptedServer, always

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


def run(*args: str, env: dict[str, str] | None = None) -> "subprocess.CompletedProcess[str]":
    command = [sys.executable, "-m", "cli", "replay", *args, "--no-progress", "--no-state"]
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [*command, "--report", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, "SENTRY_DSN": "", **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.fixture
def dump(write_dump: Callable[..., Path]) -> Path:
    return write_dump([error_event(n) for n in range(20)])


def test_through_an_http_proxy_with_credentials(dump: Path, tmp_path: Path) -> None:
    log = tmp_path / "proxy.log"
    with FaultServer() as server, http_proxy(log, auth="user:s3cret") as proxy:
        result = run(str(dump), "--dsn", server.dsn, "--proxy", proxy)
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert report["outcomes"] == {"sent": 20}
    assert len(server.sink.stored) == 20
    assert f"POST 127.0.0.1:{server.port}/api/1/envelope/ - 200" in log.read_text()
    assert "s3cret" not in result.stdout + result.stderr


def test_the_environment_proxy_and_no_proxy(dump: Path, tmp_path: Path) -> None:
    log = tmp_path / "proxy.log"
    with FaultServer() as server, http_proxy(log) as proxy:
        proxied = run(str(dump), "--dsn", server.dsn, env={"http_proxy": proxy})
        direct_dsn = server.dsn.replace("/1", "/2")  # project 2: told apart in the proxy's log
        environment = {"http_proxy": proxy, "NO_PROXY": "127.0.0.1"}
        direct = run(str(dump), "--dsn", direct_dsn, env=environment)
    assert proxied.returncode == direct.returncode == 0
    assert len(server.sink.stored) == 20  # the same events twice: stored once
    assert f"POST 127.0.0.1:{server.port}/api/1/envelope/" in log.read_text()
    assert "/api/2/envelope/" not in log.read_text()


def test_a_proxy_that_wants_credentials_stops_the_run_like_a_401(
    dump: Path, tmp_path: Path
) -> None:
    log = tmp_path / "proxy.log"
    with FaultServer() as server, http_proxy(log, auth="user:s3cret") as proxy:
        without = proxy.replace("user:s3cret@", "")
        result = run(str(dump), "--dsn", server.dsn, "--proxy", without)
    report = json.loads(result.stdout)
    assert result.returncode == 2, result.stderr
    assert report["stopped"].startswith("the proxy refused us (HTTP 407)")
    assert report["failed"]["auth_http_407"] == 1  # the first answer stops the run
    assert report["failed"]["stopped_after_auth_error"] == 19
    assert report["retries"] == 0
    assert server.sink.posts == 0


def test_a_connect_refused_for_credentials_stops_the_run_too(
    dump: Path, tmp_path: Path, serve: Callable[..., ScriptedServer], authority: tuple[Any, Path]
) -> None:
    ca, bundle = authority
    server = tls_server(serve, ca)
    with http_proxy(tmp_path / "proxy.log", auth="user:s3cret") as proxy:
        without = proxy.replace("user:s3cret@", "")
        result = run(str(dump), "--dsn", server.dsn, "--ca-bundle", str(bundle), "--proxy", without)
    report = json.loads(result.stdout)
    assert result.returncode == 2, result.stderr
    assert report["failed"]["auth_http_407"] == 1
    assert len(server.requests) == 0


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        ("ftp://user:SECRET@127.0.0.1:21", "not 'ftp'"),
        ("http://user:SECRET@", "names no host"),
        ("http://user:SECRET@127.0.0.1:99999", "Port out of range"),
        ("http://user:SECRET@proxy host:3128", "a space"),
    ],
)
def test_a_proxy_url_curl_cannot_use_is_refused_before_reading(
    proxy: str, why: str, dump: Path
) -> None:
    result = run(str(dump), "--dsn", f"http://{KEY}@127.0.0.1:9/1", "--proxy", proxy)
    assert result.returncode == 2
    assert result.stdout == ""
    assert why in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SECRET" not in result.stderr


@pytest.mark.parametrize("hangs", ["proxy", "tls"])
def test_give_up_after_bounds_a_hung_proxy_or_handshake(hangs: str, dump: Path) -> None:
    started = time.monotonic()
    with silent_listener() as port:
        if hangs == "proxy":
            args = ["--dsn", f"http://{KEY}@127.0.0.1:9/1", "--proxy", f"127.0.0.1:{port}"]
        else:
            args = ["--dsn", f"https://{KEY}@127.0.0.1:{port}/1"]
        result = run(str(dump), *args, "--give-up-after", "2")
    took = time.monotonic() - started
    report = json.loads(result.stdout)
    assert result.returncode == 4, result.stderr
    assert report["stopped"] == "Sentry could not be reached for 2 s: no answer"
    assert report["interrupted"] is True
    assert report["failed"] == {"interrupted": 20}
    assert took < 2 + 8  # not the 30 s request timeout, twice over


@pytest.fixture
def authority(tmp_path: Path) -> tuple[Any, Path]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, bundle


def tls_server(serve: Callable[..., ScriptedServer], ca: Any) -> ScriptedServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return serve(always(OK), tls=context)


def test_https_through_connect(
    dump: Path, tmp_path: Path, serve: Callable[..., ScriptedServer], authority: tuple[Any, Path]
) -> None:
    ca, bundle = authority
    server = tls_server(serve, ca)
    log = tmp_path / "proxy.log"
    with http_proxy(log) as proxy:
        result = run(
            str(dump), "--dsn", server.dsn, "--ca-bundle", str(bundle), env={"HTTPS_PROXY": proxy}
        )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outcomes"] == {"sent": 20}
    assert f"CONNECT localhost:{server.port}" in log.read_text()


def test_through_a_socks5_proxy(dump: Path, tmp_path: Path) -> None:
    log = tmp_path / "socks.log"
    with FaultServer() as server, socks_proxy(log) as proxy:
        result = run(str(dump), "--dsn", server.dsn, "--proxy", proxy)
    assert result.returncode == 0, result.stderr
    assert len(server.sink.stored) == 20
    assert f"-> 127.0.0.1:{server.port}" in log.read_text()


@pytest.mark.parametrize("problem", ["untrusted", "wrong_host"])
def test_tls_that_cannot_be_trusted_is_one_line_exit_2(
    problem: str, dump: Path, serve: Callable[..., ScriptedServer], authority: tuple[Any, Path]
) -> None:
    ca, bundle = authority
    server = tls_server(serve, ca)
    dsn = server.dsn
    args = [str(dump), "--dsn", dsn]
    if problem == "wrong_host":
        args = [str(dump), "--dsn", dsn.replace("@localhost:", "@127.0.0.1:")]
        args += ["--ca-bundle", str(bundle)]
    result = run(*args)
    report = json.loads(result.stdout)
    assert result.returncode == 2
    assert report["stopped"].startswith("TLS with Sentry failed: SSL")
    assert "certificate" in report["stopped"]
    assert report["failed"]["tls_error"] == 1  # the first answer stops the run
    assert sum(report["outcomes"].values()) == report["records"]
    assert len(server.requests) == 0


def test_https_to_a_plain_http_server_is_one_line_exit_2(dump: Path) -> None:
    with FaultServer() as server:
        result = run(str(dump), "--dsn", server.dsn.replace("http://", "https://"))
    report = json.loads(result.stdout)
    assert result.returncode == 2
    assert report["stopped"].startswith("TLS with Sentry failed:")
    assert report["retries"] == 0  # not ten silent retries


def test_http2_multiplexes_the_requests(
    write_dump: Callable[..., Path], tmp_path: Path, authority: tuple[Any, Path]
) -> None:
    from tests.h2server import H2Server

    ca, bundle = authority
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued = ca.issue_cert("localhost")
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    dump = write_dump([error_event(n) for n in range(60)])
    with H2Server(cert, key) as server:
        dsn = f"https://{KEY}@localhost:{server.port}/1"
        result = run(str(dump), "--dsn", dsn, "--ca-bundle", str(bundle), "--workers", "16")
    assert result.returncode == 0, result.stderr
    assert {version for version, _ in server.requests} == {"2"}
    assert len(server.requests) == 60
    assert len({client for _, client in server.requests}) == 1  # one connection, multiplexed


def test_a_sink_100_ms_away_gets_the_workers_in_flight(write_dump: Callable[..., Path]) -> None:
    dump = write_dump([error_event(n, visitors=50) for n in range(400)])
    with FaultServer(Faults(latency=0.1)) as server:
        result = run(str(dump), "--dsn", server.dsn, "--workers", "100")
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert report["outcomes"] == {"sent": 400}
    assert server.sink.most_in_flight >= 50  # at 4 in flight this took 10 s, not 0.4
    assert server.sink.accepted_duplicates == 0


def test_an_unreachable_host_is_shown_and_the_run_gives_up(dump: Path, tmp_path: Path) -> None:
    dsn = f"http://{KEY}@127.0.0.1:{free_port()}/1"  # nobody listens there
    state = tmp_path / "state.sqlite"
    command = [sys.executable, "-m", "cli", "replay", str(dump), "--dsn", dsn]
    command += ["--state", str(state), "--give-up-after", "2", "--report", "json"]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    report = json.loads(result.stdout)
    assert result.returncode == 4
    warnings = [line for line in result.stderr.splitlines() if "cannot reach Sentry" in line]
    assert len(warnings) == 1  # one line, at the first failed attempt
    assert "Could not connect" in warnings[0] or "Failed to connect" in warnings[0]
    assert report["stopped"].startswith("Sentry could not be reached for 2 s")
    assert report["interrupted"] is True
    assert sum(report["outcomes"].values()) == report["records"]
    assert state.exists()
