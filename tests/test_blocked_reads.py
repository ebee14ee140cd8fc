"""A read that waits never stops the run (core/input/background.py): while the input is
silent, requests in flight are driven and recorded, the state is committed, and a signal is
answered within a second with the report printed; a kill -9 then loses at most half a second
of accepted ids."""

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

from tests.conftest import ANSWER, ROOT, TEARDOWN_MARGIN, error_event
from tests.faultserver import Faults, FaultServer
from tests.seaweedfs import SeaweedFS


def replay(*args: str, stdin: Any = subprocess.DEVNULL, env: dict[str, str] | None = None) -> Any:
    command = [sys.executable, "-m", "cli", "replay", *args, "--no-progress", "--report", "json"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def committed(state: Path) -> int:
    """Ids in the state file, read as another process would."""
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
        found: int = db.execute("SELECT count(*) FROM sent").fetchone()[0]
    return found


def lines(count: int, start: int = 0) -> bytes:
    return b"".join(json.dumps(error_event(n)).encode() + b"\n" for n in range(start, count))


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_paused_input_still_drives_requests_commits_and_answers_a_signal(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(latency=0.5)) as server:
        process = replay(
            "-", "--state", str(state), stdin=subprocess.PIPE, env={"SENTRY_DSN": server.dsn}
        )
        assert process.stdin is not None
        process.stdin.write(lines(40).decode())
        process.stdin.flush()  # and then nothing more: the pipe stays open, silent
        assert server.sink.wait_stored(40, timeout=30)  # answered while the read waits
        assert wait_until(lambda: committed(state) == 40, 5)  # and committed, too
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        answered = time.monotonic() - signalled
    report = json.loads(out)
    assert process.returncode == 4, err
    assert answered < ANSWER + TEARDOWN_MARGIN
    assert report["outcomes"] == {"sent": 40}
    assert report["interrupted"] is True


def test_a_kill_while_the_input_is_paused_repeats_nothing(tmp_path: Path) -> None:
    """The closing note's figure: duplicates posted by a re-run after kill -9 (none: every
    accepted id was committed while the input waited)."""
    state = tmp_path / "state.sqlite"
    dump = tmp_path / "dump.ndjson"
    dump.write_bytes(lines(60))
    with FaultServer(Faults(latency=0.2)) as server:
        env = {"SENTRY_DSN": server.dsn}
        process = replay("-", "--state", str(state), stdin=subprocess.PIPE, env=env)
        assert process.stdin is not None
        process.stdin.write(dump.read_text())
        process.stdin.flush()
        assert server.sink.wait_stored(60, timeout=30)
        assert wait_until(lambda: committed(state) == 60, 5)
        process.kill()
        process.communicate(timeout=30)
        posts = server.sink.posts
        rerun = replay(str(dump), "--state", str(state), env=env)
        out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert json.loads(out)["outcomes"] == {"already_sent": 60}
    assert server.sink.posts == posts  # nothing posted again
    assert server.sink.accepted_duplicates == 0


def test_a_silent_fifo_answers_a_signal_with_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "silent.fifo"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer that never writes
    try:
        process = replay(str(fifo), "--dry-run")
        time.sleep(1.0)  # well inside the read
        signalled = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        answered = time.monotonic() - signalled
    finally:
        os.close(writer)
    assert process.returncode == 4, err
    assert answered < ANSWER + TEARDOWN_MARGIN
    assert json.loads(out)["interrupted"] is True


@pytest.mark.parametrize("when", ["listing", "reading"])
def test_a_frozen_object_store_answers_a_signal(tmp_path: Path, when: str) -> None:
    """SeaweedFS stopped with SIGSTOP: it accepts connections and never answers."""
    import gzip

    import obstore
    from obstore.store import S3Store

    with SeaweedFS(tmp_path / "weed") as server:
        server.create_bucket("frozen")
        env = server.environment()
        store = S3Store(
            "frozen",
            endpoint=server.endpoint,
            access_key_id=env["AWS_ACCESS_KEY_ID"],
            secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region=env["AWS_REGION"],
            allow_http=True,
        )
        big = gzip.compress(lines(3000) * 20, compresslevel=1)  # several ranged reads
        obstore.put(store, "dumps/a.ndjson.gz", big)
        assert server.process is not None
        if when == "listing":
            os.kill(server.process.pid, signal.SIGSTOP)
        try:
            process = replay("s3://frozen/dumps/", "--dry-run", env=env)
            if when == "reading":
                time.sleep(1.5)  # listed, opened, a first range read
                os.kill(server.process.pid, signal.SIGSTOP)
            time.sleep(1.0)
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
            answered = time.monotonic() - signalled
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
    assert process.returncode == 4, err
    assert answered < ANSWER + TEARDOWN_MARGIN
    if when == "listing":
        assert err.strip() == "rudder-sentry: error: stopped while listing s3://frozen/dumps/"
    else:
        assert json.loads(out)["interrupted"] is True
