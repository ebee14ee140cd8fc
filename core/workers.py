"""ThreadedSender: `--workers` HTTP senders that wait out rate limits and retry, losing nothing.

Per job: wait while Sentry rate-limits our category, pace to `--rate`, send with a fresh
`sent_at`; 2xx → accepted; 429 → wait and retry (no attempt limit: the limit always ends);
5xx, 408 and network errors → exponential backoff with jitter, up to MAX_ATTEMPTS; 401/403 →
the DSN is wrong, stop everything; any other 4xx (400, 413, ...) → a permanent failure.
"""

import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.delivery import Done, Job
from core.ratelimit import Pacer, RateLimits, backoff_delay
from core.transport import Transport

if TYPE_CHECKING:
    from core.config import DestinationConfig
    from core.replay import ReplayOptions

MAX_ATTEMPTS = 10  # 5xx/network: about 2.5 minutes of backoff in all
QUEUE_PER_WORKER = 8
PUT_POLL = 0.2


class ThreadedSender:
    """A pool of sender threads behind a bounded queue (back-pressure on the reader)."""

    def __init__(
        self,
        transport: Transport,
        *,
        workers: int = 4,
        rate: float | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.transport = transport
        self.limits = RateLimits()
        self.pacer = Pacer(rate)
        self.stop = stop or threading.Event()
        self.on_wait: Callable[[], None] | None = None
        self.retries = 0  # attempts repeated after a 429, a 5xx, a 408 or a network error
        self._clock = clock
        self._wall = wall
        self._jitter = jitter
        self._abort = threading.Event()
        self._abort_reason = "interrupted"
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=workers * QUEUE_PER_WORKER)
        self._results: deque[Done] = deque()
        self._threads = [
            threading.Thread(target=self._work, name=f"sender-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        """Queue a job; while the queue is full, wait, unless the run is being stopped."""
        while True:
            try:
                self._queue.put(job, timeout=PUT_POLL)
                return
            except queue.Full:
                if self.stop.is_set() or self._abort.is_set():
                    self._results.append(Done(job, False, self._abort_reason))
                    return
                self._tick()

    def completed(self) -> list[Done]:
        """Jobs finished since the last call."""
        done: list[Done] = []
        while self._results:
            done.append(self._results.popleft())
        return done

    def finish(self, abandon: bool = False) -> list[Done]:
        """Send what is queued, then join. Abandons unsent jobs when asked to, or as soon as
        the run's stop event is set (a SIGINT while draining must not wait out a rate limit)."""
        if abandon:
            self._abort.set()
        for _ in self._threads:
            while True:
                try:
                    self._queue.put(None, timeout=PUT_POLL)
                    break
                except queue.Full:
                    if self.stop.is_set():
                        self._abort.set()
                    self._tick()
        for thread in self._threads:
            while thread.is_alive():
                thread.join(PUT_POLL)
                if self.stop.is_set():
                    self._abort.set()
                self._tick()
        self.transport.close()
        return self.completed()

    def _tick(self) -> None:
        if self.on_wait is not None:
            self.on_wait()

    def status(self) -> str:
        """'waiting for rate limit (Ns)' while Sentry asks us to wait."""
        wait = self.limits.wait_time(self._clock())
        return f"waiting for rate limit ({wait:.0f}s)" if wait > 0.5 else ""

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                done = self._deliver(job)
            except Exception as exc:  # a bug here must not lose the job silently
                done = Done(job, False, f"internal_error:{type(exc).__name__}")
            self._results.append(done)

    def _deliver(self, job: Job) -> Done:
        failures = 0
        while True:
            if self._abort.is_set():
                return Done(job, False, self._abort_reason)
            wait = self.limits.wait_time(self._clock())
            if wait > 0:
                self._abort.wait(min(wait, 1.0))  # re-check: the abort flag, a longer limit
                continue
            pace = self.pacer.reserve(self._clock())
            if pace > 0 and self._abort.wait(pace):
                continue
            attempt = self.transport.send(job.event_id, job.payload, self._wall())
            self.limits.update(
                attempt.status, attempt.retry_after, attempt.rate_limits, self._clock()
            )
            if attempt.accepted:
                return Done(job, True)
            status = attempt.status
            if status == 429:
                self.retries += 1
                continue
            if status in (401, 403):
                self._abort_reason = "stopped_after_auth_error"
                self._abort.set()
                return Done(job, False, f"auth_http_{status}")
            if status == 0 or status == 408 or status >= 500:
                failures += 1
                self.retries += 1
                if failures >= MAX_ATTEMPTS:
                    return Done(job, False, "network_error" if status == 0 else f"http_{status}")
                self._abort.wait(backoff_delay(failures - 1, self._jitter()))
                continue
            return Done(job, False, f"http_{status}")


def http_sender(
    config: "DestinationConfig", options: "ReplayOptions", stop: threading.Event
) -> ThreadedSender:
    """The real sender: an HttpTransport to the config's DSN behind `--workers` threads."""
    from core.http import HttpTransport

    transport = HttpTransport(config.dsn, connections=options.workers)
    return ThreadedSender(transport, workers=options.workers, rate=options.rate, stop=stop)
