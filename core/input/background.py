"""Reading that never blocks the run: input is read by a thread of its own.

A read can wait for as long as its source likes: a silent pipe or FIFO, a stalled object
store, an unanswered listing. While it waits the run must go on: requests in flight driven
and their answers recorded, accepted ids committed every half second, progress shown, and a
SIGINT/SIGTERM answered within a second with the report printed (docs/delivery.md,
"Interruptions"). So the blocking calls run in a daemon thread and the run's thread waits for
their results in short slices, calling `idle` between them and asking `halted` whether to give
up: a run that stops leaves the blocked thread behind (it ends with the process).

A file read this way costs one handoff through a bounded queue per 1 MiB chunk.
"""

import io
import queue
import threading
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

CHUNK_SIZE = 1 << 20
QUEUED_CHUNKS = 4  # what the reading thread may get ahead of the run: 4 MiB
SLICE = 0.2  # seconds the run waits for a read before it does its other work

T = TypeVar("T")


class ReadStopped(Exception):
    """The run stopped while a read was waiting (not an input error: nothing is rejected)."""


def call_waiting(work: Callable[[], T], idle: Callable[[], None], halted: Callable[[], bool]) -> T:
    """`work()` (a listing, an open) run in a thread of its own; this thread waits in slices,
    calling `idle` between them. Raises ReadStopped when `halted` says stop first."""
    done = threading.Event()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the waiting thread, raised there
            outcome.append((False, exc))
        done.set()

    threading.Thread(target=run, name="rudder-sentry-read", daemon=True).start()
    while not done.wait(SLICE):
        if halted():
            raise ReadStopped
        idle()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


class BackgroundStream(io.BufferedIOBase):
    """A stream read ahead by a thread of its own; `read1` hands its chunks over, waiting in
    slices (and calling `idle` between them) when none is ready yet."""

    def __init__(self, raw: BinaryIO, idle: Callable[[], None], halted: Callable[[], bool]) -> None:
        super().__init__()
        self._raw = raw
        self._idle = idle
        self._halted = halted
        self._chunks: queue.Queue[bytes | BaseException] = queue.Queue(QUEUED_CHUNKS)
        self._head = b""  # a chunk handed out in part (peek, or a read of fewer bytes)
        self._ended = False
        self._closing = threading.Event()
        threading.Thread(target=self._fill, name="rudder-sentry-read", daemon=True).start()

    def _fill(self) -> None:
        read = getattr(self._raw, "read1", None) or self._raw.read  # a pipe: what has come
        while not self._closing.is_set():
            try:
                chunk: bytes | BaseException = read(CHUNK_SIZE)
            except BaseException as exc:  # an error of the source: raised in the run's thread
                chunk = exc
            while not self._closing.is_set():
                try:
                    self._chunks.put(chunk, timeout=SLICE)
                    break
                except queue.Full:
                    continue
            if not isinstance(chunk, bytes) or not chunk:
                return

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes:
        """The next chunk (b"" at the end), waiting in slices."""
        if self._head:
            head, self._head = self._head, b""
            return head
        if self._ended:
            return b""
        while True:
            try:
                item = self._chunks.get(timeout=SLICE)
                break
            except queue.Empty:
                if self._halted():
                    raise ReadStopped from None
                self._idle()
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        if not item:
            self._ended = True
        return item

    def read1(self, size: int = -1) -> bytes:
        """Up to `size` bytes (a whole chunk when `size` is -1); b"" at the end."""
        chunk = self._next()
        if 0 <= size < len(chunk):
            chunk, self._head = chunk[:size], chunk[size:]
        return chunk

    def read(self, size: int | None = -1) -> bytes:
        """As read1: callers here read chunk by chunk."""
        return self.read1(-1 if size is None else size)

    def peek(self, size: int = 0) -> bytes:
        """The start of what comes next, not consumed."""
        if not self._head:
            self._head = self._next()
        return self._head

    def close(self) -> None:
        """Stop the reading thread's handoffs; the source is its opener's to close (a read the
        thread is waiting in ends with it, or with the process)."""
        self._closing.set()
        super().close()
