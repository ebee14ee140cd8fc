"""Opening a run's outputs, and putting the report on whichever stream still works: an output
that cannot be written stops the run like an interruption, with one line naming it."""

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from rich.console import Console

from cli.consoles import StreamConsole, quiet_stdout
from cli.errors import say
from cli.render import ReportFormat, render_diff, render_report, write_json
from core.diff import DiffReport
from core.errors import ExitCode
from core.pipeline import ReplayIO
from core.report import Report
from core.sinks import Sink, open_sink

Sinks = tuple[Sink | None, Sink | None, Sink | None, Sink | None]


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


def show_report(report: Report, fmt: ReportFormat, io: ReplayIO, stderr: Console) -> ExitCode:
    """The report on its stream, or on the other one when that is broken; the exit code: the
    run's, or 4 when the report could not be written where it was asked for."""
    if any(sink.broken_pipe and sink.stdout for sink in io.sinks()):
        quiet_stdout()
    if fmt is ReportFormat.JSON:
        document = report.to_json()
        code = _write_json(document, "the report (stdout)", report.exit_code)
        lines = [*report.notes, f"stopped: {report.stopped}"] if report.stopped else report.notes
        if report.output_error:
            lines = [*lines, f"stopped: {report.output_error}"]
        for line in lines:
            say(line)
        return code
    return _render(lambda console: render_report(report, console), stderr, report.exit_code)


def show_diff(
    report: DiffReport, fmt: ReportFormat, stderr: Console, old: str, new: str
) -> ExitCode:
    """The diff's report: JSON on stdout, or the text on stderr (the other when it is broken)."""
    if fmt is ReportFormat.JSON:
        return _write_json(report.to_json(), "the report (stdout)", report.exit_code)
    return _render(lambda console: render_diff(report, console, old, new), stderr, report.exit_code)


def print_result(result: Any, code: ExitCode) -> ExitCode:
    """A command's result on stdout: a JSON document, or what a renderer prints; `code`, or 4
    with one line when standard output cannot be written."""
    if callable(result):
        try:
            result()
            sys.stdout.flush()
        except OSError as exc:
            return _unwritten("the result (stdout)", exc)
        return code
    return _write_json(result, "the result (stdout)", code)


def _write_json(document: Any, name: str, code: ExitCode) -> ExitCode:
    """One JSON document on stdout, else on stderr with one line saying why (exit 4)."""
    try:
        write_json(document, sys.stdout.buffer)
    except OSError as exc:
        with contextlib.suppress(OSError):
            write_json(document, sys.stderr.buffer)
        return _unwritten(name, exc)
    return code


def _render(draw: Callable[[Console], None], stderr: Console, code: ExitCode) -> ExitCode:
    """A text report on stderr, else on stdout with one line saying why (exit 4)."""
    try:
        draw(stderr)
        stderr.file.flush()
    except OSError as exc:
        with contextlib.suppress(OSError):
            draw(StreamConsole(file=sys.stdout, highlight=False))
            sys.stdout.flush()
        return _unwritten("the report (stderr)", exc)
    return code


def _unwritten(name: str, exc: OSError) -> ExitCode:
    """An output that could not be written: quiet stdout, one line, exit 4."""
    quiet_stdout()
    say(f"stopped: cannot write {name}: {exc.strerror or exc}")
    return ExitCode.INTERRUPTED


def warn_to(stderr: Console) -> Callable[[str], None]:
    """Core's notices as `rudder-sentry: warning: ...` lines (above the progress bar, if any)."""

    def warn(text: str) -> None:
        say(f"warning: {text}", stderr)

    return warn
