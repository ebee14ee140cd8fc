"""The dry-run's sender: accepts every event at once and opens no socket (docs/delivery.md,
"Dry-run")."""

from collections.abc import Callable

from core.clock import SYSTEM_CLOCK, Clock
from core.delivery.seam import Parcel, Receipt


class RecordingSender:
    """Accepts each parcel as it is submitted; keeps the envelopes only when asked to."""

    def __init__(self, *, keep: bool = False, clock: Clock = SYSTEM_CLOCK) -> None:
        self.on_wait: Callable[[], None] | None = None  # never blocks
        self.on_notice: Callable[[str], None] | None = None  # never waits
        self.retries = 0  # one attempt per parcel, always accepted
        self.gave_up = ""  # never
        self.count = 0
        self.keep = keep
        self.envelopes: list[bytes] = []
        self._clock = clock
        self._done: list[Receipt] = []

    def submit(self, parcel: Parcel) -> None:
        """Record the event as sent."""
        self.count += 1
        if self.keep:
            self.envelopes.append(parcel.envelope(self._clock.wall()))
        self._done.append(Receipt(parcel))

    def completed(self) -> list[Receipt]:
        """Everything recorded since the last call."""
        done, self._done = self._done, []
        return done

    def finish(self, abandon: bool = False) -> list[Receipt]:
        """Nothing is ever pending."""
        return self.completed()

    def status(self) -> str:
        """Never waits."""
        return ""
