"""The engine on whole browser sessions: users, breadcrumbs, identify modes, filters, max-age."""

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from core.config import normalize
from core.input.records import Record
from core.js.regex import SLASHED
from core.outcome import Outcome
from core.rules.engine import Decision, Engine, EngineOptions, IdentifyMode, Scope
from tests.conftest import load_vectors

NOW = datetime(2024, 5, 2, tzinfo=UTC)
A, B = "anon-a", "anon-b"
STACK = (
    "TypeError: x is undefined\n"
    "    at inner (https://app.example.com/static/js/app.js:10:5)\n"
    "    at outer (https://cdn.vendor.example.net/lib.js:20:7)\n"
)


def ev(kind: str, anon: str, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "anonymousId": anon,
        "messageId": f"{anon}-{n}",
        "originalTimestamp": f"2024-05-01T10:00:{n:02d}.000Z",
        "context": {
            "page": {"url": f"https://app.example.com/p{n}", "referrer": "https://r.example/"},
            "userAgent": "UA/1.0",
        },
        **fields,
    }


def run(
    events: list[dict[str, Any]], config: dict[str, Any] | None = None, **options: Any
) -> list[Decision]:
    engine = Engine(normalize(config or {}), EngineOptions(**options), now=NOW)
    return [
        as_sent(engine.decide(Record("s.ndjson", i + 1, event=e, type=e["type"].strip().lower())))
        for i, e in enumerate(events)
    ]


def as_sent(decision: Decision) -> Decision:
    """The decision with its Sentry event as the JSON that would be sent (user and breadcrumbs
    are spliced in as pre-serialized fragments)."""
    if decision.sentry_event is None:
        return decision
    sentry = orjson.loads(orjson.dumps(decision.sentry_event))
    return Decision(
        decision.outcome, decision.detail, sentry, decision.kind, decision.older, decision.sessions
    )


SESSION = [
    ev("page", A, 1, name="Home", properties={"url": "https://app.example.com/"}),
    ev("identify", A, 2, userId="u1", context={"traits": {"email": "a@x.org", "name": "Ada"}}),
    ev("track", A, 3, event="Add To Cart", properties={"sku": 1}),
    ev(
        "track",
        A,
        4,
        event="JavaScript Error",
        properties={"error": {"name": "TypeError", "message": "x is undefined", "stack": STACK}},
    ),
    ev("page", B, 5, name="Offers"),
    ev("track", B, 6, event="error", properties={"message": "plain message"}),
    ev("identify", A, 7, userId="u1", context={"traits": {"email": "a@x.org", "name": "Ada"}}),
    ev("identify", A, 8, userId="u1", context={"traits": {"email": "ada@x.org", "name": "Ada"}}),
    ev("track", A, 9, event="Error", properties={"message": "second"}),
]


def test_browser_session() -> None:
    config = {
        "environment": "prod",
        "release": "web@1",
        "serverName": "srv",
        "logger": "rs",
        "includePaths": [{"includePaths": "app\\.example\\.com"}],
    }
    decisions = run(SESSION, config)
    assert [d.outcome for d in decisions] == [
        Outcome.BREADCRUMB,
        Outcome.WOULD_SEND,
        Outcome.BREADCRUMB,
        Outcome.WOULD_SEND,
        Outcome.BREADCRUMB,
        Outcome.WOULD_SEND,
        Outcome.IDENTIFY_UNCHANGED,
        Outcome.WOULD_SEND,
        Outcome.WOULD_SEND,
    ]
    identify = decisions[1].sentry_event
    assert identify is not None
    assert identify["user"] == {"id": "u1", "email": "a@x.org", "username": "Ada", "name": "Ada"}
    assert identify["message"] == "identify"
    assert identify["level"] == "info"
    assert identify["fingerprint"] == ["rudderstack", "identify"]
    assert identify["tags"] == {"logger": "rs", "rudderstack.type": "identify"}

    error = decisions[3].sentry_event
    assert error is not None
    assert error["user"] == identify["user"]
    assert error["environment"] == "prod"
    assert error["release"] == "web@1"
    assert error["server_name"] == "srv"
    assert error["platform"] == "javascript"
    assert error["level"] == "error"
    assert error["sdk"]["settings"] == {"infer_ip": "never"}
    assert error["request"] == {
        "url": "https://app.example.com/p4",
        "headers": {"User-Agent": "UA/1.0", "Referer": "https://r.example/"},
    }
    exception = error["exception"]["values"][0]
    assert exception["type"] == "TypeError"
    assert exception["value"] == "x is undefined"
    frames = exception["stacktrace"]["frames"]
    assert [(f["function"], f["in_app"]) for f in frames] == [("outer", False), ("inner", True)]
    crumbs = error["breadcrumbs"]["values"]
    assert [(c["category"], c.get("message"), c.get("data")) for c in crumbs] == [
        ("navigation", None, {"to": "https://app.example.com/"}),
        ("rudderstack.track", "Add To Cart", None),
    ]
    assert crumbs[0]["timestamp"] == "2024-05-01T10:00:01.000000Z"
    assert error["extra"]["rudderstack"]["source"] == "s.ndjson:4"

    other = decisions[5].sentry_event  # the second, anonymous visitor: no user, own breadcrumbs
    assert other is not None
    assert "user" not in other
    assert other["message"] == "plain message"
    assert [c["data"]["to"] for c in other["breadcrumbs"]["values"]] == [
        "https://app.example.com/p5"
    ]

    changed = decisions[7].sentry_event
    assert changed is not None
    assert changed["user"]["email"] == "ada@x.org"
    last = decisions[8].sentry_event
    assert last is not None
    assert last["user"]["email"] == "ada@x.org"


def test_event_ids_are_stable_and_distinct() -> None:
    first = [d.sentry_event["event_id"] for d in run(SESSION) if d.sentry_event]
    again = [d.sentry_event["event_id"] for d in run(SESSION) if d.sentry_event]
    assert first == again
    assert len(set(first)) == len(first)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in first)


@pytest.mark.parametrize(
    ("mode", "outcomes"),
    [
        (
            IdentifyMode.CHANGED,
            [Outcome.WOULD_SEND, Outcome.IDENTIFY_UNCHANGED, Outcome.WOULD_SEND],
        ),
        (IdentifyMode.ALL, [Outcome.WOULD_SEND] * 3),
        (IdentifyMode.NONE, [Outcome.USER_SET] * 3),
    ],
)
def test_identify_modes(mode: IdentifyMode, outcomes: list[Outcome]) -> None:
    same = {"traits": {"email": "a@x.org"}}
    events = [
        ev("identify", A, 1, context=same),
        ev("identify", A, 2, context=same),
        ev("identify", A, 3, context={"traits": {"email": "b@x.org"}}),
    ]
    assert [d.outcome for d in run(events, identify_events=mode)] == outcomes


def test_identify_without_context_or_identity() -> None:
    events = [
        ev("identify", A, 1, userId="u"),
        ev("identify", A, 2, context={"traits": {"id": "x"}}),
    ]
    events[0].pop("context")
    assert [d.outcome for d in run(events)] == [
        Outcome.IDENTIFY_NO_CONTEXT,
        Outcome.IDENTIFY_DROPPED,
    ]


def test_filters_before_type_handling() -> None:
    config = {
        "eventFilteringOption": "blacklistedEvents",
        "blacklistedEvents": [{"eventName": "Error"}],
        "ignoreErrors": [{"ignoreErrors": "boring"}],
        "denyUrls": [{"denyUrls": "vendor"}],
    }
    events = [
        ev("identify", A, 1, userId="u", integrations={"Sentry": False}),
        ev("track", A, 2, event="Error", properties={"message": "m"}),
        ev("track", A, 3, event="Exception", properties={"message": "a boring one"}),
        ev(
            "track",
            A,
            4,
            event="Exception",
            properties={"exception": {"type": "SentryError", "value": "x"}},
        ),
        ev(
            "track",
            A,
            5,
            event="Exception",
            properties={"error": "e", "filename": "https://vendor.net/a.js"},
        ),
        ev("group", A, 6),
        ev("alias", A, 7),
    ]
    assert [d.outcome for d in run(events, config)] == [
        Outcome.DESTINATION_DISABLED,
        Outcome.EVENT_FILTERED,
        Outcome.IGNORED_ERROR,
        Outcome.INTERNAL_SENTRY_ERROR,
        Outcome.DENIED_URL,
        Outcome.NO_OP,
        Outcome.NO_OP,
    ]


def test_breadcrumb_limit_and_none() -> None:
    events = [ev("page", A, i) for i in range(1, 8)] + [
        ev("track", A, 9, event="Error", properties={"message": "m"})
    ]
    error = run(events, breadcrumbs=3)[-1].sentry_event
    assert error is not None
    assert [c["data"]["to"] for c in error["breadcrumbs"]["values"]] == [
        f"https://app.example.com/p{i}" for i in (5, 6, 7)
    ]
    none = run(events, breadcrumbs=0)[-1].sentry_event
    assert none is not None
    assert "breadcrumbs" not in none


def test_max_age_and_older_than_the_retention() -> None:
    """Older than the project's retention (90 days by default, --retention-days): Relay
    re-dates it to its arrival, and the report counts it."""
    old = ev("track", A, 1, event="Error", properties={"message": "m1"})
    old["originalTimestamp"] = "2024-01-01T00:00:00Z"  # 122 days before NOW
    month = ev("track", A, 2, event="Error", properties={"message": "m2"})
    month["originalTimestamp"] = "2024-03-01T00:00:00Z"  # 62 days before NOW
    recent = ev("track", A, 3, event="Error", properties={"message": "m3"})
    assert [d.older for d in run([old, month, recent])] == [True, False, False]
    assert [d.older for d in run([old, month, recent], retention_days=30)] == [True, True, False]
    limited = run([old, recent], max_age_days=10)
    assert [d.outcome for d in limited] == [Outcome.TOO_OLD, Outcome.WOULD_SEND]


def _identify_as(email: str, n: int, *, old: bool = False) -> dict[str, Any]:
    event = ev("identify", A, n, context={"traits": {"email": email}})
    if old:  # kept as the user, but too old to be sent
        event["originalTimestamp"] = "2020-01-01T00:00:00Z"
    return event


@pytest.mark.parametrize(
    ("sequence", "outcomes"),
    [
        # a user kept but not sent does not count as sent: back to the sent one is unchanged
        (
            [("a", False), ("b", True), ("a", False)],
            [Outcome.WOULD_SEND, Outcome.TOO_OLD, Outcome.IDENTIFY_UNCHANGED],
        ),
        (
            [("a", False), ("b", True), ("b", False), ("b", False), ("a", False)],
            [
                Outcome.WOULD_SEND,
                Outcome.TOO_OLD,
                Outcome.WOULD_SEND,
                Outcome.IDENTIFY_UNCHANGED,
                Outcome.WOULD_SEND,
            ],
        ),
        (
            [("a", True), ("a", False), ("a", False)],
            [Outcome.TOO_OLD, Outcome.WOULD_SEND, Outcome.IDENTIFY_UNCHANGED],
        ),
        (
            [("a", False), ("b", True), ("c", True), ("a", False), ("c", False)],
            [
                Outcome.WOULD_SEND,
                Outcome.TOO_OLD,
                Outcome.TOO_OLD,
                Outcome.IDENTIFY_UNCHANGED,
                Outcome.WOULD_SEND,
            ],
        ),
    ],
)
def test_changed_means_changed_since_the_last_user_sent(
    sequence: list[tuple[str, bool]], outcomes: list[Outcome]
) -> None:
    events = [_identify_as(f"{who}@x.org", n, old=old) for n, (who, old) in enumerate(sequence)]
    assert [d.outcome for d in run(events, max_age_days=30)] == outcomes


def test_too_old_identify_still_sets_the_user() -> None:
    identify = ev("identify", A, 1, userId="u1", context={"traits": {}})
    identify["originalTimestamp"] = "2020-01-01T00:00:00Z"
    error = ev("track", A, 2, event="Error", properties={"message": "m"})
    decisions = run([identify, error], max_age_days=30, scope=Scope.VISITOR)  # years apart
    assert decisions[0].outcome is Outcome.TOO_OLD
    assert decisions[1].sentry_event is not None
    assert decisions[1].sentry_event["user"] == {"id": "u1"}


@pytest.mark.parametrize(
    ("event_fields", "release"),
    [
        (
            {
                "context": {"app": {"release": "ctx@1"}},
                "properties": {"app": {"release": "props@1"}},
            },
            "ctx@1",
        ),
        ({"properties": {"app": {"release": 42}}}, "42"),
        ({"app": {"release": "root@1"}}, "root@1"),
        ({"app.release": "joined@1"}, "joined@1"),
        ({}, "fallback@1"),
    ],
)
def test_release_by_custom_version_property(event_fields: dict[str, Any], release: str) -> None:
    event: dict[str, Any] = {"type": "track", "anonymousId": A, "event": "Error"}
    event["properties"] = {"message": "m"}
    for key, value in event_fields.items():
        if key == "properties":
            event["properties"] = {**event["properties"], **value}
        else:
            event[key] = value
    config = {"customVersionProperty": "app.release", "release": "fallback@1"}
    sentry = run([event], config)[0].sentry_event
    assert sentry is not None
    assert sentry["release"] == release


def test_empty_fields_are_omitted() -> None:
    sentry = run([ev("track", A, 1, event="Error", properties={"message": "m"})])[0].sentry_event
    assert sentry is not None
    for key in ("environment", "release", "server_name", "user", "breadcrumbs"):
        assert key not in sentry
    assert sentry["tags"] == {"rudderstack.type": "track"}


def test_breadcrumb_text_table_is_bounded_and_counted() -> None:
    engine = Engine(normalize({}), EngineOptions(breadcrumbs=5), now=NOW, explain=False)
    engine.texts.limit = 2
    events = [ev("page", A, i, properties={"url": f"https://x.example/{i}"}) for i in range(1, 5)]
    events.append(ev("track", A, 9, event="Error", properties={"message": "m"}))
    for i, event in enumerate(events):
        decision = as_sent(engine.decide(Record("s", i + 1, event=event, type=event["type"])))
    assert engine.texts.dropped == 3  # two page URLs, then the error's sentry.event message
    sentry = decision.sentry_event
    assert sentry is not None
    crumbs = sentry["breadcrumbs"]["values"]
    assert [c.get("data", {}).get("to") for c in crumbs] == [
        "https://x.example/1",
        "https://x.example/2",
        None,
        None,
    ]
    assert all("timestamp" in c for c in crumbs)  # the time and category are still kept


def test_breadcrumb_ring_keeps_the_newest_in_order() -> None:
    events = [ev("page", A, i, properties={"url": f"u{i}"}) for i in range(1, 13)]
    events.append(ev("track", A, 13, event="Error", properties={"message": "m"}))
    sentry = run(events, breadcrumbs=5)[-1].sentry_event
    assert sentry is not None
    assert [c["data"]["to"] for c in sentry["breadcrumbs"]["values"]] == [
        f"u{i}" for i in range(8, 13)
    ]


def _entries(*lists: Any) -> list[str] | None:
    entries: list[str] = []
    for patterns in lists:
        for pattern in patterns or []:
            if isinstance(pattern, dict):
                entries.append(f"/{pattern['regex']}/{pattern.get('flags', '')}")
            elif SLASHED.match(pattern):
                return None  # a string that would read as /regex/ here: not expressible
            else:
                entries.append(pattern)
    return entries


def _expressible(case: dict[str, Any]) -> bool:
    event, options = case.get("event"), case.get("options", {})
    if event is None or case.get("integration_options") or "expect_drop_6_13_1" not in case:
        return False
    if set(event) - {"message", "exception", "stacktrace"} or set(options) - {
        "ignoreErrors",
        "allowUrls",
        "denyUrls",
        "whitelistUrls",
        "blacklistUrls",
    }:
        return False
    message = event.get("message")
    if "message" in event and not (isinstance(message, str) and message):
        return False
    if "exception" in event and ("message" in event or "stacktrace" in event):
        return False  # an exception event carries no message
    return "exception" not in event or isinstance(event["exception"], dict)


@pytest.mark.parametrize("case", load_vectors("sentry-inbound-filters.json", _expressible))
def test_inbound_vectors_through_a_destination_config(case: dict[str, Any]) -> None:
    options = case.get("options", {})
    config = {
        "ignoreErrors": _entries(options.get("ignoreErrors")),
        "allowUrls": _entries(options.get("allowUrls"), options.get("whitelistUrls")),
        "denyUrls": _entries(options.get("denyUrls"), options.get("blacklistUrls")),
    }
    if any(value is None for value in config.values()):
        pytest.skip("a string pattern that this tool would read as /regex/")
    properties = dict(case["event"])
    event = {"type": "track", "event": "Error", "anonymousId": "a", "properties": properties}
    decision = run([event], config)[0]
    dropped = decision.outcome is not Outcome.WOULD_SEND
    assert dropped is case["expect_drop_6_13_1"], decision


def test_the_text_table_is_bounded_by_size_too() -> None:
    engine = Engine(normalize({}), EngineOptions(), now=NOW, explain=False)
    engine.texts.budget = 100
    events = [ev("track", A, 1, event="x" * 60), ev("track", A, 2, event="y" * 60)]
    for i, event in enumerate(events):
        engine.decide(Record("s", i + 1, event=event, type="track"))
    assert engine.texts.dropped == 1
    assert engine.texts.size == 60


# --- consent, Dedupe, normalize and the sentry.event breadcrumb (docs/behaviour.md) ---

CONSENT_CONFIG = {
    "consentManagement": {
        "web": [{"provider": "oneTrust", "consents": [{"consent": "C0004"}]}],
    }
}


def consented(page: str, allowed: list[str], denied: list[str]) -> dict[str, Any]:
    """A context with a OneTrust consent state and a page load id."""
    return {
        "page": {"url": "https://app.example.com/"},
        "autoTrack": {"page": {"pageViewId": page}},
        "consentManagement": {
            "provider": "oneTrust",
            "allowedConsentIds": allowed,
            "deniedConsentIds": denied,
            "resolutionStrategy": "and",
        },
    }


def test_a_denied_page_load_updates_nothing_and_names_provider_and_consent() -> None:
    denied = consented("pv-1", ["C0001"], ["C0004"])
    events = [
        ev("identify", A, 1, userId="u1", context={**denied, "traits": {"email": "a@x.org"}}),
        ev("page", A, 2, context=denied, properties={"url": "https://app.example.com/a"}),
        ev("track", A, 3, event="Error", context=denied, properties={"message": "m1"}),
        ev("track", A, 4, event="Error", properties={"message": "m2"}),  # no consent manager
    ]
    decisions = run(events, CONSENT_CONFIG, identify_events=IdentifyMode.NONE)
    outcomes = [d.outcome for d in decisions]
    assert outcomes == [Outcome.CONSENT_DENIED] * 3 + [Outcome.WOULD_SEND]
    assert decisions[0].detail == "oneTrust: 'C0004' not granted (consentManagement, and)"
    sentry = decisions[3].sentry_event
    assert sentry is not None
    assert "user" not in sentry
    assert "breadcrumbs" not in sentry


def test_one_page_load_shares_the_decision_made_on_its_first_event() -> None:
    granted = consented("pv-1", ["C0001", "C0004"], ["C0002"])
    revoked_later = consented("pv-1", ["C0001"], ["C0002", "C0004"])  # consent() mid-page
    next_page = consented("pv-2", ["C0001"], ["C0002", "C0004"])
    events = [
        ev("track", A, 1, event="Error", context=granted, properties={"message": "m1"}),
        ev("track", A, 2, event="Error", context=revoked_later, properties={"message": "m2"}),
        ev("track", A, 3, event="Error", context=next_page, properties={"message": "m3"}),
        ev("track", A, 4, event="Error", context=granted, properties={"message": "m4"}),
    ]
    outcomes = [d.outcome for d in run(events, CONSENT_CONFIG)]
    assert outcomes == [
        Outcome.WOULD_SEND,
        Outcome.WOULD_SEND,  # the page loaded Sentry: later consent changes do not unload it
        Outcome.CONSENT_DENIED,
        Outcome.WOULD_SEND,  # pv-1 again (another tab): still its first decision
    ]


def test_without_a_page_view_id_each_event_is_decided_alone() -> None:
    granted = consented("", ["C0004"], ["C0002"])
    revoked = consented("", ["C0001"], ["C0004"])
    events = [
        ev("track", A, 1, event="Error", context=granted, properties={"message": "m1"}),
        ev("track", A, 2, event="Error", context=revoked, properties={"message": "m2"}),
    ]
    outcomes = [d.outcome for d in run(events, CONSENT_CONFIG)]
    assert outcomes == [Outcome.WOULD_SEND, Outcome.CONSENT_DENIED]


def test_consent_comes_before_the_integrations_object() -> None:
    event = ev(
        "track",
        A,
        1,
        event="Error",
        context=consented("pv", [], ["C0004"]),
        integrations={"Sentry": False},
    )
    assert run([event], CONSENT_CONFIG)[0].outcome is Outcome.CONSENT_DENIED
    assert run([event])[0].outcome is Outcome.DESTINATION_DISABLED


def test_dedupe_drops_a_repeat_in_a_row_per_visitor_and_keeps_the_rest() -> None:
    def err(anon: str, n: int, message: str) -> dict[str, Any]:
        return ev("track", anon, n, event="Error", properties={"error": message, "stack": STACK})

    events = [
        err(A, 1, "x is undefined"),
        err(A, 2, "x is undefined"),  # the same error again: Dedupe drops it
        err(B, 3, "x is undefined"),  # another visitor's scope
        err(A, 4, "y is undefined"),
        err(A, 5, "x is undefined"),  # not in a row
    ]
    decisions = run(events)
    assert [d.outcome for d in decisions] == [
        Outcome.WOULD_SEND,
        Outcome.DEDUPLICATED,
        Outcome.WOULD_SEND,
        Outcome.WOULD_SEND,
        Outcome.WOULD_SEND,
    ]
    # the dropped event left no sentry.event breadcrumb: the next error shows one, for event 1
    crumbs = decisions[3].sentry_event["breadcrumbs"]["values"]  # type: ignore[index]
    assert [c["category"] for c in crumbs] == ["sentry.event"]
    assert crumbs[0]["event_id"] == decisions[0].sentry_event["event_id"]  # type: ignore[index]


def test_filtered_errors_do_not_count_as_the_previous_error() -> None:
    events = [
        ev("track", A, 1, event="Error", properties={"message": "boom"}),
        ev("track", A, 2, event="Error", properties={"message": "Script error."}),
        ev("track", A, 3, event="Error", properties={"message": "boom"}),
    ]
    outcomes = [d.outcome for d in run(events)]
    assert outcomes == [Outcome.WOULD_SEND, Outcome.IGNORED_ERROR, Outcome.DEDUPLICATED]


def test_each_error_sent_becomes_a_sentry_event_breadcrumb_of_its_visitor() -> None:
    events = [
        ev("page", A, 1, properties={"url": "https://app.example.com/"}),
        ev("track", A, 2, event="Error", properties={"error": "x is undefined", "stack": STACK}),
        ev("track", A, 3, event="Error", properties={"message": "boom", "level": "warning"}),
        ev("track", A, 4, event="Error", properties={"message": "bang"}),
    ]
    decisions = run(events)
    first, second = decisions[1].sentry_event, decisions[2].sentry_event
    assert first is not None
    assert second is not None
    crumbs = decisions[3].sentry_event["breadcrumbs"]["values"]  # type: ignore[index]
    assert crumbs[1:] == [
        {
            "level": "error",
            "timestamp": "2024-05-01T10:00:02.000000Z",
            "category": "sentry.event",
            "event_id": first["event_id"],
            "message": "Error: x is undefined",
        },
        {
            "level": "warning",
            "timestamp": "2024-05-01T10:00:03.000000Z",
            "category": "sentry.event",
            "event_id": second["event_id"],
            "message": "boom",
        },
    ]


def test_sentry_event_breadcrumbs_keep_their_ids_as_the_ring_turns() -> None:
    events = [
        ev("track", A, n, event="Error", properties={"message": f"m{n}"}) for n in range(1, 9)
    ]
    events.insert(4, ev("page", A, 50, properties={"url": "https://app.example.com/x"}))
    decisions = run(events, breadcrumbs=3)
    sent = [d.sentry_event for d in decisions if d.outcome is Outcome.WOULD_SEND]
    ids = {s["message"]: s["event_id"] for s in sent if s is not None}
    last = sent[-1]
    assert last is not None
    crumbs = last["breadcrumbs"]["values"]
    assert [(c.get("message"), c.get("event_id")) for c in crumbs] == [
        ("m5", ids["m5"]),
        ("m6", ids["m6"]),
        ("m7", ids["m7"]),
    ]


def test_a_deep_trait_arrives_as_object_and_array_markers() -> None:
    traits = {"email": "a@x.org", "address": {"geo": {"point": {"lat": 1}}, "lines": [["a"]]}}
    events = [
        ev("identify", A, 1, userId="u1", context={"traits": traits}),
        ev("track", A, 2, event="Error", properties={"message": "m"}, messageId={"a": {"b": 1}}),
    ]
    decisions = run(events)
    expected_user = {
        "id": "u1",
        "email": "a@x.org",
        "address": {"geo": {"point": "[Object]"}, "lines": ["[Array]"]},
    }
    identify, error = (d.sentry_event for d in decisions)
    assert identify is not None
    assert error is not None
    assert identify["user"] == expected_user
    assert error["user"] == expected_user
    assert error["extra"]["rudderstack"]["messageId"] == {"a": "[Object]"}


def test_a_visitor_remembers_the_consent_of_its_last_four_page_loads() -> None:
    granted, revoked = (["C0004"], ["C0002"]), (["C0001"], ["C0004"])
    events = [ev("track", A, 1, event="Error", context=consented("pv-1", *granted))]
    events += [
        ev("track", A, n, event="Error", context=consented(f"pv-{n}", *granted))
        for n in range(2, 6)
    ]  # four more page loads: pv-1 is forgotten
    later = ev("track", A, 9, event="Error", context=consented("pv-1", *revoked))
    for n, event in enumerate([*events, later]):
        event["properties"] = {"message": f"m{n}"}
    outcomes = [d.outcome for d in run([*events, later], CONSENT_CONFIG)]
    assert outcomes == [Outcome.WOULD_SEND] * 5 + [Outcome.CONSENT_DENIED]
