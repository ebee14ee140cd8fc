"""HttpSender against scripted servers: concurrency, back-pressure, pacing, timeouts, stops.
(Faults, rate limits and restarts through whole runs are in test_delivery.py.)"""

import socket
import threading
from collections.abc import Callable

from core.clock import Clock
from core.delivery.http import EnvelopeClient
from core.delivery.seam import Parcel, Receipt
from core.delivery.sender import BACKLOG_PER_WORKER, HttpSender
from tests.scripted import ScriptedServer, always

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


def parcel(n: int) -> Parcel:
    event_id = f"{n:032x}"
    return Parcel(
        event_id, b'{"event_id":"%s"}' % event_id.encode(), f"d:{n}", "track", "", "", False
    )


def run(sender: HttpSender, count: int) -> list[Receipt]:
    done: list[Receipt] = []
    for n in range(count):
        sender.submit(parcel(n))
        done.extend(sender.completed())
    done.extend(sender.finish())
    return done


def test_at_most_workers_requests_in_flight_on_as_many_connections(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(always(OK), delay=lambda _: 0.01)
    done = run(HttpSender(EnvelopeClient(server.dsn), workers=3), 40)
    assert sorted(d.parcel.event_id for d in done if d.accepted) == [f"{n:032x}" for n in range(40)]
    assert server.most_in_flight == 3
    assert server.connections == 3


def test_the_backlog_is_bounded_while_the_server_is_slow(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(always(OK), delay=lambda _: 0.02)
    sender = HttpSender(EnvelopeClient(server.dsn), workers=1)
    largest = 0
    for n in range(30):
        sender.submit(parcel(n))
        largest = max(largest, len(sender._ready))
    assert largest == BACKLOG_PER_WORKER  # filled up, never beyond
    done = sender.finish()
    assert len(done) == 30
    assert all(d.accepted for d in done)
    assert len(server.requests) == 30


def test_rate_spaces_the_requests(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(always(OK))
    clock = Clock.accelerated(100)
    started = clock.monotonic()
    done = run(HttpSender(EnvelopeClient(server.dsn), workers=4, rate=20, clock=clock), 10)
    assert all(d.accepted for d in done)
    assert len(done) == 10
    assert clock.monotonic() - started >= 9 / 20  # 10 slots 50 ms apart, on the sender's clock


def test_an_answer_that_never_comes_times_out_and_is_retried(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(always(OK), delay=lambda n: 1.0 if n == 1 else 0.0)
    client = EnvelopeClient(server.dsn, timeout=0.1)  # libcurl's deadline for a whole request
    sender = HttpSender(client, workers=1, clock=Clock.accelerated(1000), jitter=lambda: 0.0)
    done = run(sender, 1)  # the first answer comes too late; the backoff passes in ms
    assert [d.accepted for d in done] == [True]
    assert sender.retries == 1
    assert len(server.requests) == 2


def test_a_stop_while_draining_abandons_what_was_not_sent(
    serve: Callable[..., ScriptedServer],
) -> None:
    limited = b"HTTP/1.1 429 Too Many\r\nRetry-After: 60\r\nContent-Length: 0\r\n\r\n"
    server = serve(always(limited))
    stop = threading.Event()
    sender = HttpSender(EnvelopeClient(server.dsn), workers=2, stop=stop)
    for n in range(5):
        sender.submit(parcel(n))

    def signal_once_limited() -> None:  # the run's on_wait: a SIGINT arrives during the wait
        if len(server.requests) == 2:
            stop.set()

    sender.on_wait = signal_once_limited
    done = sender.finish()  # returns long before the 60 s the server asked for
    assert sorted(d.failure.reason for d in done if d.failure) == ["interrupted"] * 5
    assert len(server.requests) == 2  # one attempt each for the first two, then the limit


def test_a_connection_refused_is_a_network_error_after_the_attempts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    sender = HttpSender(
        EnvelopeClient(f"http://{'0' * 32}@127.0.0.1:{port}/1"),
        workers=1,
        clock=Clock.accelerated(1000),  # the backoff waits pass in milliseconds
        jitter=lambda: 0.0,
    )
    done = run(sender, 1)
    assert [d.failure.reason if d.failure else "" for d in done] == ["network_error"]
    assert sender.retries == 10
