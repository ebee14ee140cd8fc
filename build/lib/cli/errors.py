"""The one place where core's errors become a one-line message and an exit code."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from core.config import mask_dsn
from core.errors import RudderSentryError


@contextmanager
def exit_on_error(stderr: Console) -> Iterator[None]:
    """Turn a RudderSentryError into `rudder-sentry: error: ...` and its exit code."""
    try:
        yield
    except RudderSentryError as exc:
        message = mask_dsn(str(exc))
        stderr.print(
            f"rudder-sentry: error: {message}", markup=False, highlight=False, soft_wrap=True
        )
        raise typer.Exit(int(exc.exit_code)) from None
