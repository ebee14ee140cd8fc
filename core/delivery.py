"""Senders: hand prepared events to a Transport and report back what became of each.

`SyncSender` sends through a Transport at once (dry-run's recording transport). `LoopSender`
(core/workers.py) keeps `--workers` HTTP requests in flight, with retries and rate-limit waits.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from core.transport import Transport


@dataclass(slots=True)
class Job:
    """One Sentry event ready to send, and where it came from."""

    event_id: str
    payload: bytes
    where: str  # source:line
    record_type: str
    message_id: str
    detail: str
    older: bool


@dataclass(slots=True)
class Done:
    """A finished job: accepted, or failed for `reason` (e.g. `http_413`)."""

    job: Job
    accepted: bool
    reason: str = ""


class Sender(Protocol):
    """Accepts jobs; reports finished ones through `completed` and `finish`.

    `on_wait`, when set, is called about every 0.2 s while the sender blocks the caller
    (a full queue, or the final drain), so progress keeps moving during rate-limit waits.
    """

    on_wait: Callable[[], None] | None
    retries: int  # attempts repeated so far

    def submit(self, job: Job) -> None:
        """Queue one job (may block while the senders are busy)."""

    def completed(self) -> list[Done]:
        """Jobs finished since the last call (never blocks)."""

    def finish(self, abandon: bool = False) -> list[Done]:
        """Wait for every queued job (or abandon unsent ones) and return the rest."""

    def status(self) -> str:
        """A short state for the progress display ('' when nothing to say)."""


class SyncSender:
    """Sends at once, one attempt per job: for the recording transport."""

    def __init__(self, transport: Transport, clock: Callable[[], datetime] | None = None) -> None:
        self.transport = transport
        self.on_wait: Callable[[], None] | None = None  # never blocks
        self.retries = 0  # one attempt per job
        self._clock = clock or (lambda: datetime.now(UTC))
        self._done: list[Done] = []

    def submit(self, job: Job) -> None:
        """Send now."""
        attempt = self.transport.send(job.event_id, job.payload, self._clock())
        reason = "" if attempt.accepted else f"http_{attempt.status}"
        self._done.append(Done(job, attempt.accepted, reason))

    def completed(self) -> list[Done]:
        """Everything sent since the last call."""
        done, self._done = self._done, []
        return done

    def finish(self, abandon: bool = False) -> list[Done]:
        """Nothing is ever pending."""
        return self.completed()

    def status(self) -> str:
        """Never waits."""
        return ""
