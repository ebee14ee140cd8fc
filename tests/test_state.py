"""The ledger: accepted ids persist in the state file; dry-runs never write it."""

import glob
import tempfile
import time
from pathlib import Path

from core.state import COMMIT_AFTER_S, COMMIT_EVERY, Ledger

IDS = [f"{n:032x}" for n in range(COMMIT_EVERY + 5)]


def _scratch_files() -> set[str]:
    return set(glob.glob(str(Path(tempfile.gettempdir()) / "rudder-sentry-run-*")))


def test_ids_persist_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.sqlite"
    ledger = Ledger(path, writable=True)
    for event_id in IDS:
        assert not ledger.known(event_id)
        ledger.mark(event_id, 1.0)
        assert ledger.known(event_id)  # pending or committed, it counts at once
    ledger.close()
    again = Ledger(path, writable=True)
    assert all(again.known(event_id) for event_id in IDS)
    assert not again.known("f" * 32)
    again.close()


def test_a_read_only_state_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    seeded = Ledger(path, writable=True)
    seeded.mark(IDS[0], 1.0)
    seeded.close()
    before = path.read_bytes()
    before_scratch = _scratch_files()
    dry = Ledger(path, writable=False)
    assert dry.known(IDS[0])
    dry.mark(IDS[1], 1.0)
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
        ledger.mark(event_id, 1.0)
    assert all(ledger.known(event_id) for event_id in IDS)
    ledger.close()


def test_ids_are_committed_within_half_a_second(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    ledger = Ledger(path, writable=True)
    ledger.mark(IDS[0], 1.0)
    time.sleep(COMMIT_AFTER_S + 0.1)
    ledger.mark(IDS[1], 1.0)  # the time bound commits both, long before COMMIT_EVERY
    reader = Ledger(path, writable=False)  # another process's view of the file
    assert reader.known(IDS[0])
    assert reader.known(IDS[1])
    reader.close()
    ledger.close()
