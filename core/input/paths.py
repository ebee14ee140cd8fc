"""Which files a replay reads: paths in the order given, directories walked (docs/input.md)."""

import functools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.config import mask_dsn
from core.errors import StoppedError, UsageError
from core.input.background import ReadStopped, call_waiting
from core.input.cloud import is_cloud, list_objects
from core.input.layouts import Window, in_time_order, span_of

DUMP_SUFFIXES = (".json", ".jsonl", ".ndjson")
STDIN = "-"


@dataclass
class Expansion:
    """The files a run reads, in order; how many the window left unopened; what was skipped."""

    files: list[str] = field(default_factory=list)
    pruned: int = 0
    warnings: list[str] = field(default_factory=list)


def expand_paths(
    paths: list[str], window: Window | None = None, halted: Callable[[], bool] = lambda: False
) -> Expansion:
    """Files in the order given, directories expanded in place: recursively, in the time order
    of RudderStack's archive layouts, else in sorted path order (core/input/layouts.py). A file
    whose name puts it wholly outside `window` is left unopened. A FIFO or a device named on
    the command line is read as a stream, as `-` is (for `<(aws s3 cp … -)`); inside a
    directory, anything but a regular file is skipped with a warning (a FIFO there would
    block the walk forever).

    Raises UsageError for a path that does not exist or cannot be read, before anything is read.
    A listing runs in a thread of its own, so a stop (`halted`) while it waits is answered at
    once: StoppedError.
    """
    found = Expansion()
    for path in paths:
        if path == STDIN:
            found.files.append(path)
            continue
        if is_cloud(path):
            try:
                urls = call_waiting(functools.partial(list_objects, path), _nothing, halted)
            except ReadStopped:
                raise StoppedError(f"stopped while listing {mask_dsn(path)}") from None
            if urls != [path]:  # an object named on its own is read, whatever its name
                urls = in_time_order([url for url in urls if is_dump_name(url)])
            _prune(urls, window, found)
            continue
        target = Path(path)
        if target.is_dir():
            candidates = in_time_order(_walk_dumps(target, found.warnings))
        elif not target.exists():
            raise UsageError(f"{path}: no such file or directory")
        elif not os.access(target, os.R_OK) or not _readable_kind(target):
            raise UsageError(f"{path}: cannot be read")
        else:
            candidates = [path]
        _prune(candidates, window, found)
    return found


def _nothing() -> None:
    """Nothing to do while a listing waits: the run has not started."""


def _prune(candidates: list[str], window: Window | None, found: Expansion) -> None:
    """Add the candidates that may hold an event of the window; count the others."""
    for candidate in candidates:
        span = span_of(candidate) if window is not None else None
        if span is not None and window is not None and not window.may_overlap(span):
            found.pruned += 1
        else:
            found.files.append(candidate)


def is_dump_name(path: str) -> bool:
    """A name a dump has: `*.json`, `*.jsonl`, `*.ndjson` (gzipped or not), `gw_jobs_*.gz`."""
    name = path.rsplit("/", 1)[-1]
    base = name[:-3] if name.endswith(".gz") else name
    return base.endswith(DUMP_SUFFIXES) or is_jobs_backup(name)


def is_jobs_backup(name: str) -> bool:
    """A legacy jobs-db backup: `gw_jobs_<idx>.<minJobId>.<maxJobId>.<…>.gz`, no `.json`."""
    return name.startswith("gw_jobs_") and name.endswith(".gz")


def _readable_kind(path: Path) -> bool:
    mode = path.stat().st_mode
    return stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _walk_dumps(root: Path, warnings: list[str]) -> list[str]:
    if not os.access(root, os.R_OK | os.X_OK):
        raise UsageError(f"{root}: cannot be read")
    found: list[Path] = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if is_dump_name(name):
                path = Path(directory) / name
                if path.is_file():  # follows links, as open() would
                    found.append(path)
                else:
                    warnings.append(f"{path}: skipped, not a regular file")
    found.sort(key=lambda p: p.parts)
    for path in found:
        if not os.access(path, os.R_OK):
            raise UsageError(f"{path}: cannot be read")
    return [str(p) for p in found]
