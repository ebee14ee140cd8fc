"""Compact per-visitor breadcrumbs: the memory bound of a replay (SPEC §10).

Each breadcrumb is a fixed 13-byte record — timestamp (epoch seconds as a double, NaN when the
event had none), category, id of its text — in a per-visitor ring buffer of at most
`--breadcrumbs` records. Texts (page URLs, track names) repeat, so they are interned once in a
table shared by all visitors. The table is bounded, by count (TEXT_LIMIT) and by size
(TEXT_BUDGET characters): a text that does not fit is not kept (the breadcrumb keeps its time and
category) and the report counts it.

Memory is therefore at most visitors * breadcrumbs * 13 B + TEXT_BUDGET, never O(events).
"""

import math
import struct
from datetime import UTC, datetime
from typing import Any

RECORD = struct.Struct("<dBI")
SIZE = RECORD.size  # 13 bytes
NAVIGATION, TRACK = 0, 1
NO_TEXT = 0xFFFFFFFF
DROPPED_TEXT = 0xFFFFFFFE
TEXT_LIMIT = 1_000_000
TEXT_BUDGET = 64 * 1024 * 1024  # characters of interned text in all


class TextTable:
    """Interned breadcrumb texts, at most `limit` of them."""

    __slots__ = ("budget", "dropped", "ids", "limit", "size", "texts")

    def __init__(self, limit: int = TEXT_LIMIT, budget: int = TEXT_BUDGET) -> None:
        self.ids: dict[str, int] = {}
        self.texts: list[str] = []
        self.limit = limit
        self.budget = budget
        self.size = 0  # characters interned so far
        self.dropped = 0  # breadcrumbs whose text was not kept because the table was full

    def id_of(self, text: str | None) -> int:
        """The text's id (interning it), NO_TEXT for None, DROPPED_TEXT when full."""
        if text is None:
            return NO_TEXT
        found = self.ids.get(text)
        if found is not None:
            return found
        if len(self.texts) >= self.limit or self.size + len(text) > self.budget:
            self.dropped += 1
            return DROPPED_TEXT
        self.size += len(text)
        new_id = len(self.texts)
        self.ids[text] = new_id
        self.texts.append(text)
        return new_id

    def text(self, text_id: int) -> str | None:
        """The text of an id (None for NO_TEXT and DROPPED_TEXT)."""
        return self.texts[text_id] if text_id < len(self.texts) else None


def append(buffer: bytearray, head: int, limit: int, record: bytes) -> int:
    """Add a record to a ring of `limit` records; returns the new head (the oldest record)."""
    if len(buffer) < limit * SIZE:
        buffer += record
        return head
    start = head * SIZE
    buffer[start : start + SIZE] = record
    return (head + 1) % limit


def materialize(buffer: bytearray, head: int, texts: TextTable) -> list[dict[str, Any]]:
    """The Sentry breadcrumbs, oldest first."""
    count = len(buffer) // SIZE
    order = [(head + i) % count for i in range(count)] if count else []
    crumbs = []
    for index in order:
        timestamp, category, text_id = RECORD.unpack_from(buffer, index * SIZE)
        text = texts.text(text_id)
        crumb: dict[str, Any] = {"level": "info"}
        if not math.isnan(timestamp):
            moment = datetime.fromtimestamp(timestamp, UTC)
            crumb["timestamp"] = moment.isoformat(timespec="microseconds")[:-6] + "Z"
        if category == NAVIGATION:
            crumb.update(category="navigation", type="navigation")
            if text is not None:
                crumb["data"] = {"to": text}
        else:
            crumb.update(category="rudderstack.track", type="default")
            if text is not None:
                crumb["message"] = text
        crumbs.append(crumb)
    return crumbs
