"""Sinks: the one place an output's write can fail, and files put in place only when whole."""

import errno
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.pipeline import ReplayIO
from core.run import ReplayOptions, run_replay
from core.sinks import Sink, open_sink
from tests.conftest import error_event


class FailingStream(io.BytesIO):
    """Takes `room` writes, then fails every write like a full disk."""

    def __init__(self, room: int, error: int = errno.ENOSPC) -> None:
        super().__init__()
        self.room = room
        self.errno = error

    def write(self, data: Any) -> int:
        if self.room <= 0:
            raise OSError(self.errno, "No space left on device")
        self.room -= 1
        return super().write(data)


def test_a_failed_write_breaks_the_sink_once() -> None:
    calls: list[str] = []
    sink = Sink("--output out.jsonl", FailingStream(room=2))
    sink.on_error = lambda broken: calls.append(broken.reason)
    for n in range(5):
        sink.write(b"%d\n" % n)
    assert calls == ["cannot write --output out.jsonl: No space left on device"]
    assert sink.error is not None
    assert not sink.broken_pipe


def test_a_file_is_replaced_only_on_a_clean_close(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    sink = open_sink(str(target), "--output", io.BytesIO())
    sink.write(b"new\n")
    assert target.read_bytes() == b"old\n"  # an interrupted run leaves the old file
    sink.close()
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_a_discarded_or_broken_file_leaves_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    never_started = open_sink(str(target), "--output", io.BytesIO())
    never_started.discard()
    broken = open_sink(str(target), "--output", io.BytesIO())
    broken.write(b"half")
    broken.error = OSError(errno.ENOSPC, "No space left on device")
    broken.close()
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "new.jsonl"
    sink = open_sink(str(target), "--rejects", io.BytesIO())
    sink.close()
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_dash_is_stdout() -> None:
    stdout = io.BytesIO()
    sink = open_sink("-", "--output", stdout)
    sink.write(b"x\n")
    sink.close()
    assert stdout.getvalue() == b"x\n"
    assert sink.name == "--output (stdout)"


@given(room=st.integers(0, 40), which=st.sampled_from(["output", "rejects", "explain"]))
def test_a_broken_output_stops_the_run_and_the_outcomes_add_up(
    room: int, which: str, tmp_path_factory: Any
) -> None:
    lines = [error_event(n) if n % 4 else {"no": "type"} for n in range(60)]
    dump = tmp_path_factory.mktemp("dump") / "d.ndjson"
    dump.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    sink = Sink(f"--{which}", FailingStream(room))
    io_ = ReplayIO()
    setattr(io_, which, sink)
    report = run_replay(ReplayOptions(paths=(str(dump),), dry_run=True), io_)
    assert sum(report.outcomes.values()) == report.records
    assert not report.failed  # nothing is charged to a record
    broke = sink.error is not None
    assert report.interrupted is broke
    assert int(report.exit_code) == (4 if broke else 3)  # 3: the rejected lines
    assert report.output_error == (
        f"cannot write --{which}: No space left on device" if broke else ""
    )


def test_nothing_stops_when_every_write_fits(write_dump: Callable[..., Path]) -> None:
    out = io.BytesIO()
    report = run_replay(
        ReplayOptions(paths=(str(write_dump([error_event(1)])),), dry_run=True),
        ReplayIO(output=Sink("--output", out)),
    )
    assert not report.interrupted
    assert out.getvalue().count(b"\n") == 1
