"""The options `replay` and `diff` share, declared once (Typer's Annotated style), and how
their text becomes core's values."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.render import ReportFormat
from core.errors import UsageError
from core.input.layouts import Window, parse_bound
from core.rules.engine import DEFAULT_RETENTION_DAYS, EngineOptions, IdentifyMode, Scope
from core.rules.eventfilter import Semantics
from core.shard import Shard

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Dump files, directories (recursive), s3://, gs://, az:// prefixes, or - for "
        "stdin. Default: -."
    ),
]
IdentifyEvents = Annotated[
    IdentifyMode, typer.Option(help="Which kept identifies become user-context events.")
]
ErrorEvent = Annotated[
    list[str] | None, typer.Option(help="Adds a track name to the error-event list.")
]
FilterSemantics = Annotated[
    Semantics, typer.Option(help="RudderStack SDK generation whose filtering rules apply.")
]
Breadcrumbs = Annotated[
    int,
    typer.Option(min=0, help="Breadcrumbs kept per page load (per visitor with --scope visitor)."),
]
ScopeOption = Annotated[
    Scope,
    typer.Option(
        "--scope",
        help="How long the browser's memory of user and breadcrumbs lasts: one page load "
        "(as the browser keeps it), or the visitor's whole history.",
    ),
]
MaxAge = Annotated[
    float | None, typer.Option(min=0, help="Skip events older than DAYS (outcome too_old).")
]
RetentionDays = Annotated[
    float,
    typer.Option(
        min=1,
        help="The Sentry project's event retention: older events are re-dated by Sentry to "
        "when it receives them (counted in the report).",
    ),
]
Since = Annotated[
    str | None,
    typer.Option(
        help="Only events at or after T (ISO 8601, or an age such as 7d, 12h); archive files "
        "that cannot hold one are not opened."
    ),
]
Until = Annotated[str | None, typer.Option(help="Only events before T (ISO 8601, or an age).")]
WindowSlack = Annotated[
    str,
    typer.Option(
        help="How late an event may reach an archive file after its own time and still be "
        "found by --since/--until's pruning (an age: 24h, 3d)."
    ),
]
ShardOption = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="K/N",
        help="Take only the visitors of shard K of N (0-based): N copies, on N machines, "
        "split one run exactly.",
    ),
]
JobsOption = Annotated[
    int,
    typer.Option(
        "--jobs", min=1, help="Decide in N processes, each owning a shard of the visitors (exact)."
    ),
]
ReportOption = Annotated[ReportFormat, typer.Option(help="text (stderr) or json (stdout).")]
ProgressOption = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress on stderr (default: on a TTY)."),
]


def parse_shard(text: str | None) -> Shard:
    """--shard K/N (the whole run when absent)."""
    if text is None:
        return Shard()
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None


def parse_window(since: str | None, until: str | None, slack: str = "24h") -> Window | None:
    """--since/--until (and --window-slack) as a Window; None when neither bound is given."""
    if since is None and until is None:
        return None
    now = datetime.now(UTC)
    bounds = []
    for option, text in (("--since", since), ("--until", until)):
        try:
            bounds.append(parse_bound(text, now) if text is not None else None)
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None
    try:
        late = now - parse_bound(slack, now)
    except ValueError as exc:
        raise UsageError(f"--window-slack: {exc}") from None
    if slack.strip()[:1].isdigit() is False or late.total_seconds() < 0:
        raise UsageError(f"--window-slack: {slack!r} is not an age such as 24h")
    window = Window(bounds[0], bounds[1], late)
    if window.since is not None and window.until is not None and window.since >= window.until:
        raise UsageError("--since must be earlier than --until")
    return window


def engine_options(
    semantics: Semantics,
    identify_events: IdentifyMode,
    error_events: list[str] | None,
    breadcrumbs: int,
    max_age: float | None,
    scope: Scope,
    retention_days: float,
) -> EngineOptions:
    """The decision options shared by replay and diff."""
    return EngineOptions(
        semantics=semantics,
        identify_events=identify_events,
        error_events=tuple(error_events or ()),
        breadcrumbs=breadcrumbs,
        max_age_days=max_age,
        scope=scope,
        retention_days=retention_days,
    )


__all__ = ["DEFAULT_RETENTION_DAYS"]
