"""@sentry/browser 6.13.1's Dedupe integration, per page load (docs/behaviour.md, "Dedupe").

Dedupe drops an event equal to the previous event that reached it: the same message, or the same
first exception type and value, and the same fingerprint (joined) and stack frames (filename,
lineno, colno, function). Rather than keep the previous event, a visitor keeps two 16-byte
digests of it: one for the message comparison, one for the exception comparison. Each digest
covers exactly what JS's strict equality compares, as JSON in which every number is a float
(1 === 1.0, 0 === -0) and undefined is a list (no list is ever compared equal), so equal digests
mean the JS comparison is true. A value JS compares by identity (an object where a string
belongs) can never be equal, and neither can a fingerprint `join` throws on or a frame list
holding null: the digest is then None. Checked against the package itself:
tests/data/sentry-browser-6.13.1.json.
"""

import hashlib
import math
from contextlib import suppress
from typing import Any

import orjson

from core.js.value import UNDEFINED, is_truthy, js_get, number_to_string, utf16_length

DedupeKeys = tuple[bytes | None, bytes | None]  # (message digest, exception digest)
NO_KEYS: DedupeKeys = (None, None)
_FRAME_FIELDS = ("filename", "lineno", "colno", "function")
_UNDEFINED_MARK = ("undefined",)  # a list in the JSON: no real value is one
_NO_FIELDS = (_UNDEFINED_MARK,) * len(_FRAME_FIELDS)  # a "frame" that is no object


class _NeverEqual(Exception):
    """A value JS compares by identity, or a comparison that throws: never the same."""


def dedupe_keys(event: dict[str, Any]) -> DedupeKeys:
    """The digests Dedupe's comparisons reduce to, for a Sentry event (payload) about to send."""
    try:
        shared = (_fingerprint(event.get("fingerprint", UNDEFINED)), _frames(event))
    except _NeverEqual:
        return NO_KEYS
    message_key = exception_key = None
    message = event.get("message", UNDEFINED)
    if is_truthy(message):
        with suppress(_NeverEqual):
            message_key = _digest(("message", _tag(message), shared))
    exception = _first_exception(event)
    if is_truthy(exception):
        with suppress(_NeverEqual):
            kind, value = _tag(js_get(exception, "type")), _tag(js_get(exception, "value"))
            exception_key = _digest(("exception", kind, value, shared))
    return message_key, exception_key


def is_duplicate(current: DedupeKeys, previous: DedupeKeys | None) -> bool:
    """Dedupe's `_shouldDropEvent`: same message or same exception, fingerprint and frames."""
    if previous is None:
        return False
    return (current[0] is not None and current[0] == previous[0]) or (
        current[1] is not None and current[1] == previous[1]
    )


def _digest(parts: tuple[Any, ...]) -> bytes:
    return hashlib.blake2b(orjson.dumps(parts), digest_size=16).digest()


def _tag(value: Any) -> Any:
    """What `===` sees of a JSON value; objects are compared by identity (never equal)."""
    kind = value.__class__
    if kind is str or kind is bool or value is None:
        return value
    if kind is int or kind is float:
        try:
            number = float(value) + 0.0  # + 0.0: -0.0 becomes 0.0
        except OverflowError:  # JSON.parse reads such a number as ±Infinity
            number = math.copysign(math.inf, value)
        if math.isinf(number):
            return ("infinity", number > 0)  # JSON has no Infinity: kept apart from null
        if math.isnan(number):
            raise _NeverEqual
        return number
    if value is UNDEFINED:
        return _UNDEFINED_MARK
    raise _NeverEqual


def _index(value: Any, index: int) -> Any:
    """`value[index]` on a JSON value (a string indexes UTF-16 units; not needed past 0)."""
    if isinstance(value, list | str):
        return value[index] if index < len(value) else UNDEFINED
    if isinstance(value, dict):
        return value.get(str(index), UNDEFINED)
    return UNDEFINED


def _first_exception(event: dict[str, Any]) -> Any:
    """`event.exception && event.exception.values && event.exception.values[0]`."""
    exception = event.get("exception", UNDEFINED)
    if not is_truthy(exception):
        return exception
    values = js_get(exception, "values")
    if not is_truthy(values):
        return values
    return _index(values, 0)


def _fingerprint(fingerprint: Any) -> tuple[Any, ...]:
    if not is_truthy(fingerprint):
        return ("none",)
    if not isinstance(fingerprint, list):
        raise _NeverEqual  # `fingerprint.join` is not a function: the comparison is false
    return ("joined", _join(fingerprint, ""))


def _join(items: list[Any], separator: str) -> str:
    """Array.prototype.join on JSON values."""
    parts = []
    for item in items:
        if item is None:
            parts.append("")
        elif isinstance(item, str):
            parts.append(item)
        elif isinstance(item, bool):
            parts.append("true" if item else "false")
        elif isinstance(item, int | float):
            parts.append(number_to_string(item))
        elif isinstance(item, list):
            parts.append(_join(item, ","))
        else:
            parts.append("[object Object]")
    return separator.join(parts)


def _frames(event: dict[str, Any]) -> tuple[Any, ...]:
    """Dedupe's `_getFramesFromEvent`, reduced to what `_isSameStacktrace` compares."""
    exception = event.get("exception", UNDEFINED)
    if is_truthy(exception):
        first = _index(js_get(exception, "values"), 0) if _has_props(exception) else None
        stacktrace = js_get(first, "stacktrace") if _has_props(first) else None
        frames = js_get(stacktrace, "frames") if _has_props(stacktrace) else UNDEFINED
    else:
        stacktrace = event.get("stacktrace", UNDEFINED)
        frames = js_get(stacktrace, "frames") if is_truthy(stacktrace) else UNDEFINED
    if not is_truthy(frames):
        return ("none",)
    if isinstance(frames, str):  # each "frame" is a character: no field is defined
        return ("frames", (_NO_FIELDS,) * utf16_length(frames))
    if isinstance(frames, dict):
        if "length" in frames:
            raise _NeverEqual  # an array-like object: not a shape a Sentry event has
        return ("no length",)  # `undefined !== undefined` is false; the loop never runs
    if not isinstance(frames, list):
        return ("no length",)
    return ("frames", tuple(_frame(frame) for frame in frames))


def _frame(frame: Any) -> tuple[Any, ...]:
    if frame is None:
        raise _NeverEqual  # `frameA.filename` throws; Dedupe keeps the event
    if frame.__class__ is not dict:
        return _NO_FIELDS
    get = frame.get
    return (
        _tag(get("filename", UNDEFINED)),
        _tag(get("lineno", UNDEFINED)),
        _tag(get("colno", UNDEFINED)),
        _tag(get("function", UNDEFINED)),
    )


def _has_props(value: Any) -> bool:
    """Whether reading a property of `value` does not throw (it is not null or undefined)."""
    return value is not None and value is not UNDEFINED
