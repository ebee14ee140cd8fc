"""JavaScript value semantics the upstream SDKs rely on: truthiness, String(), trim, UTF-16 length.

A Python port of JS code goes wrong exactly here: `[]` and `{}` are truthy in JS, `String(2.0)` is
"2", `trim()` strips U+FEFF but not U+001C, and `.length` counts UTF-16 code units.
"""

import math
import re
from typing import Any

# ECMAScript WhiteSpace + LineTerminator (ES2023 §12.2, §12.3): what String.prototype.trim removes.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class _Undefined:
    """JavaScript `undefined`: a missing property, as distinct from JSON null."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


def js_get(container: Any, key: str) -> Any:
    """`container[key]` on a JSON value: UNDEFINED when absent or `container` is no object."""
    return container.get(key, UNDEFINED) if isinstance(container, dict) else UNDEFINED


def is_truthy(value: Any) -> bool:
    """JS truthiness: only '', 0, NaN, false, null and undefined are falsy."""
    if value is None or value is False or value is UNDEFINED:
        return False
    if isinstance(value, str):
        return value != ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    return True


def js_or(*values: Any) -> Any:
    """`a || b || c`: the first truthy operand, else the last one."""
    for value in values[:-1]:
        if is_truthy(value):
            return value
    return values[-1] if values else None


def js_trim(text: str) -> str:
    """String.prototype.trim."""
    return text.strip(JS_WHITESPACE)


def number_to_string(value: float | int) -> str:
    """Number.prototype.toString() for a finite or non-finite number (ES Number::toString)."""
    if isinstance(value, int):
        if abs(value) < 10**21:
            return str(value)
        value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest round-tripping digits, as ES requires; only the layout differs.
    digits, n = _shortest_digits(abs(value))  # value = 0.DIGITS * 10**n
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp_part = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    if k == 1:
        return sign + digits + exp_part
    return sign + digits[0] + "." + digits[1:] + exp_part


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest decimal digits of a positive float and n such that value = 0.DIGITS * 10**n."""
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    all_digits = int_part + frac_part
    stripped = all_digits.lstrip("0")
    n = len(int_part) + exponent - (len(all_digits) - len(stripped))
    return stripped.rstrip("0") or "0", n


def js_string(value: Any) -> str:
    """String(value) for JSON-shaped values (objects are '[object Object]')."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def utf16_units(text: str) -> list[str]:
    """The string as JS sees it: one item per UTF-16 code unit (lone surrogates become U+FFFD)."""
    units: list[str] = []
    for char in text:
        if ord(char) > 0xFFFF:
            units.extend(("\ufffd", "\ufffd"))
        else:
            units.append(char)
    return units


def utf16_length(text: str) -> int:
    """`text.length` in JS."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def truncate(text: str, limit: int) -> str:
    """@sentry/utils `truncate`: cut at `limit` UTF-16 units and append '...'.

    A cut through a surrogate pair leaves a lone high surrogate in JS; it is written as U+FFFD
    here because JSON encoders reject lone surrogates (the length, one unit, is the same).
    """
    if limit == 0 or len(text) <= limit // 2 or utf16_length(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit:
            if used < limit:
                out.append("\ufffd")
            break
        out.append(char)
        used += width
    return "".join(out) + "..."


_INT_RE = re.compile(r"[0-9]+\Z", re.ASCII)


def as_line_number(value: Any) -> int | None:
    """A line or column number from an integer, an integral float or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    return None


def get_value(target: Any, path: str) -> Any:
    """npm get-value 4.1.0 for dotted paths: UNDEFINED when the path is not there.

    When a segment is missing it also tries joining it with the next ones, so a literal key
    "traits.email" under `context` is found by the path "context.traits.email".
    """
    if not isinstance(target, dict | list):
        return UNDEFINED
    if isinstance(target, dict) and path in target:
        return target[path]
    segments = path.split(".")
    count = len(segments)
    index = 0
    while True:
        prop = segments[index]
        found, value = _own(target, prop)
        if not found:
            joined = prop
            for nxt in range(index + 1, count):
                joined = f"{joined}.{segments[nxt]}"
                found, value = _own(target, joined)
                if found:
                    index = nxt
                    break
            if not found:
                return UNDEFINED
        target = value
        index += 1
        if index >= count or not isinstance(target, dict | list):
            break
    return target if index == count else UNDEFINED


def _own(target: Any, key: str) -> tuple[bool, Any]:
    if isinstance(target, dict):
        return (True, target[key]) if key in target else (False, None)
    if isinstance(target, list) and key.isdigit() and str(int(key)) == key:
        position = int(key)
        return (True, target[position]) if position < len(target) else (False, None)
    return False, None
