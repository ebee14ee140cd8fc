"""Nothing lost or repeated through the state file or the outputs (docs/delivery.md), through the
real entry point: outputs that would overwrite an input, a kill -9 during a long rate-limit wait,
state files that cannot be written, and malformed DSNs."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, error_event
from tests.faultserver import Faults, FaultServer

KEY = "0123456789abcdef0123456789abcdef"


def error(n: int) -> dict[str, Any]:
    return error_event(n, visitors=5)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", "replay", *args, "--no-progress"]


def run(*args: str, dsn: str = "") -> "subprocess.CompletedProcess[str]":
    env = {**os.environ, "SENTRY_DSN": dsn}
    return subprocess.run(
        command(*args), capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--failures", "{input}"], "--failures {input} is the same file as the input {input}"),
        (["--output", "{input}"], "--output {input} is the same file as the input {input}"),
        (["--rejects", "{link}"], "--rejects {link} is the same file as the input {input}"),
        (["--state", "{input}"], "the state file {input} is the same file as the input {input}"),
        (
            ["--output", "{other}", "--rejects", "{other}"],
            "--rejects {other} is the same file as --output {other}",
        ),
    ],
)
def test_an_output_never_overwrites_an_input(
    options: list[str], message: str, write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error(n) for n in range(5)], name="failures.jsonl")
    link = tmp_path / "link.jsonl"
    link.symlink_to(dump)
    names = {"input": str(dump), "link": str(link), "other": str(tmp_path / "other.jsonl")}
    before = dump.read_bytes()
    result = run(str(dump), "--dry-run", *[o.format(**names) for o in options])
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"rudder-sentry: error: {message.format(**names)}: it would be overwritten"
    )
    assert dump.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failures.jsonl", "link.jsonl"]


def committed(state: Path) -> int:
    if not state.exists():
        return 0
    with sqlite3.connect(state) as db:
        try:
            return int(db.execute("SELECT count(*) FROM sent").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_kill_during_a_long_rate_limit_wait_repeats_nothing(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error(n) for n in range(60)])
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(limit_after=30, retry_after="3600")) as server:
        env = {**os.environ, "SENTRY_DSN": server.dsn}
        process = subprocess.Popen(
            command(str(dump), "--state", str(state), "--workers", "1"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.sink.wait_stored(30, timeout=60)
        deadline = time.monotonic() + 10  # the 0.5 s commit timer runs during the wait
        while committed(state) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=30)
        assert committed(state) == 30
        assert "Sentry asked to wait 3,600 s" in err  # announced once, with its end time
        assert err.count("Sentry asked to wait") == 1
        server.faults.limit_after = None
        rerun = run(str(dump), "--state", str(state), "--report", "json", dsn=server.dsn)
    report = json.loads(rerun.stdout)
    assert rerun.returncode == 0, rerun.stderr
    assert report["outcomes"] == {"already_sent": 30, "sent": 30}
    assert len(server.sink.stored) == 60
    assert server.sink.accepted_duplicates == 0


def test_a_read_only_state_sends_nothing(write_dump: Callable[..., Path], tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes read-only files")
    dump = write_dump([error(n) for n in range(5)])
    state = tmp_path / "state.sqlite"
    sqlite3.connect(state).close()
    state.chmod(0o444)
    with FaultServer() as server:
        result = run(str(dump), "--state", str(state), dsn=server.dsn)
    assert result.returncode == 2
    assert result.stderr.startswith(f"rudder-sentry: error: {state}: cannot use the state file")
    assert server.sink.posts == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("garbage", "cannot use the state file: file is not a database"),
        ("foreign", "cannot use the state file: its 'sent' table is not rudder-sentry's"),
        ("under_a_file", "cannot use the state file: Not a directory"),
    ],
)
def test_an_unusable_state_file_is_one_line(
    setup: str, message: str, write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error(n) for n in range(5)])
    state = tmp_path / "state.sqlite"
    if setup == "garbage":
        state.write_bytes(b"not a database at all" * 100)
    elif setup == "foreign":
        with sqlite3.connect(state) as db:
            db.execute("CREATE TABLE sent (id INTEGER, note TEXT)")
    else:
        (tmp_path / "file").write_text("x")
        state = tmp_path / "file" / "state.sqlite"
    with FaultServer() as server:
        result = run(str(dump), "--state", str(state), dsn=server.dsn)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert server.sink.posts == 0


def limited(size: int, args: list[str]) -> list[str]:
    """`args` run under a file-size limit, which stands in for a full disk: a write past it
    fails with EFBIG (SIGXFSZ ignored; the setting survives exec)."""
    start = (
        "import os, resource, signal, sys; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({size}, {size})); "
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    return [sys.executable, "-c", start, *args[1:]]


def run_limited(size: int, args: list[str], dsn: str) -> "subprocess.CompletedProcess[str]":
    env = {**os.environ, "SENTRY_DSN": dsn}
    return subprocess.run(
        limited(size, args),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_full_disk_before_the_first_send_sends_nothing(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error(n) for n in range(5)])
    state = tmp_path / "state.sqlite"
    with FaultServer() as server:
        result = run_limited(2048, command(str(dump), "--state", str(state)), server.dsn)
    assert result.returncode == 2
    assert result.stderr.startswith(f"rudder-sentry: error: {state}: cannot use the state file")
    assert len(result.stderr.strip().splitlines()) == 1
    assert server.sink.posts == 0


def test_a_commit_that_fails_mid_run_stops_at_once(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error(n) for n in range(3000)])
    state = tmp_path / "state.sqlite"
    args = command(str(dump), "--state", str(state), "--report", "json")
    with FaultServer() as server:
        result = run_limited(96 * 1024, args, server.dsn)
    report = json.loads(result.stdout)
    assert result.returncode == 4, result.stderr
    assert report["stopped"].startswith(f"cannot write the state file {state}")
    assert sum(report["outcomes"].values()) == report["records"] < 3000
    kept = committed(state)
    assert 0 < kept <= report["outcomes"]["sent"]
    unrecorded = report["outcomes"]["sent"] - kept
    if unrecorded:
        assert any(f"{unrecorded:,} accepted event ids" in note for note in report["notes"])


@pytest.mark.parametrize(
    "dsn",
    [
        f"http://{KEY}@127.0.0.1:notaport/1",
        f"http://{KEY}@127.0.0.1:99999/1",
        f"http://{KEY}@[::1/1",
        f"http:/{KEY}@127.0.0.1/1",
        f"{KEY}@127.0.0.1/1",
        f"http://{KEY}@127.0.0.1/1\nx",
    ],
)
def test_a_dsn_that_does_not_parse_is_one_line(dsn: str, write_dump: Callable[..., Path]) -> None:
    result = run(str(write_dump([error(1)])), "--no-state", dsn=dsn)
    assert result.returncode == 2
    assert result.stderr.startswith("rudder-sentry: error: the DSN ")
    assert "does not parse" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert KEY not in result.stderr
    assert "Traceback" not in result.stderr
