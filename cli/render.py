"""Rendering core's Report and validation result: a rich table on stderr, or JSON on stdout."""

from enum import StrEnum
from typing import Any, BinaryIO

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.diff import DiffReport
from core.outcome import Outcome
from core.report import Report

OUTCOME_ORDER = [o.value for o in Outcome]


class ReportFormat(StrEnum):
    """--report: text on stderr, or a JSON object on stdout."""

    TEXT = "text"
    JSON = "json"


def write_json(document: Any, stdout: BinaryIO) -> None:
    """One JSON document and a newline."""
    stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    stdout.flush()


def render_report(report: Report, stderr: Console) -> None:
    """The text report: outcome table, totals, breakdowns, warnings."""
    title = "rudder-sentry replay (dry-run)" if report.dry_run else "rudder-sentry replay"
    stderr.print(Text(title, style="bold"))
    table = Table(show_footer=True)
    table.add_column("outcome", footer="records")
    table.add_column("count", justify="right", footer=f"{report.records:,}")
    for outcome in sorted(report.outcomes, key=_outcome_rank):
        table.add_row(outcome, f"{report.outcomes[outcome]:,}")
    stderr.print(table)
    lines = [
        f"files {report.files:,} · lines {report.lines:,} · records {report.records:,} · "
        f"{report.duration_s:.2f} s ({report.records_per_s:,.0f} records/s)",
    ]
    if report.by_type:
        lines.append("by type: " + _pairs(report.by_type))
    if report.rejected:
        lines.append("rejected: " + _pairs(report.rejected))
    if report.failed:
        lines.append("failed: " + _pairs(report.failed))
        lines.extend(f"  {f['source']} {f['event_id']} {f['reason']}" for f in report.failures[:20])
        if len(report.failures) > 20:
            lines.append(f"  ... {sum(report.failed.values()) - 20:,} more")
    if report.retries:
        lines.append(f"retries: {report.retries:,} (after 429s, 5xx and network errors)")
    if report.breadcrumb_texts_not_kept:
        lines.append(
            f"breadcrumb texts not kept: {report.breadcrumb_texts_not_kept:,} "
            "(more distinct page URLs and track names than the memory bound allows)"
        )
    if report.older_than_retention:
        lines.append(
            f"older than the project's {report.retention_days:g}-day retention: "
            f"{report.older_than_retention:,} (Sentry re-dates these to when it receives them; "
            "--retention-days sets the retention)"
        )
    if report.sessions or report.sessions_too_old or report.sessions_already_sent:
        sent = "would be sent" if report.dry_run else "sent"
        line = f"sessions (release health): {report.sessions:,} {sent}"
        if report.sessions_too_old:
            line += (
                f", {report.sessions_too_old:,} too old to send (started over 5 days ago, "
                "which Relay drops, or beyond --max-age)"
            )
        if report.sessions_already_sent:
            line += f", {report.sessions_already_sent:,} sent by an earlier run"
        lines.append(line)
    if report.sessions_failed:
        lines.append("sessions failed: " + _pairs(report.sessions_failed))
    lines.extend(f"warning: {w}" for w in report.warnings)
    lines.extend(f"note: {n}" for n in report.notes)
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    if report.output_error:
        lines.append(f"stopped: {report.output_error}")
    if report.interrupted:
        lines.append("interrupted: run the same command again to finish (nothing is sent twice)")
    lines.append(f"exit code {int(report.exit_code)}")
    for line in lines:
        stderr.print(Text(line), soft_wrap=True)


def _outcome_rank(outcome: str) -> int:
    return OUTCOME_ORDER.index(outcome) if outcome in OUTCOME_ORDER else len(OUTCOME_ORDER)


def _pairs(counter: Any) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in sorted(counter.items()))


def render_diff(report: DiffReport, stderr: Console, old: str, new: str) -> None:
    """The text of `diff`: what changed, with the rule that decided each side."""
    stderr.print(Text(f"rudder-sentry diff: {old} → {new}", style="bold"), soft_wrap=True)
    stderr.print(
        Text(
            f"records {report.records:,} · changed {report.changed:,} "
            f"(outcome {sum(report.transitions.values()):,}, payload {report.changed_payloads:,})"
            f" · files {report.files:,} · {report.duration_s:.2f} s"
        )
    )
    if report.transitions:
        table = Table(title="outcome transitions")
        table.add_column("old")
        table.add_column("new")
        table.add_column("records", justify="right")
        table.add_column("decided by (old → new)")
        for (old_outcome, new_outcome), count in sorted(
            report.transitions.items(), key=lambda item: (-item[1], item[0])
        ):
            rules = [
                (f"{o_rule or old_outcome} → {n_rule or new_outcome}", n)
                for (o, n_, o_rule, n_rule), n in report.rules.most_common()
                if (o, n_) == (old_outcome, new_outcome)
            ]
            shown = "\n".join(f"{text} ({n:,})" for text, n in rules[:3])
            if len(rules) > 3:
                shown += f"\n… {len(rules) - 3:,} more"
            table.add_row(old_outcome, new_outcome, f"{count:,}", shown)
        stderr.print(table)
    if report.changed_payloads:
        fields = ", ".join(f"{name} {n:,}" for name, n in report.changed_fields.most_common())
        stderr.print(
            Text(
                f"sent under both, with another Sentry event: {report.changed_payloads:,} "
                f"(fields: {fields})"
            ),
            soft_wrap=True,
        )
    if report.examples:
        stderr.print(Text("examples:"))
        for example in sorted(report.examples, key=lambda e: e["from"] == e["to"]):
            line = (
                f"  {example['source']} {example['type']} {example['from']} → {example['to']}: "
                f"{example['what']}"
            )
            stderr.print(Text(line), soft_wrap=True)
    old_report, new_report = report.old, report.new
    if old_report.sessions or new_report.sessions:
        line = f"sessions (release health): {old_report.sessions:,} → {new_report.sessions:,}"
        stderr.print(Text(line))
    for warning in dict.fromkeys([*report.old.warnings, *report.new.warnings]):
        stderr.print(Text(f"warning: {warning}"), soft_wrap=True)
    for note in dict.fromkeys([*report.old.notes, *report.new.notes]):
        stderr.print(Text(f"note: {note}"), soft_wrap=True)
    if report.old.rejected:
        stderr.print(Text("rejected (both sides): " + _pairs(report.old.rejected)), soft_wrap=True)
    if not report.changed:
        stderr.print(Text("no change: the two configs agree on every record"))
    if report.interrupted:
        stderr.print(Text("interrupted: what was read is compared above"))
    stderr.print(Text(f"exit code {int(report.exit_code)}"))


def render_validation(result: dict[str, Any], stdout: Console) -> None:
    """The text form of `validate`: verdict, errors, warnings, entries, effective config."""
    verdict = "valid" if result["valid"] else "invalid"
    destination = result.get("destination") or {}
    where = " ".join(f"{k}={v}" for k, v in destination.items() if v)
    stdout.print(Text(f"config: {verdict}" + (f" ({where})" if where else "")))
    for error in result["errors"]:
        stdout.print(Text(f"error: {error}"))
    for warning in result["warnings"]:
        stdout.print(Text(f"warning: {warning}"))
    for reading in result["entries"]:
        stdout.print(Text(f"{reading['field']}: {reading['entry']!r} → {reading['read_as']}"))
    for reading in result.get("consent", ()):
        stdout.print(Text(f"consent: {reading}"))
    stdout.print(Text("effective config:"))
    stdout.print(Text(orjson.dumps(result["config"], option=orjson.OPT_INDENT_2).decode()))
