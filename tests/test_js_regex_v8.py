"""Differential: `/pattern/flags` entries against V8 itself (mini-racer), on generated patterns.

Each example is a JS regex source built from the constructs where JavaScript and Python differ
(case folding, classes, escapes, Annex B leniency, quantifiers, anchors, astral characters) and a
few inputs. V8 either throws a SyntaxError, and the tool must refuse the entry too, or gives a
`test` result per input, and the tool's translation must give the same.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.js.regex import compile_js_regex, js_units
from tests.conftest import examples

py_mini_racer = pytest.importorskip("py_mini_racer")

CHARS = [
    "a", "b", "k", "K", "s", "S", "z", "é", "É", "ß", "ẞ", "\u0131", "İ", "\u017f", "\u212a",
    "µ", "\u039c", "Σ", "\u03c3", "ς", "ǅ", "0", "9", "_", "-", " ", "\n", "\u2028", "\u00a0",
    "😀", ",", "/",
]  # fmt: skip
LITERALS = [c for c in CHARS if c not in "\n/"] + ["{", "}", "]", "\\/"]
ESCAPES = [
    "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B", "\\t", "\\n", "\\v", "\\f",
    "\\x41", "\\x6b", "\\x4", "\\u00e9", "\\u212A", "\\u12", "\\cJ", "\\cj", "\\c1", "\\c",
    "\\0", "\\01", "\\1", "\\8", "\\12", "\\A", "\\Z", "\\a", "\\e", "\\k", "\\q", "\\-",
    "\\.", "\\*", "\\[", "\\]", "\\{", "\\\\", "\\u{41}", "\\p{L}", "\\K", "\\G", "\\z",
]  # fmt: skip
CLASS_ITEMS = [
    *(c for c in CHARS if c not in "]\\\n"), "a-z", "A-Z", "k-s", "0-9", "à-ÿ", "Ͱ-Ͽ",
    "\\d", "\\w", "\\s", "\\W", "\\D", "\\b", "\\B", "\\-", "\\]", "\\\\", "\\x41", "\\u212a",
    "\\cJ", "\\c_", "\\c1", "\\1", "\\8", "\\0", "a-\\d", "\\w-z", "z-a", "^", "[", "-",
]  # fmt: skip
QUANTIFIERS = ["*", "+", "?", "{2}", "{1,2}", "{0,}", "*?", "+?", "??", "{,2}", "{", "{2,1}"]
INVALID = ["**", "(?i)", "(?P<n>a)", "(?#x)", "(?>a)", "a++", "(", ")", "*", "\\"]

atoms = st.one_of(
    st.sampled_from(LITERALS),
    st.sampled_from(ESCAPES),
    st.sampled_from([".", "^", "$"]),
    st.builds(
        lambda neg, items: "[" + neg + "".join(items) + "]",
        st.sampled_from(["", "^"]),
        st.lists(st.sampled_from(CLASS_ITEMS), max_size=4),
    ),
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    sequence = st.lists(inner, min_size=1, max_size=3).map("".join)
    return st.one_of(
        st.builds(lambda a, q: a + q, inner, st.sampled_from(QUANTIFIERS)),
        st.builds(lambda o, s: o + s + ")", st.sampled_from(["(", "(?:", "(?=", "(?!"]), sequence),
        st.builds(lambda a: "(?<=" + a + ")", st.sampled_from([*LITERALS, "\\w", "[ab]"])),
        st.builds(lambda n, s: f"(?<{n}>{s})\\k<{n}>", st.sampled_from(["n", "x1"]), sequence),
        st.builds(lambda a, b: a + "|" + b, sequence, sequence),
        sequence,
    )


patterns = st.one_of(
    # one group per name: duplicate names in alternatives are ES2025, which browsers still reject
    st.recursive(atoms, _extend, max_leaves=6).filter(
        lambda p: p.count("(?<n>") < 2 and p.count("(?<x1>") < 2
    ),
    st.builds(lambda a, b: a + b, st.sampled_from(INVALID), st.sampled_from(LITERALS)),
)
inputs = st.lists(
    st.lists(st.sampled_from([*CHARS, "A", "B", "Z", "é", "\u0130", "x"]), max_size=6).map("".join),
    min_size=1,
    max_size=4,
)
flags = st.sampled_from(["", "i", "m", "s", "im", "is", "ms", "ims"])

_JS = """
function check(source, flags, inputs) {
  let regex;
  try { regex = new RegExp(source, flags); } catch (error) { return null; }
  return inputs.map((input) => regex.test(input));
}
"""


@pytest.fixture(scope="module")
def v8() -> Iterator[Any]:
    context = py_mini_racer.MiniRacer()
    context.eval(_JS)
    yield context
    context.close()


def v8_results(v8: Any, source: str, flags: str, texts: list[str]) -> list[bool] | None:
    """`new RegExp(source, flags).test(text)` per text in V8; None when V8 throws."""
    call = f"JSON.stringify(check({json.dumps(source)}, {json.dumps(flags)}, {json.dumps(texts)}))"
    result: list[bool] | None = json.loads(v8.eval(call))
    return result


def tool_results(source: str, flags: str, texts: list[str]) -> list[bool] | None:
    try:
        regex = compile_js_regex(source, flags)
    except ValueError:
        return None
    return [regex.search(js_units(text)) is not None for text in texts]


@given(source=patterns, flags=flags, texts=inputs)
@settings(max_examples=examples(5000), deadline=None)
@example(source="\\bfoo", flags="", texts=["éfoo", "foo"])
@example(source="[k]", flags="i", texts=["\u212a", "K"])
@example(source="a\\cJb", flags="", texts=["a\nb"])
@example(source="^.$", flags="", texts=["😀", "a"])
@example(source="[^a]{2}", flags="", texts=["😀"])
@example(source="(a\\1)b\\1", flags="", texts=["aba", "ab"])  # a group referring to itself
@example(source="(?<=a)*", flags="", texts=[""])  # a lookbehind cannot be repeated
@example(source="a{,2}", flags="", texts=["a{,2}", "aa"])  # Annex B: literal braces
@example(source="a*+", flags="", texts=["a"])  # possessive in Python 3.11; a SyntaxError in JS
@example(source="[\\w-z]", flags="i", texts=["-", "\u212a"])
def test_a_regex_entry_means_what_v8_says(
    v8: Any, source: str, flags: str, texts: list[str]
) -> None:
    expected = v8_results(v8, source, flags, texts)
    assert tool_results(source, flags, texts) == expected, (source, flags, texts)
