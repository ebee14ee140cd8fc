"""Stack parsing against @sentry/browser 6.13.1 (vectors/js-stack-parsing.json)."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.js.tracekit import (
    ASCII_LINE_PARSERS,
    LINE_PARSERS,
    compute_stack_trace,
    could_be_gecko,
    parse_stack,
    prepare_frames,
)
from tests.conftest import examples, load_vectors


@pytest.mark.parametrize("case", load_vectors("js-stack-parsing.json"))
def test_sentry_frames_match_6_13_1(case: dict[str, Any]) -> None:
    trace = compute_stack_trace(case["input"])
    assert prepare_frames(trace.frames) == case["expected_sentry_frames"]
    assert trace.name == case["expected_exception_type"]
    assert trace.message == case["expected_exception_value"]


@pytest.mark.parametrize(
    "case",
    load_vectors("js-stack-parsing.json", lambda c: "expected_tracekit_frames_top_first" in c),
)
def test_tracekit_frames_match_6_13_1(case: dict[str, Any]) -> None:
    trace = compute_stack_trace(case["input"])
    frames = [
        {"url": f.url, "func": f.func, "args": f.args, "line": f.line, "column": f.column}
        for f in trace.frames
    ]
    assert frames == case["expected_tracekit_frames_top_first"]
    assert trace.failed is case.get("tracekit_failed", trace.failed)


def test_unicode_line_separator_is_not_matched_by_dot() -> None:
    # JS `.` stops at U+2028: the chrome pattern then fails and no frame is produced
    stack = "Error: m\n    at fo\u2028o (http://a.com/x.js:1:2)"
    assert parse_stack({"name": "Error", "message": "m", "stack": stack}) == []


def test_non_ascii_digits_are_not_line_numbers() -> None:
    # JS `\d` is ASCII only: "\u0661" stays in the URL and ":2" becomes the line
    stack = "Error: m\n    at foo (http://a.com/x.js:\u0661:2)"
    frames = parse_stack({"name": "Error", "message": "m", "stack": stack})
    assert frames == [
        {"filename": "http://a.com/x.js:\u0661", "function": "foo", "in_app": True, "lineno": 2}
    ]


def test_minified_react_error_pops_the_bogus_header_frame() -> None:
    message = (
        "Minified React error #31; visit https://reactjs.org/docs/error-decoder.html?invariant=31"
    )
    stack = f"Error: {message}\n    at f (https://a.com/app.js:1:2)"
    frames = parse_stack({"name": "Error", "message": message, "stack": stack})
    assert frames == [
        {
            "colno": 2,
            "filename": "https://a.com/app.js",
            "function": "f",
            "in_app": True,
            "lineno": 1,
        }
    ]


STACK_ALPHABET = st.sampled_from(
    [
        *list("ab ()@:/.-_0123456789<>[]"),
        "at ",
        "http://",
        "https://x.com/",
        "eval",
        "native",
        " > eval",
        "line ",
        "bundle",
        "code",
        "\t",
        "\xa0",
    ]
)


@settings(max_examples=examples(1000))
@given(st.lists(STACK_ALPHABET, max_size=25).map("".join))
def test_fast_line_parsers_agree_with_the_exact_ones(line: str) -> None:
    if not (line.isascii() and "\r" not in line):
        return  # the fast parsers are only used for such lines
    for fast, exact in zip(ASCII_LINE_PARSERS, LINE_PARSERS, strict=True):
        fast_match, exact_match = fast.match(line), exact.match(line)
        assert (fast_match and fast_match.groups()) == (exact_match and exact_match.groups())


GECKO_LITERALS = st.sampled_from(
    [
        *list("ab ()@:/.-_019<>[]"),
        "[native code]",
        "[NATIVE Code]",
        "bundle",
        "BunDLE",
        "1.js",
        "7.JS",
        ".js",
        "file",
        "https",
        "\u0130",  # lowercases to two characters
        "\u212a",  # KELVIN SIGN: lowercases to an ASCII k
        "\u0661.js",  # a non-ASCII digit is not \\d in JavaScript
    ]
)


@settings(max_examples=examples(2000))
@given(st.lists(GECKO_LITERALS, max_size=20).map("".join))
def test_gecko_prefilter_never_skips_a_line_the_regex_matches(line: str) -> None:
    gecko_exact, gecko_fast = LINE_PARSERS[2], ASCII_LINE_PARSERS[2]
    if not could_be_gecko(line):
        assert gecko_exact.match(line) is None
        assert gecko_fast.match(line) is None


@pytest.mark.parametrize(
    ("line", "possible"),
    [
        ("TypeError: Cannot read properties of undefined (reading 'price')", False),
        ("Error: failure 11", False),
        ("f@[native code]", True),
        ("f@[Native Code]", True),
        ("app.bundle", True),
        ("chunk.3.JS", True),
        ("f@https://a.com/x.js:1:2", True),
        ("/relative/path", True),
    ],
)
def test_gecko_prefilter_examples(line: str, possible: bool) -> None:
    assert could_be_gecko(line) is possible
