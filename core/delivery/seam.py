"""The delivery seam: parcels go in through `submit`, finished ones come back through `completed`
and `finish`. One seam for both sides, as sentry-sdk's one `capture_envelope`: the HTTP sender
(core/delivery/sender.py) and the dry-run's recording sender (core/delivery/recording.py)."""

from collections.abc import Callable
from datetime import datetime
from typing import Final, Protocol

from core.delivery.envelope import build_envelope, build_session_envelope
from core.outcome import Failure

ERROR: Final = "error"  # an event item: Sentry's rate-limit category for it
SESSION: Final = "session"  # a release-health session update


class Parcel:
    """One Sentry event (or session update) ready to send, and where it came from. (Plain
    classes here, for a native constructor when compiled: see core.input.records.Record.)"""

    __slots__ = (
        "category",
        "detail",
        "event_id",
        "message_id",
        "older",
        "payload",
        "record_type",
        "where",
    )

    def __init__(
        self,
        event_id: str,  # a session update's own id, for the ledger
        payload: bytes,
        where: str,  # source:line
        record_type: str,
        message_id: str,
        detail: str,
        older: bool,
        category: str = ERROR,
    ) -> None:
        self.event_id = event_id
        self.payload = payload
        self.where = where
        self.record_type = record_type
        self.message_id = message_id
        self.detail = detail
        self.older = older
        self.category = category

    def envelope(self, sent_at: datetime) -> bytes:
        """The envelope that carries this parcel, stamped `sent_at`."""
        if self.category == SESSION:
            return build_session_envelope(self.payload, sent_at)
        return build_envelope(self.event_id, self.payload, sent_at)


class Receipt:
    """A finished parcel: accepted (no failure), or failed with the reason why."""

    __slots__ = ("failure", "parcel")

    def __init__(self, parcel: Parcel, failure: Failure | None = None) -> None:
        self.parcel = parcel
        self.failure = failure

    @property
    def accepted(self) -> bool:
        """Sentry took the event."""
        return self.failure is None


class Sender(Protocol):
    """Accepts parcels; reports finished ones through `completed` and `finish`.

    `on_wait`, when set, is called about every 0.2 s while the sender blocks the caller
    (a full backlog, or the final drain), so progress and commits go on during waits.
    `on_notice`, when set, gets one line for the user when a wait will be long.
    """

    on_wait: Callable[[], None] | None
    on_notice: Callable[[str], None] | None
    retries: int  # attempts repeated so far
    gave_up: str  # why the sender stopped the run itself ("" when it did not)

    def submit(self, parcel: Parcel) -> None:
        """Queue one parcel (may block while the backlog is full)."""

    def completed(self) -> list[Receipt]:
        """Jobs finished since the last call (never blocks)."""

    def finish(self, abandon: bool = False) -> list[Receipt]:
        """Wait for every queued parcel (or abandon unsent ones) and return the rest."""

    def status(self) -> str:
        """A short state for the progress display ('' when nothing to say)."""
