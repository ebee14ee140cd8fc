"""One replay run: read → decide → dedupe → send (or record) → report. Streaming throughout.

Every record ends in exactly one outcome. Memory grows with the number of visitors (the engine's
state) and the ids sent in this run, never with the number of events read.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from core.config import (
    DestinationConfig,
    LoadedConfig,
    Overrides,
    apply_overrides,
    dsn_problem,
    load_config,
    mask_dsn,
)
from core.delivery import Done, Job, Sender, SyncSender
from core.engine import Engine, EngineOptions
from core.errors import ConfigError
from core.outcome import Outcome, RejectReason
from core.reader import STDIN, DumpReader, Record, expand_paths, open_dump, raw_text
from core.report import Report
from core.state import DEFAULT_STATE_PATH, Ledger
from core.transport import RecordingTransport

MAX_EVENT_BYTES = 1024 * 1024  # Relay's limit for one event item (reference peers §4.2)
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ReplayOptions:
    """Everything `replay` was asked to do, as plain values."""

    paths: tuple[str, ...] = (STDIN,)
    config_path: str | None = None
    destination: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    dry_run: bool = False
    engine: EngineOptions = field(default_factory=EngineOptions)
    state_path: str | None = None
    use_state: bool = True
    workers: int = 4
    rate: float | None = None
    limit: int | None = None
    strict: bool = False


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
    output: BinaryIO | None = None
    rejects: BinaryIO | None = None
    failures: BinaryIO | None = None
    explain: Callable[[str], None] | None = None
    progress: Callable[[Progress], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)


SenderFactory = Callable[[DestinationConfig, ReplayOptions, threading.Event], Sender]


def load_effective_config(options: ReplayOptions) -> DestinationConfig:
    """The selected destination's config with the command-line overrides applied."""
    loaded = (
        load_config(options.config_path, options.destination)
        if options.config_path
        else LoadedConfig({}, DestinationConfig())
    )
    return apply_overrides(loaded.config, options.overrides)


def run_replay(
    options: ReplayOptions,
    io: ReplayIO,
    *,
    now: datetime | None = None,
    sender_factory: SenderFactory | None = None,
) -> Report:
    """Run one replay and return its report. Raises RudderSentryError before reading anything
    when the paths, the config or the DSN are unusable."""
    started = time.monotonic()
    paths = expand_paths(list(options.paths))
    config = load_effective_config(options)
    dry_run = options.dry_run or config.debug_mode
    report = Report(dry_run=dry_run)
    if config.debug_mode and not options.dry_run:
        report.notes.append("debugMode is on in the config: dry-run, nothing is sent")
    if not dry_run:
        check_dsn(config.dsn)
    report.destination = {
        "id": config.destination_id,
        "name": config.destination_name,
        "dsn": mask_dsn(config.dsn),
    }
    engine = Engine(
        config, options.engine, now=now or datetime.now(UTC), explain=io.explain is not None
    )
    report.warnings.extend([*config.warnings, *engine.warnings])
    ledger = _ledger(options, dry_run)
    try:  # the ledger is closed whatever happens: its last batch of accepted ids matters
        sender = _sender(config, options, io, dry_run, sender_factory)
        run = _Run(options, io, engine, ledger, sender, report)
        try:
            run.read_all(paths)
        finally:
            run.finish()
    finally:
        ledger.close()
        report.duration_s = time.monotonic() - started
    return report


def _sender(
    config: DestinationConfig,
    options: ReplayOptions,
    io: ReplayIO,
    dry_run: bool,
    factory: SenderFactory | None,
) -> Sender:
    if dry_run:
        return SyncSender(RecordingTransport())
    if factory is None:
        from core.workers import http_sender  # urllib3 and threads only for real sends

        factory = http_sender
    return factory(config, options, io.stop)


def check_dsn(dsn: str) -> None:
    """A real send needs a DSN that sentry-sdk can parse."""
    if not dsn:
        raise ConfigError("no DSN: set dsn in the config, --dsn or SENTRY_DSN (or use --dry-run)")
    problem = dsn_problem(dsn)
    if problem is not None:
        raise ConfigError(problem)


def _ledger(options: ReplayOptions, dry_run: bool) -> Ledger:
    if not options.use_state:
        return Ledger(None, writable=False)
    if options.state_path is not None:
        return Ledger(Path(options.state_path), writable=not dry_run)
    return Ledger(None if dry_run else DEFAULT_STATE_PATH, writable=not dry_run)


class _Run:
    """The per-record loop and its bookkeeping."""

    def __init__(
        self,
        options: ReplayOptions,
        io: ReplayIO,
        engine: Engine,
        ledger: Ledger,
        sender: Sender,
        report: Report,
    ) -> None:
        self.options = options
        self.io = io
        self.engine = engine
        self.ledger = ledger
        self.sender = sender
        self.report = report
        self.inflight: dict[str, dict[str, Any]] = {}  # event id → the input event
        self.sent = 0
        self.stopping = False
        sender.on_wait = self._tick
        # bound once: the per-record path is the hot path of the whole tool
        self.decide = engine.decide
        self.outcomes = report.outcomes
        self.by_type = report.by_type
        self.stop_requested = io.stop.is_set
        self.limit = options.limit
        self.explaining = io.explain is not None

    def read_all(self, paths: list[str]) -> None:
        """Read every path in order until done, stopped, or interrupted."""
        for path in paths:
            if self.stopping:
                break
            self.report.files += 1
            self._read_path(path)

    def _read_path(self, path: str) -> None:
        source = "<stdin>" if path == STDIN else path
        try:
            if path == STDIN:
                if self.io.stdin is None:
                    raise OSError("no standard input")
                self._read_stream(self.io.stdin, source)
            else:
                with open(path, "rb") as stream:
                    self._read_stream(stream, source)
        except OSError as exc:
            record = Record(source, 0, reason=RejectReason.TRUNCATED_INPUT, detail=str(exc))
            self.handle(record)

    def _read_stream(self, stream: BinaryIO, source: str) -> None:
        reader = DumpReader(open_dump(stream), source)
        try:
            for record in reader:
                self.handle(record)
                if self.stopping:
                    break
        finally:
            self.report.lines += reader.lines

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
            except TypeError as exc:  # orjson: nested deeper than it can serialize
                self._reject(record, RejectReason.EVENT_TOO_LARGE, f"cannot serialize: {exc}")
            except Exception as exc:  # the per-record guard: a bug must not lose the run
                report.count_failed(f"internal_error:{type(exc).__name__}", _where(record), "")
                self._explain(record, Outcome.FAILED, f"internal error: {exc}")
        if report.records % PROGRESS_EVERY == 0:
            self._collect()
            self._progress()
        if self.stop_requested():
            self.report.interrupted = True
            self.stopping = True
        elif self.limit is not None and report.records >= self.limit:
            report.stopped = f"--limit {self.limit} reached"
            self.stopping = True

    def _decide(self, record: Record) -> None:
        decision = self.decide(record)
        sentry = decision.sentry_event
        if sentry is None:
            self.outcomes[decision.outcome] += 1
            if self.explaining:
                self._explain(record, decision.outcome, decision.detail)
            return
        payload = orjson.dumps(sentry)
        if len(payload) > MAX_EVENT_BYTES:
            detail = f"the Sentry event is {len(payload)} bytes (limit {MAX_EVENT_BYTES})"
            self._reject(record, RejectReason.EVENT_TOO_LARGE, detail)
            return
        event_id = sentry["event_id"]
        if event_id in self.inflight or self.ledger.known(event_id):
            self.report.count(Outcome.ALREADY_SENT)
            self._explain(record, Outcome.ALREADY_SENT, f"event {event_id}")
            return
        assert record.event is not None
        self.inflight[event_id] = record.event
        job = Job(
            event_id=event_id,
            payload=payload,
            where=_where(record),
            record_type=record.type,
            message_id=_message_id(record.event),
            detail=f"{decision.kind} {event_id}: {decision.detail}" if self.explaining else "",
            older=decision.older_than_30_days,
        )
        self.sender.submit(job)
        self._collect()

    def _tick(self) -> None:
        self._collect()
        self._progress()

    def _collect(self, done: list[Done] | None = None) -> None:
        for item in self.sender.completed() if done is None else done:
            self._complete(item)

    def _complete(self, done: Done) -> None:
        job = done.job
        event = self.inflight.pop(job.event_id, None)
        report = self.report
        if done.accepted:
            self.ledger.mark(job.event_id, time.time())
            outcome = Outcome.WOULD_SEND if report.dry_run else Outcome.SENT
            report.count(outcome)
            self.sent += 1
            if job.older:
                report.older_than_30_days += 1
            if self.io.output is not None:
                self.io.output.write(job.payload + b"\n")
        else:
            outcome = Outcome.FAILED
            report.count_failed(done.reason, job.where, job.event_id)
            if done.reason.startswith("auth_"):
                status = done.reason.removeprefix("auth_http_")
                report.auth_failed = True
                report.stopped = (
                    f"Sentry refused the DSN (HTTP {status}): the key or project is wrong"
                )
                self.stopping = True
            if self.io.failures is not None and event is not None:
                self.io.failures.write(orjson.dumps(event) + b"\n")
        if self.explaining:
            self._explain_job(job, outcome, job.detail if done.accepted else done.reason)

    def finish(self) -> None:
        """Drain the senders: wait for queued jobs, or abandon them when interrupted."""
        self._collect(self.sender.finish(abandon=self.report.interrupted))
        if self.io.stop.is_set():  # a signal that came while draining
            self.report.interrupted = True
        self.report.visitors = self.engine.visitor_count
        self.report.retries = self.sender.retries
        self.report.breadcrumb_texts_not_kept = self.engine.texts.dropped
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
        self._explain(record, Outcome.REJECTED, f"{reason.value}: {detail}")
        if self.options.strict:
            self.report.stopped = f"--strict: {record.source}:{record.line} was rejected"
            self.stopping = True

    def _explain(self, record: Record, outcome: Outcome, detail: str) -> None:
        kind, message_id = record.type, _message_id(record.event)
        self._explain_line(_where(record), kind, message_id, outcome, detail)

    def _explain_job(self, job: Job, outcome: Outcome, detail: str) -> None:
        self._explain_line(job.where, job.record_type, job.message_id, outcome, detail)

    def _explain_line(
        self, where: str, kind: str, message_id: str, outcome: Outcome, detail: str
    ) -> None:
        """`source:line`, type, messageId, outcome, detail: tab-separated, one line."""
        if self.io.explain is not None:
            fields = (where, kind or "-", message_id or "-", outcome.value, detail)
            self.io.explain("\t".join(_one_line(field) for field in fields))

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


def _message_id(event: dict[str, Any] | None) -> str:
    """The event's messageId when it is a string ("" otherwise)."""
    message_id = event.get("messageId") if event is not None else None
    return message_id if isinstance(message_id, str) else ""


def _where(record: Record) -> str:
    return f"{record.source}:{record.line}"


def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _event_raw(event: dict[str, Any] | None) -> str:
    if event is None:
        return ""
    try:
        return raw_text(orjson.dumps(event))
    except TypeError:
        return "<too deeply nested to serialize>"
