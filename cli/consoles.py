"""The consoles every command prints through: rich Consoles whose closed pipe is an error for
the caller to handle (rich's own answer, `SystemExit(1)`, would hide the run's exit code)."""

import contextlib
import os
import sys

from rich.console import Console


class StreamConsole(Console):
    """A rich Console whose closed pipe raises BrokenPipeError for the caller to handle."""

    def on_broken_pipe(self) -> None:
        """Leave the decision to the caller."""
        raise BrokenPipeError(32, "Broken pipe")


def stderr_console() -> StreamConsole:
    """Standard error, for reports, warnings and progress."""
    return StreamConsole(stderr=True)


def stdout_console() -> StreamConsole:
    """Standard output, for what a command prints as its result: never wrapped, never
    highlighted (a pipe reads it as it is: `validate`'s JSON stays JSON)."""
    return StreamConsole(file=sys.stdout, highlight=False, soft_wrap=True)


def quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of a closed pipe
    says nothing (the reader of `| head` went away; that is not an error to print)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
