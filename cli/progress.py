"""A rich progress display on stderr, fed by core's progress snapshots."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from core.pipeline import Progress as Snapshot

__all__ = ["Snapshot", "describe", "progress_display"]


def describe(snapshot: Snapshot, elapsed: float) -> str:
    """One line: records read and their rate, sent (or would-send), failed, rejected, waits."""
    rate = snapshot.records / max(elapsed, 1e-9)
    sent = "would send" if snapshot.dry_run else "sent"
    text = (
        f"{snapshot.records:,} records ({rate:,.0f}/s)  {sent} {snapshot.sent:,}"
        f"  failed {snapshot.failed:,}  rejected {snapshot.rejected:,}"
    )
    return f"{text}  {snapshot.status}" if snapshot.status else text


@contextmanager
def progress_display(stderr: Console, enabled: bool) -> Iterator[Callable[[Snapshot], None] | None]:
    """A callback that draws records read, sent, failed, rate and rate-limit waits."""
    if not enabled:
        yield None
        return
    started = time.monotonic()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, transient=True, redirect_stderr=True) as bar:
        task = bar.add_task("reading", total=None)

        def update(snapshot: Snapshot) -> None:
            text = escape(describe(snapshot, time.monotonic() - started))
            bar.update(task, description=text)

        yield update
