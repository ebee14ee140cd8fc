"""Exit codes and the user-facing error tree (README, "Outcomes and exit codes")."""

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Process exit codes; one enum for the whole tool."""

    OK = 0
    DELIVERY_FAILED = 1
    USAGE = 2
    REJECTED_INPUT = 3
    INTERRUPTED = 4
    INTERNAL = 70  # a bug (EX_SOFTWARE): one line, and --traceback shows where


class RudderSentryError(Exception):
    """A one-line, user-facing message. Never shown with a traceback."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class UsageError(RudderSentryError):
    """Bad command-line usage: a missing path, conflicting options."""


class StoppedError(RudderSentryError):
    """The run was stopped (SIGINT/SIGTERM) before anything was read: nothing to resume."""

    exit_code = ExitCode.INTERRUPTED


class ConfigError(RudderSentryError):
    """The destination config cannot be loaded or used."""
