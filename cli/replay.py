"""`rudder-sentry replay`: options in, core's run, the report out."""

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
from cli.outputs import opened_sinks, show_report, warn_to
from cli.progress import progress_display
from cli.render import ReportFormat
from core.config import Overrides
from core.delivery.options import DEFAULT_WORKERS, GIVE_UP_AFTER, DeliveryOptions
from core.errors import UsageError
from core.fanout import Jobs, replay_work
from core.input.paths import STDIN
from core.pipeline import ReplayIO, stop_on_signals
from core.rules.engine import DEFAULT_RETENTION_DAYS, IdentifyMode, Scope
from core.rules.eventfilter import Semantics
from core.run import ReplayOptions, run_replay


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


def replay(
    paths: Paths = None,
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
            "--output",
            "-o",
            help="Write each sent Sentry event (and session update) as JSON lines; - = stdout.",
        ),
    ] = None,
    report: ReportOption = ReportFormat.TEXT,
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
    identify_events: IdentifyEvents = IdentifyMode.CHANGED,
    error_event: ErrorEvent = None,
    filter_semantics: FilterSemantics = Semantics.V3,
    breadcrumbs: Breadcrumbs = 100,
    scope: ScopeOption = Scope.PAGE,
    retention_days: RetentionDays = DEFAULT_RETENTION_DAYS,
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
            help="HTTP(S) or SOCKS proxy URL. Default: the environment as curl reads it "
            "(https_proxy or HTTPS_PROXY for Sentry's https DSNs, ALL_PROXY, NO_PROXY); '' for "
            "none.",
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
    jobs: JobsOption = 1,
    shard: ShardOption = None,
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
    max_age: MaxAge = None,
    since: Since = None,
    until: Until = None,
    window_slack: WindowSlack = "24h",
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after N records.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first rejected line (exit 3).")
    ] = False,
    progress: ProgressOption = None,
) -> None:
    """Replay RudderStack dumps (NDJSON, plain or gzip) into Sentry."""
    stderr = stderr_console()
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
        engine=engine_options(
            filter_semantics,
            identify_events,
            error_event,
            breadcrumbs,
            max_age,
            scope,
            retention_days,
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
        window=parse_window(since, until, window_slack),
        shard=parse_shard(shard),
    )
    show_progress = stderr.is_terminal and not explain if progress is None else progress
    io = ReplayIO(stdin=sys.stdin.buffer, notice=warn_to(stderr))
    wanted = {"--output": output, "--rejects": rejects, "--failures": failures}
    with (
        stop_on_signals(io.stop),
        opened_sinks(wanted, explain, sys.stdout.buffer, sys.stderr.buffer) as sinks,
    ):
        io.output, io.rejects, io.failures, io.explain = sinks
        runner = (  # forked before the progress display's thread
            Jobs(replay_work(options, jobs, io), io, options.shard) if jobs > 1 else None
        )
        with progress_display(stderr, show_progress) as io.progress:
            result = runner.collect(io) if runner else run_replay(options, io)
    raise typer.Exit(int(show_report(result, report, io, stderr)))
