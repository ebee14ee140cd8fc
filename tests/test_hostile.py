"""Bounded under hostile inputs, through the real entry point: endless lines, floods of blank
lines, FIFOs, deep nesting and a state file two runs want. Each is answered quickly, in bounded
memory, with every record accounted for."""

import gzip
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.delivery.sender import STOP_GRACE
from core.input.lines import MAX_LINE
from core.pipeline import ReplayIO
from core.run import ReplayOptions, run_replay
from tests.conftest import ANSWER, TEARDOWN_MARGIN, error_event, start
from tests.faultserver import Faults, FaultServer


def test_a_line_over_the_limit_is_one_rejected_record(tmp_path: Path) -> None:
    path = tmp_path / "long.ndjson"
    with path.open("wb") as out:
        out.write(json.dumps(error_event(1)).encode() + b"\n")
        out.write(b'{"type": "track", "pad": "' + b"x" * (MAX_LINE + 5) + b'"}\n')
        out.write(json.dumps(error_event(2)).encode() + b"\n")
    report = run_replay(ReplayOptions(paths=(str(path),), dry_run=True), ReplayIO())
    assert report.rejected == {"line_too_long": 1}
    assert report.outcomes == {"would_send": 2, "rejected": 1}
    assert report.lines == 3


def signal_and_wait(process: "subprocess.Popen[str]", signum: int) -> tuple[str, str, float]:
    """Send `signum`; the run's stdout, stderr, and the seconds it took to end."""
    signalled = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    return out, err, time.monotonic() - signalled


def _wait_for_cpu(process: "subprocess.Popen[str]", seconds: float) -> None:
    """Let the run get going (reading what it is given) before it is signalled."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)


def _wait_for_cpu_time(process: "subprocess.Popen[str]", seconds: float) -> None:
    """Let a busy run get going: until it has used `seconds` of CPU time, so a slow start on a
    loaded machine (the signal arriving before its handlers exist) is not mistaken for it."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            break
        if (int(fields[11]) + int(fields[12])) / ticks >= seconds:  # utime + stime
            return
        time.sleep(0.05)


def test_an_endless_line_is_read_in_bounded_memory_and_sigterm_is_answered() -> None:
    with open("/dev/zero", "rb") as zeros:
        process = start("-", "--dry-run", stdin=zeros)
        _wait_for_cpu_time(process, 1.5)  # by then hundreds of MB went by
        peak = peak_rss_kib(process.pid)
        out, err, answered = signal_and_wait(process, signal.SIGTERM)
    report = json.loads(out)
    assert process.returncode == 4, err
    assert answered < ANSWER + TEARDOWN_MARGIN
    assert report["interrupted"] is True
    assert peak < 300 * 1024  # KiB: a line of zeros never grows the process


def peak_rss_kib(pid: int) -> int:
    """The process's own peak resident size (VmHWM: since its exec, not its parent's)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def test_a_flood_of_blank_lines_still_answers_sigterm(tmp_path: Path) -> None:
    flood = tmp_path / "blank.json.gz"
    with gzip.open(flood, "wb", compresslevel=9) as packed:
        for _ in range(400):
            packed.write(b"\n" * (1024 * 1024))  # 400 MiB of blank lines, 400 KiB on disk
    process = start(str(flood), "--dry-run")
    _wait_for_cpu_time(process, 1.0)
    out, err, answered = signal_and_wait(process, signal.SIGTERM)
    assert answered < ANSWER + TEARDOWN_MARGIN
    assert process.returncode == 4, err
    assert json.loads(out)["records"] == 0


def test_fifos_in_a_directory_are_skipped_and_a_named_fifo_is_read(
    tmp_path: Path, write_dump: Callable[..., Path]
) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "events.ndjson").write_text(json.dumps(error_event(1)) + "\n")
    os.mkfifo(folder / "stuck.ndjson")  # would block the walk forever if opened
    walked = start(str(folder), "--dry-run")
    out, err = walked.communicate(timeout=30)
    report = json.loads(out)
    assert walked.returncode == 0, err
    assert report["records"] == 1
    assert any("stuck.ndjson: skipped, not a regular file" in w for w in report["warnings"])

    fifo = tmp_path / "stream.ndjson"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as writer:  # as `<(aws s3 cp s3://… -)` would
            writer.write(json.dumps(error_event(2)).encode() + b"\n")

    feeder = threading.Thread(target=feed)
    feeder.start()
    named = start(str(fifo), "--dry-run")
    out, err = named.communicate(timeout=30)
    feeder.join(timeout=10)
    assert named.returncode == 0, err
    assert json.loads(out)["outcomes"] == {"would_send": 1}


def test_a_second_run_on_the_same_state_refuses_at_once(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error_event(n) for n in range(30)])
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(latency=0.2)) as server:
        first = start(str(dump), "--state", str(state), "--workers", "1", dsn=server.dsn)
        assert server.sink.wait_stored(1, timeout=30)
        second = start(str(dump), "--state", str(state), dsn=server.dsn)
        _, err = second.communicate(timeout=30)
        posts = server.sink.posts
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    assert second.returncode == 2
    assert err.strip() == (
        f"rudder-sentry: error: {state}: the state file is in use by another rudder-sentry "
        "run; wait for it to finish, or give this one another --state"
    )
    assert posts < 30  # the second run sent nothing
    assert server.sink.accepted_duplicates == 0


@pytest.mark.parametrize(
    ("retry_after", "rate_limits"),
    [
        ("0", None),
        ("-5", None),
        ("nan", None),
        ("Thu, 01 Jan 1970 00:00:01 GMT", None),
        ("0", "60:transaction:key"),  # names a category our events are not in
    ],
)
def test_a_429_without_a_usable_limit_is_no_request_storm(
    retry_after: str, rate_limits: str | None, write_dump: Callable[..., Path]
) -> None:
    dump = write_dump([error_event(n) for n in range(4)])
    faults = Faults(p429=1.0, retry_after=retry_after, rate_limits=rate_limits)
    with FaultServer(faults) as server:
        process = start(str(dump), "--no-state", dsn=server.dsn)
        _wait_for_cpu(process, 2.0)
        out, err, answered = signal_and_wait(process, signal.SIGINT)
    assert answered < ANSWER + TEARDOWN_MARGIN  # answered during the 60 s wait
    assert process.returncode == 4, err
    assert server.sink.posts <= 4  # one attempt each, then the 60 s default wait
    report = json.loads(out)
    assert report["failed"] == {"interrupted": 4}


def catastrophic(n: int) -> dict[str, Any]:
    """An error whose message makes /(a+)+$/ backtrack for minutes."""
    return error_event(n, properties={"message": "a" * 40 + "!"})


def test_a_runaway_regex_fails_its_event_and_the_run_goes_on(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([catastrophic(1), error_event(2)])
    failures = tmp_path / "failures.jsonl"
    process = start(
        str(dump), "--dry-run", "--ignore-error", "/(a+)+$/", "--failures", str(failures)
    )
    started = time.monotonic()
    out, err = process.communicate(timeout=60)
    report = json.loads(out)
    assert time.monotonic() - started < 10  # not minutes
    assert process.returncode == 1, err
    assert report["outcomes"] == {"failed": 1, "would_send": 1}
    assert report["failed"] == {"regex_timeout": 1}
    assert report["failures"][0]["detail"] == "ignoreErrors entry '/(a+)+$/'"
    assert any(w.startswith("ignoreErrors entry '/(a+)+$/' ran over") for w in report["warnings"])
    kept = json.loads(failures.read_text())
    assert kept["event_payload"]["messageId"] == "m1"  # replayable once the entry is fixed
    assert kept["failure"]["reason"] == "regex_timeout"


def test_sigint_is_answered_within_a_second_inside_a_runaway_regex(
    write_dump: Callable[..., Path],
) -> None:
    dump = write_dump([catastrophic(n) for n in range(20)])
    process = start(str(dump), "--dry-run", "--ignore-error", "/(a+)+$/")
    _wait_for_cpu_time(process, 1.0)
    out, err, answered = signal_and_wait(process, signal.SIGINT)
    assert answered < 1.0 + ANSWER + TEARDOWN_MARGIN  # the budget (1 s) ends the match first
    assert process.returncode == 4, err
    report = json.loads(out)
    assert sum(report["outcomes"].values()) == report["records"] < 20


def test_sigterm_while_requests_hang_is_answered_and_the_rerun_finishes(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error_event(n) for n in range(10)])
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(latency=30)) as silent:  # accepts, then never answers in time
        process = start(str(dump), "--state", str(state), dsn=silent.dsn)
        deadline = time.monotonic() + 20
        while silent.sink.posts < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        out, err, answered = signal_and_wait(process, signal.SIGTERM)
    report = json.loads(out)
    assert process.returncode == 4, err
    # the requests in flight get STOP_GRACE to be answered (they never are, here)
    assert answered < STOP_GRACE + ANSWER + TEARDOWN_MARGIN
    assert report["failed"] == {"interrupted": 10}
    with FaultServer() as good:
        rerun = start(str(dump), "--state", str(state), dsn=good.dsn)
        out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert len(good.sink.stored) == 10
    assert good.sink.accepted_duplicates == 0


def test_nesting_deeper_than_the_engine_walks_is_a_rejection(tmp_path: Path) -> None:
    exception = '{"cause":' * 1010 + '{"type":"Error","value":"x"}' + "}" * 1010
    deep = json.dumps(error_event(1, properties={"exception": "HOLE"})).replace('"HOLE"', exception)
    beyond = "[" * 5000 + "]" * 5000  # deeper than orjson reads
    dump = tmp_path / "deep.ndjson"
    dump.write_text(f"{deep}\n{beyond}\n{json.dumps(error_event(2))}\n")
    process = start(str(dump), "--dry-run")
    out, err = process.communicate(timeout=60)
    report = json.loads(out)
    assert process.returncode == 3, err
    assert report["rejected"] == {"too_deep": 2}
    assert report["outcomes"] == {"rejected": 2, "would_send": 1}
    assert "Traceback" not in err


def test_a_second_signal_exits_at_once_with_the_state_written(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error_event(n) for n in range(200)])
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(latency=0.05)) as slow:
        process = start(str(dump), "--state", str(state), "--workers", "2", dsn=slow.dsn)
        assert slow.sink.wait_stored(20, timeout=30)
        process.send_signal(signal.SIGINT)
        out, err, answered = signal_and_wait(process, signal.SIGINT)
        sent_before = len(slow.sink.stored)
    assert process.returncode == 4, err
    assert answered < ANSWER + TEARDOWN_MARGIN
    with FaultServer() as good:
        rerun = start(str(dump), "--state", str(state), dsn=good.dsn)
        out, err = rerun.communicate(timeout=60)
    report = json.loads(out)
    assert rerun.returncode == 0, err
    assert report["outcomes"]["sent"] + report["outcomes"].get("already_sent", 0) == 200
    assert report["outcomes"].get("already_sent", 0) >= sent_before - 4  # all but in flight
