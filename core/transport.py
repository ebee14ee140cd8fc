"""Envelopes, and the seam a dry-run records through instead of sending.

Envelopes are written here byte for byte as sentry-sdk's `Envelope.serialize()` writes a
one-event envelope (tests/test_http.py holds the two together). Real sends go through
core/http.py and core/workers.py; sentry-sdk's stock HttpTransport is never used: it drops
events when its queue of 100 is full and on 429 (reference peers-and-sdk.md §3.1).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from core.mapping import format_timestamp


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of one send attempt."""

    status: int  # HTTP status, or 0 for a network error

    @property
    def accepted(self) -> bool:
        """2xx: Sentry took the event."""
        return 200 <= self.status < 300


ACCEPTED = Attempt(status=200)


def build_envelope(event_id: str, payload: bytes, sent_at: datetime) -> bytes:
    """An envelope with one event item; `sent_at` is refreshed on every attempt. `event_id` is
    32 hex digits and the timestamp plain ASCII: neither needs JSON escaping."""
    return b"".join(
        (
            b'{"event_id":"%s","sent_at":"%s"}\n'
            % (event_id.encode(), format_timestamp(sent_at).encode()),
            b'{"type":"event","content_type":"application/json","length":%d}\n' % len(payload),
            payload,
            b"\n",
        )
    )


class Transport(ABC):
    """One method: try to deliver one event, wrapped in an envelope stamped `sent_at`."""

    @abstractmethod
    def send(self, event_id: str, payload: bytes, sent_at: datetime) -> Attempt:
        """Attempt delivery once; never raises for network or HTTP errors."""


@dataclass
class RecordingTransport(Transport):
    """Dry-run: accepts everything, opens no socket; keeps envelopes only when asked to."""

    keep: bool = False
    count: int = 0
    envelopes: list[bytes] = field(default_factory=list)

    def send(self, event_id: str, payload: bytes, sent_at: datetime) -> Attempt:
        """Count the event (keeping its envelope when asked to) and accept it."""
        self.count += 1
        if self.keep:
            self.envelopes.append(build_envelope(event_id, payload, sent_at))
        return ACCEPTED
