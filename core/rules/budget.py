"""A time budget for the regex work of one event (docs/behaviour.md, "InboundFilters"): user
`/pattern/` entries and the 6.13.1 stack parsers must backtrack exactly as the browser's do, so
a hostile entry or stack can take minutes. An interval timer cuts such an event off: CPython's
regex engine checks for signals while it matches, so the SIGALRM handler's exception lands inside
the runaway match. The event then fails with `regex_timeout` (kept in `--failures` for a re-run
once the config is fixed) and a warning names what was running.
"""

import re
import signal
import threading
from types import FrameType, TracebackType

DEFAULT_BUDGET = 1.0  # seconds per error event; a normal one takes well under a millisecond


class BudgetExceededError(Exception):
    """An event's regex work ran over its budget: the pattern being searched (if one was) and
    the function that was running."""

    def __init__(self, pattern: re.Pattern[str] | None, function: str) -> None:
        super().__init__(pattern.pattern if pattern is not None else function)
        self.pattern = pattern
        self.function = function


class WorkBudget:
    """`with budget:` bounds the block to `seconds`. Where no interval timer can be had (not the
    main thread, or no SIGALRM on this platform), it bounds nothing."""

    def __init__(self, seconds: float = DEFAULT_BUDGET) -> None:
        self.seconds = seconds
        self._armed = False
        self._previous: object = None
        self.active = (
            hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._expired)

    def __enter__(self) -> None:
        if self.active:
            self._armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.active:
            self._armed = False  # before the timer stops: a late signal must not land elsewhere
            signal.setitimer(signal.ITIMER_REAL, 0)

    def close(self) -> None:
        """Give SIGALRM back to whoever had it."""
        if self.active:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]
            self.active = False

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        if self._armed:
            self._armed = False
            raise _exceeded(frame)


def _exceeded(frame: FrameType | None) -> BudgetExceededError:
    """What was running: the innermost function, and a compiled pattern in reach, if any."""
    function = frame.f_code.co_name if frame is not None else "?"
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, re.Pattern):
                return BudgetExceededError(value, function)
        frame = frame.f_back
    return BudgetExceededError(None, function)
