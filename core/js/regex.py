"""Filter patterns: plain substrings and `/pattern/flags` regular expressions (SPEC §6.2, §6.3).

RudderStack hands ignoreErrors/allowUrls/denyUrls to Sentry as strings, which @sentry/utils 6.13.1
`isMatchingPattern` matches as case-sensitive substrings. An entry written `/pattern/flags` is a
regular expression used as a search. JavaScript and Python regex dialects differ in `.`, `$`, `\\d`,
`\\s`, `\\w`, named groups and `[^]`; `js_to_python` rewrites those so a pattern means what it means
in the browser.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

SLASHED = re.compile(r"\A/([^\n\r\u2028\u2029]+)/([a-z]*)\Z")
FLAG_MAP = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "u": 0}

_JS_SPACE_CHARS = (
    "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_LINE_TERMINATORS = "\\n\\r\\u2028\\u2029"
_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _JS_SPACE_CHARS}
# `(?-i:…)`: JS's non-unicode /i canonicalises by toUpperCase and keeps a non-ASCII letter
# that would become ASCII, so \w never matches KELVIN SIGN or LONG S; Python's would.
_WORD = "(?-i:[A-Za-z0-9_])"
_ATOM_ESCAPES = {
    "d": "(?-i:[0-9])",
    "D": "(?-i:[^0-9])",
    "w": _WORD,
    "W": "(?-i:[^A-Za-z0-9_])",
    "s": f"[{_JS_SPACE_CHARS}]",
    "S": f"[^{_JS_SPACE_CHARS}]",
    # word boundaries between ASCII word characters and the rest, as in JS (Python's `\b`
    # counts é as a word character)
    "b": f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))",
    "B": f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))",
}


def js_to_python(
    source: str, *, multiline: bool = False, dotall: bool = False, ignore_case: bool = False
) -> str:
    """Rewrite a JavaScript regex source into Python `re` syntax with the same meaning. With
    `ignore_case`, a letter becomes the explicit set of letters JS's /i takes it for."""
    out: list[str] = []
    i, n = 0, len(source)
    in_class = False
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n:
            nxt = source[i + 1]
            if in_class and nxt in _CLASS_ESCAPES:
                out.append(_CLASS_ESCAPES[nxt])
            elif not in_class and nxt in _ATOM_ESCAPES:
                out.append(_ATOM_ESCAPES[nxt])
            elif nxt == "k" and source.startswith("<", i + 2):
                end = source.index(">", i + 3)
                out.append(f"(?P={source[i + 3 : end]})")
                i = end + 1
                continue
            elif nxt == "c":
                control = _control(source[i + 2 : i + 3], in_class)
                out.append(control)
                i += 2 if control == _LITERAL_BACKSLASH_C else 3
                continue
            elif nxt == "/":
                out.append("/")
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            elif char == "[":
                char = "\\["  # literal inside a JS class; Python warns about nested sets
            out.append(char)
        elif char == "[":
            if source.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            if source.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            in_class = True
            out.append(char)
            if source.startswith("[^", i):
                out.append("^")
                i += 1
        elif char == "." and not dotall:
            out.append(f"[^{_LINE_TERMINATORS}]")
        elif char == "$":
            out.append(f"(?=[{_LINE_TERMINATORS}]|\\Z)" if multiline else "\\Z")
        elif char == "^" and multiline:
            out.append(f"(?:(?<=[{_LINE_TERMINATORS}])|\\A)")
        elif char == "(" and source.startswith("(?<", i) and source[i + 3 : i + 4] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        elif ignore_case and char.isalpha():
            out.append(_case_variants(char))
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _js_canonical(char: str) -> str:
    """Canonicalize of non-unicode /i (ECMA-262 22.2.2.7.3): toUpperCase, unless that gives
    several characters, or turns a non-ASCII character into an ASCII one."""
    upper = char.upper()
    if len(upper) != 1 or (ord(char) >= 128 and ord(upper) < 128):
        return char
    return upper


_VARIANTS: dict[str, list[str]] = {}  # canonical character → every BMP character with it


def _case_variants(char: str) -> str:
    """`(?-i:[…])`: the characters JS's non-unicode /i matches for `char`, and no other (Python
    also folds KELVIN SIGN to k, LONG S to s, ẞ to ß, dotless i to I; JS does not)."""
    if not _VARIANTS:
        for code in range(0x10000):
            if not 0xD800 <= code <= 0xDFFF:
                other = chr(code)
                _VARIANTS.setdefault(_js_canonical(other), []).append(other)
    variants = _VARIANTS.get(_js_canonical(char), [char]) if ord(char) < 0x10000 else [char]
    return "(?-i:[" + "".join(re.escape(variant) for variant in variants) + "])"


def _control(letter: str, in_class: bool) -> str:
    """`\\cX`: the control character X % 32 for a letter (also a digit or `_` in a class, as
    Annex B allows); otherwise a literal backslash, and the `c` reads on as itself."""
    allowed = letter.isalpha() or (in_class and (letter.isdigit() or letter == "_"))
    if letter.isascii() and allowed:
        return f"\\x{ord(letter) % 32:02x}"
    return _LITERAL_BACKSLASH_C


_LITERAL_BACKSLASH_C = "\\\\c"


def compile_js_regex(source: str, flags: str = "") -> re.Pattern[str]:
    """A JS `new RegExp(source, flags)` as a Python pattern; raises ValueError when it cannot be."""
    bits = 0
    for flag in flags:
        if flag not in FLAG_MAP or flags.count(flag) > 1:
            raise ValueError(f"unsupported regex flag {flag!r}")
        bits |= FLAG_MAP[flag]
    translated = js_to_python(
        source, multiline="m" in flags, dotall="s" in flags, ignore_case="i" in flags
    )
    try:
        return re.compile(translated, bits & ~re.MULTILINE)
    except (re.error, ValueError, IndexError) as exc:
        raise ValueError(f"does not compile: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Pattern:
    """One filter entry: a literal substring, or a compiled regex (searched)."""

    entry: str
    regex: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        """isMatchingPattern: substring for strings, `regex.test` (search) for regexes."""
        if self.regex is None:
            return self.entry in value
        return self.regex.search(value) is not None

    @property
    def kind(self) -> str:
        """'regex' or 'substring'."""
        return "substring" if self.regex is None else "regex"


def read_entry(entry: str) -> tuple[Pattern | None, str | None]:
    """How a config entry is read: the pattern, or None plus a warning when it is skipped."""
    slashed = SLASHED.match(entry)
    if slashed is None:
        return Pattern(entry), None
    try:
        return Pattern(entry, compile_js_regex(slashed.group(1), slashed.group(2))), None
    except ValueError as exc:
        return None, f"{entry!r} skipped: {exc}"


LOOKS_LIKE_REGEX = re.compile(r"[\\^$*+?|()\[\]{}]")


def nested_quantifier(source: str) -> bool:
    """A repeated group that itself holds a repetition (`(a+)+`, `(\\w*x?)*`, `(?:.{2,})+`):
    the shape that can backtrack exponentially. A scan of the JS source, escapes and character
    classes skipped; it may over-warn, never misses that shape."""
    repeats = [False]  # per open group: does it hold a quantifier?
    index, length = 0, len(source)
    while index < length:
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(source, index)
            continue
        if char == "(":
            repeats.append(False)
        elif char == ")" and len(repeats) > 1:
            inner = repeats.pop()
            following = source[index + 1 : index + 2]
            if inner and following in ("+", "*", "{"):
                return True
            repeats[-1] = repeats[-1] or inner
        elif char in "+*{" or (char == "?" and source[index - 1 : index] != "("):
            repeats[-1] = True
        index += 1
    return False


def _class_end(source: str, start: int) -> int:
    """The index after the character class opening at `start`."""
    index = start + 1
    while index < len(source):
        if source[index] == "\\":
            index += 2
        elif source[index] == "]" and index > start + 1:
            return index + 1
        else:
            index += 1
    return index


def looks_like_regex(entry: str) -> bool:
    """A plain entry with regex metacharacters, which will nevertheless be matched literally."""
    return SLASHED.match(entry) is None and LOOKS_LIKE_REGEX.search(entry) is not None


class PatternSet:
    """A list of patterns; `matches_any` is the `patterns.some(isMatchingPattern)` of 6.13.1."""

    __slots__ = ("patterns", "regexes", "substrings")

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = tuple(patterns)
        self.substrings = tuple(p.entry for p in self.patterns if p.regex is None)
        self.regexes = tuple(p.regex for p in self.patterns if p.regex is not None)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches_any(self, value: str) -> bool:
        """True when any pattern matches `value`."""
        for substring in self.substrings:
            if substring in value:
                return True
        return any(regex.search(value) is not None for regex in self.regexes)
