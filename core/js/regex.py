"""Filter patterns: plain substrings and `/pattern/flags` regular expressions
(docs/behaviour.md, "InboundFilters", "includePaths").

RudderStack hands ignoreErrors/allowUrls/denyUrls to Sentry as strings, which @sentry/utils 6.13.1
`isMatchingPattern` matches as case-sensitive substrings. An entry written `/pattern/flags` is a
regular expression used as a search. JavaScript and Python regex dialects differ in `.`, `$`, `\\d`,
`\\s`, `\\w`, named groups and `[^]`; `js_to_python` rewrites those so a pattern means what it means
in the browser.
"""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

SLASHED = re.compile(r"\A/([^\n\r\u2028\u2029]+)/([a-z]*)\Z")
FLAG_MAP = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "u": 0}

_JS_SPACE_CHARS = (
    "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_LINE_TERMINATORS = "\\n\\r\\u2028\\u2029"
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
    """Rewrite a JavaScript regex source (non-unicode, with the web's Annex B leniency) into
    Python `re` syntax with the same meaning over UTF-16 code units (`js_units`). With
    `ignore_case`, a letter and a character class become the explicit sets of units JS's /i
    takes them for. Raises ValueError where JS would throw a SyntaxError."""
    return _Translator(js_units(source), multiline, dotall, ignore_case).run()


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def js_units(text: str) -> str:
    """The string as JS regexes see it: a character outside the BMP as its two surrogates."""
    if text.isascii() or _ASTRAL.search(text) is None:
        return text
    return "".join(_pair(char) for char in text)


def _pair(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return char
    code -= 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


_QUANTIFIER = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_GROUP_NAME = re.compile(r"\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>")
_REFERENCE_NAME = re.compile(r"<([A-Za-z_$][A-Za-z0-9_$]*)>")
_DECIMAL = re.compile("[0-9]+")
_LEGACY_OCTAL = re.compile("[0-3][0-7]{0,2}|[4-7][0-7]?")
_SIMPLE_ESCAPES = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
_ATOM, _QUANTIFIED, _NOTHING = 0, 1, 2  # what the last piece was, for "nothing to repeat"


class _Translator:
    """One pass over a JS pattern (as code units), emitting Python `re` syntax."""

    def __init__(self, units: str, multiline: bool, dotall: bool, ignore_case: bool) -> None:
        self.units = units
        self.multiline, self.dotall, self.ignore_case = multiline, dotall, ignore_case
        self.groups = _count_groups(units)
        self.named = bool(_GROUP_NAME.search(units))
        self.out: list[str] = []
        self.last = _NOTHING
        self.open: list[tuple[str, int]] = []  # (opening, group number or 0) of open groups
        self.captures = 0  # capturing groups opened so far
        self.closed: set[int | str] = set()  # closed capturing groups, by number and name

    def run(self) -> str:
        units, i = self.units, 0
        while i < len(units):
            char = units[i]
            if char == "\\":
                i = self._escape(i)
            elif char == "[":
                i = self._class(i)
            elif char in "*+?" or (char == "{" and _QUANTIFIER.match(units, i)):
                i = self._quantifier(i)
            elif char == "(":
                i = self._group(i)
            elif char == ")":
                opening, number = self.open.pop() if self.open else ("", 0)
                if number:
                    self.closed.add(number)
                    if opening.startswith("(?P<"):
                        self.closed.add(opening[4:-1])
                # a lookbehind cannot be repeated; a lookahead can (Annex B)
                self._emit(
                    char, _NOTHING if opening.startswith("(?<") and opening[3] in "=!" else _ATOM
                )
                i += 1
            elif char == "|":
                self._emit(char, _NOTHING)
                i += 1
            elif char == ".":
                self._emit("[\\s\\S]" if self.dotall else f"[^{_LINE_TERMINATORS}]", _ATOM)
                i += 1
            elif char == "$":
                end = f"(?=[{_LINE_TERMINATORS}]|\\Z)" if self.multiline else "\\Z"
                self._emit(end, _NOTHING)
                i += 1
            elif char == "^":
                start = f"(?:(?<=[{_LINE_TERMINATORS}])|\\A)" if self.multiline else "^"
                self._emit(start, _NOTHING)
                i += 1
            else:
                self._literal(ord(char))
                i += 1
        return "".join(self.out)

    def _emit(self, piece: str, kind: int) -> None:
        self.out.append(piece)
        self.last = kind

    def _literal(self, code: int) -> None:
        if self.ignore_case and (
            len(_variants(code)) > 1 or chr(code).lower() != chr(code).upper()
        ):
            self._emit(_class_of(_variants(code)), _ATOM)
        else:
            self._emit(re.escape(chr(code)), _ATOM)

    def _quantifier(self, i: int) -> int:
        units = self.units
        if self.last != _ATOM:
            raise ValueError("nothing to repeat")
        found = _QUANTIFIER.match(units, i) if units[i] == "{" else None
        if found is not None:
            low, high = found.group(1), found.group(3)
            if high and int(high) < int(low):
                raise ValueError("numbers out of order in {} quantifier")
            piece, i = found.group(0), found.end()
        else:
            piece, i = units[i], i + 1
        if units.startswith("?", i):
            piece, i = piece + "?", i + 1
        self._emit(piece, _QUANTIFIED)
        return i

    def _group(self, i: int) -> int:
        units = self.units
        if not units.startswith("(?", i):
            self.captures += 1
            self.open.append(("(", self.captures))
            self._emit("(", _NOTHING)
            return i + 1
        for opening in ("(?:", "(?=", "(?!", "(?<=", "(?<!"):
            if units.startswith(opening, i):
                self.open.append((opening, 0))
                self._emit(opening, _NOTHING)
                return i + len(opening)
        named = _GROUP_NAME.match(units, i)
        if named is None:
            raise ValueError("invalid group")
        self.captures += 1
        self.open.append((f"(?P<{named.group(1)}>", self.captures))
        self._emit(f"(?P<{named.group(1)}>", _NOTHING)
        return named.end()

    def _escape(self, i: int) -> int:
        """An escape outside a class: assertions, class escapes, characters, backreferences."""
        units = self.units
        if i + 1 >= len(units):
            raise ValueError("\\ at end of pattern")
        nxt = units[i + 1]
        if nxt in _ATOM_ESCAPES:
            self._emit(_ATOM_ESCAPES[nxt], _NOTHING if nxt in "bB" else _ATOM)
            return i + 2
        if nxt == "k" and self.named:
            found = _REFERENCE_NAME.match(units, i + 2)
            if found is None:
                raise ValueError("invalid named reference")
            # a group not closed yet (itself, or later) has captured nothing: JS matches ""
            name = found.group(1)
            self._emit(f"(?P={name})" if name in self.closed else "(?:)", _ATOM)
            return found.end()
        if nxt in "123456789":
            digits = _DECIMAL.match(units, i + 1)
            assert digits is not None
            number = int(digits.group(0))
            if number <= self.groups:
                self._emit(f"(?:\\{number})" if number in self.closed else "(?:)", _ATOM)
                return digits.end()
        code, i = _character_escape(units, i, in_class=False)
        self._literal(code)
        return i

    def _class(self, i: int) -> int:
        codes, negated, i = _class_codes(self.units, i)
        if self.ignore_case:
            codes = _fold(codes)
        if negated:
            codes = _all_units() - codes
        self._emit(_class_of(codes), _ATOM)
        return i


def _count_groups(units: str) -> int:
    """Capturing groups in the pattern (escapes and classes skipped)."""
    count, i = 0, 0
    while i < len(units):
        char = units[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            try:
                i = _class_codes(units, i)[2]
            except ValueError:  # a class never closed: the translation refuses the pattern
                i = len(units)
            continue
        if char == "(" and (not units.startswith("(?", i) or _GROUP_NAME.match(units, i)):
            count += 1
        i += 1
    return count


def _character_escape(units: str, i: int, *, in_class: bool) -> tuple[int, int]:
    """(code unit, index after) of the escape at `i` that stands for one character: control,
    hex, unicode, legacy octal (Annex B) and identity escapes. `\\c` with no letter after it
    is a literal backslash, and the `c` reads on as itself."""
    nxt = units[i + 1]
    if nxt in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[nxt], i + 2
    if nxt == "c":
        letter = units[i + 2 : i + 3]
        allowed = letter.isalpha() or (in_class and (letter.isdigit() or letter == "_"))
        if letter.isascii() and allowed:
            return ord(letter) % 32, i + 3
        return ord("\\"), i + 1
    if nxt == "x" and _HEX2.match(units, i + 2):
        return int(units[i + 2 : i + 4], 16), i + 4
    if nxt == "u" and _HEX4.match(units, i + 2):
        return int(units[i + 2 : i + 6], 16), i + 6
    if nxt in "01234567":
        octal = _LEGACY_OCTAL.match(units, i + 1)
        assert octal is not None
        return int(octal.group(0), 8), octal.end()
    return ord(nxt), i + 2


_WORD_RANGES = ((0x30, 0x3A), (0x41, 0x5B), (0x61, 0x7B), (0x5F, 0x60))
_SPACE_UNITS = (
    *(9, 10, 11, 12, 13, 32, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029),
    *(0x202F, 0x205F, 0x3000, 0xFEFF),
)


@functools.cache
def _all_units() -> frozenset[int]:
    return frozenset(range(0x10000))


@functools.cache
def _class_set(letter: str) -> frozenset[int]:
    """The units of a class escape (`\\d`, `\\w`, `\\s` and their complements), made when a
    pattern first uses it (a complement holds 65,000 units: not at import)."""
    lower = letter.lower()
    if lower == "d":
        units = frozenset(range(0x30, 0x3A))
    elif lower == "w":
        units = frozenset(code for low, high in _WORD_RANGES for code in range(low, high))
    else:
        units = frozenset(_SPACE_UNITS)
    return units if letter == lower else _all_units() - units


def _class_codes(units: str, start: int) -> tuple[frozenset[int], bool, int]:
    """(the units a class holds, whether it is negated, the index after it)."""
    i = start + 1
    negated = units.startswith("^", i)
    if negated:
        i += 1
    codes: set[int] = set()
    while True:
        if i >= len(units):
            raise ValueError("missing ]")
        if units[i] == "]":
            return frozenset(codes), negated, i + 1
        low, i = _class_atom(units, i)
        if units.startswith("-", i) and i + 1 < len(units) and units[i + 1] != "]":
            high, after = _class_atom(units, i + 1)
            if isinstance(low, frozenset) or isinstance(high, frozenset):
                codes.update(_as_set(low) | {ord("-")} | _as_set(high))  # Annex B: literal -
            elif low > high:
                raise ValueError("range out of order in character class")
            else:
                codes.update(range(low, high + 1))
            i = after
        else:
            codes.update(_as_set(low))


def _as_set(atom: int | frozenset[int]) -> frozenset[int]:
    return atom if isinstance(atom, frozenset) else frozenset((atom,))


def _class_atom(units: str, i: int) -> tuple[int | frozenset[int], int]:
    if units[i] != "\\":
        return ord(units[i]), i + 1
    if i + 1 >= len(units):
        raise ValueError("\\ at end of pattern")
    nxt = units[i + 1]
    if nxt in "dDwWsS":
        return _class_set(nxt), i + 2
    if nxt == "b":
        return 8, i + 2
    return _character_escape(units, i, in_class=True)


def _class_of(codes: frozenset[int] | list[int]) -> str:
    """A Python class (never folded further) holding exactly these code units."""
    ordered = sorted(codes)
    if not ordered:
        return "(?!)"
    ranges, low, high = [], ordered[0], ordered[0]
    for code in ordered[1:]:
        if code == high + 1:
            high = code
            continue
        ranges.append((low, high))
        low = high = code
    ranges.append((low, high))
    body = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return f"(?-i:[{body}])"


_CANONICAL: list[int] = []  # code unit → its canonical unit under non-unicode /i
_BY_CANONICAL: dict[int, list[int]] = {}


def _canonical_table() -> list[int]:
    if not _CANONICAL:
        for code in range(0x10000):
            canonical = code
            if not 0xD800 <= code <= 0xDFFF:
                upper = chr(code).upper()
                if len(upper) == 1 and not (code >= 128 and ord(upper) < 128):
                    canonical = ord(upper)  # ECMA-262 Canonicalize (22.2.2.7.3), non-unicode
            _CANONICAL.append(canonical)
            _BY_CANONICAL.setdefault(canonical, []).append(code)
    return _CANONICAL


def _variants(code: int) -> list[int]:
    """Every unit JS's non-unicode /i takes for `code` (itself included)."""
    canonical = _canonical_table()[code]
    return _BY_CANONICAL[canonical]


def _fold(codes: frozenset[int]) -> frozenset[int]:
    """The units a class matches under /i: those whose canonical unit one of `codes` has."""
    table = _canonical_table()
    wanted = {table[code] for code in codes}
    return frozenset(code for code in range(0x10000) if table[code] in wanted)


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
        return self.regex.search(js_units(value)) is not None

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

    def first_match(self, value: str) -> Pattern | None:
        """The first pattern, in the config's order, that matches `value` (what --explain and
        `diff` name; only asked once matches_any said yes)."""
        return next((pattern for pattern in self.patterns if pattern.matches(value)), None)

    def matches_any(self, value: str) -> bool:
        """True when any pattern matches `value`."""
        for substring in self.substrings:
            if substring in value:
                return True
        if not self.regexes:
            return False
        units = js_units(value)
        return any(regex.search(units) is not None for regex in self.regexes)
