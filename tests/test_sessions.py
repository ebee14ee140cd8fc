"""Release-health sessions (core/rules/sessions.py) held to @sentry/browser 6.13.1 itself:
tests/data/sentry-sessions-6.13.1.json records what the SDK's transport was handed, in jsdom,
through page loads with navigations, users, unhandled and handled errors and messages
(tests/data/generators/sentry-sessions.js). Each case is replayed here as the RudderStack
events such a page would send."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import orjson
import pytest

from core.config import normalize
from core.input.records import Record
from core.js.value import UNDEFINED
from core.outcome import Outcome
from core.rules.engine import Engine, EngineOptions
from core.rules.identify import map_user
from core.rules.sessions import Session, iso_ms
from tests.conftest import DATA

VECTORS = json.loads((DATA / "sentry-sessions-6.13.1.json").read_text(encoding="utf-8"))["cases"]
NOW = datetime(2024, 11, 20, tzinfo=UTC)  # a day after the cases: their sessions are sent


def _stamp(seconds: float) -> str:
    return iso_ms(round(seconds * 1000))


def _event(case: dict[str, Any], page: int, url: str, at: float, **fields: Any) -> dict[str, Any]:
    """One event of page load `page` of the case's visitor, at `url`, at time `at`."""
    return {
        "anonymousId": "visitor-1",
        "originalTimestamp": _stamp(at),
        "context": {
            "page": {"url": url},
            "userAgent": case["user_agent"],
            "autoTrack": {"page": {"pageViewId": f"pv-{page}"}},
        },
        **fields,
    }


def _step(case: dict[str, Any], page: int, url: str, step: dict[str, Any]) -> dict[str, Any]:
    """The RudderStack event of one step of a page load (the URL after it, for a navigation)."""
    at = step["t"]
    if "navigate" in step:
        return _event(case, page, url, at, type="page", name="navigation")
    if "user" in step:
        user = step["user"]
        traits = {k: v for k, v in user.items() if k not in ("id", "username")}
        identify = _event(
            case, page, url, at, type="identify", **({"userId": user["id"]} if "id" in user else {})
        )
        identify["context"]["traits"] = traits
        assert map_user(identify) == user  # what RudderStack's setUser call gets
        return identify
    if "onerror" in step:
        kind, value = step["onerror"]["type"], step["onerror"]["value"]
        stack = f"{kind}: {value}\n    at run (https://shop.example.com/app.js:10:5)"
        error = {"name": kind, "message": value, "stack": stack}  # the same frames each time
        return _event(
            case, page, url, at, type="track", event="JavaScript Error", properties={"error": error}
        )
    if "handled" in step:
        exception = {**step["handled"], "mechanism": {"handled": True, "type": "generic"}}
        return _event(
            case, page, url, at, type="track", event="Error", properties={"exception": exception}
        )
    return _event(
        case, page, url, at, type="track", event="Error", properties={"message": step["message"]}
    )


def _events(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The RudderStack events of a case's page loads: a page event when it loads, then one
    per step."""
    events: list[dict[str, Any]] = []
    for page, load in enumerate(case["page_loads"]):
        url = load["url"]
        events.append(_event(case, page, url, load["t"], type="page", name="load"))
        for step in load["steps"]:
            if step.get("navigate"):
                url = urljoin(url, step["navigate"])
            events.append(_step(case, page, url, step))
    for number, event in enumerate(events):
        event["messageId"] = f"m-{number}"
    return events


def _replay(
    case: dict[str, Any], events: list[dict[str, Any]], **options: Any
) -> tuple[list[Any], list[Any]]:
    config = normalize({"release": case["release"], "environment": case["environment"]})
    engine = Engine(config, EngineOptions(**options), now=NOW, explain=False)
    decisions = [
        engine.decide(Record("s.ndjson", i + 1, event=e, type=e["type"]))
        for i, e in enumerate(events)
    ]
    items = [json.loads(item.payload) for d in decisions for item in (d.sessions or ())]
    return decisions, items


def _numbered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Session ids as S1, S2, ... in order of appearance, as the vectors have them."""
    names: dict[str, str] = {}
    for item in items:
        item["sid"] = names.setdefault(item["sid"], f"S{len(names) + 1}")
    return items


@pytest.mark.parametrize("case", [pytest.param(c, id=c["test"]) for c in VECTORS])
def test_sessions_are_the_sdks(case: dict[str, Any]) -> None:
    events = _events(case)
    decisions, items = _replay(case, events)
    assert _numbered(items) == case["sessions"]
    sent = [orjson.loads(orjson.dumps(d.sentry_event)) for d in decisions if d.kind == "error"]
    recorded = [e["mechanism"] for e in case["events"]]
    ours = [
        (event.get("exception") or {"values": [{}]})["values"][0].get("mechanism") for event in sent
    ]
    assert ours == recorded  # onerror's mechanism on built exceptions; p.exception keeps its own


def test_the_vectors_cover_what_the_sdk_does() -> None:
    statuses = {item["status"] for case in VECTORS for item in case["sessions"]}
    assert statuses == {"ok", "exited", "crashed"}
    assert any("did" in item for case in VECTORS for item in case["sessions"])
    assert any(not case["sessions"] for case in VECTORS)  # no release, nothing sent


def test_session_ids_are_stable_and_each_item_has_its_own() -> None:
    case = next(c for c in VECTORS if c["test"] == "navigations, errors between")
    events = _events(case)
    first = _replay(case, events)[0]
    again = _replay(case, events)[0]
    ids = [item.item_id for d in first for item in (d.sessions or ())]
    assert ids == [item.item_id for d in again for item in (d.sessions or ())]
    assert len(set(ids)) == len(ids) == len(case["sessions"])


def test_sessions_started_over_five_days_ago_are_not_sent() -> None:
    case = next(c for c in VECTORS if c["test"] == "two page loads")
    events = _events(case)
    config = normalize({"release": case["release"]})
    late = NOW + timedelta(days=6)
    engine = Engine(config, EngineOptions(), now=late, explain=False)
    decisions = [
        engine.decide(Record("s", i, event=e, type=e["type"])) for i, e in enumerate(events)
    ]
    assert not any(d.sessions for d in decisions)
    assert engine.sessions_too_old == len(case["sessions"])
    limited = Engine(config, EngineOptions(max_age_days=0.5), now=NOW, explain=False)
    for i, e in enumerate(events):
        limited.decide(Record("s", i, event=e, type=e["type"]))
    assert limited.sessions_too_old == len(case["sessions"])  # a day old: older than --max-age


def test_a_consent_denied_page_load_has_no_session() -> None:
    case = next(c for c in VECTORS if c["test"] == "an unhandled error crashes the session")
    events = _events(case)
    for event in events:
        event["context"]["consentManagement"] = {
            "provider": "ketch",
            "allowedConsentIds": ["p1"],
            "deniedConsentIds": ["p2"],
        }
    config = normalize({"release": "r1", "ketchConsentPurposes": [{"purpose": "p2"}]})
    engine = Engine(config, EngineOptions(), now=NOW, explain=False)
    decisions = [
        engine.decide(Record("s", i, event=e, type=e["type"])) for i, e in enumerate(events)
    ]
    assert {d.outcome for d in decisions} == {Outcome.CONSENT_DENIED}
    assert not any(d.sessions for d in decisions)


def test_did_follows_javascripts_or() -> None:
    session = Session("s" * 32, 0, "r", "", None, None)
    session.set_user({"id": "", "email": 0, "username": False}, 1)
    dids: list[object] = [session.did]  # the last operand: falsy, so a later user may set it
    session.set_user({"id": 0, "email": "e@x"}, 2)
    dids.append(session.did)
    assert dids == [False, "e@x"]
    assert json.loads(session.item().payload)["did"] == "e@x"
    assert Session("s" * 32, 0, "r", "", None, {"id": True}).did is True
    assert "did" not in json.loads(Session("s" * 32, 0, "r", "", None, {"id": True}).item().payload)
    assert Session("t" * 32, 0, "r", "", None, None).ip_address is UNDEFINED
