"""Page loads: the browser's memory lasts one page load (core/rules/pageloads.py decides where
one begins; the engine keeps what each holds). --scope visitor keeps the user and breadcrumbs
across them; Dedupe and sessions are per page load under both."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from core.config import normalize
from core.input.records import Record
from core.outcome import Outcome
from core.rules.engine import Decision, Engine, EngineOptions, IdentifyMode, Scope
from core.rules.pageloads import NO_PAGE, NO_TIME, PAGE_GAP_MS, page_key, starts_page_load

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
NOW = START + timedelta(days=3)


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def event(
    kind: str, minutes: float, *, view: str = "", session: Any = None, **fields: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {"page": {"url": "https://shop.example.com/"}}
    if view:
        context["autoTrack"] = {"page": {"pageViewId": view}}
    if session is not None:
        context["sessionId"] = session
    return {
        "type": kind,
        "anonymousId": "visitor-1",
        "messageId": f"m-{kind}-{minutes}-{view}-{fields.get('event', '')}",
        "originalTimestamp": at(minutes),
        "context": context,
        **fields,
    }


def identify(minutes: float, user: str, **more: Any) -> dict[str, Any]:
    found = event("identify", minutes, userId=user, **more)
    found["context"]["traits"] = {"email": f"{user}@example.org"}
    return found


def error(minutes: float, message: str = "x is undefined", **more: Any) -> dict[str, Any]:
    return event("track", minutes, event="Error", properties={"message": message}, **more)


def decide(events: list[dict[str, Any]], **options: Any) -> list[Decision]:
    engine = Engine(normalize({}), EngineOptions(**options), now=NOW, explain=True)
    return [engine.decide(Record("s", n, event=e, type=e["type"])) for n, e in enumerate(events)]


def sent(decision: Decision) -> dict[str, Any]:
    assert decision.sentry_event is not None, decision
    found: dict[str, Any] = orjson.loads(orjson.dumps(decision.sentry_event))
    return found


def test_a_repeat_a_day_later_is_sent() -> None:
    """Dedupe lives in page memory: the same error the next day is another page load's."""
    outcomes = [d.outcome for d in decide([error(0), error(10), error(24 * 60)])]
    assert outcomes == [Outcome.WOULD_SEND, Outcome.DEDUPLICATED, Outcome.WOULD_SEND]
    visitor = [d.outcome for d in decide([error(0), error(24 * 60)], scope=Scope.VISITOR)]
    assert visitor == [Outcome.WOULD_SEND, Outcome.WOULD_SEND]  # per page load under both


def test_another_page_load_has_no_user_or_breadcrumbs_of_the_last() -> None:
    events = [
        identify(0, "u1"),
        event("page", 1, name="Cart"),
        error(2, "first"),
        error(24 * 60, "next day"),
    ]
    page = decide(events, identify_events=IdentifyMode.NONE)
    same_load, next_day = sent(page[2]), sent(page[3])
    assert same_load["user"]["id"] == "u1"
    assert [c["category"] for c in same_load["breadcrumbs"]["values"]] == ["navigation"]
    assert "user" not in next_day
    assert "breadcrumbs" not in next_day
    visitor = decide(events, identify_events=IdentifyMode.NONE, scope=Scope.VISITOR)
    carried = sent(visitor[3])
    assert carried["user"]["id"] == "u1"
    categories = [c["category"] for c in carried["breadcrumbs"]["values"]]
    assert categories == ["navigation", "sentry.event"]


def test_a_gap_of_thirty_minutes_or_a_new_session_id_begins_a_page_load() -> None:
    def users(events: list[dict[str, Any]]) -> list[str | None]:
        found = decide(events, identify_events=IdentifyMode.NONE)
        return [sent(d).get("user", {}).get("id") for d in found if d.sentry_event is not None]

    assert users([identify(0, "u1"), error(30)]) == ["u1"]  # exactly 30 minutes: no gap
    assert users([identify(0, "u1"), error(30.1)]) == [None]
    assert users([identify(0, "u1", session=1), error(1, session=1)]) == ["u1"]
    assert users([identify(0, "u1", session=1), error(1, session=2)]) == [None]
    assert users([identify(0, "u1"), error(-31)]) == [None]  # a late arrival: a gap either way


def test_a_page_view_lasts_however_long_its_tab_is_open() -> None:
    events = [identify(0, "u1", view="p1"), error(0, view="p1"), error(600, view="p1")]
    found = decide(events, identify_events=IdentifyMode.NONE)
    assert found[2].outcome is Outcome.DEDUPLICATED  # ten hours later, the same page


def test_tabs_keep_their_own_memory() -> None:
    events = [
        identify(0, "u1", view="tab-1"),
        identify(1, "u2", view="tab-2"),
        error(2, "one", view="tab-1"),
        error(3, "two", view="tab-2"),
        error(4, "three", view="tab-3"),
    ]
    found = decide(events, identify_events=IdentifyMode.NONE)
    assert [sent(d).get("user", {}).get("id") for d in found[2:]] == ["u1", "u2", None]


def test_a_visitor_keeps_four_page_loads_and_forgets_the_oldest() -> None:
    tabs = [f"tab-{n}" for n in range(5)]
    events = [identify(n, f"u{n}", view=tab) for n, tab in enumerate(tabs)]
    events += [error(10, "late", view="tab-1"), error(11, "oldest", view="tab-0")]
    found = decide(events, identify_events=IdentifyMode.NONE)
    assert sent(found[5])["user"]["id"] == "u1"
    assert "user" not in sent(found[6])  # tab-0 was the fifth back: forgotten


def test_changed_compares_with_the_last_user_sent_across_page_loads() -> None:
    events = [identify(0, "u1"), identify(60, "u1"), identify(120, "u2"), identify(180, "u2")]
    outcomes = [d.outcome for d in decide(events)]
    assert outcomes == [
        Outcome.WOULD_SEND,
        Outcome.IDENTIFY_UNCHANGED,  # another page load, the same user as the last one sent
        Outcome.WOULD_SEND,
        Outcome.IDENTIFY_UNCHANGED,
    ]


@pytest.mark.parametrize(
    ("current", "seen", "key", "moment", "begins"),
    [
        (NO_PAGE, NO_TIME, 2, 0, True),  # a visitor's first event
        (3, 0, 3, 10 * PAGE_GAP_MS, False),  # a page view: no gap ends it
        (3, 0, 5, 0, True),  # another page view
        (2, 0, 2, PAGE_GAP_MS, False),
        (2, 0, 2, PAGE_GAP_MS + 1, True),
        (2, PAGE_GAP_MS + 1, 2, 0, True),  # earlier by more than the gap
        (2, NO_TIME, 2, 10 * PAGE_GAP_MS, False),  # no time: nothing to measure
        (2, 0, 2, NO_TIME, False),
    ],
)
def test_where_a_page_load_begins(
    current: int, seen: int, key: int, moment: int, begins: bool
) -> None:
    assert starts_page_load(current, seen, key, moment) is begins


def test_page_keys() -> None:
    view = page_key({"context": {"autoTrack": {"page": {"pageViewId": "pv"}}, "sessionId": 1}})
    assert view & 1
    assert view == page_key({"context": {"autoTrack": {"page": {"pageViewId": "pv"}}}})
    run = page_key({"context": {"sessionId": 1732000000000}})
    assert not run & 1
    assert run != NO_PAGE
    assert run == page_key({"context": {"sessionId": "1732000000000"}})  # String(sessionId)
    assert page_key({}) == page_key({"context": None}) == page_key({"context": {"page": {}}})
    assert page_key({"context": {"autoTrack": {"page": {"pageViewId": ""}}}}) == page_key({})
