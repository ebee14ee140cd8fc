"""A rich progress display on stderr, fed by core's progress snapshots."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from core.replay import Progress as Snapshot


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
            elapsed = max(time.monotonic() - started, 1e-9)
            text = (
                f"{snapshot.records:,} records ({snapshot.records / elapsed:,.0f}/s)"
                f"  sent {snapshot.sent:,}  failed {snapshot.failed:,}"
                f"  rejected {snapshot.rejected:,}"
            )
            if snapshot.status:
                text += f"  [yellow]{snapshot.status}[/]"
            bar.update(task, description=text)

        yield update
