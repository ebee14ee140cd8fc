"""The dry-run's sender: accepts every event at once and opens no socket (SPEC §7)."""

from collections.abc import Callable

from core.clock import SYSTEM_CLOCK, Clock
from core.delivery.jobs import Done, Job


class RecordingSender:
    """Accepts each job as it is submitted; keeps the envelopes only when asked to."""

    def __init__(self, *, keep: bool = False, clock: Clock = SYSTEM_CLOCK) -> None:
        self.on_wait: Callable[[], None] | None = None  # never blocks
        self.on_notice: Callable[[str], None] | None = None  # never waits
        self.retries = 0  # one attempt per job, always accepted
        self.gave_up = ""  # never
        self.count = 0
        self.keep = keep
        self.envelopes: list[bytes] = []
        self._clock = clock
        self._done: list[Done] = []

    def submit(self, job: Job) -> None:
        """Record the event as sent."""
        self.count += 1
        if self.keep:
            self.envelopes.append(job.envelope(self._clock.wall()))
        self._done.append(Done(job))

    def completed(self) -> list[Done]:
        """Everything recorded since the last call."""
        done, self._done = self._done, []
        return done

    def finish(self, abandon: bool = False) -> list[Done]:
        """Nothing is ever pending."""
        return self.completed()

    def status(self) -> str:
        """Never waits."""
        return ""
