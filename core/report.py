"""The run report: outcome counts that add up to the records, and the exit code
(docs/delivery.md, "Reports and exit codes")."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.errors import ExitCode
from core.outcome import Outcome

MAX_LISTED_FAILURES = 100
MAX_DETAIL = 500


@dataclass
class Report:
    """Counts for one run; `outcomes` sums to `records`."""

    dry_run: bool
    shard: str = ""  # "K/N" when this run decided one shard of the visitors (docs/scale-out.md)
    files: int = 0
    files_outside_window: int = 0  # archive files --since/--until left unopened
    lines: int = 0
    records: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    older_than_retention: int = 0  # sent events older than the project's retention
    retention_days: float = 90.0  # --retention-days: what older_than_retention measured
    sessions: int = 0  # release-health session items sent (or that would be, in a dry-run)
    sessions_too_old: int = 0  # session items Relay would drop: started too long ago
    sessions_already_sent: int = 0  # session items the state file says were accepted before
    sessions_failed: Counter[str] = field(default_factory=Counter)  # by reason
    visitors: int = 0  # what memory grows with (docs/performance.md)
    retries: int = 0  # delivery attempts repeated after 429s, 5xx and network errors
    breadcrumb_texts_not_kept: int = (
        0  # the cost of the bounded text table (core/event/breadcrumbs.py)
    )
    duration_s: float = 0.0
    interrupted: bool = False
    stopped: str = ""  # why the run stopped early (--strict, --limit, an auth failure)
    output_error: str = ""  # the output that could not be written, and why (docs/delivery.md)
    refused: str = ""  # why the destination cannot be used as configured (exit 2)
    failures: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    destination: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        """Record one outcome (an Outcome is a str, so it counts under its value)."""
        self.outcomes[outcome] += 1

    def count_rejected(self, reason: str) -> None:
        """Record one rejected record."""
        self.outcomes[Outcome.REJECTED.value] += 1
        self.rejected[reason] += 1

    def count_failed(self, reason: str, where: str, event_id: str, detail: str = "") -> None:
        """Record one failed delivery; the first failures are listed by place, with Sentry's
        answer (or the error) cut to MAX_DETAIL characters."""
        self.outcomes[Outcome.FAILED.value] += 1
        self.failed[reason] += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            listed = {"source": where, "event_id": event_id, "reason": reason}
            if detail:
                listed["detail"] = detail[:MAX_DETAIL]
            self.failures.append(listed)

    def count_session_failed(self, reason: str, where: str, item_id: str, detail: str = "") -> None:
        """Record one failed session update (no record's outcome: sessions are not records);
        listed with the failures, under `session <reason>`."""
        self.sessions_failed[reason] += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            listed = {"source": where, "event_id": item_id, "reason": f"session {reason}"}
            if detail:
                listed["detail"] = detail[:MAX_DETAIL]
            self.failures.append(listed)

    @property
    def records_per_s(self) -> float:
        """Throughput over the whole run."""
        return self.records / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def exit_code(self) -> ExitCode:
        """4 interrupted, 2 the DSN was refused, 1 deliveries failed, 3 lines rejected, else 0."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.refused:
            return ExitCode.USAGE
        if self.failed or self.sessions_failed:
            return ExitCode.DELIVERY_FAILED
        if self.rejected:
            return ExitCode.REJECTED_INPUT
        return ExitCode.OK

    def add_note(self, note: str) -> None:
        """A line the report ends with (a window's pruned files, a job lost under --jobs)."""
        if note not in self.notes:
            self.notes.append(note)

    def to_json(self) -> dict[str, Any]:
        """The report object printed by `--report json`; report_from_json reads back every
        field of it (the rate and the exit code are computed again)."""
        duration = round(self.duration_s, 3)
        return {
            "dry_run": self.dry_run,
            "shard": self.shard,
            "files": self.files,
            "files_outside_window": self.files_outside_window,
            "lines": self.lines,
            "records": self.records,
            "outcomes": {str(k): v for k, v in sorted(self.outcomes.items())},
            "by_type": dict(sorted(self.by_type.items())),
            "rejected": dict(sorted(self.rejected.items())),
            "failed": dict(sorted(self.failed.items())),
            "older_than_retention": self.older_than_retention,
            "retention_days": self.retention_days,
            "sessions": self.sessions,
            "sessions_too_old": self.sessions_too_old,
            "sessions_already_sent": self.sessions_already_sent,
            "sessions_failed": dict(sorted(self.sessions_failed.items())),
            "visitors": self.visitors,
            "retries": self.retries,
            "breadcrumb_texts_not_kept": self.breadcrumb_texts_not_kept,
            "duration_s": duration,
            "records_per_s": round(self.records / duration, 1) if duration > 0 else 0.0,
            "exit_code": int(self.exit_code),
            "interrupted": self.interrupted,
            "stopped": self.stopped,
            "output_error": self.output_error,
            "refused": self.refused,
            "failures": self.failures,
            "warnings": self.warnings,
            "notes": self.notes,
            "destination": self.destination,
        }


_COUNTERS = ("outcomes", "by_type", "rejected", "failed", "sessions_failed")
_SUMS = (
    "records",
    "older_than_retention",
    "sessions",
    "sessions_too_old",
    "sessions_already_sent",
    "visitors",
    "retries",
    "breadcrumb_texts_not_kept",
)
# every shard reads all the input: these are the same in each, so the merge keeps the largest
_SHARED = ("files", "files_outside_window", "lines")


def report_from_json(document: dict[str, Any]) -> Report:
    """A Report from the object `--report json` printed (the computed fields are dropped)."""
    report = Report(dry_run=bool(document.get("dry_run")), shard=str(document.get("shard", "")))
    for name in (*_SUMS, *_SHARED):
        setattr(report, name, int(document.get(name, 0)))
    for name in _COUNTERS:
        getattr(report, name).update(document.get(name, {}))
    report.duration_s = float(document.get("duration_s", 0.0))
    report.retention_days = float(document.get("retention_days", 90.0))
    report.interrupted = bool(document.get("interrupted"))
    for name in ("stopped", "output_error", "refused"):
        setattr(report, name, str(document.get(name, "")))
    report.failures = list(document.get("failures", []))
    report.warnings = list(document.get("warnings", []))
    report.notes = list(document.get("notes", []))
    report.destination = dict(document.get("destination", {}))
    return report


def merge_reports(reports: list[Report]) -> Report:
    """One report for the shards of one replay (docs/scale-out.md): counts add up, what every shard
    read is counted once, the duration is the longest, the first reason to stop stands."""
    merged = Report(dry_run=any(r.dry_run for r in reports))
    for report in reports:
        for name in _SUMS:
            setattr(merged, name, getattr(merged, name) + getattr(report, name))
        for name in _SHARED:
            setattr(merged, name, max(getattr(merged, name), getattr(report, name)))
        for name in _COUNTERS:
            getattr(merged, name).update(getattr(report, name))
        merged.duration_s = max(merged.duration_s, report.duration_s)
        merged.retention_days = report.retention_days
        merged.interrupted = merged.interrupted or report.interrupted
        for name in ("stopped", "output_error", "refused"):
            if not getattr(merged, name):
                setattr(merged, name, getattr(report, name))
        room = MAX_LISTED_FAILURES - len(merged.failures)
        merged.failures.extend(report.failures[: max(room, 0)])
        merged.warnings.extend(w for w in report.warnings if w not in merged.warnings)
        merged.notes.extend(n for n in report.notes if n not in merged.notes)
        merged.destination = merged.destination or report.destination
    return merged
