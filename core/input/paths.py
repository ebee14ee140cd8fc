"""Which files a replay reads: paths in the order given, directories walked (SPEC §2.1)."""

import os
import stat
from pathlib import Path

from core.errors import UsageError

DUMP_SUFFIXES = (".json", ".jsonl", ".ndjson")
STDIN = "-"


def expand_paths(paths: list[str], warnings: list[str] | None = None) -> list[str]:
    """Files in the order given, directories expanded in place (recursive, sorted path order).
    A FIFO or a device named on the command line is read as a stream, as `-` is (for
    `<(aws s3 cp … -)`); inside a directory, anything but a regular file is skipped, with a
    warning appended to `warnings` (a FIFO there would block the walk forever).

    Raises UsageError for a path that does not exist or cannot be read, before anything is read.
    """
    result: list[str] = []
    for path in paths:
        if path == STDIN:
            result.append(path)
            continue
        target = Path(path)
        if target.is_dir():
            result.extend(_walk_dumps(target, warnings if warnings is not None else []))
        elif not target.exists():
            raise UsageError(f"{path}: no such file or directory")
        elif not os.access(target, os.R_OK) or not _readable_kind(target):
            raise UsageError(f"{path}: cannot be read")
        else:
            result.append(path)
    return result


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
            base = name[:-3] if name.endswith(".gz") else name
            if base.endswith(DUMP_SUFFIXES) or is_jobs_backup(name):
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
