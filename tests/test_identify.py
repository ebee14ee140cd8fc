"""identify → Sentry user (docs/behaviour.md), on cases the upstream code answered."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.js.value import get_value
from core.rules.identify import NoContextError, map_user, trait_lookup
from tests.conftest import examples, sample_events

THROWS = "throws"

# Each row was produced by the upstream code (the integration, the real get-value and ramda).
UPSTREAM_CASES: list[tuple[dict[str, Any], Any]] = [
    (
        {"userId": "", "context": {"traits": {"email": None, "Email": "x@y.z"}}},
        {"id": "", "Email": "x@y.z"},
    ),
    ({"context": {"traits": {"id": "u1"}}}, None),
    ({"userId": "u", "context": {"traits": {"firstName": "A"}}}, {"id": "u", "firstName": "A"}),
    (
        {"userId": "u", "context": {"traits": {"firstName": "A", "lastName": "B", "name": ""}}},
        {"id": "u", "username": "A B", "firstName": "A", "lastName": "B", "name": ""},
    ),
    ({"userId": 0, "context": {"traits": {}}}, None),
    ({"userId": "u", "context": {"traits": "abc"}}, {"0": "a", "1": "b", "2": "c", "id": "u"}),
    ({"userId": "u"}, THROWS),
    ({"userId": "u", "context": {"traits": {"email": []}}}, {"id": "u", "email": []}),
    (
        {"anonymousId": "a", "context": {"traits": {"ip_address": "1.2.3.4"}}},
        {"ip_address": "1.2.3.4"},
    ),
    (
        {"userId": "u", "context": {"traits": {"username": "bob", "name": "Bob B"}}},
        {"id": "u", "username": "bob", "name": "Bob B"},
    ),
    (
        {"context": {"traits": {"firstName": 1, "lastName": 2.5}}},
        {"username": "1 2.5", "firstName": 1, "lastName": 2.5},
    ),
    ({"context": {"traits": {"E-mail": "e@x"}}}, {"email": "e@x", "E-mail": "e@x"}),
    ({"userId": "u", "traits": {"email": "top@x", "name": "Top"}, "context": {}}, {"id": "u"}),
    (
        {"userId": "u", "context": {"traits": {"email": "", "Email": "E@x"}}},
        {"id": "u", "email": "", "Email": "E@x"},
    ),
    ({"anonymousId": "anon", "context": {"traits": {"userId": "tu"}}}, None),
    (
        {"userId": "u", "context": {"traits": {"first_name": "F", "last_name": "L", "Name": "N"}}},
        {"id": "u", "username": "N", "first_name": "F", "last_name": "L", "Name": "N"},
    ),
    (
        {"userId": "u", "context": {"traits": {"firstName": True, "lastName": [1, 2]}}},
        {"id": "u", "username": "true 1,2", "firstName": True, "lastName": [1, 2]},
    ),
    (
        {"userId": "u", "context": {"traits": {"address": {"city": None}}}},
        {"id": "u", "address": {"city": None}},
    ),
    ({"context": {"traits.email": "dotted@x"}}, {"email": "dotted@x"}),
]

MORE_CASES: list[tuple[dict[str, Any], Any]] = [
    ({"userId": "u", "context": None}, THROWS),  # null context throws too
    ({"userId": "u", "context": "web"}, {"id": "u"}),  # a primitive context: traits undefined
    ({"userId": "u", "context": {"traits": None}}, {"id": "u"}),  # spreading null: a no-op
    ({"userId": "u", "context": {"traits": [7, None]}}, {"id": "u", "0": 7}),  # arrays by index
    ({"userId": "u", "context": {"traits": 5}}, {"id": "u"}),  # numbers spread nothing
    ({"userId": 42, "context": {"traits": {}}}, {"id": 42}),
    ({"userId": "u", "context": {"traits": {"id": "override"}}}, {"id": "override"}),  # spread last
    ({"context": {"traits": {"firstName": "A", "lastName": ""}}}, None),  # no full name, dropped
    (
        {"context": {"traits": {"Name": "N", "ip_address": ""}}},
        {"username": "N", "Name": "N", "ip_address": ""},
    ),
    ({"context": {"traits": {"email": 0, "E-mail": "e"}}}, {"email": 0, "E-mail": "e"}),
]


@pytest.mark.parametrize(("message", "expected"), UPSTREAM_CASES + MORE_CASES)
def test_map_user_matches_upstream(message: dict[str, Any], expected: Any) -> None:
    user: Any
    try:
        user = map_user(message)
    except NoContextError:
        user = THROWS
    assert json.dumps(user, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_sample_identifies_match_reference_table() -> None:
    events = sample_events()
    assert map_user(events[0]) == {
        "id": "customUserID",
        "email": "name.surname@domain.com",
        "username": "John Doe",
        **events[0]["context"]["traits"],
    }
    assert map_user(events[2]) == {"id": "hashed_user_id"}
    archived = events[18]["payload"]["batch"][0]
    assert map_user(archived) == {
        "id": "user123",
        "email": "abc@gmail.com",
        "username": "rudder stack",
        "city": "kolkata",
        "address": {"country": "India"},
        "lastname": "stack",
        "locality": "test",
        "firstname": "rudder",
    }


TRAIT_KEYS = st.sampled_from(
    [
        "email",
        "Email",
        "E-mail",
        "name",
        "Name",
        "firstName",
        "firstname",
        "first_name",
        "lastName",
        "lastname",
        "last_name",
        "ip_address",
        "id",
        "username",
        "traits.email",
        "context.traits.email",
        "traits",
        "context",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from(["", " ", "x", "0"]),
    st.just([]),
    st.just({}),
    st.just([1, 2]),
)


@settings(max_examples=examples(500))
@given(
    st.dictionaries(TRAIT_KEYS, VALUES, max_size=6),
    st.dictionaries(TRAIT_KEYS, VALUES, max_size=3),
    st.dictionaries(TRAIT_KEYS, VALUES, max_size=3),
    st.one_of(st.none(), st.just(""), st.just("u"), st.just(0)),
)
def test_fast_trait_lookup_equals_get_value(
    traits: dict[str, Any], context: dict[str, Any], root: dict[str, Any], user_id: Any
) -> None:
    message: dict[str, Any] = {**root, "context": {**context, "traits": traits}, "userId": user_id}
    fast = trait_lookup(message)
    for name in ("email", "Email", "E-mail", "name", "firstName", "ip_address"):
        expected = get_value(message, f"context.traits.{name}")
        assert fast(name) is expected or fast(name) == expected
