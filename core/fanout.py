"""`--jobs N`: one replay (or diff) decided by N processes, each owning a shard of the visitors
(docs/scale-out.md).

The parent lists the input once and hands every job the same files. The jobs are forked before
any thread starts; each runs the whole replay (core/run.py) or diff (core/diff.py) over all the
input, deciding only its shard's visitors (core/shard.py), a replay with its own state file.
What a job writes (--output, --explain, --rejects, --failures lines, progress, notices, its
report) comes to this process as frames on a pipe, one pipe per job, and goes on to the real
outputs here, so a visitor's lines stay in input order. The reports merge into one; the exit
code is the merged report's. A stop (SIGINT/SIGTERM here, or an output that fails) is passed on
to every job as SIGTERM; a second one makes them abort at once, as a single run does.
"""

import contextlib
import os
import selectors
import signal
import struct
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

import orjson

from core.diff import DiffOptions, DiffReport, diff_from_json, merge_diffs, run_diff
from core.errors import ConfigError, ExitCode, RudderSentryError, UsageError
from core.input.paths import STDIN, Expansion, expand_paths
from core.pipeline import Progress, ReplayIO, stop_on_signals
from core.report import Report, merge_reports, report_from_json
from core.run import ReplayOptions, check_jobs, run_replay
from core.shard import Shard
from core.sinks import Sink

_HEADER = struct.Struct("<BI")  # channel, payload length
OUTPUT, REJECTS, FAILURES, EXPLAIN, PROGRESS, NOTICE, REPORT, ERROR = range(1, 9)
_SINKS = {  # channel: (the ReplayIO attribute, the sink's name)
    OUTPUT: ("output", "--output"),
    REJECTS: ("rejects", "--rejects"),
    FAILURES: ("failures", "--failures"),
    EXPLAIN: ("explain", "--explain (stderr)"),
}
_STOP_GRACE = 0.2  # seconds between polls of the stop flag


class _FrameWriter:
    """A job's end of its pipe: each write is one frame (writes come from one thread at a time;
    the lock keeps a progress frame from cutting into an output frame)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, channel: int, payload: bytes) -> None:
        data = _HEADER.pack(channel, len(payload)) + payload
        with self.lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]


class _ChannelStream:
    """A file-like stream whose writes become frames of one channel (for a job's Sinks)."""

    def __init__(self, writer: _FrameWriter, channel: int) -> None:
        self.writer, self.channel = writer, channel

    def write(self, data: bytes) -> int:
        self.writer.send(self.channel, bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class Reported(Protocol):
    """What a job's run returns: a report that travels as JSON."""

    interrupted: bool
    shard: str

    def to_json(self) -> dict[str, Any]: ...

    def add_note(self, note: str) -> None: ...


R = TypeVar("R", bound=Reported)


@dataclass(frozen=True)
class Work(Generic[R]):
    """What the jobs run: each job's whole run, its report's way back, and the merge."""

    runs: list[Callable[[ReplayIO], R]]  # one per job
    from_json: Callable[[dict[str, Any]], R]
    merge: Callable[[list[R]], R]


def replay_work(options: ReplayOptions, count: int, io: ReplayIO) -> Work[Report]:
    """`replay --jobs`: the input listed once here; each job a shard with its state file."""
    if STDIN in options.paths:
        raise UsageError("--jobs reads the input once per job: give files, not -")
    if options.limit is not None or options.strict:
        raise UsageError("--limit and --strict stop one process: use them without --jobs")
    expansion, states = check_jobs(options, io, count)
    runs = [
        _replay_run(
            replace(
                options,
                shard=options.shard.job(number, count),
                state_path=str(state) if state is not None else None,
            ),
            expansion,
        )
        for number, state in enumerate(states)
    ]
    return Work(runs, report_from_json, merge_reports)


def _replay_run(options: ReplayOptions, expansion: Expansion) -> Callable[[ReplayIO], Report]:
    return lambda io: run_replay(options, io, expansion=expansion)


def diff_work(
    options: DiffOptions, count: int, io: ReplayIO, *, exit_on_change: bool
) -> Work[DiffReport]:
    """`diff --jobs`: the input listed once here; each job a shard of both sides."""
    if STDIN in options.replay.paths:
        raise UsageError("--jobs reads the input once per job: give files, not -")
    options.sides()  # a config that cannot be loaded fails here, once
    expansion = expand_paths(list(options.replay.paths), options.replay.window, io.stop.is_set)
    runs = [
        _diff_run(
            replace(
                options, replay=replace(options.replay, shard=options.replay.shard.job(n, count))
            ),
            expansion,
            exit_on_change,
        )
        for n in range(count)
    ]

    def merge(reports: list[DiffReport]) -> DiffReport:
        merged = merge_diffs(reports)
        merged.exit_on_change = exit_on_change
        return merged

    return Work(runs, diff_from_json, merge)


def _diff_run(
    options: DiffOptions, expansion: Expansion, exit_on_change: bool
) -> Callable[[ReplayIO], DiffReport]:
    return lambda io: run_diff(options, io, expansion=expansion, exit_on_change=exit_on_change)


@dataclass
class _Job(Generic[R]):
    number: int
    pid: int
    fd: int
    buffer: bytearray
    report: R | None = None
    error: tuple[int, str] | None = None
    progress: Progress | None = None
    status: int | None = None  # as os.waitpid gives it, once reaped


class Jobs(Generic[R]):
    """N forked jobs of one run; `collect` routes their frames and merges their reports."""

    def __init__(self, work: Work[R], io: ReplayIO, shard: Shard) -> None:
        self.work = work
        wanted = {c for c, (name, _) in _SINKS.items() if getattr(io, name) is not None}
        self.jobs: list[_Job[R]] = []
        for number, run in enumerate(work.runs):
            self.jobs.append(_fork(number, run, wanted, [j.fd for j in self.jobs]))
        self.signalled = 0  # stops passed on to the jobs
        self.shard = shard  # what the jobs split

    def collect(self, io: ReplayIO) -> R:
        """Route the jobs' frames until every job has ended; the merged report."""
        failed_output: list[Sink] = []
        for sink in io.sinks():
            sink.on_error = failed_output.append
        selector = selectors.DefaultSelector()
        for job in self.jobs:
            selector.register(job.fd, selectors.EVENT_READ, job)
        try:
            while selector.get_map():
                if (io.stop.is_set() or failed_output) and not self.signalled:
                    self._signal_all()
                for key, _ in selector.select(_STOP_GRACE):
                    job = key.data
                    chunk = os.read(job.fd, 1 << 16)
                    if not chunk:
                        selector.unregister(job.fd)
                        continue
                    job.buffer += chunk
                    self._route(job, io)
        except KeyboardInterrupt:  # a second signal: the jobs abort at once, then so do we
            self._signal_all()
            self._reap()
            raise
        finally:
            selector.close()
        self._reap()
        return self._merged(failed_output)

    def _route(self, job: _Job[R], io: ReplayIO) -> None:
        buffer, start = job.buffer, 0
        while len(buffer) - start >= _HEADER.size:
            channel, size = _HEADER.unpack_from(buffer, start)
            end = start + _HEADER.size + size
            if len(buffer) < end:
                break  # the rest of this frame comes with the next chunk
            self._deliver(job, channel, bytes(buffer[start + _HEADER.size : end]), io)
            start = end
        del buffer[:start]

    def _deliver(self, job: _Job[R], channel: int, payload: bytes, io: ReplayIO) -> None:
        """One frame from a job, to where it goes."""
        if channel in _SINKS:
            sink = getattr(io, _SINKS[channel][0])
            if sink is not None:
                sink.write(payload)
        elif channel == PROGRESS:
            job.progress = Progress(**orjson.loads(payload))
            if io.progress is not None:
                io.progress(self._progress())
        elif channel == NOTICE and io.notice is not None:
            io.notice(payload.decode())
        elif channel == REPORT:
            job.report = self.work.from_json(orjson.loads(payload))
        elif channel == ERROR:
            found = orjson.loads(payload)
            job.error = (int(found["code"]), str(found["message"]))

    def _progress(self) -> Progress:
        shown = [job.progress for job in self.jobs if job.progress is not None]
        return Progress(
            records=sum(p.records for p in shown),
            sent=sum(p.sent for p in shown),
            failed=sum(p.failed for p in shown),
            rejected=sum(p.rejected for p in shown),
            status=next((p.status for p in shown if p.status), ""),
            dry_run=any(p.dry_run for p in shown),
        )

    def _signal_all(self) -> None:
        self.signalled += 1
        for job in self.jobs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(job.pid, signal.SIGTERM)

    def _reap(self) -> None:
        for job in self.jobs:
            if job.status is None:
                with contextlib.suppress(ChildProcessError):
                    job.status = os.waitpid(job.pid, 0)[1]
            with contextlib.suppress(OSError):
                os.close(job.fd)

    def _merged(self, failed_output: list[Sink]) -> R:
        """The survivors' reports merged; a job that ended without one (killed, or stopped by
        an error of its own) is named in a note and makes the run interrupted (exit 4). A
        config the jobs could not use stops the whole run, as it would a single one."""
        errors = [job.error for job in self.jobs if job.error is not None]
        usage = [message for code, message in errors if code == ExitCode.USAGE]
        if usage:
            raise ConfigError(usage[0])
        lost = [job for job in self.jobs if job.report is None]
        if len(lost) == len(self.jobs):
            raise JobError(self._lost(lost[0]))
        merged = self.work.merge([job.report for job in self.jobs if job.report is not None])
        for job in lost:
            merged.interrupted = True
            merged.add_note(f"{self._lost(job)}; its records are not counted here")
        merged.shard = "" if self.shard.whole else str(self.shard)
        if failed_output:
            merged.interrupted = True
            if isinstance(merged, Report) and not merged.output_error:
                merged.output_error = failed_output[0].reason
        return merged

    def _lost(self, job: _Job[R]) -> str:
        """Which job ended without a report, and how."""
        shard = self.shard.job(job.number, len(self.jobs))
        which = f"job {job.number + 1} of {len(self.jobs)} (shard {shard})"
        if job.error is not None:
            return f"{which} stopped: {job.error[1]}"
        status = job.status
        if status is not None and os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            with contextlib.suppress(ValueError):
                return f"{which} was killed by {signal.Signals(number).name}"
            return f"{which} was killed by signal {number}"
        if status is not None and os.WIFEXITED(status):
            return f"{which} exited with code {os.WEXITSTATUS(status)} and no report"
        return f"{which} ended without a report"


class JobError(RudderSentryError):
    """A job could not finish (what it wrote is resumable from its state file)."""

    exit_code = ExitCode.INTERRUPTED


def _fork(
    number: int, run: Callable[[ReplayIO], Reported], wanted: set[int], inherited: list[int]
) -> _Job[Any]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return _Job(number, pid, read_fd, bytearray())
    code = int(ExitCode.INTERNAL)  # should anything escape below
    try:
        os.close(read_fd)
        for fd in inherited:
            os.close(fd)
        os.setpgid(0, 0)  # the terminal's Ctrl-C reaches the parent, which passes it on
        code = _run_job(run, _FrameWriter(write_fd), wanted)
    finally:
        os._exit(code)


def _run_job(run: Callable[[ReplayIO], Reported], writer: _FrameWriter, wanted: set[int]) -> int:
    """A job's whole life: the run of its shard, its report sent back."""
    stop = threading.Event()
    io = ReplayIO(stop=stop)
    for channel, (name, label) in _SINKS.items():
        if channel in wanted:
            stream: Any = _ChannelStream(writer, channel)
            setattr(io, name, Sink(label, stream))
    io.progress = _sending(writer, PROGRESS, lambda p: orjson.dumps(asdict(p)), stop)
    io.notice = _sending(writer, NOTICE, str.encode, stop)
    try:
        with stop_on_signals(stop):
            report = run(io)
        writer.send(REPORT, orjson.dumps(report.to_json()))
        return 0
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except RudderSentryError as exc:
        code, message = int(exc.exit_code), str(exc)
    except Exception as exc:  # a bug: one line, never a traceback
        code, message = int(ExitCode.INTERNAL), f"internal error in a job: {exc!r}"
    with contextlib.suppress(OSError):
        writer.send(ERROR, orjson.dumps({"code": code, "message": message}))
    return code


def _sending(
    writer: _FrameWriter, channel: int, encode: Callable[[Any], bytes], stop: threading.Event
) -> Callable[[Any], None]:
    """A callback that sends its argument as a frame; a parent gone stops the job."""

    def send(value: Any) -> None:
        try:
            writer.send(channel, encode(value))
        except OSError:
            stop.set()

    return send
