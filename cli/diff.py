"""`rudder-sentry diff`: two configs over one read; the comparison out."""

import sys
from typing import Annotated

import typer

from cli.consoles import stderr_console
from cli.options import (
    Breadcrumbs,
    ErrorEvent,
    FilterSemantics,
    IdentifyEvents,
    JobsOption,
    MaxAge,
    Paths,
    ProgressOption,
    ReportOption,
    RetentionDays,
    ScopeOption,
    ShardOption,
    Since,
    Until,
    WindowSlack,
    engine_options,
    parse_shard,
    parse_window,
)
from cli.outputs import opened_sinks, show_diff, warn_to
from cli.progress import progress_display
from cli.render import ReportFormat
from core.diff import DiffOptions, run_diff
from core.fanout import Jobs, diff_work
from core.input.paths import STDIN
from core.pipeline import ReplayIO, stop_on_signals
from core.rules.engine import DEFAULT_RETENTION_DAYS, IdentifyMode, Scope
from core.rules.eventfilter import Semantics
from core.run import ReplayOptions


def diff(
    old_config: Annotated[str, typer.Argument(help="The destination config as it is.")],
    new_config: Annotated[str, typer.Argument(help="The destination config as it would be.")],
    paths: Paths = None,
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
    identify_events: IdentifyEvents = IdentifyMode.CHANGED,
    error_event: ErrorEvent = None,
    filter_semantics: FilterSemantics = Semantics.V3,
    breadcrumbs: Breadcrumbs = 100,
    scope: ScopeOption = Scope.PAGE,
    max_age: MaxAge = None,
    retention_days: RetentionDays = DEFAULT_RETENTION_DAYS,
    since: Since = None,
    until: Until = None,
    window_slack: WindowSlack = "24h",
    shard: ShardOption = None,
    jobs: JobsOption = 1,
    report: ReportOption = ReportFormat.TEXT,
    explain: Annotated[
        bool, typer.Option("--explain", help="One tab-separated line per changed record.")
    ] = False,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 1 when anything changed, 0 when nothing did."),
    ] = False,
    progress: ProgressOption = None,
) -> None:
    """What a config change does to real traffic: every record decided under OLD_CONFIG and
    NEW_CONFIG side by side, in one read. Nothing is sent."""
    stderr = stderr_console()
    options = DiffOptions(
        old_config=old_config,
        new_config=new_config,
        replay=ReplayOptions(
            paths=tuple(paths or [STDIN]),
            destination=destination,
            dry_run=True,
            engine=engine_options(
                filter_semantics,
                identify_events,
                error_event,
                breadcrumbs,
                max_age,
                scope,
                retention_days,
            ),
            use_state=False,
            window=parse_window(since, until, window_slack),
            shard=parse_shard(shard),
        ),
        old_destination=old_destination,
        new_destination=new_destination,
    )
    show_progress = stderr.is_terminal and not explain if progress is None else progress
    io = ReplayIO(stdin=sys.stdin.buffer, notice=warn_to(stderr))
    with (
        stop_on_signals(io.stop),
        opened_sinks({}, explain, sys.stdout.buffer, sys.stderr.buffer) as sinks,
    ):
        io.explain = sinks[3]
        work = diff_work(options, jobs, io, exit_on_change=exit_code) if jobs > 1 else None
        runner = Jobs(work, io, options.replay.shard) if work is not None else None
        with progress_display(stderr, show_progress) as io.progress:
            if runner is not None:
                result = runner.collect(io)
            else:
                result = run_diff(options, io, exit_on_change=exit_code)
    raise typer.Exit(int(show_diff(result, report, stderr, old_config, new_config)))
