"""Event times: the timestamp a Sentry event carries, and how Sentry reads it (docs/behaviour.md,
"Event ids and timestamps")."""

from datetime import UTC, datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or epoch seconds/milliseconds."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


TIMESTAMP_KEYS = ("originalTimestamp", "timestamp", "sentAt", "receivedAt")


def event_time(event: dict[str, Any], created_at: str | None) -> datetime | None:
    """The first of originalTimestamp | timestamp | sentAt | receivedAt | the archive row's
    createdAt that parses (a garbled one is skipped)."""
    for value in (*(event.get(key) for key in TIMESTAMP_KEYS), created_at):
        moment = parse_timestamp(value)
        if moment is not None:
            return moment
    return None


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as Sentry reads it (`moment` is aware, in UTC)."""
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"
