"""The integrations object and client-side event filtering (docs/behaviour.md),
v3 and v1.1."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.rules.eventfilter import Semantics, destination_enabled, event_denied, fast_enabled
from tests.conftest import examples, sample_events

V3, V11 = Semantics.V3, Semantics.V1_1
MISSING = object()

# the SDKs' own answers: (integrations, v3 sends, v1.1 sends)
INTEGRATIONS_TABLE: list[tuple[Any, bool, bool]] = [
    (MISSING, True, True),
    ({}, True, True),
    ({"All": True}, True, True),
    ({"All": False}, False, False),
    ({"All": False, "Sentry": True}, True, True),
    ({"Sentry": False}, False, False),
    ({"SENTRY": False}, True, False),
    ({"sentry": False}, True, False),
    ({"All": False, "Sentry": {}}, True, True),
    ({"Sentry": None}, False, False),
    ({"Sentry": 0}, False, False),
    ({"Sentry": ""}, False, False),
    ({"Sentry": "false"}, True, True),
    ({"All": None}, True, False),
    ({"All": "false"}, True, True),
    ({"Sentry": False, "sentry": True}, False, True),
    ({"sentry": True, "Sentry": False}, False, False),
    ({"All": False, "SENTRY": True}, False, True),
    ({"All": 0, "Sentry": []}, True, True),
]


@pytest.mark.parametrize(("integrations", "v3", "v11"), INTEGRATIONS_TABLE)
def test_integrations_object(integrations: Any, v3: bool, v11: bool) -> None:
    event: dict[str, Any] = {"type": "identify"}
    if integrations is not MISSING:
        event["integrations"] = integrations
    assert destination_enabled(event, V3)[0] is v3
    assert destination_enabled(event, V11)[0] is v11


def test_null_integrations() -> None:
    assert destination_enabled({"integrations": None}, V3)[0] is False  # null.All throws in v3
    assert destination_enabled({"integrations": None}, V11)[0] is True


def test_sample_lines_destination_selection() -> None:
    events = sample_events()
    selected = []
    for event in events:
        inner = event.get("payload", {}).get("batch", [event])[0] if "payload" in event else event
        inner = (
            inner.get("event_payload", {}).get("batch", [inner])[0]
            if "event_payload" in inner
            else inner
        )
        selected.append(destination_enabled(inner, V3)[0])
    disabled = {i + 1 for i, ok in enumerate(selected) if not ok}
    assert disabled == {2, 9, 15, 18, 20}


Cfg = tuple[Any, Any, Any]
W: Cfg = ("whitelistedEvents", [{"eventName": "Order Completed"}], [])
B: Cfg = ("blacklistedEvents", [], [{"eventName": "order completed"}])


def _denied(event: dict[str, Any], cfg: Cfg, semantics: Semantics) -> bool:
    option, allow, deny = cfg
    return event_denied(event, option, allow, deny, semantics)[0]


# the sample lines under an allowlist (W) and a denylist (B), as the SDKs decide them:
# (line, W v3, W v1.1, B v3, B v1.1) as "denied"
SAMPLE_FILTER_TABLE = [
    (4, False, False, False, True),
    (5, True, True, False, False),
    (6, True, True, False, False),
    (11, False, True, False, False),
    (12, False, True, False, False),
]


@pytest.mark.parametrize(("line", "w3", "w11", "b3", "b11"), SAMPLE_FILTER_TABLE)
def test_sample_filter_table(line: int, w3: bool, w11: bool, b3: bool, b11: bool) -> None:
    event = sample_events()[line - 1]
    assert _denied(event, W, V3) is w3
    assert _denied(event, W, V11) is w11
    assert _denied(event, B, V3) is b3
    assert _denied(event, B, V11) is b11


def test_sample_legacy_row_track_is_filtered_by_allowlist() -> None:
    event = sample_events()[20]["event_payload"]["batch"][0]
    assert _denied(event, W, V3)
    assert _denied(event, W, V11)
    assert not _denied(event, B, V3)
    assert not _denied(event, B, V11)


@pytest.mark.parametrize(
    ("name", "v3", "v11"),
    [
        (None, True, False),  # v3 allowlist blocks a missing name; v1.1 never filters it
        ("", True, False),
        (5, True, False),
        ("   ", False, False),  # whitespace-only: valid, trims to "", which the empty UI row allows
        (" Order Completed ", False, False),
        ("order completed", True, False),  # v3 case-sensitive, v1.1 not
    ],
)
def test_allowlist_names(name: Any, v3: bool, v11: bool) -> None:
    cfg: Cfg = ("whitelistedEvents", [{"eventName": ""}, {"eventName": "Order Completed"}], [])
    event = {"type": "track", "event": name}
    assert _denied(event, cfg, V3) is v3
    assert _denied(event, cfg, V11) is v11


@pytest.mark.parametrize(
    ("option", "allow", "deny", "v3", "v11"),
    [
        ("whitelistedEvents", [], [], True, True),
        ("whitelistedEvents", {}, [], True, True),  # non-array allowlist blocks
        ("blacklistedEvents", [], {}, False, False),  # non-array denylist passes
        ("disable", [], [{"eventName": "X"}], False, False),
        ("WHITELISTEDEVENTS", [], [], False, False),  # unknown option: no filtering
        (None, [], [], False, False),
        ("", [], [], False, False),
    ],
)
def test_filter_options(option: Any, allow: Any, deny: Any, v3: bool, v11: bool) -> None:
    event = {"type": "track", "event": "X"}
    assert _denied(event, (option, allow, deny), V3) is v3
    assert _denied(event, (option, allow, deny), V11) is v11


def test_v3_filters_only_exact_track_type() -> None:
    cfg: Cfg = ("whitelistedEvents", [], [])
    assert not _denied({"type": "page", "event": "X"}, cfg, V3)
    assert not _denied({"type": "Track", "event": "X"}, cfg, V3)
    assert _denied({"type": "page", "event": "X"}, cfg, V11)


def test_malformed_item_throws_only_when_reached() -> None:
    malformed: Cfg = ("blacklistedEvents", [], [{"eventName": "X"}, {"name": "oops"}])
    assert _denied({"type": "track", "event": "X"}, malformed, V3)  # matched before the bad item
    denied, why = event_denied({"type": "track", "event": "Y"}, *malformed, V3)
    assert denied
    assert "eventName" in why
    allow_first_bad: Cfg = ("whitelistedEvents", [None, {"eventName": "X"}], [])
    assert _denied({"type": "track", "event": "X"}, allow_first_bad, V11)


INTEGRATION_KEYS = st.sampled_from(["All", "Sentry", "SENTRY", "sentry", "Amplitude"])
INTEGRATION_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 1),
    st.sampled_from(["", "false", "x"]),
    st.just({}),
    st.just([]),
)


@settings(max_examples=examples(2000))
@given(
    st.one_of(st.none(), st.dictionaries(INTEGRATION_KEYS, INTEGRATION_VALUES, max_size=4)),
    st.booleans(),
    st.sampled_from([V3, V11]),
)
def test_the_fast_path_only_ever_agrees(
    integrations: Any, present: bool, semantics: Semantics
) -> None:
    event: dict[str, Any] = {"type": "track"}
    if present:
        event["integrations"] = integrations
    if fast_enabled(event, semantics):
        assert destination_enabled(event, semantics)[0] is True
