"""The ledger: accepted ids persist in the state file; dry-runs never write it."""

import glob
import tempfile
from pathlib import Path

from core.clock import Clock
from core.state import COMMIT_AFTER_S, COMMIT_EVERY, Ledger

IDS = [f"{n:032x}" for n in range(COMMIT_EVERY + 5)]


def _scratch_files() -> set[str]:
    return set(glob.glob(str(Path(tempfile.gettempdir()) / "rudder-sentry-run-*")))


def test_ids_persist_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.sqlite"
    ledger = Ledger(path, writable=True)
    for event_id in IDS:
        assert not ledger.known(event_id)
        ledger.mark(event_id)
        assert ledger.known(event_id)  # pending or committed, it counts at once
    ledger.close()
    again = Ledger(path, writable=True)
    assert all(again.known(event_id) for event_id in IDS)
    assert not again.known("f" * 32)
    again.close()


def test_a_read_only_state_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    seeded = Ledger(path, writable=True)
    seeded.mark(IDS[0])
    seeded.close()
    before = path.read_bytes()
    before_scratch = _scratch_files()
    dry = Ledger(path, writable=False)
    assert dry.known(IDS[0])
    dry.mark(IDS[1])
    assert dry.known(IDS[1])
    dry.close()
    assert path.read_bytes() == before
    assert _scratch_files() == before_scratch  # the run's scratch file is gone
    fresh = Ledger(path, writable=True)
    assert not fresh.known(IDS[1])
    fresh.close()


def test_no_state_still_dedupes_within_the_run() -> None:
    ledger = Ledger(None, writable=False)
    for event_id in IDS:
        ledger.mark(event_id)
    assert all(ledger.known(event_id) for event_id in IDS)
    ledger.close()


class ManualClock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.clock = Clock(monotonic=lambda: self.now, epoch=lambda: 1.7e9 + self.now)


def _committed(path: Path, event_id: str) -> bool:
    reader = Ledger(path, writable=False)  # another process's view of the file
    try:
        return reader.known(event_id)
    finally:
        reader.close()


def test_ids_are_committed_within_half_a_second(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    time = ManualClock()
    ledger = Ledger(path, writable=True, clock=time.clock)
    ledger.mark(IDS[0])
    assert not _committed(path, IDS[0])
    time.now += COMMIT_AFTER_S + 0.01
    ledger.mark(IDS[1])  # the time bound commits both, long before COMMIT_EVERY
    assert _committed(path, IDS[0])
    assert _committed(path, IDS[1])
    ledger.close()


def test_ids_are_committed_during_a_wait(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    time = ManualClock()
    ledger = Ledger(path, writable=True, clock=time.clock)
    ledger.mark(IDS[0])
    ledger.tick()
    assert not _committed(path, IDS[0])  # not yet half a second
    time.now += COMMIT_AFTER_S + 0.01  # a rate-limit wait: nothing is accepted meanwhile
    ledger.tick()
    assert _committed(path, IDS[0])
    ledger.close()
