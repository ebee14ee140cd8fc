"""The ledger of accepted event ids: SQLite on disk for resumable runs, a set for this run.

A re-run with the same state file skips every id Sentry already accepted (outcome
`already_sent`), so an interrupted job is finished by running the same command again.
"""

import sqlite3
from pathlib import Path

from core.errors import UsageError

DEFAULT_STATE_PATH = Path(".rudder-sentry") / "state.sqlite"
COMMIT_EVERY = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (event_id BLOB PRIMARY KEY, sent_at REAL NOT NULL) WITHOUT ROWID;
"""


class Ledger:
    """Which event ids are done: this run's, plus (with a state file) every earlier run's."""

    def __init__(self, path: Path | None, *, writable: bool) -> None:
        self.path = path
        self.writable = writable and path is not None
        self._run: set[bytes] = set()
        self._pending: list[tuple[bytes, float]] = []
        self._db: sqlite3.Connection | None = None
        if path is not None and (self.writable or path.exists()):
            self._db = self._open(path)

    def _open(self, path: Path) -> sqlite3.Connection:
        try:
            if self.writable:
                path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            return db
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"{path}: cannot open the state file: {exc}") from exc

    def known(self, event_id: str) -> bool:
        """Sent in this run, or recorded as accepted in the state file."""
        key = bytes.fromhex(event_id)
        if key in self._run:
            return True
        if self._db is None:
            return False
        row = self._db.execute("SELECT 1 FROM sent WHERE event_id = ?", (key,)).fetchone()
        return row is not None

    def mark(self, event_id: str, when: float) -> None:
        """Record an accepted id; written to disk in batches."""
        key = bytes.fromhex(event_id)
        self._run.add(key)
        if self.writable:
            self._pending.append((key, when))
            if len(self._pending) >= COMMIT_EVERY:
                self.flush()

    def flush(self) -> None:
        """Commit pending ids."""
        if not self._pending or self._db is None:
            return
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO sent VALUES (?, ?)", self._pending)
        self._pending.clear()

    def close(self) -> None:
        """Flush and close."""
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None
