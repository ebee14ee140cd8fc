"""Real sends to a fault-injecting loopback server: nothing lost, nothing sent twice."""

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import __version__
from core.clock import Clock
from core.config import Overrides
from core.delivery.options import DeliveryOptions
from core.delivery.sender import HttpSender, http_sender
from core.errors import ExitCode
from core.pipeline import ReplayIO
from core.run import ReplayOptions, run_replay
from core.sinks import Sink
from tests.conftest import ROOT
from tests.faultserver import Faults, FaultServer

KEY = "0123456789abcdef0123456789abcdef"


def events(count: int) -> list[dict[str, Any]]:
    """Errors and identifies over a few visitors, each one a distinct Sentry event."""
    lines: list[dict[str, Any]] = []
    for n in range(count):
        anon = f"visitor-{n % 17}"
        if n % 5 == 0:
            lines.append(
                {
                    "type": "identify",
                    "anonymousId": anon,
                    "userId": f"user-{n}",
                    "messageId": f"id-{n}",
                    "originalTimestamp": "2024-05-01T10:00:00Z",
                    "context": {"traits": {"email": f"u{n}@example.org"}},
                }
            )
        else:
            lines.append(
                {
                    "type": "track",
                    "event": "Error",
                    "anonymousId": anon,
                    "messageId": f"m-{n}",
                    "originalTimestamp": "2024-05-01T10:00:00Z",
                    "properties": {
                        "error": {
                            "name": "TypeError",
                            "message": f"boom {n}",
                            "stack": f"TypeError: boom\n    at f (https://a.com/x.js:{n}:1)",
                        }
                    },
                }
            )
    return lines


def send(
    path: Path, dsn: str, state: Path | None, io: ReplayIO | None = None, release: str = ""
) -> Any:
    options = ReplayOptions(
        paths=(str(path),),
        overrides=Overrides(dsn=dsn, release=release or None),
        state_path=str(state) if state else None,
        use_state=state is not None,
        delivery=DeliveryOptions(workers=4),
    )
    # backoff and Retry-After waits pass 20 times faster than real time
    return run_replay(options, io or ReplayIO(), clock=Clock.accelerated(20))


def test_every_event_arrives_exactly_once_despite_faults(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(events(600))
    faults = Faults(
        p429=0.05, retry_after="0.05", rate_limits="0.05:error:key", p503=0.05, pdrop=0.02, seed=11
    )
    with FaultServer(faults) as server:
        report = send(path, server.dsn, tmp_path / "state.sqlite")
    sink = server.sink
    assert report.exit_code is ExitCode.OK
    assert report.outcomes == {"sent": 600}
    # libcurl itself retries, once, a request whose kept-alive connection the server closed
    # before answering: those drops may not reach the sender's count
    assert sink.statuses[429] + sink.statuses[503] <= report.retries
    assert report.retries <= sink.statuses[429] + sink.statuses[503] + sink.drops
    assert len(sink.stored) == 600
    assert sink.accepted_duplicates == 0
    assert sink.statuses[429] > 0
    assert sink.statuses[503] > 0
    assert sink.drops > 0
    client = f"rudder-sentry/{__version__}"
    assert sink.auth_headers == {
        f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client={client}"
    }


def test_lost_responses_are_retried_and_deduplicated_by_id(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(events(200))
    with FaultServer(Faults(pdrop_after_store=0.1, seed=3)) as server:
        report = send(path, server.dsn, tmp_path / "state.sqlite")
    assert report.outcomes == {"sent": 200}
    assert len(server.sink.stored) == 200
    assert server.sink.accepted_duplicates == server.sink.drops > 0  # same ids: Sentry keeps one


def test_a_transaction_limit_does_not_slow_error_events(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(events(100))
    faults = Faults(always_headers={"X-Sentry-Rate-Limits": "86400:transaction;span:organization"})
    senders: list[HttpSender] = []

    def keep_sender(dsn: str, options: DeliveryOptions, stop: Any, clock: Clock) -> HttpSender:
        senders.append(http_sender(dsn, options, stop, clock))
        return senders[0]

    with FaultServer(faults) as server:
        dsn = Overrides(dsn=server.dsn)
        options = ReplayOptions(paths=(str(path),), overrides=dsn, use_state=False)
        report = run_replay(options, ReplayIO(), sender_factory=keep_sender)
    assert report.outcomes == {"sent": 100}
    assert report.retries == 0
    limits, now = senders[0].limits, senders[0].clock.monotonic()
    assert limits.wait_time(now, frozenset({"transaction"})) > 80_000  # recorded...
    assert limits.wait_time(now) == 0  # ...and never applied to error events


def test_state_makes_a_rerun_send_nothing(write_dump: Callable[..., Path], tmp_path: Path) -> None:
    path = write_dump(events(50))
    state = tmp_path / "state.sqlite"
    with FaultServer() as server:
        first = send(path, server.dsn, state)
        posts = server.sink.posts
        second = send(path, server.dsn, state)
    assert first.outcomes == {"sent": 50}
    assert second.outcomes == {"already_sent": 50}
    assert server.sink.posts == posts


def page_loads(visitors: int) -> list[dict[str, Any]]:
    """Recent page loads (sessions older than 5 days are not sent): each visitor loads a page,
    navigates twice (the second starts a session) and hits an error."""
    start = datetime.now(UTC) - timedelta(hours=2)
    lines = []
    for visitor in range(visitors):
        for step, url in enumerate(("/", "/a", "/b", "/b")):
            event: dict[str, Any] = {
                "type": "page" if step < 3 else "track",
                "anonymousId": f"visitor-{visitor}",
                "messageId": f"pl-{visitor}-{step}",
                "originalTimestamp": (start + timedelta(seconds=10 * step)).isoformat(),
                "context": {
                    "page": {"url": f"https://shop.example.com{url}"},
                    "userAgent": "UA/1",
                    "autoTrack": {"page": {"pageViewId": f"pv-{visitor}"}},
                },
            }
            if step == 3:
                event.update(event="Error", properties={"error": f"boom {visitor}"})
            lines.append(event)
    return lines


def test_sessions_are_sent_once_and_a_rerun_sends_none(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(page_loads(6))
    state = tmp_path / "state.sqlite"
    faults = Faults(p429=0.1, p503=0.1, pdrop_after_store=0.05, seed=5)
    with FaultServer(faults) as server:
        first = send(path, server.dsn, state, release="web@1")
        sessions = len(server.sink.sessions)
        second = send(path, server.dsn, state, release="web@1")
    # per page load: init, exited at the second navigation, a new init, its crash
    assert first.sessions == 6 * 4
    assert first.outcomes == {"breadcrumb": 18, "sent": 6}
    assert second.sessions == 0
    assert second.sessions_already_sent == first.sessions
    assert len(server.sink.sessions) == sessions  # nothing more posted
    items = {(s["sid"], s["status"], s["init"]) for s in server.sink.sessions}
    assert len(items) == first.sessions  # a dropped answer is posted again, no item lost
    statuses = sorted(status for _, status, _ in items)
    assert statuses == ["crashed"] * 6 + ["exited"] * 6 + ["ok"] * 12


def test_a_session_rate_limit_does_not_hold_error_events(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(page_loads(5))
    faults = Faults(always_headers={"X-Sentry-Rate-Limits": "0.5:session:key"})
    with FaultServer(faults) as server:
        report = send(path, server.dsn, None, release="web@1")
    assert report.outcomes == {"breadcrumb": 15, "sent": 5}
    assert report.sessions == 20 == len(server.sink.sessions)  # waited for, then sent
    assert report.exit_code is ExitCode.OK


def test_413_is_a_permanent_failure(write_dump: Callable[..., Path], tmp_path: Path) -> None:
    path = write_dump(events(10))
    failures = io.BytesIO()
    with FaultServer(Faults(status=413)) as server:
        report = send(
            path, server.dsn, tmp_path / "s.sqlite", ReplayIO(failures=Sink("--failures", failures))
        )
    assert report.outcomes == {"failed": 10}
    assert report.failed == {"http_413": 10}
    assert report.exit_code is ExitCode.DELIVERY_FAILED
    assert server.sink.posts == 10  # no retries
    lines = [json.loads(line) for line in failures.getvalue().splitlines()]
    assert sorted(line["event_payload"]["messageId"] for line in lines) == sorted(
        e["messageId"] for e in events(10)
    )
    assert {line["failure"]["reason"] for line in lines} == {"http_413"}
    assert {line["failure"]["answer"] for line in lines} == {'{"detail":"fixed status"}'}
    assert report.failures[0]["detail"] == '{"detail":"fixed status"}'
    again = tmp_path / "failures.jsonl"
    again.write_bytes(failures.getvalue())
    retried = run_replay(ReplayOptions(paths=(str(again),), dry_run=True), ReplayIO())
    assert retried.outcomes == {"would_send": 10}  # the failures file replays as it is


def test_a_refused_dsn_stops_the_run(write_dump: Callable[..., Path], tmp_path: Path) -> None:
    path = write_dump(events(300))
    with FaultServer(Faults(status=401)) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli",
                "replay",
                str(path),
                "--dsn",
                server.dsn,
                "--state",
                str(tmp_path / "s.sqlite"),
                "--report",
                "json",
                "--explain",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    report = json.loads(result.stdout)
    assert result.returncode == 2
    assert "refused the DSN (HTTP 401)" in report["stopped"]
    assert sum(report["outcomes"].values()) == report["records"] < 300
    assert server.sink.posts < 20
    assert KEY not in result.stdout + result.stderr


def replay_command(path: Path, state: Path, *args: str) -> list[str]:
    """`rudder-sentry replay PATH --state STATE ARGS --report json` as a process runs it."""
    command = [sys.executable, "-m", "cli", "replay", str(path), "--state", str(state), *args]
    return [*command, "--report", "json", "--no-progress"]


def interrupted_once(
    command: list[str], env: dict[str, str], sink: Any, stored: int
) -> tuple[int, dict[str, Any], str]:
    """Run `command`, SIGINT it once `stored` events reached the sink: exit code, report, stderr."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    assert sink.wait_stored(stored, timeout=30)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return process.returncode, json.loads(out), err


def run_again(command: list[str], env: dict[str, str]) -> "subprocess.CompletedProcess[str]":
    """The same command, run to its end."""
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False
    )


def test_sigint_then_rerun_delivers_everything_once(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(events(400))
    state = tmp_path / "state.sqlite"
    command = replay_command(path, state, "--workers", "2")
    with FaultServer(Faults(latency=0.01)) as server:
        env = {**os.environ, "SENTRY_DSN": server.dsn}
        code, first, err = interrupted_once(command, env, server.sink, stored=40)
        assert code == 4, err
        assert first["interrupted"] is True
        assert sum(first["outcomes"].values()) == first["records"]
        assert 0 < first["outcomes"]["sent"] < 400
        rerun = run_again(command, env)
        second = json.loads(rerun.stdout)
    assert rerun.returncode == 0, rerun.stderr
    assert second["outcomes"]["already_sent"] == first["outcomes"]["sent"]
    assert second["outcomes"]["sent"] + second["outcomes"]["already_sent"] == 400
    assert len(server.sink.stored) == 400
    assert server.sink.accepted_duplicates == 0


def test_after_a_signal_requests_in_flight_are_answered_and_never_posted_again(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    """The first SIGINT starts no new request; those in flight (here 1.5 s from their answer)
    get up to 5 s to be answered and recorded, so the re-run posts none of them again."""
    path = write_dump(events(120))
    state = tmp_path / "state.sqlite"
    command = replay_command(path, state, "--workers", "16")
    with FaultServer(Faults(latency=1.5)) as server:
        env = {**os.environ, "SENTRY_DSN": server.dsn}
        code, first, err = interrupted_once(command, env, server.sink, stored=16)
        posted = server.sink.posts
        rerun = run_again(command, env)
    assert code == 4, err
    assert first["outcomes"]["sent"] == posted  # every request posted was answered and recorded
    assert rerun.returncode == 0, rerun.stderr
    assert server.sink.accepted_duplicates == 0  # nothing stored twice, nothing posted twice
    assert len(server.sink.stored) == 120
