"""`rudder-sentry diff OLD NEW PATHS`: what a config change does to real traffic, in one read.

The input is read and parsed once; every record goes through two dry-run pipelines
(core/pipeline.py), one per config, each with its own engine and visitor memory: the same
decisions, in the same order, as `replay --dry-run` makes with each config. Each pipeline tells
how the record ended (core.pipeline.Settled); this module compares the two: an outcome that
changed is a transition (counted with the rule that decided each side), a record sent under
both whose Sentry event differs is a changed payload (counted by the top-level fields that
differ). Nothing is sent, no DSN is needed and no state file is read or written.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from core.clock import SYSTEM_CLOCK, Clock
from core.config import DestinationConfig, load_config
from core.delivery.recording import RecordingSender
from core.errors import ExitCode
from core.input.paths import Expansion, expand_paths
from core.input.records import Record
from core.pipeline import Pipeline, ReplayIO, Settled, message_id_of, one_line, read_records
from core.report import Report, merge_reports, report_from_json
from core.rules.budget import WorkBudget
from core.rules.engine import Engine
from core.run import ReplayOptions, window_note
from core.sinks import Sink
from core.state import Ledger

MAX_EXAMPLES = 3  # per transition, and of changed payloads


@dataclass(frozen=True)
class DiffOptions:
    """What `diff` was asked: the two configs and the replay options both sides share."""

    old_config: str
    new_config: str
    replay: ReplayOptions = field(default_factory=ReplayOptions)
    old_destination: str | None = None  # else replay.destination
    new_destination: str | None = None

    def sides(self) -> tuple[DestinationConfig, DestinationConfig]:
        """The two configs, loaded (raises ConfigError, one line, for either)."""
        fallback = self.replay.destination
        old = load_config(self.old_config, self.old_destination or fallback)
        new = load_config(self.new_config, self.new_destination or fallback)
        return old.config, new.config


@dataclass
class DiffReport:
    """The comparison of two configs over one input; `old` and `new` are each side's own
    dry-run report."""

    old: Report = field(default_factory=lambda: Report(dry_run=True))
    new: Report = field(default_factory=lambda: Report(dry_run=True))
    files: int = 0
    lines: int = 0
    records: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    rules: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)  # + each rule
    changed_payloads: int = 0
    changed_fields: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    shown: Counter[tuple[str, str]] = field(default_factory=Counter)  # examples per kind
    duration_s: float = 0.0
    interrupted: bool = False
    exit_on_change: bool = False  # --exit-code
    shard: str = ""  # "K/N" when this diff took one shard of the visitors

    @property
    def changed(self) -> int:
        """Records that the two configs treat differently (outcome or payload)."""
        return sum(self.transitions.values()) + self.changed_payloads

    @property
    def exit_code(self) -> ExitCode:
        """4 interrupted, 3 input lines rejected, 1 (with --exit-code) something changed."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.old.rejected:
            return ExitCode.REJECTED_INPUT
        if self.exit_on_change and self.changed:
            return ExitCode.DELIVERY_FAILED  # git diff --exit-code's 1: there is a difference
        return ExitCode.OK

    def add_note(self, note: str) -> None:
        """A line about the whole diff: kept with the old side's notes, shown once."""
        self.old.add_note(note)

    def to_json(self) -> dict[str, Any]:
        """The object `diff --report json` prints."""
        return {
            "records": self.records,
            "files": self.files,
            "lines": self.lines,
            "transitions": [
                {
                    "from": old,
                    "to": new,
                    "count": count,
                    "rules": [
                        {"old": o_rule, "new": n_rule, "count": n}
                        for (o, n_, o_rule, n_rule), n in self.rules.most_common()
                        if (o, n_) == (old, new)
                    ],
                }
                for (old, new), count in sorted(
                    self.transitions.items(), key=lambda item: (-item[1], item[0])
                )
            ],
            "changed": self.changed,
            "changed_payloads": self.changed_payloads,
            "changed_fields": dict(sorted(self.changed_fields.items())),
            "examples": self.examples,
            "outcomes": {
                "old": self.old.to_json()["outcomes"],
                "new": self.new.to_json()["outcomes"],
            },
            "sessions": {"old": self.old.sessions, "new": self.new.sessions},
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "duration_s": round(self.duration_s, 3),
            "interrupted": self.interrupted,
            "shard": self.shard,
            "exit_code": int(self.exit_code),
        }


def diff_from_json(document: dict[str, Any]) -> DiffReport:
    """A DiffReport from the object `to_json` made (a job's, under --jobs)."""
    report = DiffReport(
        old=report_from_json(document["old"]),
        new=report_from_json(document["new"]),
        files=int(document["files"]),
        lines=int(document["lines"]),
        records=int(document["records"]),
        changed_payloads=int(document["changed_payloads"]),
        changed_fields=Counter(document["changed_fields"]),
        examples=[],
        duration_s=float(document["duration_s"]),
        interrupted=bool(document["interrupted"]),
        shard=str(document["shard"]),
    )
    for example in document["examples"]:
        _keep_example(report, example)
    for transition in document["transitions"]:
        report.transitions[(transition["from"], transition["to"])] = int(transition["count"])
        for rule in transition["rules"]:
            key = (transition["from"], transition["to"], rule["old"], rule["new"])
            report.rules[key] = int(rule["count"])
    return report


def merge_diffs(reports: list[DiffReport]) -> DiffReport:
    """One report for the jobs (shards) of one diff: counts add up, what every job read is
    counted once, the examples are the first ones."""
    merged = DiffReport(
        old=merge_reports([r.old for r in reports]), new=merge_reports([r.new for r in reports])
    )
    for report in reports:
        merged.records += report.records
        merged.files = max(merged.files, report.files)
        merged.lines = max(merged.lines, report.lines)
        merged.transitions.update(report.transitions)
        merged.rules.update(report.rules)
        merged.changed_payloads += report.changed_payloads
        merged.changed_fields.update(report.changed_fields)
        merged.duration_s = max(merged.duration_s, report.duration_s)
        merged.interrupted = merged.interrupted or report.interrupted
        for example in report.examples:
            _keep_example(merged, example)
    return merged


def _keep_example(report: DiffReport, example: dict[str, Any]) -> None:
    """Keep up to MAX_EXAMPLES of each transition (and of changed payloads)."""
    kind = (example["from"], example["to"])
    if report.shown[kind] < MAX_EXAMPLES:
        report.shown[kind] += 1
        report.examples.append(example)


class _Side:
    """One config's dry-run: a pipeline whose every settled record is kept for comparing."""

    def __init__(
        self,
        config: DestinationConfig,
        options: ReplayOptions,
        io: ReplayIO,
        now: datetime,
        budget: WorkBudget,
        clock: Clock,
    ) -> None:
        self.settled: Settled | None = None
        self.report = Report(dry_run=True, shard="" if options.shard.whole else str(options.shard))
        self.report.retention_days = options.engine.retention_days
        # no --explain details (the diff's lines name rules and fields): only the rules
        engine = Engine(config, options.engine, now=now, explain=False, budget=budget, rules=True)
        self.report.warnings.extend(engine.warnings)
        self.ledger = Ledger(None, writable=False, clock=clock)
        side_io = ReplayIO(stop=io.stop, notice=io.notice, progress=io.progress)
        self.pipeline = Pipeline(
            side_io,
            engine,
            self.ledger,
            RecordingSender(clock=clock),
            self.report,
            window=options.window,
            shard=options.shard,
            on_settled=self._keep,
        )

    def _keep(self, settled: Settled) -> None:
        self.settled = settled

    def take(self) -> Settled:
        """How the record just handled ended."""
        settled = self.settled
        assert settled is not None, "every record settles at once in a dry-run"
        self.settled = None
        return settled


def run_diff(
    options: DiffOptions,
    io: ReplayIO,
    *,
    now: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
    exit_on_change: bool = False,
    expansion: Expansion | None = None,
) -> DiffReport:
    """Decide every record under both configs; the comparison. Raises RudderSentryError before
    reading anything when the paths or either config are unusable. `expansion`: the input
    listed already (a job's, under --jobs)."""
    started = clock.monotonic()
    replay = options.replay
    if expansion is None:
        expansion = expand_paths(list(replay.paths), replay.window, io.stop.is_set)
    old_config, new_config = options.sides()
    report = DiffReport(exit_on_change=exit_on_change)
    report.shard = "" if replay.shard.whole else str(replay.shard)
    budget = WorkBudget(replay.regex_budget)  # one SIGALRM handler for both engines
    moment = now or clock.wall()
    old = _Side(old_config, replay, io, moment, budget, clock)  # shows progress
    new = _Side(new_config, replay, ReplayIO(stop=io.stop), moment, budget, clock)
    report.old, report.new = old.report, new.report
    for side in (old, new):
        side.report.files_outside_window = expansion.pruned
        side.report.warnings[:0] = expansion.warnings
        if expansion.pruned and replay.window is not None:
            side.report.notes.append(window_note(expansion.pruned, replay.window))
    try:
        halted = old.pipeline.halted
        idle = old.pipeline.tick
        for record in read_records(expansion.files, io.stdin, replay.shard, halted, report, idle):
            old.pipeline.handle(record)
            new.pipeline.handle(record)
            _compare(report, record, old.take(), new.take(), io.explain)
            if old.pipeline.stopping or new.pipeline.stopping:
                break
    finally:
        for side in (old, new):
            side.pipeline.finish()
            side.ledger.close()
            side.report.files, side.report.lines = report.files, report.lines
        budget.close()
    report.interrupted = old.report.interrupted or new.report.interrupted or io.stop.is_set()
    report.duration_s = clock.monotonic() - started
    for side in (old, new):
        side.report.duration_s = report.duration_s
    return report


def _compare(
    report: DiffReport, record: Record, old: Settled, new: Settled, explain: Sink | None
) -> None:
    """Count what changed for one record; its --explain line when anything did."""
    report.records += 1
    if old.outcome is not new.outcome:
        key = (old.outcome.value, new.outcome.value)
        report.transitions[key] += 1
        report.rules[(*key, old.rule, new.rule)] += 1
        if explain is None and report.shown[key] >= MAX_EXAMPLES:
            return
        what = f"{old.rule or old.outcome.value} → {new.rule or new.outcome.value}"
    elif old.payload == new.payload:
        return
    else:
        fields = changed_fields(old.payload, new.payload)
        report.changed_payloads += 1
        report.changed_fields.update(fields)
        key = (old.outcome.value, new.outcome.value)
        if explain is None and report.shown[key] >= MAX_EXAMPLES:
            return
        what = "changed: " + ", ".join(fields)
    example = {
        "source": record.where(),
        "type": record.type,
        "messageId": message_id_of(record.event),
        "from": key[0],
        "to": key[1],
        "what": what,
    }
    _keep_example(report, example)
    if explain is not None:
        explain.write(explain_line(example).encode("utf-8", "backslashreplace") + b"\n")


def changed_fields(old: bytes, new: bytes) -> list[str]:
    """The top-level fields of two Sentry events (JSON) whose values differ, sorted."""
    before, after = orjson.loads(old), orjson.loads(new)
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def explain_line(example: dict[str, Any]) -> str:
    """`source:line`, type, messageId, old outcome, new outcome, what differs: tab-separated."""
    fields = (
        example["source"],
        example["type"] or "-",
        example["messageId"] or "-",
        example["from"],
        example["to"],
        example["what"],
    )
    return "\t".join(one_line(text) for text in fields)
