"""The HTTP sender: `--workers` concurrent requests that wait out rate limits and retry, losing
nothing, driven from the caller's own thread through libcurl's multi interface.

Why one thread: with sender threads, every request crossed the GIL five or six times while the
reading thread kept it busy; the context switches cost more than the requests. Here `submit`
starts a request and returns; libcurl tells which sockets it waits on (its socket callback),
one selector watches them, and answers are collected whenever the caller submits or asks. The
caller blocks only when the backlog behind the `--workers` requests in flight is full.

Per parcel: wait while Sentry rate-limits our category, pace to `--rate`, send with a fresh
`sent_at`, then do what `policy.classify` says of the answer: accepted; wait out a 429 and retry
(no attempt limit: the limit always ends); back off with jitter after 5xx, 408 and network
errors, up to MAX_ATTEMPTS; stop everything on 401/403 or on a certificate that cannot be
trusted; fail the event on any other 4xx, keeping Sentry's answer.

A run never waits silently: the first network error of an outage is announced (`on_notice`),
the progress status says why nothing moves, and a run that has had nothing accepted gives up
after `give_up_after` seconds of unreachability (after the first acceptance, outages are
waited out with backoff).
"""

import heapq
import random
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pycurl

from core.clock import SYSTEM_CLOCK, Clock
from core.delivery.http import (
    TLS_HANDSHAKE_ERRORS,
    TLS_VERIFY_ERRORS,
    Answer,
    EnvelopeClient,
    Exchange,
)
from core.delivery.options import DeliveryOptions
from core.delivery.policy import (
    EVENT_CATEGORIES,
    MAX_ATTEMPTS,
    MAX_RETRIES_PER_S,
    SESSION_CATEGORIES,
    Action,
    Pacer,
    RateLimits,
    backoff_delay,
    classify,
    parse_retry_after,
)
from core.delivery.seam import SESSION, Parcel, Receipt
from core.outcome import FailKind, Failure

INTERRUPTED = Failure(FailKind.INTERRUPTED)
LONG_WAIT = 60.0  # seconds: a rate-limit wait longer than this is announced (docs/delivery.md)
BACKLOG_PER_WORKER = 8  # parcels waiting to be sent before submit blocks
TICK = 0.2  # seconds between on_wait calls while the caller is blocked
STOP_GRACE = 5.0  # seconds in-flight requests get to answer once the run is stopped (at most
# --give-up-after): an answer recorded is a request a re-run does not post again
# Up to MANY_SOCKETS requests in flight, poll: registering costs no system call (epoll's does,
# twice a request). Beyond, epoll: poll's cost grows with every socket watched (`make bench`
# row (e), 256 in flight: 24 µs a call). Elsewhere (Windows) the platform's default.
MANY_SOCKETS = 64
_FEW = getattr(selectors, "PollSelector", selectors.DefaultSelector)
_MANY = getattr(selectors, "EpollSelector", _FEW)
SILENT_SHOWN = 5.0  # seconds without any answer before the progress line says so
PUMP_GAP = 0.001  # seconds: `completed` right after `submit` need not look again
_EVENTS = {
    pycurl.POLL_IN: selectors.EVENT_READ,
    pycurl.POLL_OUT: selectors.EVENT_WRITE,
    pycurl.POLL_INOUT: selectors.EVENT_READ | selectors.EVENT_WRITE,
}


@dataclass(slots=True)
class _Pending:
    parcel: Parcel
    failures: int = 0  # 5xx/408/network answers so far
    attempts: int = 0  # attempts made so far (the next one is a retry when > 0)


@dataclass(order=True, slots=True)
class _Delayed:
    due: float
    order: int
    pending: _Pending = field(compare=False)


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
        give_up_after: float | None = None,
    ) -> None:
        self.client = client
        self.workers = max(1, workers)
        self.limits = RateLimits()
        self.pacer = Pacer(rate)
        self.retry_pacer = Pacer(MAX_RETRIES_PER_S)  # repeats of all parcels together
        self.stop = stop or threading.Event()
        self.clock = clock
        self.give_up_after = give_up_after
        self.on_wait: Callable[[], None] | None = None
        self.on_notice: Callable[[str], None] | None = None
        self.retries = 0  # attempts repeated after a 429, a 5xx, a 408 or a network error
        self.gave_up = ""  # why the sender stopped the run ("" while it did not)
        self._jitter = jitter
        self._aborted: Failure | None = None  # why everything not yet sent fails
        self._ready: deque[_Pending] = deque()
        self._delayed: list[_Delayed] = []  # backing off, by due time
        self._delays = 0
        self._done: list[Receipt] = []
        self._backlog_limit = self.workers * BACKLOG_PER_WORKER
        self._slot: float | None = None  # when the next parcel may start, once booked (--rate)
        self._ticked = clock.monotonic()
        self._announced = 0.0  # the end of the last long wait announced (monotonic)
        self._accepted_any = False
        self._unreachable: tuple[float, str] | None = None  # since when, and why
        # the give-up clock: since the first request launched with no answer (an HTTP status)
        # since; a hung proxy, TCP connect or TLS handshake counts as much as a refusal
        self._silent_since: float | None = None
        # libcurl: its sockets in our selector, its timer in real seconds
        self._flights: dict[pycurl.Curl, tuple[_Pending, Exchange]] = {}
        self._idle: list[Exchange] = []
        self._selector = (_MANY if self.workers > MANY_SOCKETS else _FEW)()
        self._pumped = 0.0  # when the sockets were last looked at (monotonic)
        self._curl_due: float | None = None
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        self._multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)

    def submit(self, parcel: Parcel) -> None:
        """Start the parcel when a worker is free, else queue it; while the backlog is full,
        wait (answers keep coming in), unless the run is being stopped."""
        if self._aborted is not None:
            self._done.append(Receipt(parcel, self._aborted))
            return
        self._ready.append(_Pending(parcel))
        self._pump(0.0)
        while len(self._ready) + len(self._delayed) > self._backlog_limit:
            if self.stop.is_set():
                return  # the run stops; finish(abandon=True) settles the backlog
            self._wait(TICK)

    def completed(self) -> list[Receipt]:
        """Jobs finished since the last call (collects answers that have arrived)."""
        if self.clock.monotonic() - self._pumped > PUMP_GAP:
            self._pump(0.0)
        done, self._done = self._done, []
        return done

    def finish(self, abandon: bool = False) -> list[Receipt]:
        """Send what is queued, then close. Abandons unsent parcels when asked to, or as soon as
        the run's stop event is set (a SIGINT while draining must not wait out a rate limit).
        Requests already in flight get STOP_GRACE seconds (or --give-up-after, if shorter) for
        their answers; a request still unanswered then is given up as interrupted (a re-run
        posts it again, with the same event id, which Sentry keeps once). A second signal
        (KeyboardInterrupt) abandons them at once."""
        if abandon:
            self._abort(INTERRUPTED)
        grace = min(STOP_GRACE, self.give_up_after or STOP_GRACE)
        stopped_at: float | None = None
        while self._ready or self._delayed or self._flights:
            if self.stop.is_set():
                self._abort(INTERRUPTED)
                now = self.clock.monotonic()
                stopped_at = now if stopped_at is None else stopped_at
                if now - stopped_at >= grace:
                    self._drop_flights()
                    break
            self._wait(min(TICK, grace))
        for exchange in self._idle:
            exchange.curl.close()
        self._idle.clear()
        self._multi.close()
        self._selector.close()
        done, self._done = self._done, []
        return done

    def _drop_flights(self) -> None:
        for curl in list(self._flights):
            self._multi.remove_handle(curl)
            pending, exchange = self._flights.pop(curl)
            exchange.curl.close()
            self._done.append(Receipt(pending.parcel, INTERRUPTED))

    def status(self) -> str:
        """Why nothing moves, for the progress display ('' while things move)."""
        now = self.clock.monotonic()
        if self._unreachable is not None:
            since, why = self._unreachable
            return f"cannot reach Sentry for {now - since:.0f}s: {why}"
        if self._silent_since is not None and now - self._silent_since >= SILENT_SHOWN:
            return f"no answer from Sentry for {now - self._silent_since:.0f}s"
        wait = self.limits.wait_time(now)
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
            self._done.append(Receipt(pending.parcel, self._aborted))
        for delayed in self._delayed:
            self._done.append(Receipt(delayed.pending.parcel, self._aborted))
        self._ready.clear()
        self._delayed.clear()

    def _pump(self, timeout: float) -> None:
        """Start what may start, wait up to `timeout` for sockets and timers, collect answers,
        start again."""
        now = self._pumped = self.clock.monotonic()
        wake = self._start_ready(now)
        wait = self.clock.real_seconds(max(0.0, min(timeout, wake - now)))
        if self._curl_due is not None:
            wait = min(wait, max(0.0, self._curl_due - time.monotonic()))  # libcurl's own time
        if not self._flights:
            if wait > 0:
                self.stop.wait(wait)
            self._check_silence(self.clock.monotonic())
            return
        for key, events in self._selector.select(wait):
            mask = (pycurl.CSELECT_IN if events & selectors.EVENT_READ else 0) | (
                pycurl.CSELECT_OUT if events & selectors.EVENT_WRITE else 0
            )
            self._multi.socket_action(key.fd, mask)
        if self._curl_due is not None and self._curl_due <= time.monotonic():
            self._curl_due = None
            self._multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        self._collect()
        now = self.clock.monotonic()
        self._check_silence(now)
        self._start_ready(now)

    def _on_socket(self, what: int, descriptor: int, multi: object, data: object) -> None:
        """libcurl's socket callback: watch `descriptor` for what it waits on."""
        registered = descriptor in self._selector.get_map()
        if what == pycurl.POLL_REMOVE:
            if registered:
                self._selector.unregister(descriptor)
        elif registered:
            self._selector.modify(descriptor, _EVENTS[what])
        else:
            self._selector.register(descriptor, _EVENTS[what])

    def _on_timer(self, milliseconds: int) -> None:
        """libcurl's timer callback: call back after `milliseconds` (-1: no timer)."""
        self._curl_due = None if milliseconds < 0 else time.monotonic() + milliseconds / 1000

    def _collect(self) -> None:
        while True:
            queued, finished, failed = self._multi.info_read()
            for curl in finished:
                self._land(curl)
            for curl, error, message in failed:
                self._land(curl, error, message)
            if not queued:
                return

    def _land(self, curl: pycurl.Curl, error: int = 0, message: str = "") -> None:
        self._multi.remove_handle(curl)
        pending, exchange = self._flights.pop(curl)
        answer = exchange.answer(error, message)
        self._idle.append(exchange)
        self._settle(pending, answer)

    def _start_ready(self, now: float) -> float:
        """Start due parcels on free workers; returns when something may next start."""
        while self._delayed and self._delayed[0].due <= now:
            self._ready.append(heapq.heappop(self._delayed).pending)
        wake = self._delayed[0].due if self._delayed else now + TICK
        while self._ready and len(self._flights) < self.workers and self._aborted is None:
            limited = self.limits.wait_time(now, _categories(self._ready[0].parcel))
            if limited > 0 and not self._bring_forward(now):
                wake = min(wake, now + min(limited, TICK))  # re-check: stop, a longer limit
                break
            if self._slot is None:
                self._slot = now + self.pacer.reserve(now)  # --rate: this parcel's slot
                if self._ready[0].attempts:  # a retry: also a slot among all retries
                    self._slot = max(self._slot, now + self.retry_pacer.reserve(now))
            if self._slot > now:
                wake = min(wake, self._slot)
                break
            self._slot = None
            self._launch(self._ready.popleft())  # libcurl sets a timer: _pump starts it
        return wake

    def _bring_forward(self, now: float) -> bool:
        """Put first the first ready parcel whose category is not rate-limited (sessions and
        events are limited apart); False when every ready parcel must wait."""
        for index, pending in enumerate(self._ready):
            if self.limits.wait_time(now, _categories(pending.parcel)) <= 0:
                del self._ready[index]
                self._ready.appendleft(pending)
                return True
        return False

    def _launch(self, pending: _Pending) -> None:
        parcel = pending.parcel
        exchange = self._idle.pop() if self._idle else self.client.exchange()
        try:
            exchange.prepare(self.client.body(parcel, self.clock.wall()))
            self._multi.add_handle(exchange.curl)
        except Exception as exc:  # a bug must not lose the parcel
            self._idle.append(exchange)
            self._done.append(Receipt(parcel, _internal(exc)))
            return
        self._flights[exchange.curl] = (pending, exchange)
        if self._silent_since is None:
            self._silent_since = self.clock.monotonic()

    def _settle(self, pending: _Pending, answer: Answer) -> None:
        """What one attempt's answer (status 0: none) means for its parcel."""
        now = self.clock.monotonic()
        pending.attempts += 1
        status = answer.status
        retry_after = parse_retry_after(answer.retry_after, self.clock.epoch())
        categories = _categories(pending.parcel)
        self.limits.update(status, retry_after, answer.rate_limits, now, categories)
        self._announce_long_wait(now)
        parcel = pending.parcel
        if status:
            self._unreachable = self._silent_since = None
        action = classify(status)
        if action is Action.ACCEPTED:
            self._accepted_any = True
            self._done.append(Receipt(parcel))
        elif self._aborted is not None:
            self._done.append(Receipt(parcel, self._aborted))
        elif self._is_fatal(answer):
            self._done.append(Receipt(parcel, Failure(FailKind.TLS, detail=answer.text)))
            self._abort(Failure(FailKind.AFTER_TLS_ERROR))
        elif action is Action.WAIT:
            self.retries += 1
            self._ready.appendleft(pending)  # first in line when the limit ends
        elif action is Action.STOP:
            self._done.append(Receipt(parcel, Failure(FailKind.AUTH, status, answer.text)))
            self._abort(Failure(FailKind.AFTER_AUTH_ERROR))
        elif action is Action.BACKOFF:
            if status == 0:
                self._unreachable_for(now, answer.text)
            pending.failures += 1
            self.retries += 1
            if pending.failures >= MAX_ATTEMPTS:
                failure = (
                    Failure(FailKind.NETWORK, detail=answer.text)
                    if status == 0
                    else Failure(FailKind.HTTP, status, answer.text)
                )
                self._done.append(Receipt(parcel, failure))
            elif self.gave_up:
                self._done.append(Receipt(parcel, INTERRUPTED))  # the sender gave up just now
            else:
                due = now + backoff_delay(pending.failures - 1, self._jitter())
                self._delays += 1
                heapq.heappush(self._delayed, _Delayed(due, self._delays, pending))
        else:
            self._done.append(Receipt(parcel, Failure(FailKind.HTTP, status, answer.text)))

    def _is_fatal(self, answer: Answer) -> bool:
        """A certificate that cannot be trusted never will be; a TLS handshake that fails
        before anything was accepted is a protocol mismatch (https to a plain server), not
        an outage to wait out."""
        if answer.error in TLS_VERIFY_ERRORS:
            return True
        return answer.error in TLS_HANDSHAKE_ERRORS and not self._accepted_any

    def _unreachable_for(self, now: float, why: str) -> None:
        """A network error: announce the outage once (the give-up clock is `_silent_since`)."""
        if self._unreachable is None:
            since = now if self._silent_since is None else self._silent_since
            self._unreachable = (since, why)
            if self.on_notice is not None:
                self.on_notice(f"cannot reach Sentry: {why}; retrying")
            return
        self._unreachable = (self._unreachable[0], why)

    def _check_silence(self, now: float) -> None:
        """Give up when nothing was ever accepted and no request has had an answer for
        `give_up_after` seconds: refused, unreachable, or hanging in a proxy or a handshake.
        The requests still in flight are given up as interrupted (a re-run sends them)."""
        since, limit = self._silent_since, self.give_up_after
        if since is None or limit is None or self._accepted_any or self.gave_up:
            return
        if not (self._flights or self._ready or self._delayed):
            self._silent_since = None  # nothing waits for an answer: no outage to time
            return
        if now - since < limit:
            return
        why = self._unreachable[1] if self._unreachable is not None else "no answer"
        self.gave_up = f"Sentry could not be reached for {now - since:.0f} s: {why}"
        self._abort(INTERRUPTED)
        self._drop_flights()
        self.stop.set()

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


def _categories(parcel: Parcel) -> frozenset[str]:
    """The rate-limit categories a parcel counts against."""
    return SESSION_CATEGORIES if parcel.category == SESSION else EVENT_CATEGORIES


def _internal(exc: Exception) -> Failure:
    return Failure(FailKind.INTERNAL, detail=type(exc).__name__)


def http_sender(
    dsn: str, options: DeliveryOptions, stop: threading.Event, clock: Clock = SYSTEM_CLOCK
) -> HttpSender:
    """The real sender: `--workers` concurrent requests to the DSN's envelope endpoint."""
    client = EnvelopeClient(
        dsn,
        proxy=options.proxy,
        ca_bundle=options.ca_bundle,
        timeout=clock.real_seconds(options.read_timeout),
    )
    return HttpSender(
        client,
        workers=options.workers,
        rate=options.rate,
        stop=stop,
        clock=clock,
        give_up_after=options.give_up_after,
    )
