"""The clock every timed rule reads: the sender, backoff, the ledger's commits, the run.

Injected, as sentry-sdk's `_parse_rate_limits(now=)` and rich's `Progress(get_time=)` are, so
tests never sleep for real and never assert on wall time: `Clock.accelerated(1000)` makes a
minute of rate-limit waiting pass in 60 ms, and a clock built from plain functions stands still
until the test moves it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Clock:
    """Monotonic seconds for intervals, epoch seconds for wall times, and how waits pass.

    `scale` is how many clock seconds pass in one real second: waits on sockets and events
    last `seconds / scale` real seconds.
    """

    monotonic: Callable[[], float] = time.monotonic
    epoch: Callable[[], float] = time.time
    scale: float = 1.0

    def wall(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.fromtimestamp(self.epoch(), UTC)

    def real_seconds(self, seconds: float) -> float:
        """How long a wait of `seconds` on this clock lasts in real time."""
        return seconds / self.scale

    @classmethod
    def accelerated(cls, factor: float) -> "Clock":
        """A clock that runs `factor` times faster than real time (for tests of long waits)."""
        start, start_epoch = time.monotonic(), time.time()

        def monotonic() -> float:
            return start + (time.monotonic() - start) * factor

        def epoch() -> float:
            return start_epoch + (time.monotonic() - start) * factor

        return cls(monotonic, epoch, factor)


SYSTEM_CLOCK = Clock()
