"""Error payloads (docs/behaviour.md), truncation, event ids and timestamps."""

import uuid
from typing import Any

import pytest

from core.event.error import build_error_payload, error_event_names, is_error_event
from core.event.ids import EVENT_ID_NAMESPACE, event_id
from core.event.timestamps import event_time, parse_timestamp
from tests.conftest import load_vectors

PAGE = {"context": {"page": {"url": "https://app.example.com/page"}}}


def payload(properties: Any, **event: Any) -> dict[str, Any]:
    return build_error_payload({"type": "track", "properties": properties, **event})


def test_error_event_detection() -> None:
    names = error_event_names(("Checkout Failed",))
    assert is_error_event({"event": "  javascript error "}, names)
    assert is_error_event({"event": "checkout failed"}, names)
    assert is_error_event({"event": "Purchase", "properties": {"exception": {}}}, names)
    assert not is_error_event({"event": "Errors"}, names)
    assert not is_error_event({"event": None, "properties": {"exception": "text"}}, names)


def test_exception_passthrough() -> None:
    single = {"type": "E", "value": "v", "mechanism": {"type": "generic", "handled": True}}
    assert payload({"exception": single})["exception"] == {"values": [single]}
    values = {"values": [{"type": "A", "value": "a"}, {"type": "B", "value": "b"}]}
    assert payload({"exception": values})["exception"] == values


@pytest.mark.parametrize(
    ("properties", "kind", "value"),
    [
        ({"error": {"name": "TypeError", "message": "m"}}, "TypeError", "m"),
        ({"error": {"type": "T", "message": ""}, "message": "from message"}, "T", "from message"),
        ({"error": "plain string"}, "Error", "plain string"),
        ({"errorType": "ET", "errorMessage": "em"}, "ET", "em"),
        ({"exceptionType": "XT"}, "XT", "No error message"),
        (
            {"stack": "Error: s\n    at f (https://a.com/x.js:1:2)", "message": 5},
            "Error",
            "No error message",
        ),
        ({"error": {"name": 7, "message": ["x"]}}, "Error", "No error message"),
    ],
)
def test_built_exception_type_and_value(properties: dict[str, Any], kind: str, value: str) -> None:
    exception = payload(properties)["exception"]["values"][0]
    assert (exception["type"], exception["value"]) == (kind, value)


def test_stack_wins_over_fallback_frame() -> None:
    stack = "Error: s\n    at f (https://a.com/x.js:1:2)"
    exception = payload({"error": {"stack": stack}, "filename": "https://b.com/y.js"}, **PAGE)
    frames = exception["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames == [
        {"colno": 2, "filename": "https://a.com/x.js", "function": "f", "in_app": True, "lineno": 1}
    ]


@pytest.mark.parametrize(
    ("properties", "frame"),
    [
        (
            {"error": "e", "filename": "https://b.com/y.js", "lineno": 3, "colno": 4},
            {
                "filename": "https://b.com/y.js",
                "function": "?",
                "in_app": True,
                "lineno": 3,
                "colno": 4,
            },
        ),
        (
            {"error": "e", "url": "https://c.com/z.js", "line": "12", "column": 7.0},
            {
                "filename": "https://c.com/z.js",
                "function": "?",
                "in_app": True,
                "lineno": 12,
                "colno": 7,
            },
        ),
        (
            {"error": "e", "stack": "no frames in here", "lineno": True},
            {"filename": "https://app.example.com/page", "function": "?", "in_app": True},
        ),
    ],
)
def test_fallback_frame(properties: dict[str, Any], frame: dict[str, Any]) -> None:
    exception = payload(properties, **PAGE)["exception"]["values"][0]
    assert exception["stacktrace"]["frames"] == [frame]


def test_no_url_no_stacktrace() -> None:
    exception = payload({"error": "e"})["exception"]["values"][0]
    assert "stacktrace" not in exception


def test_message_event() -> None:
    frames = {"frames": [{"filename": "https://a.com/x.js"}]}
    result = payload(
        {
            "errorMessage": "boom",
            "stacktrace": frames,
            "level": "warning",
            "fingerprint": ["a", "b"],
            "tags": {"k": 1, "b": True, "n": None, "o": {}},
        }
    )
    assert result == {
        "message": "boom",
        "stacktrace": frames,
        "level": "warning",
        "fingerprint": ["a", "b"],
        "tags": {"k": "1", "b": "true"},
    }


@pytest.mark.parametrize("level", ["Warning", "critical", 3, None])
def test_unknown_levels_are_error(level: Any) -> None:
    assert payload({"message": "m", "level": level})["level"] == "error"


def test_values_are_truncated_as_the_sdk_does() -> None:
    long = "x" * 300
    assert payload({"message": long})["message"] == "x" * 250 + "..."
    exception = payload({"error": {"message": long}})["exception"]["values"][0]
    assert exception["value"] == "x" * 250 + "..."
    passthrough = payload({"exception": {"values": [{"value": long}, {"value": long}]}})
    assert passthrough["exception"]["values"][0]["value"] == "x" * 250 + "..."
    assert passthrough["exception"]["values"][1]["value"] == long  # only values[0], as 6.13.1


def test_input_event_is_not_modified() -> None:
    properties = {"exception": {"values": [{"value": "x" * 300}]}}
    payload(properties)
    assert properties["exception"]["values"][0]["value"] == "x" * 300


def test_event_id_rules() -> None:
    event = {"messageId": "m1", "anonymousId": "a1", "originalTimestamp": "t"}
    expected = uuid.uuid5(EVENT_ID_NAMESPACE, "error:m1:a1:t").hex
    assert event_id("error", event) == expected
    assert event_id("identify", event) != expected
    assert (
        event_id("error", {**event, "anonymousId": "a2"}) != expected
    )  # same messageId, other event
    bare = {"type": "track", "b": 1, "a": 2}
    assert event_id("error", bare) == event_id("error", {"a": 2, "type": "track", "b": 1})
    assert event_id("error", {**bare, "messageId": ""}) != event_id("error", bare)


PINNED = [  # (kind, messageId, anonymousId, originalTimestamp, the id since 0.1.0)
    ("identify", "m-1", "a-1", "2024-05-01T10:00:00.000Z", "68425dcaea2357b6b466e47d6a0a4fe1"),
    ("error", "4b6f3c7e-0005-4c1a-9f7e-09002100aa", "7f1d2c8a", "2024-05-01T09:00:21.000Z",
     "8bf98485f71859e9a0422d498f24b49c"),
    ("error", "m-2", "a-2", None, "4b77818383fa5b6a83bf18afcd46810e"),
    ("identify", None, "a-3", None, "9b75373c57935089bc84b39c5fd49f61"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "message_id", "anonymous_id", "original", "known"), PINNED)
def test_ids_of_events_with_an_anonymous_id_never_change(
    kind: str, message_id: str | None, anonymous_id: str, original: str | None, known: str
) -> None:
    """Pinned from the version before visitor keys joined the name: a state file of an earlier
    run still says these were sent."""
    event: dict[str, Any] = {"anonymousId": anonymous_id}
    if message_id is not None:
        event["messageId"] = message_id
    if original is not None:
        event["originalTimestamp"] = original
    if message_id is None:
        event["type"] = kind
    assert event_id(kind, event) == known


def test_visitors_keyed_by_user_id_never_share_an_id() -> None:
    """Transformer fixtures give many events one messageId: without an anonymousId, two users
    (or a user and the shared bucket) must still get two ids."""
    shared = {"messageId": "00000000-0000-0000-0000-000000000000", "originalTimestamp": "t"}
    ids = {
        event_id("identify", {**shared, **extra})
        for extra in ({"userId": "u1"}, {"userId": "u2"}, {"userId": 7}, {}, {"anonymousId": ""})
    }
    assert len(ids) == 4  # an empty anonymousId is none: the shared bucket, as with no ids at all
    assert event_id("error", {**shared, "userId": 7}) == event_id(
        "error", {**shared, "userId": 7.0}
    )


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00.123000+00:00"),
        ("2021-06-06T20:26:39.598+05:30", "2021-06-06T14:56:39.598000+00:00"),
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.123456+00:00"),
        (1714557600, "2024-05-01T10:00:00+00:00"),
        (1714557600000, "2024-05-01T10:00:00+00:00"),
    ],
)
def test_parse_timestamp(value: Any, iso: str) -> None:
    parsed = parse_timestamp(value)
    assert parsed is not None
    assert parsed.isoformat() == iso


def test_event_time_skips_garbled_candidates() -> None:
    event = {"originalTimestamp": "garbled", "sentAt": "2024-05-01T10:00:00Z"}
    moment = event_time(event, "2023-01-01T00:00:00Z")
    assert moment is not None
    assert moment.isoformat() == "2024-05-01T10:00:00+00:00"
    fallback = event_time({}, "2023-01-01T00:00:00Z")
    assert fallback is not None
    assert fallback.year == 2023
    assert event_time({"timestamp": "x"}, None) is None


@pytest.mark.parametrize("value", ["yesterday", "", None, True, [1]])
def test_unparseable_timestamps(value: Any) -> None:
    assert parse_timestamp(value) is None


@pytest.mark.parametrize("case", load_vectors("js-stack-parsing.json"))
def test_stack_vectors_through_the_mapping(case: dict[str, Any]) -> None:
    """What a dump reaches: the vector's error object as `properties.error` of an error track."""
    exception = payload({"error": case["input"]})["exception"]["values"][0]
    expected = case["expected_sentry_frames"]
    assert exception.get("stacktrace", {}).get("frames", []) == expected
