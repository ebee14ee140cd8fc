"""A rich progress display on stderr, fed by core's progress snapshots."""

import contextlib
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


PLAIN_EVERY = 10.0  # seconds between the plain lines of a progress that is not on a terminal


@contextmanager
def progress_display(
    stderr: Console, enabled: bool, get_time: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[Snapshot], None] | None]:
    """A callback that draws records read, sent, failed, rate and waits: a live line on a
    terminal, else (forced with --progress) one plain line every 10 s, for logs."""
    if not enabled:
        yield None
        return
    if not stderr.is_terminal:
        yield plain_progress(stderr, get_time)
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


def plain_progress(stderr: Console, get_time: Callable[[], float]) -> Callable[[Snapshot], None]:
    """`rudder-sentry: progress: ...` every PLAIN_EVERY seconds (the first after 10 s)."""
    started = get_time()
    last = [started]

    def update(snapshot: Snapshot) -> None:
        now = get_time()
        if now - last[0] >= PLAIN_EVERY:
            last[0] = now
            line = f"rudder-sentry: progress: {describe(snapshot, now - started)}"
            with contextlib.suppress(OSError):
                stderr.print(line, markup=False, highlight=False, soft_wrap=True)

    return update
