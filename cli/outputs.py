"""Opening a run's outputs, and putting the report on whichever stream still works (SPEC §8)."""

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import BinaryIO

from rich.console import Console

from cli.render import ReportFormat, render_diff, render_report, write_json
from core.diff import DiffReport
from core.pipeline import ReplayIO
from core.report import Report
from core.sinks import Sink, open_sink

Sinks = tuple[Sink | None, Sink | None, Sink | None, Sink | None]


class StreamConsole(Console):
    """A rich Console whose closed pipe is an OSError for the caller to handle: rich's own
    answer is `SystemExit(1)`, which would hide the run's exit code."""

    def on_broken_pipe(self) -> None:
        """Leave the decision to the caller."""
        raise BrokenPipeError(32, "Broken pipe")


@contextlib.contextmanager
def opened_sinks(
    wanted: dict[str, str | None], explain: bool, stdout: BinaryIO, stderr: BinaryIO
) -> Iterator[Sinks]:
    """(--output, --rejects, --failures, --explain) sinks; files are put in place when the run
    ends, and left as they were when it never started."""
    by_option: dict[str, Sink] = {}
    try:
        for option, path in wanted.items():
            if path is not None:
                by_option[option] = open_sink(path, option, stdout)
    except BaseException:
        for sink in by_option.values():
            sink.discard()
        raise
    files = list(by_option.values())
    explainer = Sink("--explain (stderr)", stderr) if explain else None
    try:
        yield (
            by_option.get("--output"),
            by_option.get("--rejects"),
            by_option.get("--failures"),
            explainer,
        )
    except BaseException:
        for sink in files:
            sink.discard()
        raise
    for sink in files:
        sink.close()
    if explainer is not None:
        explainer.close()


def show_report(report: Report, fmt: ReportFormat, io: ReplayIO, stderr: Console) -> None:
    """The report on its stream, or on the other one when that is broken."""
    if any(sink.broken_pipe and sink.stdout for sink in io.sinks()):
        _quiet_stdout()
    if fmt is ReportFormat.JSON:
        document = report.to_json()
        try:
            write_json(document, sys.stdout.buffer)
        except OSError:
            _quiet_stdout()
            with contextlib.suppress(OSError):
                write_json(document, sys.stderr.buffer)
        lines = [*report.notes, f"stopped: {report.stopped}"] if report.stopped else report.notes
        if report.output_error:
            lines = [*lines, f"stopped: {report.output_error}"]
        with contextlib.suppress(OSError):
            for line in lines:
                stderr.print(
                    f"rudder-sentry: {line}", markup=False, highlight=False, soft_wrap=True
                )
        return
    try:
        render_report(report, stderr)
        stderr.file.flush()
    except OSError:
        with contextlib.suppress(OSError):
            render_report(report, StreamConsole(file=sys.stdout, highlight=False))
            sys.stdout.flush()


def show_diff(report: DiffReport, fmt: ReportFormat, stderr: Console, old: str, new: str) -> None:
    """The diff's report: JSON on stdout, or the text on stderr; quiet on a closed pipe."""
    try:
        if fmt is ReportFormat.JSON:
            write_json(report.to_json(), sys.stdout.buffer)
        else:
            render_diff(report, stderr, old, new)
            stderr.file.flush()
    except OSError:
        _quiet_stdout()


def warn_to(stderr: Console) -> Callable[[str], None]:
    """Core's notices as `rudder-sentry: warning: ...` lines (above the progress bar, if any)."""

    def warn(text: str) -> None:
        with contextlib.suppress(OSError):
            stderr.print(
                f"rudder-sentry: warning: {text}", markup=False, highlight=False, soft_wrap=True
            )

    return warn


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of a closed pipe
    says nothing (the reader of `| head` went away; that is not an error to print)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
