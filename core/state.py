"""The ledger of accepted event ids, in SQLite so memory never grows with the events sent.

Real sends record every id Sentry accepted in the state file; a re-run with the same state
skips them (outcome `already_sent`), so an interrupted job is finished by running the same
command again. This run's own ids also go to a temporary SQLite table of their own, so a repeat
of an event inside the input is told apart (`duplicate`) from one an earlier run sent; a
dry-run given `--state` reads that file and never writes it. Only the ids not yet committed are
in memory, plus a fixed 8 MiB Bloom filter that lets a new id skip the database lookups.
"""

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.clock import SYSTEM_CLOCK, Clock

try:
    import fcntl

    HAS_FLOCK = True
except ImportError:  # Windows: no advisory locks; SQLite still serialises the writes
    HAS_FLOCK = False
from core.errors import UsageError

DEFAULT_STATE_PATH = Path(".rudder-sentry") / "state.sqlite"
COMMIT_EVERY = 500
COMMIT_AFTER_S = 0.5  # a hard crash (SIGKILL, power loss) can forget at most this much sending;
# those events keep their ids, so Sentry's dedup of recent ids drops a re-run's copies
BLOOM_BITS = 1 << 26  # 8 MiB; about 1e-4 false positives (a wasted lookup) at 1M ids

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sent (event_id BLOB PRIMARY KEY, sent_at REAL NOT NULL)"
    " WITHOUT ROWID"
)
LOOKUP = "SELECT 1 FROM sent WHERE event_id = ?"
INSERT = "INSERT OR IGNORE INTO sent VALUES (?, ?)"
NEW, THIS_RUN, EARLIER_RUN = "new", "this run", "an earlier run"  # Ledger.seen
COLUMNS = [("event_id", "BLOB"), ("sent_at", "REAL")]
PROBE_ID = b"rudder-sentry:probe"  # never an event id: those are 16 bytes


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA cache_size=-256")  # 256 KiB: a point lookup needs few pages
    db.execute(SCHEMA)
    columns = [(name, kind) for _, name, kind, *_ in db.execute("PRAGMA table_info(sent)")]
    if columns != COLUMNS:
        db.close()
        raise sqlite3.DatabaseError(f"its 'sent' table is not rudder-sentry's ({columns})")
    return db


def _probe(db: sqlite3.Connection) -> None:
    """Write and remove one row: a read-only file or a full disk fails here, before any send."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR REPLACE INTO sent VALUES (?, 0)", (PROBE_ID,))
        db.execute("DELETE FROM sent WHERE event_id = ?", (PROBE_ID,))


class StateInUseError(UsageError):
    """Another run holds the state file: two runs on one state would both send."""


def _lock(path: Path) -> int:
    """An exclusive lock on the state file, held until the run closes it; a second run on the
    same file refuses at once. (flock: independent of SQLite's own byte-range locks.)"""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if not HAS_FLOCK:
        return descriptor
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StateInUseError(
            f"{path}: the state file is in use by another rudder-sentry run; wait for it to "
            "finish, or give this one another --state"
        ) from None
    return descriptor


class Ledger:
    """Which event ids are done: this run's, plus (with a state file) every earlier run's.

    A commit that fails mid-run (a full disk, the file made read-only) keeps its ids pending,
    records the error and calls `on_error`: the run stops like an interruption.
    """

    def __init__(self, path: Path | None, *, writable: bool, clock: Clock = SYSTEM_CLOCK) -> None:
        self.path = path
        self.error = ""  # why a commit failed ("" while every commit worked)
        self.on_error: Callable[[str], None] | None = None
        self._clock = clock
        self._pending: dict[bytes, float] = {}
        self._flushed_at = clock.monotonic()
        self._state: sqlite3.Connection | None = None  # the state file (earlier runs' ids)
        self._writer: sqlite3.Connection | None = None  # the state file, when it is written
        self._run: sqlite3.Connection | None = None  # this run's ids
        self._open_connections: list[sqlite3.Connection] = []
        self._scratch: Path | None = None
        self._lock: int | None = None  # the descriptor holding the state file's lock
        self._bloom = bytearray(BLOOM_BITS // 8)
        try:
            self._open(path, writable)
        except StateInUseError:
            self.close()
            raise
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise UsageError(f"{path}: cannot use the state file: {_describe(exc)}") from exc

    def _open(self, path: Path | None, writable: bool) -> None:
        if path is not None and writable:
            path = Path(os.path.realpath(path))  # a link's target: its journal goes beside it
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _lock(path)
            self._state = self._writer = self._connect(path)
            _probe(self._writer)
        elif path is not None and path.exists():
            self._state = self._connect(path)  # read only: nothing is ever written to it
        # this run's ids, apart: a repeat inside the input is not a send of an earlier run
        handle, name = tempfile.mkstemp(prefix="rudder-sentry-run-", suffix=".sqlite")
        os.close(handle)
        self._scratch = Path(name)
        self._run = self._connect(self._scratch)
        self._run.execute("PRAGMA journal_mode=OFF")  # this run's scratch: never synced
        self._run.execute("PRAGMA synchronous=OFF")
        if self._state is not None:
            for (key,) in self._state.execute("SELECT event_id FROM sent"):
                if not isinstance(key, bytes) or len(key) != 16:
                    raise sqlite3.DatabaseError(f"it holds an event id that is not ours: {key!r}")
                self._remember(key)

    def _connect(self, path: Path) -> sqlite3.Connection:
        db = _connect(path)
        self._open_connections.append(db)
        return db

    def _remember(self, key: bytes) -> None:
        bloom = self._bloom
        for start in (0, 9, 12):  # event ids are uuid5: SHA-1 bytes, except 6 and 8
            bit = int.from_bytes(key[start : start + 4], "little") % BLOOM_BITS
            bloom[bit >> 3] |= 1 << (bit & 7)

    def _maybe(self, key: bytes) -> bool:
        bloom = self._bloom
        for start in (0, 9, 12):
            bit = int.from_bytes(key[start : start + 4], "little") % BLOOM_BITS
            if not bloom[bit >> 3] & (1 << (bit & 7)):
                return False
        return True

    def known(self, event_id: str) -> bool:
        """Sent in this run, or recorded as accepted in the state file."""
        return self.seen(event_id) is not NEW

    def seen(self, event_id: str) -> str:
        """NEW, THIS_RUN (accepted earlier in this run) or EARLIER_RUN (the state file)."""
        key = bytes.fromhex(event_id)
        if key in self._pending:
            return THIS_RUN
        if not self._maybe(key):  # certainly new: no lookup
            return NEW
        run = self._run
        if run is not None and run.execute(LOOKUP, (key,)).fetchone() is not None:
            return THIS_RUN
        if self._state is not None and self._state.execute(LOOKUP, (key,)).fetchone() is not None:
            return EARLIER_RUN
        return NEW

    def mark(self, event_id: str) -> None:
        """Record an accepted id; committed every COMMIT_EVERY ids or COMMIT_AFTER_S seconds."""
        key = bytes.fromhex(event_id)
        self._pending[key] = self._clock.epoch()
        self._remember(key)
        if len(self._pending) >= COMMIT_EVERY:
            self.flush()
        else:
            self.tick()

    def tick(self) -> None:
        """Commit pending ids when the oldest may be COMMIT_AFTER_S old: called on every
        acceptance and during waits, so the crash window holds while nothing is accepted."""
        if self._pending and self._clock.monotonic() - self._flushed_at > COMMIT_AFTER_S:
            self.flush()

    def flush(self) -> None:
        """Commit pending ids; a failure keeps them pending and is reported once."""
        self._flushed_at = self._clock.monotonic()
        if not self._pending or not self._open_connections:
            return
        try:
            if self._writer is not None:  # the state file first: it is what a re-run reads
                with self._writer:
                    self._writer.execute("BEGIN")
                    self._writer.executemany(INSERT, self._pending.items())
            run = self._run
            if run is not None:
                with run:
                    run.execute("BEGIN")
                    run.executemany(INSERT, self._pending.items())
        except sqlite3.Error as exc:
            if not self.error:
                self.error = f"cannot write the state file {self.path}: {_describe(exc)}"
                if self.on_error is not None:
                    self.on_error(self.error)
            return
        self._pending.clear()

    @property
    def unrecorded(self) -> int:
        """Accepted ids not in the state file (after a failed commit)."""
        return len(self._pending)

    def close(self) -> None:
        """Flush (once more, after a failure), close, and remove this run's scratch file."""
        self.flush()
        for db in self._open_connections:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        self._open_connections.clear()
        if self._lock is not None:
            os.close(self._lock)  # releases the lock
            self._lock = None
        if self._scratch is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self._scratch}{suffix}").unlink(missing_ok=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
