"""The `rudder-sentry` Typer application: its commands, its own options, and the entry point.
Every command runs inside one error boundary (cli/errors.py)."""

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from cli.consoles import stderr_console, stdout_console
from cli.diff import diff
from cli.errors import ErrorBoundary, Settings
from cli.outputs import print_result
from cli.render import ReportFormat, render_report, render_validation
from cli.replay import replay
from core import __version__, native
from core.errors import ExitCode, UsageError
from core.input.paths import STDIN
from core.report import Report, merge_reports, report_from_json
from core.validate import validate_file

app = typer.Typer(
    name="rudder-sentry",
    cls=ErrorBoundary,
    help="Replay RudderStack event dumps into Sentry exactly as RudderStack's Sentry "
    "destination would, from the destination's own config.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold the DSN
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"rudder-sentry {__version__} ({native.status()})")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    traceback: Annotated[
        bool,
        typer.Option(
            "--traceback",
            envvar="RUDDER_SENTRY_TRACEBACK",
            help="Show an internal error's traceback instead of one line (for bug reports).",
        ),
    ] = False,
) -> None:
    """Replay RudderStack event dumps into Sentry (or dry-run a destination config)."""
    Settings.traceback = traceback


app.command()(replay)
app.command()(diff)


@app.command()
def validate(
    config: Annotated[str, typer.Argument(help="Sentry destination config, in any shape.")],
    destination: Annotated[
        str | None, typer.Option(help="Destination id or name, when there are several.")
    ] = None,
    report: Annotated[
        ReportFormat, typer.Option(help="text, or json (a JSON object on stdout).")
    ] = ReportFormat.TEXT,
) -> None:
    """Validate a destination config and print the effective config (exit 0 valid, 2 invalid)."""
    result = validate_file(config, destination)
    code = ExitCode.OK if result["valid"] else ExitCode.USAGE
    if report is ReportFormat.JSON:
        code = print_result(result, code)
    else:
        code = print_result(lambda: render_validation(result, stdout_console()), code)
    raise typer.Exit(int(code))


report_app = typer.Typer(help="Work with JSON reports of `replay`.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("merge")
def merge(
    reports: Annotated[
        list[str], typer.Argument(help="JSON reports (`replay --report json`) of the shards.")
    ],
    report: Annotated[
        ReportFormat, typer.Option(help="json (on stdout, the default), or text (on stderr).")
    ] = ReportFormat.JSON,
) -> None:
    """Merge the reports of the shards of one replay (--shard K/N on N machines) into one;
    exit with the merged report's exit code."""
    merged = merge_reports([_read_report(path) for path in reports])
    if report is ReportFormat.JSON:
        code = print_result(merged.to_json(), merged.exit_code)
    else:
        code = print_result(lambda: render_report(merged, stderr_console()), merged.exit_code)
    raise typer.Exit(int(code))


def _read_report(path: str) -> Report:
    try:
        document = orjson.loads(
            sys.stdin.buffer.read() if path == STDIN else Path(path).read_bytes()
        )
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the report: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a JSON report ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("outcomes"), dict):
        raise UsageError(f"{path}: not a JSON report of `rudder-sentry replay`")
    try:
        return report_from_json(document)
    except (TypeError, ValueError, KeyError) as exc:
        raise UsageError(f"{path}: not a JSON report of `rudder-sentry replay` ({exc})") from None


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rudder-sentry")
