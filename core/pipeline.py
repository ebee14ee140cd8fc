"""The per-record loop: read → decide → dedupe → send (or record) → account. Streaming.

Every record ends in exactly one outcome, counted in the report. Memory grows with the number
of visitors (the engine's state) and the ids sent in this run, never with the events read.
An output that cannot be written stops the loop like an interruption (core/sinks.py).
"""

import contextlib
import functools
import io
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, BinaryIO, Protocol

import orjson

from core.delivery.policy import PROXY_AUTH
from core.delivery.seam import SESSION, Parcel, Receipt, Sender
from core.event.timestamps import event_time
from core.input.background import BackgroundStream, ReadStopped, call_waiting
from core.input.cloud import is_cloud, open_object
from core.input.dump import DumpReader, open_dump
from core.input.layouts import Window
from core.input.paths import STDIN
from core.input.records import Record, raw_text
from core.outcome import FailKind, Failure, Outcome, RejectReason
from core.report import Report
from core.rules.budget import BudgetExceededError
from core.rules.engine import Engine
from core.rules.sessions import SessionItem, moment_of
from core.shard import Shard, counts_visitorless
from core.sinks import Sink
from core.state import NEW, THIS_RUN, Ledger

MAX_EVENT_BYTES = 1024 * 1024  # Relay's limit for one event item (Relay's `max_event_size`)
PROGRESS_EVERY = 1000


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for the progress display."""

    records: int
    sent: int  # or, in a dry-run, would be sent
    failed: int
    rejected: int
    status: str
    dry_run: bool = False


@dataclass
class ReplayIO:
    """Where a run reads from and writes to; the CLI opens these."""

    stdin: BinaryIO | None = None
    output: Sink | None = None
    rejects: Sink | None = None
    failures: Sink | None = None
    explain: Sink | None = None
    progress: Callable[[Progress], None] | None = None
    notice: Callable[[str], None] | None = None  # one line for the user, now (a long wait)
    stop: threading.Event = field(default_factory=threading.Event)

    def sinks(self) -> list[Sink]:
        """The outputs that are open."""
        return [s for s in (self.output, self.rejects, self.failures, self.explain) if s]


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` (reading ends, the run finishes cleanly); a second one raises
    KeyboardInterrupt (abort at once, with the state written)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class ReadCounts(Protocol):
    """Where read_records counts the files it opens and the lines it reads."""

    files: int
    lines: int


def read_records(
    paths: list[str],
    stdin: BinaryIO | None,
    shard: Shard | None,
    halted: Callable[[], bool],
    counts: ReadCounts,
    idle: Callable[[], None] = lambda: None,
) -> Iterator[Record]:
    """The records of every path in order (files, object-storage URLs, `-`), until `halted`
    says stop (asked between files, by the reader once a chunk, and while a read waits). Each
    source is read by a thread of its own (core/input/background.py), `idle` called while its
    reads wait; a run that stops then ends the iteration (ReadStopped is not an input error).
    A path that cannot be opened or read is one `truncated_input` record (shard 0's)."""
    for path in paths:
        if halted():
            return
        counts.files += 1
        source = "<stdin>" if path == STDIN else path
        try:
            raw = call_waiting(functools.partial(_opened, path, stdin), idle, halted)
            with contextlib.closing(raw):
                stream = BackgroundStream(raw, idle, halted)
                reader = DumpReader(open_dump(stream), source, halted, shard)
                try:
                    yield from reader
                finally:
                    counts.lines += reader.lines
                    stream.close()
        except ReadStopped:
            return
        except OSError as exc:
            if counts_visitorless(shard):
                yield Record(source, 0, reason=RejectReason.TRUNCATED_INPUT, detail=str(exc))


class _Unclosed(io.RawIOBase):
    """Standard input as a raw stream that closing leaves open (it is not the run's to close,
    and a buffered reader's lock would hold a close while its thread waits in a read)."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        read1 = getattr(self._stream, "read1", None)  # a pipe: what has come, not a full buffer
        return read1(size) if read1 is not None else self._stream.read(size)


def _opened(path: str, stdin: BinaryIO | None) -> Any:
    """The raw stream of a path: standard input (never closed), an object, or a file (each
    unbuffered: a thread of its own reads it in 1 MiB chunks)."""
    if path == STDIN:
        if stdin is None:
            raise OSError("no standard input")
        try:
            return io.FileIO(stdin.fileno(), "rb", closefd=False)
        except (OSError, ValueError, AttributeError):  # not a descriptor: a test's stream
            return _Unclosed(stdin)
    if is_cloud(path):
        return open_object(path)
    return open(path, "rb", buffering=0)


class Settled:
    """How a record ended: its outcome, the --explain detail, the rule that decided (an
    option and its entry, for drops) and the Sentry event's JSON when it was sent."""

    __slots__ = ("detail", "outcome", "payload", "rule")

    def __init__(self, outcome: Outcome, detail: str, rule: str = "", payload: bytes = b"") -> None:
        self.outcome = outcome
        self.detail = detail
        self.rule = rule
        self.payload = payload


class Pipeline:
    """The per-record loop and its bookkeeping."""

    def __init__(
        self,
        io: ReplayIO,
        engine: Engine,
        ledger: Ledger,
        sender: Sender,
        report: Report,
        *,
        limit: int | None = None,
        strict: bool = False,
        window: Window | None = None,
        shard: Shard | None = None,
        on_settled: "Callable[[Settled], None] | None" = None,
    ) -> None:
        self.io = io
        self.shard = shard
        self.strict = strict
        self.window = window if window is not None and not window.is_open else None
        self.engine = engine
        self.ledger = ledger
        self.sender = sender
        self.report = report
        self.inflight: dict[str, dict[str, Any]] = {}  # event id → the input event
        self.sent = 0
        self.stopping = False
        sender.on_wait = self.tick
        sender.on_notice = io.notice
        # bound once: the per-record path is the hot path of the whole tool
        self.outcomes = report.outcomes
        self.by_type = report.by_type
        self.stop_requested = io.stop.is_set
        self.limit = limit
        # told each record's outcome, with its detail, rule and payload (`diff` listens)
        self.on_settled = on_settled
        self.explaining = io.explain is not None or on_settled is not None
        for sink in io.sinks():
            sink.on_error = self._output_failed
        ledger.on_error = self._state_failed

    def read_all(self, paths: list[str]) -> None:
        """Read every path in order until done, stopped, or interrupted; while a read waits,
        answers are collected, ids committed and progress shown (as during a sender's waits)."""
        halted, idle = self.halted, self.tick
        for record in read_records(paths, self.io.stdin, self.shard, halted, self.report, idle):
            self.handle(record)
            if self.stopping:
                break

    def halted(self) -> bool:
        """Whether reading should stop: the run is stopping, or a stop was asked for."""
        return self.stopping or self.stop_requested()

    def handle(self, record: Record) -> None:
        """Give one record its outcome (now, or when its delivery finishes)."""
        report = self.report
        report.records += 1
        if record.reason is not None:
            self._reject(record, record.reason, record.detail, record.raw)
        else:
            self.by_type[record.type] += 1
            try:
                self._decide(record)
            except BudgetExceededError as exc:
                self._over_budget(record, exc)
            except (RecursionError, TypeError) as exc:  # orjson's TypeError: the same depth
                detail = f"nested deeper than the engine walks ({exc})"
                self._reject(record, RejectReason.TOO_DEEP, detail)
            except Exception as exc:  # the per-record guard: a bug must not lose the run
                failure = Failure(FailKind.INTERNAL, detail=type(exc).__name__)
                report.count_failed(failure.reason, record.where(), "")
                self._explain(record, Outcome.FAILED, f"internal error: {exc}", failure.reason)
        if report.records % PROGRESS_EVERY == 0:
            self._collect()
            self._progress()
        if self.stop_requested():
            self.report.interrupted = True
            self.stopping = True
        elif self.limit is not None and report.records >= self.limit:
            report.stopped = f"--limit {self.limit} reached"
            self.stopping = True

    def _in_window(self, record: Record) -> bool:
        """The event's time (docs/behaviour.md, "Event ids and timestamps") is in the window; an
        event with none is not."""
        assert record.event is not None
        assert self.window is not None
        moment = event_time(record.event, record.created_at)
        return moment is not None and self.window.holds(moment)

    def _over_budget(self, record: Record, exceeded: BudgetExceededError) -> None:
        """An event whose regex work ran too long fails, and stays replayable."""
        what = self.engine.label(exceeded)
        failure = Failure(FailKind.REGEX_TIMEOUT, detail=what)
        self.report.count_failed(failure.reason, record.where(), "", what)
        warning = f"{what} ran over the time budget of an event; such events fail (regex_timeout)"
        if warning not in self.report.warnings:
            self.report.warnings.append(warning)
        if self.io.failures is not None and record.event is not None:
            self.io.failures.write(_failure_line(record.event, failure))
        self._explain(record, Outcome.FAILED, f"regex_timeout: {what}", failure.reason)

    def _decide(self, record: Record) -> None:
        # decided outside the window too: the visitor's scope moves on
        decision = self.engine.decide(record)
        if decision.sessions:
            self._send_sessions(record, decision.sessions)
        if self.window is not None and not self._in_window(record):
            self.outcomes[Outcome.OUTSIDE_WINDOW] += 1
            if self.explaining:
                detail = "outside --since/--until"
                self._explain(record, Outcome.OUTSIDE_WINDOW, detail, "--since/--until")
            return
        sentry = decision.sentry_event
        if sentry is None:
            self.outcomes[decision.outcome] += 1
            if self.explaining:
                self._explain(record, decision.outcome, decision.detail, decision.rule)
            return
        payload = orjson.dumps(sentry)
        if len(payload) > MAX_EVENT_BYTES:
            detail = f"the Sentry event is {len(payload)} bytes (limit {MAX_EVENT_BYTES})"
            self._reject(record, RejectReason.EVENT_TOO_LARGE, detail)
            return
        event_id = sentry["event_id"]
        seen = THIS_RUN if event_id in self.inflight else self.ledger.seen(event_id)
        if seen is not NEW:
            outcome = Outcome.DUPLICATE if seen is THIS_RUN else Outcome.ALREADY_SENT
            self.report.count(outcome)
            self._explain(record, outcome, f"event {event_id}, sent by {seen}", "state")
            return
        assert record.event is not None
        self.inflight[event_id] = record.event
        parcel = Parcel(
            event_id=event_id,
            payload=payload,
            where=record.where(),
            record_type=record.type,
            message_id=message_id_of(record.event),
            detail=f"{decision.kind} {event_id}: {decision.detail}" if self.io.explain else "",
            older=decision.older,
        )
        self.sender.submit(parcel)
        self._collect()

    def _send_sessions(self, record: Record, items: list[SessionItem]) -> None:
        """The release-health updates a record made: each sent once (the state file records
        them as it records events), those timed outside --since/--until not at all."""
        message_id, where = message_id_of(record.event), record.where()
        for item in items:
            if self.window is not None and not self.window.holds(moment_of(item.moment_ms)):
                continue
            if self.ledger.known(item.item_id):
                self.report.sessions_already_sent += 1
                continue
            parcel = Parcel(
                item.item_id, item.payload, where, "session", message_id, "", False, SESSION
            )
            self.sender.submit(parcel)

    def tick(self) -> None:
        """While the sender waits: collect answers, commit accepted ids, show progress."""
        self._collect()
        self.ledger.tick()
        self._progress()

    def _collect(self, done: list[Receipt] | None = None) -> None:
        for item in self.sender.completed() if done is None else done:
            self._complete(item)

    def _complete(self, done: Receipt) -> None:
        parcel = done.parcel
        if parcel.category == SESSION:
            self._complete_session(done)
            return
        event = self.inflight.pop(parcel.event_id, None)
        report = self.report
        failure = done.failure
        if failure is None:
            self.ledger.mark(parcel.event_id)
            outcome = Outcome.WOULD_SEND if report.dry_run else Outcome.SENT
            report.count(outcome)
            self.sent += 1
            if parcel.older:
                report.older_than_retention += 1
            if self.io.output is not None:
                self.io.output.write(parcel.payload + b"\n")
        else:
            outcome = Outcome.FAILED
            report.count_failed(failure.reason, parcel.where, parcel.event_id, failure.detail)
            self._stop_if_refused(failure)
            if self.io.failures is not None and event is not None:
                self.io.failures.write(_failure_line(event, failure))
        if self.explaining:
            detail = parcel.detail if failure is None else failure.reason
            self._explain_line(parcel.where, parcel.record_type, parcel.message_id, outcome, detail)
            if self.on_settled is not None:
                rule = "" if failure is None else failure.reason
                self.on_settled(
                    Settled(outcome, detail, rule, parcel.payload if failure is None else b"")
                )

    def _complete_session(self, done: Receipt) -> None:
        """A session update delivered, or not: no record's outcome (sessions are not records);
        a failed one is listed, and a re-run of the same command sends it again."""
        parcel, failure, report = done.parcel, done.failure, self.report
        if failure is None:
            self.ledger.mark(parcel.event_id)
            report.sessions += 1
            if self.io.output is not None:
                self.io.output.write(parcel.payload + b"\n")
        else:
            report.count_session_failed(
                failure.reason, parcel.where, parcel.event_id, failure.detail
            )
            self._stop_if_refused(failure)

    def _stop_if_refused(self, failure: Failure) -> None:
        """A refused DSN or an untrusted TLS stops the run (exit 2)."""
        report = self.report
        if failure.stops_the_run and not report.refused:
            report.refused = _refusal(failure)
            report.stopped = report.refused
            self.stopping = True

    def _output_failed(self, sink: Sink) -> None:
        """An output broke: stop like an interruption; the first broken output is the reason."""
        if not self.report.output_error:
            self.report.output_error = sink.reason
        self.report.interrupted = True
        self.stopping = True
        self.io.stop.set()  # the sender abandons what it has not sent

    def _state_failed(self, reason: str) -> None:
        """A commit of accepted ids failed: stop at once, so little more is sent unrecorded."""
        self.report.stopped = reason
        self.report.interrupted = True
        self.stopping = True
        self.io.stop.set()

    def finish(self) -> None:
        """Drain the senders: wait for queued parcels, or abandon them when interrupted."""
        self._collect(self.sender.finish(abandon=self.report.interrupted))
        if self.io.stop.is_set():  # a signal, a broken output, or the sender gave up
            self.report.interrupted = True
        if self.sender.gave_up and not self.report.stopped:
            self.report.stopped = self.sender.gave_up
        for sink in self.io.sinks():
            sink.flush()
        self.report.visitors = self.engine.visitor_count
        self.report.retries = self.sender.retries
        self.report.breadcrumb_texts_not_kept = self.engine.texts.dropped
        self.report.sessions_too_old = self.engine.sessions_too_old
        self._progress()

    def _reject(
        self, record: Record, reason: RejectReason, detail: str, raw: str | None = None
    ) -> None:
        self.report.count_rejected(reason.value)
        if raw is None:
            raw = _event_raw(record.event)
        if self.io.rejects is not None:
            line = {"source": record.source, "line": record.line, "reason": reason.value}
            self.io.rejects.write(orjson.dumps({**line, "raw": raw, "detail": detail}) + b"\n")
        self._explain(record, Outcome.REJECTED, f"{reason.value}: {detail}", reason.value)
        if self.strict:
            self.report.stopped = f"--strict: {record.where()} was rejected"
            self.stopping = True

    def _explain(self, record: Record, outcome: Outcome, detail: str, rule: str = "") -> None:
        if self.io.explain is not None:
            self._explain_line(
                record.where(), record.type, message_id_of(record.event), outcome, detail
            )
        if self.on_settled is not None:
            self.on_settled(Settled(outcome, detail, rule))

    def _explain_line(
        self, where: str, kind: str, message_id: str, outcome: Outcome, detail: str
    ) -> None:
        """`source:line`, type, messageId, outcome, detail: tab-separated, one line."""
        if self.io.explain is not None:
            fields = (where, kind or "-", message_id or "-", outcome.value, detail)
            line = "\t".join(one_line(field) for field in fields) + "\n"
            self.io.explain.write(line.encode("utf-8", "backslashreplace"))

    def _progress(self) -> None:
        if self.io.progress is not None:
            report = self.report
            self.io.progress(
                Progress(
                    records=report.records,
                    sent=self.sent,
                    failed=sum(report.failed.values()),
                    rejected=sum(report.rejected.values()),
                    status=self.sender.status(),
                    dry_run=report.dry_run,
                )
            )


def _failure_line(event: dict[str, Any], failure: Failure) -> bytes:
    """A `--failures` line: the input event as a jobs-db row (which `replay` unwraps back to
    the event itself, so the file replays as it is) with why its delivery failed."""
    why = {"reason": failure.reason}
    if failure.detail:
        why["answer"] = failure.detail
    return orjson.dumps({"event_payload": event, "failure": why}) + b"\n"


def _refusal(failure: Failure) -> str:
    if failure.kind is FailKind.AUTH and failure.status == PROXY_AUTH:
        return "the proxy refused us (HTTP 407): give --proxy its user and password"
    if failure.kind is FailKind.AUTH:
        return f"Sentry refused the DSN (HTTP {failure.status}): the key or project is wrong"
    return f"TLS with Sentry failed: {failure.detail}"


def message_id_of(event: dict[str, Any] | None) -> str:
    """The event's messageId when it is a string ("" otherwise)."""
    message_id = event.get("messageId") if event is not None else None
    return message_id if isinstance(message_id, str) else ""


def one_line(text: str) -> str:
    """A field of an --explain line: tabs and line breaks as spaces."""
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _event_raw(event: dict[str, Any] | None) -> str:
    if event is None:
        return ""
    try:
        return raw_text(orjson.dumps(event))
    except TypeError:
        return "<too deeply nested to serialize>"
