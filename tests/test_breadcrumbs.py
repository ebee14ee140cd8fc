"""Breadcrumb rings and the text table: exact times in both record formats, ring order, bounds."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.event.breadcrumbs import (
    CATEGORY_MASK,
    COMPACT,
    DROPPED_TEXT,
    NAVIGATION,
    NO_TEXT,
    TEXT_ID_MASK,
    TRACK,
    WIDE,
    TextTable,
    append,
    breadcrumbs_json,
    iso_z,
    micros,
    new_ring,
    records,
)

BASE_US = micros(datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
DAY_US = 86_400 * 10**6

TIMES = st.one_of(
    st.none(),
    st.integers(-5000, 5000).map(lambda ms: BASE_US + ms * 1000),  # compact
    st.integers(-30, 30).map(lambda days: BASE_US + days * DAY_US),  # some beyond ±24 days
    st.integers(0, 10**6).map(lambda us: BASE_US + us),  # not whole milliseconds
    st.integers(-(2**62), 2**62),
)
WORDS = st.integers(0, 2**32 - 1)


def ring_of(items: Sequence[tuple[int | None, int]], limit: int) -> tuple[bytes | bytearray, int]:
    ring, head = new_ring(*items[0]), 0
    for time_us, word in items[1:]:
        ring, head = append(ring, head, limit, time_us, word)
    return ring, head


@given(st.lists(st.tuples(TIMES, WORDS), min_size=1, max_size=40), st.integers(1, 12))
def test_a_ring_keeps_the_last_breadcrumbs_exactly(
    items: list[tuple[int | None, int]], limit: int
) -> None:
    ring, head = ring_of(items, limit)
    assert records(ring, head) == items[-limit:]


def test_whole_milliseconds_near_the_first_stay_compact() -> None:
    items = [(BASE_US + ms * 1000, TRACK | 3) for ms in (0, 1, -1, 86_400_000)]
    ring, head = ring_of(items, 100)
    assert ring[0] == COMPACT
    assert len(ring) == 9 + 8 * len(items)
    assert records(ring, head) == items


@pytest.mark.parametrize(
    "late",
    [BASE_US + 1, BASE_US + 25 * DAY_US, BASE_US - 25 * DAY_US],
    ids=["a microsecond", "25 days later", "25 days earlier"],
)
def test_a_time_that_does_not_fit_widens_the_ring_once(late: int) -> None:
    items = [(BASE_US, NAVIGATION | 1), (None, TRACK | 2), (late, 5), (BASE_US + 7000, 6)]
    ring, head = ring_of(items, 3)
    assert ring[0] == WIDE
    assert records(ring, head) == items[-3:]


def test_a_full_ring_overwrites_the_oldest_in_place() -> None:
    ring, head = ring_of([(BASE_US + n * 1000, n) for n in range(5)], 3)
    assert isinstance(ring, bytearray)
    assert head == 2
    assert [word for _, word in records(ring, head)] == [2, 3, 4]


def reference(ring: bytes | bytearray, head: int, texts: TextTable) -> list[dict[str, Any]]:
    """The breadcrumbs as plain dicts, written the obvious way."""
    crumbs = []
    for time_us, word in records(ring, head):
        text = texts.text(word & TEXT_ID_MASK)
        crumb: dict[str, Any] = {"level": "info"}
        if time_us is not None:
            moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=time_us)
            crumb["timestamp"] = moment.isoformat(timespec="microseconds")[:-6] + "Z"
        if word & CATEGORY_MASK == NAVIGATION:
            crumb.update(category="navigation", type="navigation")
            if text is not None:
                crumb["data"] = {"to": text}
        else:
            crumb.update(category="rudderstack.track", type="default")
            if text is not None:
                crumb["message"] = text
        crumbs.append(crumb)
    return crumbs


SOME_TEXTS = [
    "https://a.example/",
    "Add To Cart",
    'quote " and \\ back',
    "\u00e9\u4e2d\U0001f600",
    "",
]


@given(
    st.lists(
        st.tuples(
            TIMES.filter(lambda t: t is None or -62135596800 * 10**6 <= t < 253402300800 * 10**6),
            st.sampled_from([NAVIGATION, TRACK]),
            st.sampled_from([*range(len(SOME_TEXTS)), NO_TEXT, DROPPED_TEXT]),
        ),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 8),
)
def test_breadcrumbs_json_is_the_reference_serialized(
    items: list[tuple[int | None, int, int]], limit: int
) -> None:
    texts = TextTable()
    for text in SOME_TEXTS:
        texts.id_of(text)
    ring, head = ring_of([(t, category | text_id) for t, category, text_id in items], limit)
    assert breadcrumbs_json(ring, head, texts) == orjson.dumps(reference(ring, head, texts))


OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23))


@given(st.datetimes(timezones=st.builds(timezone, OFFSETS)))
def test_micros_counts_every_microsecond_since_the_epoch(moment: datetime) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert micros(moment) == (moment - epoch) // timedelta(microseconds=1)


@given(st.integers(-62135596800 * 10**6, 253402300800 * 10**6 - 1))
def test_iso_z_is_isoformat(time_us: int) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=time_us)
    assert iso_z(time_us) == (moment.isoformat(timespec="microseconds")[:-6] + "Z").encode()


def test_breadcrumbs_json_example() -> None:
    texts = TextTable()
    page, track = texts.id_of("https://a.example/"), texts.id_of("Add To Cart")
    items = [
        (BASE_US + 123_000, NAVIGATION | page),
        (None, TRACK | track),
        (BASE_US + 5, TRACK | NO_TEXT),  # wide from here: microseconds survive
    ]
    ring, head = ring_of(items, 100)
    assert orjson.loads(breadcrumbs_json(ring, head, texts)) == [
        {
            "level": "info",
            "timestamp": "2024-05-01T10:00:00.123000Z",
            "category": "navigation",
            "type": "navigation",
            "data": {"to": "https://a.example/"},
        },
        {
            "level": "info",
            "category": "rudderstack.track",
            "type": "default",
            "message": "Add To Cart",
        },
        {
            "level": "info",
            "timestamp": "2024-05-01T10:00:00.000005Z",
            "category": "rudderstack.track",
            "type": "default",
        },
    ]


def test_the_text_table_is_bounded_by_count_and_size() -> None:
    table = TextTable(limit=2, budget=10)
    assert [table.id_of(t) for t in ("a", "bb", "a")] == [0, 1, 0]
    assert table.id_of("ccc") == DROPPED_TEXT  # a third text
    assert table.dropped == 1
    small = TextTable(limit=10, budget=4)
    assert small.id_of("abcd") == 0
    assert small.id_of("e") == DROPPED_TEXT  # over the character budget
    assert table.id_of(None) == NO_TEXT
    assert table.text(DROPPED_TEXT) is None
