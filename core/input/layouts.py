"""RudderStack's archive layouts: the time a dump file's path and name encode (docs/input.md,
"Archives and time windows"), to take files in time order and to leave unopened those that cannot
hold an event of the `--since`/`--until` window.

- gateway archiver: `…/<sourceId>/gw/<YYYY-MM-DD>/<H>/<instance>/<first>_<last>_<ws>_<uuid>.json.gz`
  (the hour not zero-padded; `first` and `last` in seconds bound the file's `receivedAt`);
- object-storage destinations: `…rudder-logs/<sourceId>/<YYYY-MM-DD|MM-DD-YYYY>/<unix>.<…>.json.gz`
  (`unix` is the upload time: the events are older, by up to the upload interval);
- legacy jobs-db backups: `gw_jobs_<idx>.<minJob>.<maxJob>.<minCreatedMs>.<maxCreatedMs>.<ws>.gz`.

A file's name tells when its events *arrived*; `--since`/`--until` select by the events' own
time. Events arrive late (offline queues, retries, client clocks behind) and sometimes early
(clocks ahead). Pruning keeps every file whose arrivals could hold an event of the window that
arrived at most `slack` late (--window-slack, default 24 h) or CLOCK_AHEAD early; a file whose
layout is not recognised is always opened. What the slack cannot know: an event that reached
the archive more than `slack` after its own time, in a file the window left unopened.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CLOCK_AHEAD = timedelta(minutes=15)  # an event's time ahead of its arrival (a client's clock)
DEFAULT_SLACK = timedelta(hours=24)  # how late an event may arrive after its own time
_ARCHIVER = re.compile(
    r"(?:^|/)gw/(?P<day>\d{4}-\d{2}-\d{2})/(?P<hour>\d{1,2})/[^/]+/"
    r"(?P<first>\d{9,11})_(?P<last>\d{9,11})_[^/]*\.json(?:\.gz)?$"
)
_DESTINATION = re.compile(
    r"(?:^|/)rudder-logs/[^/]+/(?P<day>\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4})/"
    r"(?P<unix>\d{9,11})\.[^/]*\.json(?:\.gz)?$"
)
_JOBS_BACKUP = re.compile(
    r"(?:^|/)gw_jobs_\d+\.\d+\.\d+\.(?P<min>\d{12,14})\.(?P<max>\d{12,14})\.[^/]*\.gz$"
)


@dataclass(frozen=True, slots=True)
class Span:
    """The times a file's events can have (inclusive), as far as its name tells."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Window:
    """`--since`/`--until`: events at `since` or later and before `until` (either open);
    `slack`: how late after its own time an event may have arrived (--window-slack)."""

    since: datetime | None = None
    until: datetime | None = None
    slack: timedelta = DEFAULT_SLACK

    def holds(self, moment: datetime) -> bool:
        """Whether an event at `moment` is replayed."""
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )

    def may_overlap(self, span: Span) -> bool:
        """Whether a file whose events arrived within `span` can hold an event of the window
        (one that arrived at most `slack` late, or CLOCK_AHEAD early)."""
        if self.since is not None and span.end + CLOCK_AHEAD < self.since:
            return False
        return self.until is None or span.start - self.slack < self.until

    @property
    def is_open(self) -> bool:
        """No bound at all: every event is replayed."""
        return self.since is None and self.until is None


def span_of(path: str) -> Span | None:
    """The span a dump's path encodes, or None for a path of no known layout."""
    key = path.replace("\\", "/")
    found = _ARCHIVER.search(key)
    if found is not None:
        return Span(_epoch(int(found["first"])), _epoch(int(found["last"])))
    found = _DESTINATION.search(key)
    if found is not None:
        uploaded = _epoch(int(found["unix"]))
        day = _day(found["day"])
        start = min(day, uploaded) if day is not None else uploaded - timedelta(days=1)
        return Span(start - timedelta(days=1), uploaded)  # events come in before the upload
    found = _JOBS_BACKUP.search(key)
    if found is not None:
        return Span(_epoch(int(found["min"]) / 1000), _epoch(int(found["max"]) / 1000))
    return None


def in_time_order(paths: list[str]) -> list[str]:
    """Paths of a known layout by the time they encode (then by path), after those of none in
    sorted path order: `…/2024-05-01/2/` before `…/2024-05-01/10/`, which text order inverts."""
    spans = {path: span_of(path) for path in paths}
    unknown = sorted((path for path, span in spans.items() if span is None), key=_parts)
    known = sorted(
        (path for path, span in spans.items() if span is not None),
        key=lambda path: (_start(spans[path]), _parts(path)),
    )
    return [*unknown, *known]


def parse_bound(text: str, now: datetime) -> datetime:
    """A `--since`/`--until` value: ISO 8601 (UTC when no zone is given), or an age such as
    `7d`, `12h`, `30m`, `90s` before `now`. Raises ValueError with a reason."""
    age = _AGE.fullmatch(text.strip())
    if age is not None:
        unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[age["unit"]]
        return now - timedelta(**{unit: float(age["amount"])})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO 8601 time nor an age such as 7d") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_AGE = re.compile(r"(?P<amount>\d+(?:\.\d+)?)(?P<unit>[dhms])")


def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.replace("\\", "/").split("/"))


def _start(span: Span | None) -> datetime:
    assert span is not None
    return span.start


def _epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


def _day(text: str) -> datetime | None:
    for pattern in ("%Y-%m-%d", "%m-%d-%Y"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None
