"""Compact per-visitor breadcrumbs: the memory bound of a replay (docs/performance.md,
"Memory bound").

A visitor's breadcrumbs are a ring of at most `--breadcrumbs` fixed-size records in one bytes
object, oldest at `head`. Each record holds the breadcrumb's time and a 32-bit word: its
category in the top bit and the id of its text in the other 31. Texts (page URLs, track names)
repeat, so they are interned once in a table shared by all visitors. The table is bounded, by
count (TEXT_LIMIT) and by size (TEXT_BUDGET characters): a text that does not fit is not kept
(the breadcrumb keeps its time and category) and the report counts it.

The browser's Breadcrumbs integration also records each error event it sends (`sentry.event`):
such a record's word holds its level too (LEVEL_SHIFT), and its 16-byte event id is kept beside
the ring, in a bytes object of the visitor's event ids, oldest first (`ids`): a record that
leaves the ring takes its id with it.

Times are exact integers of microseconds since the epoch (None: the event had none). A ring is
*compact* while every time is a whole millisecond within ±24 days of the visitor's first one, as
browser SDK timestamps are: a 9-byte header (format, that first time in ms) and 8-byte records
(time as an int32 offset in ms). The first time that does not fit turns the ring *wide*, once:
a 1-byte header and 12-byte records (time as an int64 of µs). Nothing is rounded either way.

Memory is therefore at most visitors * (breadcrumbs * 12 B + 9 B) + TEXT_BUDGET, and 8 B a
breadcrumb in the usual case: never O(events).
"""

import struct
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from core.js.value import UNDEFINED, is_truthy, js_get, js_string

# A word: the category in the top 2 bits, a sentry.event's level in the next 3, then the text id.
NAVIGATION, TRACK, SENTRY_EVENT = 0, 1 << 30, 2 << 30
CATEGORY_MASK = 3 << 30
LEVEL_SHIFT = 27
SEVERITIES = ("fatal", "error", "warning", "info", "debug")  # @sentry/browser 6.13.1 Severity
TEXT_ID_MASK = (1 << LEVEL_SHIFT) - 1
ID_SIZE = 16  # an event id's bytes
NO_TEXT = TEXT_ID_MASK
DROPPED_TEXT = TEXT_ID_MASK - 1
TEXT_LIMIT = 1_000_000  # far below DROPPED_TEXT
TEXT_BUDGET = 64 * 1024 * 1024  # characters of interned text in all

COMPACT, WIDE = 0, 1  # a ring's first byte
COMPACT_HEADER = struct.Struct("<Bq")  # format, the base time in ms
COMPACT_RECORD = struct.Struct("<iI")  # ms after the base (NO_MS: no time), word
WIDE_RECORD = struct.Struct("<qI")  # µs since the epoch (NO_US: no time), word
NO_MS = -(2**31)
NO_US = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US: Final = 86_400 * 10**6
_DAY_STARTS: dict[int, int] = {}  # day number: its first microsecond; cleared when it gets big
Ring = bytes | bytearray


def micros(moment: datetime) -> int:
    """An aware datetime as exact microseconds since the epoch.

    From the fields of its distance to the epoch, not `// timedelta(microseconds=1)`, and with
    each day's start looked up, not multiplied: compiled, a product of more than 2**30 leaves
    the machine's integers for Python's (measured under callgrind: a fifth fewer instructions)."""
    delta = moment - _EPOCH
    day = delta.days
    start = _DAY_STARTS.get(day)
    if start is None:
        if len(_DAY_STARTS) >= 10_000:
            _DAY_STARTS.clear()
        start = _DAY_STARTS[day] = day * _DAY_US
    return start + delta.seconds * 1_000_000 + delta.microseconds


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


def _compact_offset(base_ms: int, time_us: int | None) -> int | None:
    """The compact record's time field for `time_us`, None when it does not fit."""
    if time_us is None:
        return NO_MS
    if time_us % 1000:  # `%` and `//`, not divmod: compiled, they stay machine integers
        return None
    offset = time_us // 1000 - base_ms
    return offset if NO_MS < offset < 2**31 else None


def _wide_record(time_us: int | None, word: int) -> bytes:
    return WIDE_RECORD.pack(NO_US if time_us is None else time_us, word)


def new_ring(time_us: int | None, word: int) -> Ring:
    """A ring holding one breadcrumb."""
    if time_us is not None and time_us % 1000 == 0:
        return COMPACT_HEADER.pack(COMPACT, time_us // 1000) + COMPACT_RECORD.pack(0, word)
    if time_us is None:
        return COMPACT_HEADER.pack(COMPACT, 0) + COMPACT_RECORD.pack(NO_MS, word)
    return bytes((WIDE,)) + _wide_record(time_us, word)


def evicted_word(ring: Ring, head: int, limit: int) -> int | None:
    """The word of the record the next `append` overwrites (None while the ring is not full)."""
    header, size = (
        (COMPACT_HEADER.size, COMPACT_RECORD.size) if ring[0] == COMPACT else (1, WIDE_RECORD.size)
    )
    if len(ring) < header + limit * size:
        return None
    word: int = struct.unpack_from("<I", ring, header + head * size + size - 4)[0]
    return word


def append(ring: Ring, head: int, limit: int, time_us: int | None, word: int) -> tuple[Ring, int]:
    """Add a breadcrumb to a ring of at most `limit`; returns the ring and its new head (the
    oldest record). A ring grows as exact-size bytes, and is overwritten in place once full."""
    if ring[0] == COMPACT:
        offset = _compact_offset(COMPACT_HEADER.unpack_from(ring)[1], time_us)
        if offset is not None:
            record = COMPACT_RECORD.pack(offset, word)
            if len(ring) < COMPACT_HEADER.size + limit * COMPACT_RECORD.size:
                return ring + record, head
            return _overwrite(ring, head, limit, COMPACT_HEADER.size, record)
        ring, head = _widen(ring, head), 0
    record = _wide_record(time_us, word)
    if len(ring) < 1 + limit * WIDE_RECORD.size:
        return ring + record, head
    return _overwrite(ring, head, limit, 1, record)


def _overwrite(ring: Ring, head: int, limit: int, header: int, record: bytes) -> tuple[Ring, int]:
    """Replace the oldest record of a full ring with `record`."""
    if ring.__class__ is not bytearray:
        ring = bytearray(ring)
    start = header + head * len(record)
    ring[start : start + len(record)] = record
    return ring, (head + 1) % limit


def _widen(ring: Ring, head: int) -> bytes:
    """The same breadcrumbs, oldest first, as a wide ring."""
    return bytes((WIDE,)) + b"".join(_wide_record(*record) for record in records(ring, head))


def records(ring: Ring, head: int) -> list[tuple[int | None, int]]:
    """(time in µs or None, word) of every breadcrumb, oldest first."""
    if ring[0] == COMPACT:
        base_us = COMPACT_HEADER.unpack_from(ring)[1] * 1000  # once: a product this large
        stored = [  # is Python's, not the machine's, in compiled code
            (None if offset == NO_MS else base_us + offset * 1000, word)
            for offset, word in COMPACT_RECORD.iter_unpack(ring[COMPACT_HEADER.size :])
        ]
    else:
        stored = [
            (None if time_us == NO_US else time_us, word)
            for time_us, word in WIDE_RECORD.iter_unpack(ring[1:])
        ]
    return stored[head:] + stored[:head]


_DAY_PREFIXES: dict[int, bytes] = {}  # "YYYY-MM-DDT" by day number; cleared when it gets big


_TWO_DIGITS: Final = tuple(b"%02d" % n for n in range(100))


def iso_z(time_us: int) -> bytes:
    """`datetime.isoformat(timespec="microseconds")` of an epoch time in UTC, with "Z".

    Made of two-digit pieces, not by `%` formatting and divmod: an error event's breadcrumbs
    each pay this, and it was a third of the decision of an error whose visitor has many
    (callgrind, the bench's (i) dump; the breadcrumbs in all were more than half)."""
    day = time_us // _DAY_US  # floor division, as divmod: a time before 1970 is a day before
    rest = time_us % _DAY_US
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:
        if len(_DAY_PREFIXES) >= 10_000:
            _DAY_PREFIXES.clear()
        prefix = (_EPOCH + timedelta(days=day)).isoformat()[:11].encode()
        _DAY_PREFIXES[day] = prefix
    seconds = rest // 1_000_000
    micro = rest % 1_000_000
    two = _TWO_DIGITS
    return b"".join(
        (
            prefix,
            two[seconds // 3600],
            b":",
            two[seconds // 60 % 60],
            b":",
            two[seconds % 60],
            b".",
            two[micro // 10_000],
            two[micro // 100 % 100],
            two[micro % 100],
            b"Z",
        )
    )


def breadcrumbs_json(ring: Ring, head: int, texts: TextTable, ids: bytes = b"") -> bytes:
    """The Sentry breadcrumbs, oldest first, as a JSON array: for each, `level`, `timestamp`
    (when known), `category` and `type`, then `data.to` (navigation) or `message` (track)
    when its text was kept; a sentry.event has `event_id` (from `ids`) and `message`."""
    out = [b"["]  # pieces joined once at the end (measured: half the work of `%` formatting)
    next_id = 0
    for time_us, word in records(ring, head):
        if len(out) > 1:
            out.append(b",")
        category = word & CATEGORY_MASK
        if category in (NAVIGATION, TRACK):
            out.append(b'{"level":"info",')
        else:
            out.append(b'{"level":"')
            out.append(SEVERITIES[(word >> LEVEL_SHIFT) & 7].encode())
            out.append(b'",')
        if time_us is not None:
            out.append(b'"timestamp":"')
            out.append(iso_z(time_us))
            out.append(b'",')
        text = texts.text(word & TEXT_ID_MASK)
        if category == NAVIGATION:
            out.append(b'"category":"navigation","type":"navigation"')
            if text is not None:
                out.append(b',"data":{"to":')
                out.append(orjson.dumps(text))
                out.append(b"}")
        else:
            if category == TRACK:
                out.append(b'"category":"rudderstack.track","type":"default"')
            else:
                out.append(b'"category":"sentry.event","event_id":"')
                out.append(ids[next_id : next_id + ID_SIZE].hex().encode())
                out.append(b'"')
                next_id += ID_SIZE
            if text is not None:
                out.append(b',"message":')
                out.append(orjson.dumps(text))
        out.append(b"}")
    out.append(b"]")
    return b"".join(out)


def event_description(event: dict[str, Any]) -> str:
    """@sentry/utils 6.13.1 getEventDescription: the message of a sentry.event breadcrumb
    ("Type: value" of the first exception, else the message, else the event id)."""
    message = event.get("message")
    if is_truthy(message):
        return js_string(message)
    exception = event.get("exception")
    values = js_get(exception, "values") if is_truthy(exception) else UNDEFINED
    first = values[0] if isinstance(values, list) and values else UNDEFINED
    if is_truthy(first):
        kind, value = js_get(first, "type"), js_get(first, "value")
        if is_truthy(kind) and is_truthy(value):
            return f"{js_string(kind)}: {js_string(value)}"
        for candidate in (kind, value, event.get("event_id")):
            if is_truthy(candidate):
                return js_string(candidate)
        return "<unknown>"
    event_id = event.get("event_id")
    return js_string(event_id) if is_truthy(event_id) else "<unknown>"
