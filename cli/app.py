"""The `rudder-sentry` Typer application: `replay` and `validate`."""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from cli.errors import exit_on_error
from cli.outputs import StreamConsole, opened_sinks, show_diff, show_report, warn_to
from cli.progress import progress_display
from cli.render import ReportFormat, render_report, render_validation, write_json
from core import __version__, native
from core.config import Overrides
from core.delivery.options import DEFAULT_WORKERS, GIVE_UP_AFTER, DeliveryOptions
from core.diff import DiffOptions, run_diff
from core.errors import ExitCode, UsageError
from core.fanout import Jobs, diff_work, replay_work
from core.input.layouts import Window, parse_bound
from core.input.paths import STDIN
from core.pipeline import ReplayIO, stop_on_signals
from core.report import Report, merge_reports, report_from_json
from core.rules.engine import DEFAULT_RETENTION_DAYS, EngineOptions, IdentifyMode, Scope
from core.rules.eventfilter import Semantics
from core.run import ReplayOptions, run_replay
from core.shard import Shard
from core.validate import validate_file

app = typer.Typer(
    name="rudder-sentry",
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
) -> None:
    """Replay RudderStack event dumps into Sentry (or dry-run a destination config)."""


def _shard(text: str | None) -> Shard:
    """--shard K/N (the whole replay when absent)."""
    if text is None:
        return Shard()
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None


def _window(since: str | None, until: str | None) -> Window | None:
    """--since/--until as a Window (None when neither is given)."""
    if since is None and until is None:
        return None
    now = datetime.now(UTC)
    bounds = []
    for option, text in (("--since", since), ("--until", until)):
        try:
            bounds.append(parse_bound(text, now) if text is not None else None)
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None
    window = Window(*bounds)
    if window.since is not None and window.until is not None and window.since >= window.until:
        raise UsageError("--since must be earlier than --until")
    return window


def _check_stdout_claims(
    output: str | None, rejects: str | None, failures: str | None, report: ReportFormat
) -> None:
    """Standard output carries one stream at most: a `-` file, or the JSON report."""
    claims = [
        f"--{name} -"
        for name, path in (("output", output), ("rejects", rejects), ("failures", failures))
        if path == "-"
    ]
    if report is ReportFormat.JSON:
        claims.append("--report json")
    if len(claims) > 1:
        raise UsageError(f"{' and '.join(claims)} all want stdout; pick one")


@app.command()
def replay(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Dump files, directories (recursive) or - for stdin. Default: -."),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Sentry destination config, in any RudderStack shape."),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option(help="Destination id or name, when the config holds several Sentry ones."),
    ] = None,
    dsn: Annotated[
        str | None,
        typer.Option(envvar="SENTRY_DSN", help="Overrides the config's dsn.", show_default=False),
    ] = None,
    environment: Annotated[str | None, typer.Option(help="Overrides environment.")] = None,
    release: Annotated[str | None, typer.Option(help="Overrides release.")] = None,
    server_name: Annotated[str | None, typer.Option(help="Overrides serverName.")] = None,
    logger: Annotated[str | None, typer.Option(help="Overrides logger.")] = None,
    ignore_error: Annotated[
        list[str] | None, typer.Option(help="Appended to ignoreErrors (repeatable).")
    ] = None,
    allow_url: Annotated[
        list[str] | None, typer.Option(help="Appended to allowUrls (repeatable).")
    ] = None,
    deny_url: Annotated[
        list[str] | None, typer.Option(help="Appended to denyUrls (repeatable).")
    ] = None,
    include_path: Annotated[
        list[str] | None, typer.Option(help="Appended to includePaths (repeatable).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Send nothing; report what would be sent.")
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write each sent Sentry event as JSON lines; - = stdout."
        ),
    ] = None,
    report: Annotated[
        ReportFormat, typer.Option(help="text (stderr) or json (stdout).")
    ] = ReportFormat.TEXT,
    rejects: Annotated[
        str | None, typer.Option(help="Write rejected input lines here as JSON lines.")
    ] = None,
    failures: Annotated[
        str | None,
        typer.Option(help="Write the input events whose delivery failed here (replayable)."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="One tab-separated line per record on stderr.")
    ] = False,
    identify_events: Annotated[
        IdentifyMode, typer.Option(help="Which kept identifies become user-context events.")
    ] = IdentifyMode.CHANGED,
    error_event: Annotated[
        list[str] | None, typer.Option(help="Adds a track name to the error-event list.")
    ] = None,
    filter_semantics: Annotated[
        Semantics, typer.Option(help="RudderStack SDK generation whose filtering rules apply.")
    ] = Semantics.V3,
    breadcrumbs: Annotated[
        int, typer.Option(min=0, help="Breadcrumbs kept per page load (0 = none).")
    ] = 100,
    scope: Annotated[
        Scope,
        typer.Option(
            help="How long the browser's memory of user and breadcrumbs lasts: one page load "
            "(as the browser keeps it), or the visitor's whole history."
        ),
    ] = Scope.PAGE,
    retention_days: Annotated[
        float,
        typer.Option(
            min=1,
            help="The Sentry project's event retention: older events are re-dated by Sentry "
            "to when it receives them (counted in the report).",
        ),
    ] = DEFAULT_RETENTION_DAYS,
    state: Annotated[
        str | None,
        typer.Option(
            help="SQLite state file. Default for real sends: .rudder-sentry/state.sqlite."
        ),
    ] = None,
    no_state: Annotated[
        bool, typer.Option("--no-state", help="Keep no state: a re-run sends everything again.")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=1024, help="HTTP requests in flight to Sentry at once.")
    ] = DEFAULT_WORKERS,
    proxy: Annotated[
        str | None,
        typer.Option(
            help="HTTP(S) or SOCKS proxy URL. Default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and "
            "NO_PROXY, as curl reads them; '' for none.",
            show_default=False,
        ),
    ] = None,
    ca_bundle: Annotated[
        str | None,
        typer.Option(
            help="CA certificates to trust. Default: SSL_CERT_FILE, REQUESTS_CA_BUNDLE, the "
            "system store, certifi."
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            min=1, help="Decide in N processes, each owning a shard of the visitors (exact)."
        ),
    ] = 1,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="K/N",
            help="Take only the visitors of shard K of N (0-based): N copies, on N machines, "
            "split one replay exactly.",
        ),
    ] = None,
    give_up_after: Annotated[
        float,
        typer.Option(
            min=1,
            help="Stop (exit 4, resumable) when Sentry stays unreachable this many seconds "
            "before anything was accepted.",
        ),
    ] = GIVE_UP_AFTER,
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="At most N events per second.")
    ] = None,
    max_age: Annotated[
        float | None, typer.Option(min=0, help="Skip events older than DAYS (outcome too_old).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only events at or after T (ISO 8601, or an age such as 7d, 12h); archive "
            "files wholly before it are not opened."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only events before T (ISO 8601, or an age such as 1h)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after N records.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first rejected line (exit 3).")
    ] = False,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress on stderr (default: on a TTY)."),
    ] = None,
) -> None:
    """Replay RudderStack dumps (NDJSON, plain or gzip) into Sentry."""
    stderr = StreamConsole(stderr=True)
    stdout_bin = sys.stdout.buffer
    with exit_on_error(stderr):
        _check_stdout_claims(output, rejects, failures, report)
        if state is not None and no_state:
            raise UsageError("--state and --no-state contradict each other")
        options = ReplayOptions(
            paths=tuple(paths or [STDIN]),
            config_path=config,
            destination=destination,
            overrides=Overrides(
                dsn=dsn,
                environment=environment,
                release=release,
                server_name=server_name,
                logger=logger,
                ignore_errors=tuple(ignore_error or ()),
                allow_urls=tuple(allow_url or ()),
                deny_urls=tuple(deny_url or ()),
                include_paths=tuple(include_path or ()),
            ),
            dry_run=dry_run,
            engine=EngineOptions(
                semantics=filter_semantics,
                identify_events=identify_events,
                error_events=tuple(error_event or ()),
                breadcrumbs=breadcrumbs,
                max_age_days=max_age,
                scope=scope,
                retention_days=retention_days,
            ),
            delivery=DeliveryOptions(
                workers=workers,
                rate=rate,
                proxy=proxy,
                ca_bundle=ca_bundle,
                give_up_after=give_up_after,
            ),
            state_path=state,
            use_state=not no_state,
            limit=limit,
            strict=strict,
            window=_window(since, until),
            shard=_shard(shard),
        )
        show_progress = stderr.is_terminal and not explain if progress is None else progress
        io = ReplayIO(stdin=sys.stdin.buffer, notice=warn_to(stderr))
        wanted = {"--output": output, "--rejects": rejects, "--failures": failures}
        with opened_sinks(wanted, explain, stdout_bin, sys.stderr.buffer) as sinks:
            io.output, io.rejects, io.failures, io.explain = sinks
            runner = (  # forked before any thread
                Jobs(replay_work(options, jobs, io), io, options.shard) if jobs > 1 else None
            )
            with progress_display(stderr, show_progress) as io.progress, stop_on_signals(io.stop):
                try:
                    result = runner.collect(io) if runner else run_replay(options, io)
                except KeyboardInterrupt:
                    stderr.print("rudder-sentry: aborted", highlight=False)
                    raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    show_report(result, report, io, stderr)
    raise typer.Exit(int(result.exit_code))


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
    stderr = Console(stderr=True)
    with exit_on_error(stderr):
        result = validate_file(config, destination)
    if report is ReportFormat.JSON:
        write_json(result, sys.stdout.buffer)
    else:
        render_validation(result, Console(highlight=False))
    raise typer.Exit(int(ExitCode.OK if result["valid"] else ExitCode.USAGE))


@app.command()
def diff(
    old_config: Annotated[str, typer.Argument(help="The destination config as it is.")],
    new_config: Annotated[str, typer.Argument(help="The destination config as it would be.")],
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Dump files, directories (recursive) or - for stdin. Default: -."),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option(help="Destination id or name in both configs, when they hold several."),
    ] = None,
    old_destination: Annotated[
        str | None, typer.Option(help="Destination id or name in OLD_CONFIG (else --destination).")
    ] = None,
    new_destination: Annotated[
        str | None, typer.Option(help="Destination id or name in NEW_CONFIG (else --destination).")
    ] = None,
    identify_events: Annotated[
        IdentifyMode, typer.Option(help="Which kept identifies become user-context events.")
    ] = IdentifyMode.CHANGED,
    error_event: Annotated[
        list[str] | None, typer.Option(help="Adds a track name to the error-event list.")
    ] = None,
    filter_semantics: Annotated[
        Semantics, typer.Option(help="RudderStack SDK generation whose filtering rules apply.")
    ] = Semantics.V3,
    breadcrumbs: Annotated[
        int, typer.Option(min=0, help="Breadcrumbs kept per page load (0 = none).")
    ] = 100,
    scope: Annotated[
        Scope, typer.Option(help="How long the browser's memory of user and breadcrumbs lasts.")
    ] = Scope.PAGE,
    max_age: Annotated[
        float | None, typer.Option(min=0, help="Skip events older than DAYS (outcome too_old).")
    ] = None,
    retention_days: Annotated[
        float, typer.Option(min=1, help="The Sentry project's event retention, in days.")
    ] = DEFAULT_RETENTION_DAYS,
    since: Annotated[
        str | None, typer.Option(help="Only events at or after T (ISO 8601, or an age: 7d).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only events before T (ISO 8601, or an age such as 1h).")
    ] = None,
    shard: Annotated[
        str | None, typer.Option(metavar="K/N", help="Take only the visitors of shard K of N.")
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Decide in N processes, each owning a shard of visitors.")
    ] = 1,
    report: Annotated[
        ReportFormat, typer.Option(help="text (stderr) or json (stdout).")
    ] = ReportFormat.TEXT,
    explain: Annotated[
        bool, typer.Option("--explain", help="One tab-separated line per changed record.")
    ] = False,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 1 when anything changed, 0 when nothing did."),
    ] = False,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress on stderr (default: on a TTY)."),
    ] = None,
) -> None:
    """What a config change does to real traffic: every record decided under OLD_CONFIG and
    NEW_CONFIG side by side, in one read. Nothing is sent."""
    stderr = StreamConsole(stderr=True)
    with exit_on_error(stderr):
        window = _window(since, until)
        options = DiffOptions(
            old_config=old_config,
            new_config=new_config,
            replay=ReplayOptions(
                paths=tuple(paths or [STDIN]),
                destination=destination,
                dry_run=True,
                engine=EngineOptions(
                    semantics=filter_semantics,
                    identify_events=identify_events,
                    error_events=tuple(error_event or ()),
                    breadcrumbs=breadcrumbs,
                    max_age_days=max_age,
                    scope=scope,
                    retention_days=retention_days,
                ),
                use_state=False,
                window=window,
                shard=_shard(shard),
            ),
            old_destination=old_destination,
            new_destination=new_destination,
        )
        show_progress = stderr.is_terminal and not explain if progress is None else progress
        io = ReplayIO(stdin=sys.stdin.buffer, notice=warn_to(stderr))
        with opened_sinks({}, explain, sys.stdout.buffer, sys.stderr.buffer) as sinks:
            io.explain = sinks[3]
            runner = (
                Jobs(
                    diff_work(options, jobs, io, exit_on_change=exit_code), io, options.replay.shard
                )
                if jobs > 1
                else None
            )
            with progress_display(stderr, show_progress) as io.progress, stop_on_signals(io.stop):
                try:
                    result = (
                        runner.collect(io)
                        if runner
                        else run_diff(options, io, exit_on_change=exit_code)
                    )
                except KeyboardInterrupt:
                    stderr.print("rudder-sentry: aborted", highlight=False)
                    raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    show_diff(result, report, stderr, old_config, new_config)
    raise typer.Exit(int(result.exit_code))


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
    stderr = StreamConsole(stderr=True)
    with exit_on_error(stderr):
        merged = merge_reports([_read_report(path) for path in reports])
    if report is ReportFormat.JSON:
        write_json(merged.to_json(), sys.stdout.buffer)
    else:
        render_report(merged, stderr)
    raise typer.Exit(int(merged.exit_code))


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
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a JSON report of `rudder-sentry replay` ({exc})") from None


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rudder-sentry")
