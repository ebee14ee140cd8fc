"""The one place where errors become a line and an exit code, as httpie's `main` is: every
command runs inside ErrorBoundary.invoke (the app's group class), so no command catches them.

- a RudderSentryError (bad usage, a config that cannot be used, unreadable input listed up
  front): `rudder-sentry: error: <message>` and its exit code;
- Ctrl-C anywhere (a second signal during a run, or one before it starts): exit 4; a run's state
  is written by its own cleanup as the interruption unwinds;
- anything else is a bug: one line naming `--traceback` (or RUDDER_SENTRY_TRACEBACK=1), which
  shows the traceback instead, and exit 70.
Click's own usage errors and exits pass through untouched. Every message is masked (a DSN's
key, a proxy's or bucket's password) before it is printed.
"""

import contextlib
import os
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from cli.consoles import stderr_console
from core.config import mask_dsn
from core.errors import ExitCode, RudderSentryError

TRACEBACK_ENV = "RUDDER_SENTRY_TRACEBACK"


class Settings:
    """What the app's own options set before a command runs."""

    traceback = False


def show_tracebacks() -> bool:
    """Whether an internal error shows its traceback (--traceback, or RUDDER_SENTRY_TRACEBACK)."""
    return Settings.traceback or os.environ.get(TRACEBACK_ENV, "") not in ("", "0")


def say(text: str, console: Console | None = None) -> None:
    """`rudder-sentry: <text>` on stderr (through `console`, the one a progress display
    shares), one line, masked; nothing when stderr is closed."""
    with contextlib.suppress(OSError):
        (console or stderr_console()).print(
            f"rudder-sentry: {mask_dsn(text)}", markup=False, highlight=False, soft_wrap=True
        )


class ErrorBoundary(TyperGroup):
    """The app's group: runs a command and turns what escapes it into one line and a code."""

    def invoke(self, ctx: Any) -> Any:  # click's Context (vendored by Typer)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # Typer's own: usage, --help
            raise
        except RudderSentryError as exc:
            say(f"error: {exc}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            say("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            if show_tracebacks():
                raise
            name = type(exc).__name__
            say(
                f"internal error (a bug): {name}: {exc}; --traceback or {TRACEBACK_ENV}=1 "
                "shows where"
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
