"""RudderStack's archive layouts: the times names encode, time order, and --since/--until
pruning (docs/input.md), unit by unit and through a whole run."""

import builtins
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.input.layouts import Span, Window, in_time_order, parse_bound, span_of
from core.pipeline import ReplayIO
from core.run import ReplayOptions, run_replay
from tests.conftest import error_event

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
ARCHIVER = "arch/src1/gw/2024-05-01/{hour}/gw-0/{first}_{last}_ws1_0f3c.json.gz"


def at(hours: float) -> int:
    return int((T0 + timedelta(hours=hours)).timestamp())


def archiver(hour: int) -> str:
    return ARCHIVER.format(hour=hour, first=at(hour), last=at(hour) + 3599)


def test_the_spans_names_encode() -> None:
    assert span_of(archiver(2)) == Span(
        T0 + timedelta(hours=2), T0 + timedelta(hours=3, seconds=-1)
    )
    uploaded = at(5)
    destination = f"bucket/rudder-logs/src1/2024-05-01/{uploaded}.src1.8e2a.json.gz"
    span = span_of(destination)
    assert span is not None
    assert span.end == T0 + timedelta(hours=5)
    assert span.start <= T0 - timedelta(days=1)  # events come in before the upload
    legacy = f"b/gw-0/gw_jobs_7.1.99.{at(1) * 1000}.{at(2) * 1000}.ws1.gz"
    assert span_of(legacy) == Span(T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert span_of("dumps/web-2024-05-01.ndjson") is None


def test_hours_are_taken_in_time_order_not_text_order() -> None:
    paths = [archiver(10), archiver(2), "notes/a.ndjson", archiver(1)]
    assert in_time_order(paths) == ["notes/a.ndjson", archiver(1), archiver(2), archiver(10)]


def test_a_window_keeps_every_file_that_can_hold_one_of_its_events() -> None:
    """A file's span is when its events arrived: up to the slack after their own time (late
    uploads, offline queues), or a few minutes before it (a clock ahead)."""
    hour = timedelta(hours=1)
    window = Window(T0 + 2 * hour, T0 + 3 * hour, timedelta(minutes=15))
    assert window.may_overlap(Span(T0 + 2 * hour, T0 + 3 * hour))
    assert window.may_overlap(Span(T0, T0 + 2 * hour - timedelta(minutes=10)))  # clock ahead
    assert not window.may_overlap(Span(T0, T0 + hour))
    assert not window.may_overlap(Span(T0 + 4 * hour, T0 + 5 * hour))
    assert Window().may_overlap(Span(T0, T0))
    late = Window(T0 + 2 * hour, T0 + 3 * hour)  # the default slack: a day
    assert late.may_overlap(Span(T0 + 26 * hour, T0 + 27 * hour))
    assert not late.may_overlap(Span(T0 + 27 * hour, T0 + 28 * hour))
    assert window.holds(T0 + 2 * hour)
    assert not window.holds(T0 + 3 * hour)  # [since, until)


def test_an_event_that_arrived_late_is_still_found(tmp_path: Path) -> None:
    """An archive file received 20 minutes after its events, a window around the events: the
    events are replayed, not silently dropped by pruning."""
    path = tmp_path / archiver(3)  # arrivals 3:00 to 3:59
    path.parent.mkdir(parents=True)
    events = [event_at(n, 2 + (40 + n) / 60) for n in range(5)]  # 2:40 to 2:44
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    window = Window(T0 + timedelta(hours=2, minutes=30), T0 + timedelta(hours=2, minutes=50))
    report = run_replay(
        ReplayOptions(paths=(str(tmp_path),), dry_run=True, window=window), ReplayIO()
    )
    assert report.outcomes == {"would_send": 5}
    narrow = Window(window.since, window.until, timedelta(minutes=5))
    options = ReplayOptions(paths=(str(tmp_path),), dry_run=True, window=narrow)
    assert run_replay(options, ReplayIO()).files_outside_window == 1  # what a slack cannot know


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T02:00:00Z", T0 + timedelta(hours=2)),
        ("2024-05-01T04:00:00+02:00", T0 + timedelta(hours=2)),
        ("2024-05-01", T0),
        ("7d", T0 + timedelta(days=10) - timedelta(days=7)),
        ("12h", T0 + timedelta(days=10) - timedelta(hours=12)),
        ("90s", T0 + timedelta(days=10) - timedelta(seconds=90)),
    ],
)
def test_bounds_are_iso_times_or_ages(text: str, expected: datetime) -> None:
    assert parse_bound(text, T0 + timedelta(days=10)) == expected


def test_a_bound_that_is_neither_is_refused() -> None:
    with pytest.raises(ValueError, match="neither an ISO 8601 time nor an age"):
        parse_bound("yesterday", T0)


def event_at(n: int, hours: float) -> dict[str, Any]:
    moment = (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    return error_event(n, originalTimestamp=moment)


def write_archive(root: Path) -> None:
    for hour in range(6):
        path = root / archiver(hour)
        path.parent.mkdir(parents=True, exist_ok=True)
        events = [event_at(hour * 10 + k, hour + k / 4) for k in range(4)]
        path.write_text("".join(json.dumps(e) + "\n" for e in events))


def test_files_outside_the_window_are_never_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_archive(tmp_path)
    opened: list[str] = []
    real_open = builtins.open

    def recording_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    since, until = T0 + timedelta(hours=2, minutes=20), T0 + timedelta(hours=2, minutes=40)
    window = Window(since, until, timedelta(minutes=15))
    options = ReplayOptions(paths=(str(tmp_path),), dry_run=True, window=window)
    report = run_replay(options, ReplayIO())
    dumps = [name for name in opened if name.endswith(".json.gz")]
    assert [Path(name).parts[-3] for name in dumps] == ["2"]  # the hour folder: only hour 2
    assert report.files_outside_window == 5
    assert report.outcomes == {"would_send": 1, "outside_window": 3}  # 2:30 · 2:00, 2:15, 2:45


def test_the_slack_opens_the_following_files(tmp_path: Path) -> None:
    write_archive(tmp_path)
    window = Window(T0 + timedelta(hours=2), T0 + timedelta(hours=3), timedelta(minutes=15))
    options = ReplayOptions(paths=(str(tmp_path),), dry_run=True, window=window)
    report = run_replay(options, ReplayIO())
    assert report.files == 3  # hours 1, 2 and 3: each may hold events of 2:00 to 3:00
    assert report.outcomes == {"would_send": 4, "outside_window": 8}
    default = Window(T0 + timedelta(hours=2), T0 + timedelta(hours=3))  # a day of slack
    options = ReplayOptions(paths=(str(tmp_path),), dry_run=True, window=default)
    assert run_replay(options, ReplayIO()).files == 5  # hour 0 alone cannot hold one
