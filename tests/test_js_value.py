"""JavaScript value semantics: truthiness, String(), trim, UTF-16 truncation, get-value."""

from typing import Any

import pytest

from core.js.value import (
    UNDEFINED,
    get_value,
    is_truthy,
    js_or,
    js_string,
    js_trim,
    number_to_string,
    truncate,
    utf16_length,
)


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        ("", False),
        (0, False),
        (0.0, False),
        (float("nan"), False),
        (False, False),
        (None, False),
        (UNDEFINED, False),
        ([], True),
        ({}, True),
        ("0", True),
        (" ", True),
        (-1, True),
        (True, True),
    ],
)
def test_truthiness_is_javascripts(value: Any, truthy: bool) -> None:
    assert is_truthy(value) is truthy


def test_or_returns_the_last_operand_when_all_are_falsy() -> None:
    assert js_or("", 0, None) is None
    assert js_or("", [], "x") == []


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "1"),
        (2.5, "2.5"),
        (1.0, "1"),
        (-0.5, "-0.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123.456, "123.456"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (2**70, "1.1805916207174113e+21"),
    ],
)
def test_number_to_string_matches_javascript(number: float, text: str) -> None:
    assert number_to_string(number) == text


def test_string_of_arrays_and_objects() -> None:
    assert js_string([1, [2, None], True]) == "1,2,,true"
    assert js_string({"a": 1}) == "[object Object]"
    assert js_string(None) == "null"


def test_trim_uses_javascripts_whitespace_set() -> None:
    assert js_trim("\ufeff\u00a0 x \u2029") == "x"
    assert js_trim("\x1cx") == "\x1cx"  # Python's strip() would remove U+001C; JS keeps it


def test_truncate_counts_utf16_code_units() -> None:
    assert truncate("a" * 250, 250) == "a" * 250
    assert truncate("a" * 251, 250) == "a" * 250 + "..."
    emoji = "\U0001f600" * 126  # 252 code units
    cut = truncate(emoji, 250)
    assert cut == "\U0001f600" * 125 + "..."
    odd = truncate("a" + "\U0001f600" * 125, 250)  # the cut falls inside a surrogate pair
    assert odd.endswith("\ufffd...")
    assert utf16_length(odd[:-3]) == 250


def test_get_value_finds_joined_keys() -> None:
    message = {"context": {"traits.email": "dotted@x"}}
    assert get_value(message, "context.traits.email") == "dotted@x"
    assert get_value({"a": {"b": None}}, "a.b") is None
    assert get_value({"a": "text"}, "a.b") is UNDEFINED
    assert get_value({"a": [{"b": 1}]}, "a.0.b") == 1
