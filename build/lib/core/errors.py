"""Exit codes and the user-facing error tree (SPEC §9)."""

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Process exit codes; one enum for the whole tool (SPEC §9)."""

    OK = 0
    DELIVERY_FAILED = 1
    USAGE = 2
    REJECTED_INPUT = 3
    INTERRUPTED = 4


class RudderSentryError(Exception):
    """A one-line, user-facing message. Never shown with a traceback."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class UsageError(RudderSentryError):
    """Bad command-line usage: a missing path, conflicting options."""


class ConfigError(RudderSentryError):
    """The destination config cannot be loaded or used."""


class AuthError(RudderSentryError):
    """Sentry refused the DSN (401/403): the run stops."""

    exit_code = ExitCode.DELIVERY_FAILED
