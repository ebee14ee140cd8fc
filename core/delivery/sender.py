"""The HTTP sender: `--workers` concurrent requests that wait out rate limits and retry, losing
nothing, driven from the caller's own thread.

Why one thread: with sender threads, every request crossed the GIL five or six times (queue
hand-off, gzip, send, receive) while the reading thread kept it busy; the context switches cost
more than the requests (`make bench`: about 5,000 events/s threaded, 8,000 in one loop). Here
`submit` starts a request on a free connection and returns; answers are collected whenever the
caller submits or asks (a selector with no wait), and the caller blocks only when `--workers`
requests are in flight and the backlog is full.

Per job: wait while Sentry rate-limits our category, pace to `--rate`, send with a fresh
`sent_at`, then do what `policy.classify` says of the answer: accepted; wait out a 429 and retry
(no attempt limit: the limit always ends); back off with jitter after 5xx, 408 and network
errors, up to MAX_ATTEMPTS; stop everything on 401/403; fail the event on any other 4xx.
"""

import heapq
import random
import selectors
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from core.clock import SYSTEM_CLOCK, Clock
from core.delivery.http import Connection, EnvelopeClient, ProtocolError
from core.delivery.jobs import Done, Job
from core.delivery.options import READ_TIMEOUT, DeliveryOptions
from core.delivery.policy import (
    MAX_ATTEMPTS,
    Action,
    Pacer,
    RateLimits,
    backoff_delay,
    classify,
    parse_retry_after,
)
from core.outcome import FailKind, Failure

INTERRUPTED = Failure(FailKind.INTERRUPTED)
LONG_WAIT = 60.0  # seconds: a rate-limit wait longer than this is announced (SPEC §8)
BACKLOG_PER_WORKER = 8  # jobs waiting to be sent before submit blocks
TICK = 0.2  # seconds between on_wait calls while the caller is blocked
# poll where there is one: registering costs no system call (epoll's does, twice a request);
# elsewhere (Windows) the platform's default
_SELECTOR = getattr(selectors, "PollSelector", selectors.DefaultSelector)


@dataclass(slots=True)
class _Pending:
    job: Job
    failures: int = 0  # 5xx/408/network answers so far


@dataclass(order=True, slots=True)
class _Delayed:
    due: float
    order: int
    pending: _Pending = field(compare=False)


@dataclass(slots=True)
class _Flight:
    channel: Connection
    pending: _Pending
    deadline: float


class HttpSender:
    """Up to `workers` requests in flight, a bounded backlog behind them."""

    def __init__(
        self,
        client: EnvelopeClient,
        *,
        workers: int = 4,
        rate: float | None = None,
        stop: threading.Event | None = None,
        clock: Clock = SYSTEM_CLOCK,
        jitter: Callable[[], float] = random.random,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.client = client
        self.workers = max(1, workers)
        self.limits = RateLimits()
        self.pacer = Pacer(rate)
        self.stop = stop or threading.Event()
        self.on_wait: Callable[[], None] | None = None
        self.on_notice: Callable[[str], None] | None = None
        self._announced = 0.0  # the end of the last long wait announced (monotonic)
        self.retries = 0  # attempts repeated after a 429, a 5xx, a 408 or a network error
        self.clock = clock
        self._jitter = jitter
        self._read_timeout = read_timeout
        self._aborted: Failure | None = None  # why everything not yet sent fails
        self._ready: deque[_Pending] = deque()
        self._delayed: list[_Delayed] = []  # backing off, by due time
        self._delays = 0
        self._flights: dict[int, _Flight] = {}  # by socket descriptor
        self._idle: list[Connection] = []
        self._selector = _SELECTOR()
        self._done: list[Done] = []
        self._backlog_limit = self.workers * BACKLOG_PER_WORKER
        self._slot: float | None = None  # when the next job may start, once booked (--rate)
        self._ticked = clock.monotonic()

    def submit(self, job: Job) -> None:
        """Start the job when a connection is free, else queue it; while the backlog is full,
        wait (answers keep coming in), unless the run is being stopped."""
        if self._aborted is not None:
            self._done.append(Done(job, self._aborted))
            return
        self._ready.append(_Pending(job))
        self._pump(0.0)
        while len(self._ready) + len(self._delayed) > self._backlog_limit:
            if self.stop.is_set():
                return  # the run stops; finish(abandon=True) settles the backlog
            self._wait(TICK)

    def completed(self) -> list[Done]:
        """Jobs finished since the last call (collects answers that have arrived)."""
        self._pump(0.0)
        done, self._done = self._done, []
        return done

    def finish(self, abandon: bool = False) -> list[Done]:
        """Send what is queued, then close. Abandons unsent jobs when asked to, or as soon as
        the run's stop event is set (a SIGINT while draining must not wait out a rate limit).
        Requests already in flight get their answers."""
        if abandon:
            self._abort(INTERRUPTED)
        while self._ready or self._delayed or self._flights:
            if self.stop.is_set():
                self._abort(INTERRUPTED)
            self._wait(TICK)
        for channel in self._idle:
            channel.close()
        self._idle.clear()
        done, self._done = self._done, []
        return done

    def status(self) -> str:
        """'waiting for rate limit (Ns)' while Sentry asks us to wait."""
        wait = self.limits.wait_time(self.clock.monotonic())
        return f"waiting for rate limit ({wait:.0f}s)" if wait > 0.5 else ""

    def _wait(self, seconds: float) -> None:
        """Pump for up to `seconds` (answers, timers); every TICK, let the caller show
        progress."""
        self._pump(seconds)
        now = self.clock.monotonic()
        if self.on_wait is not None and now - self._ticked >= TICK:
            self._ticked = now
            self.on_wait()

    def _abort(self, failure: Failure) -> None:
        if self._aborted is None:
            self._aborted = failure
        for pending in self._ready:
            self._done.append(Done(pending.job, self._aborted))
        for delayed in self._delayed:
            self._done.append(Done(delayed.pending.job, self._aborted))
        self._ready.clear()
        self._delayed.clear()

    def _pump(self, timeout: float) -> None:
        """Start what may start, wait up to `timeout` for answers, handle them, start again."""
        now = self.clock.monotonic()
        wake = self._start_ready(now)
        if self._flights:
            wake = min(wake, min(flight.deadline for flight in self._flights.values()))
        wait = max(0.0, min(timeout, wake - now))
        if not self._flights:
            if wait > 0:
                self.clock.pause(wait, self.stop)
            return
        for key, _ in self._selector.select(self.clock.real_seconds(wait)):
            self._answer(key.fd)
        now = self.clock.monotonic()
        for descriptor, flight in list(self._flights.items()):
            if flight.deadline <= now:
                self._land(descriptor)
                flight.channel.close()
                self._settle(flight.pending, 0, None, None)
        self._start_ready(now)

    def _start_ready(self, now: float) -> float:
        """Start due jobs on free connections; returns when something may next start."""
        while self._delayed and self._delayed[0].due <= now:
            self._ready.append(heapq.heappop(self._delayed).pending)
        wake = self._delayed[0].due if self._delayed else now + TICK
        while self._ready and len(self._flights) < self.workers and self._aborted is None:
            limited = self.limits.wait_time(now)
            if limited > 0:
                return min(wake, now + min(limited, TICK))  # re-check: stop, a longer limit
            if self._slot is None:
                self._slot = now + self.pacer.reserve(now)  # --rate: this job's slot
            if self._slot > now:
                return min(wake, self._slot)
            self._slot = None
            self._launch(self._ready.popleft())
        return wake

    def _launch(self, pending: _Pending) -> None:
        job = pending.job
        channel: Connection | None = None
        try:
            channel = self._channel()
            channel.start(self.client.request(job.event_id, job.payload, self.clock.wall()))
        except Exception as exc:  # OSError: a network error; anything else must not lose it
            if channel is not None:
                channel.close()
            if isinstance(exc, OSError):
                self._settle(pending, 0, None, None)
            else:
                self._done.append(Done(job, _internal(exc)))
            return
        descriptor = channel.fileno()
        self._flights[descriptor] = _Flight(
            channel, pending, self.clock.monotonic() + self._read_timeout
        )
        self._selector.register(descriptor, selectors.EVENT_READ)

    def _channel(self) -> Connection:
        while self._idle:
            channel = self._idle.pop()
            if not channel.dropped():
                return channel
            channel.close()
        return self.client.connect()

    def _land(self, descriptor: int) -> _Flight:
        self._selector.unregister(descriptor)
        return self._flights.pop(descriptor)

    def _answer(self, descriptor: int) -> None:
        flight = self._flights[descriptor]
        try:
            response = flight.channel.feed()
        except Exception as exc:  # OSError, ProtocolError: a network error for this attempt
            self._land(descriptor)
            flight.channel.close()
            if isinstance(exc, OSError | ProtocolError):
                self._settle(flight.pending, 0, None, None)
            else:
                self._done.append(Done(flight.pending.job, _internal(exc)))
            return
        if response is None:
            return  # more bytes to come
        self._land(descriptor)
        if flight.channel.reusable and len(self._idle) < self.workers:
            self._idle.append(flight.channel)
        else:
            flight.channel.close()
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock.epoch())
        self._settle(
            flight.pending,
            response.status,
            retry_after,
            response.headers.get("x-sentry-rate-limits"),
        )

    def _settle(
        self,
        pending: _Pending,
        status: int,
        retry_after: float | None,
        rate_limits: str | None,
    ) -> None:
        """What one attempt's answer (status 0: none) means for its job."""
        now = self.clock.monotonic()
        self.limits.update(status, retry_after, rate_limits, now)
        self._announce_long_wait(now)
        job = pending.job
        action = classify(status)
        if action is Action.ACCEPTED:
            self._done.append(Done(job))
        elif self._aborted is not None:
            self._done.append(Done(job, self._aborted))
        elif action is Action.WAIT:
            self.retries += 1
            self._ready.appendleft(pending)  # first in line when the limit ends
        elif action is Action.STOP:
            self._done.append(Done(job, Failure(FailKind.AUTH, status)))
            self._abort(Failure(FailKind.AFTER_AUTH_ERROR))
        elif action is Action.BACKOFF:
            pending.failures += 1
            self.retries += 1
            if pending.failures >= MAX_ATTEMPTS:
                kind = FailKind.NETWORK if status == 0 else FailKind.HTTP
                self._done.append(Done(job, Failure(kind, status)))
            else:
                due = self.clock.monotonic() + backoff_delay(pending.failures - 1, self._jitter())
                self._delays += 1
                heapq.heappush(self._delayed, _Delayed(due, self._delays, pending))
        else:
            self._done.append(Done(job, Failure(FailKind.HTTP, status)))

    def _announce_long_wait(self, now: float) -> None:
        """Say once, with its end time, that Sentry asked for a wait of over a minute."""
        wait = self.limits.wait_time(now)
        if wait <= LONG_WAIT or now + wait <= self._announced + 1.0:
            return
        self._announced = now + wait
        if self.on_notice is not None:
            until = self.clock.wall() + timedelta(seconds=wait)
            self.on_notice(
                f"Sentry asked to wait {wait:,.0f} s before sending more events (until "
                f"{until:%Y-%m-%d %H:%M:%S} UTC); waiting. Ctrl-C stops, a re-run resumes."
            )


def _internal(exc: Exception) -> Failure:
    return Failure(FailKind.INTERNAL, detail=type(exc).__name__)


def http_sender(
    dsn: str, options: DeliveryOptions, stop: threading.Event, clock: Clock = SYSTEM_CLOCK
) -> HttpSender:
    """The real sender: `--workers` concurrent requests to the DSN's envelope endpoint."""
    return HttpSender(
        EnvelopeClient(dsn),
        workers=options.workers,
        rate=options.rate,
        stop=stop,
        clock=clock,
        read_timeout=options.read_timeout,
    )
