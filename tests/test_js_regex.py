"""Filter entries: literal substrings, `/regex/flags`, and JavaScript regex meaning in Python."""

import pytest

from core.js.regex import compile_js_regex, looks_like_regex, nested_quantifier, read_entry


@pytest.mark.parametrize(
    ("source", "flags", "text", "found"),
    [
        ("^foo$", "", "foo", True),
        ("^foo$", "", "foo\n", False),  # JS $ is the end of input, Python's also matches before \n
        ("a.b", "", "a\rb", False),  # JS . does not match \r
        ("a.b", "s", "a\rb", True),
        ("\\d+", "", "\u0661\u0662", False),  # JS \d is ASCII
        ("\\s", "", "\ufeff", True),  # JS \s includes U+FEFF
        ("\\s", "", "\x1c", False),  # ...but not U+001C, which Python's \s matches
        ("[^]x", "", "\nx", True),
        ("(?<y>a)\\k<y>", "", "aa", True),
        ("FOO", "i", "xfoo", True),
        ("^b", "m", "a\rb", True),  # JS multiline ^ also follows \r
        ("static\\/js", "", "/static/js/", True),
    ],
)
def test_js_regex_meaning(source: str, flags: str, text: str, found: bool) -> None:
    assert (compile_js_regex(source, flags).search(text) is not None) is found


def test_read_entry() -> None:
    plain, warning = read_entry("static/js")
    assert plain is not None
    assert plain.kind == "substring"
    assert warning is None
    regex, _ = read_entry("/static/js/")  # a regex, not a path
    assert regex is not None
    assert regex.kind == "regex"
    assert regex.matches("x/static/js")
    for bad in ("/a/g", "/a/ii", "/(/"):
        skipped, why = read_entry(bad)
        assert skipped is None
        assert why is not None
        assert bad in why


def test_substrings_are_literal_and_case_sensitive() -> None:
    plain, _ = read_entry("a.b")
    assert plain is not None
    assert plain.matches("xa.by")
    assert not plain.matches("axb")
    assert not plain.matches("A.B")


def test_looks_like_regex() -> None:
    assert looks_like_regex("^Script error")
    assert looks_like_regex(".*chunk")
    assert not looks_like_regex("cdn.example.com")
    assert not looks_like_regex("/^x$/")


@pytest.mark.parametrize(
    ("source", "nested"),
    [
        (r"(a+)+$", True),
        (r"(\w*x?)*", True),
        (r"(?:.{2,})+", True),
        (r"(x(a+)y)+", True),
        (r"(a?)+", True),
        (r"(a|b)+", False),
        (r"(ab)+", False),
        (r"[(a+)]+", False),
        (r"\(a+\)+", False),
        (r"((a)+b)c", False),
        (r"(?:ab)+", False),
        (r"^Script error\.?$", False),
    ],
)
def test_nested_quantifiers_are_found(source: str, nested: bool) -> None:
    assert nested_quantifier(source) is nested
