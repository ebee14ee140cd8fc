"""Error events: which tracks are errors, and their exception, message and frames
(docs/behaviour.md, "Error tracks → Sentry error events")."""

import re
from typing import Any

import orjson

from core.event.breadcrumbs import SEVERITIES
from core.event.fields import first_text, get_field, page_url
from core.js.regex import js_units
from core.js.tracekit import parse_stack
from core.js.value import as_line_number, js_string, js_trim, truncate

DEFAULT_ERROR_EVENTS = (
    "Error",
    "Exception",
    "Error Occurred",
    "Application Error",
    "JavaScript Error",
    "Unhandled Error",
    "Uncaught Exception",
)
LEVELS = frozenset(SEVERITIES)
MAX_VALUE_LENGTH = 250  # @sentry/browser maxValueLength
# What 6.13.1's GlobalHandlers add to an error caught by window.onerror (addExceptionMechanism,
# in this key order): unhandled, so its session is crashed (core/rules/sessions.py)
ONERROR_MECHANISM = (("handled", False), ("type", "onerror"))


class ErrorNames:
    """The error-event list, matched trimmed and case-insensitively. Track names repeat, so the
    answer for each name seen is remembered (for up to MEMO_LIMIT names)."""

    MEMO_LIMIT = 10_000
    __slots__ = ("lowered", "seen")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.lowered = frozenset(js_trim(name).lower() for name in names)
        self.seen: dict[str, bool] = {}

    def match(self, name: str) -> bool:
        """Whether a track named `name` is an error event."""
        found = self.seen.get(name)
        if found is None:
            found = js_trim(name).lower() in self.lowered
            if len(self.seen) < self.MEMO_LIMIT:
                self.seen[name] = found
        return found


def error_event_names(extra: tuple[str, ...] = ()) -> ErrorNames:
    """The default error-event names plus `--error-events`."""
    return ErrorNames((*DEFAULT_ERROR_EVENTS, *extra))


def is_error_event(event: dict[str, Any], names: ErrorNames) -> bool:
    """A track whose name is on the error list, or whose properties.exception is an object."""
    name = event.get("event")
    if name.__class__ is str and names.match(name):
        return True
    properties = event.get("properties")
    return properties.__class__ is dict and properties.get("exception").__class__ is dict


def first_number(*values: Any) -> int | None:
    """The first value usable as a line or column number."""
    for value in values:
        number = as_line_number(value)
        if number is not None:
            return number
    return None


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (the input event is never modified)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


class FrameCache:
    """The frames of each distinct error-like object, parsed once per run (docs/performance.md):
    real error streams repeat a few stacks. The key is the object's canonical JSON, which tells
    apart what 6.13.1 treats differently (`framesToPop` 1, true and 1.0). Bounded: at `limit`
    entries the oldest half is dropped. A hit returns fresh copies (frames are changed later:
    in_app)."""

    __slots__ = ("entries", "limit")

    def __init__(self, limit: int = 4096) -> None:
        self.entries: dict[bytes, tuple[dict[str, Any], ...]] = {}
        self.limit = limit

    def frames(self, ex: dict[str, Any]) -> list[dict[str, Any]]:
        """parse_stack(ex), from the cache when this object was parsed before."""
        try:
            key = orjson.dumps(ex, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # nested too deep to be a key: parse it, do not keep it
            return parse_stack(ex)
        found = self.entries.get(key)
        if found is None:
            found = tuple(parse_stack(ex))
            entries = self.entries
            if len(entries) >= self.limit:
                for old in list(entries)[: self.limit // 2]:
                    del entries[old]
            entries[key] = found
        return [frame.copy() for frame in found]


def build_error_payload(event: dict[str, Any], cache: FrameCache | None = None) -> dict[str, Any]:
    """The error-specific part of a Sentry event: exception or message, level, tags..."""
    properties = event.get("properties")
    p: dict[str, Any] = properties if isinstance(properties, dict) else {}
    payload: dict[str, Any] = {}
    error = p.get("error")
    if isinstance(p.get("exception"), dict):
        exception = copy_json(p["exception"])
        values = exception.get("values")
        payload["exception"] = exception if isinstance(values, list) else {"values": [exception]}
    elif (
        first_text(p.get("stack"), p.get("errorType"), p.get("exceptionType")) is not None
        or isinstance(error, dict)
        or first_text(error) is not None
    ):
        payload["exception"] = {"values": [_built_exception(event, p, cache)]}
    else:
        message = first_text(p.get("message"), p.get("errorMessage"))
        if message is not None:
            payload["message"] = message
        if isinstance(p.get("stacktrace"), dict):
            payload["stacktrace"] = copy_json(p["stacktrace"])
    level = p.get("level")
    payload["level"] = level if isinstance(level, str) and level in LEVELS else "error"
    fingerprint = p.get("fingerprint")
    if (
        isinstance(fingerprint, list)
        and fingerprint
        and all(isinstance(f, str) for f in fingerprint)
    ):
        payload["fingerprint"] = list(fingerprint)
    tags = p.get("tags")
    if isinstance(tags, dict):
        payload["tags"] = {
            str(k): js_string(v) for k, v in tags.items() if isinstance(v, str | int | float)
        }
    apply_client_truncation(payload)
    return payload


def _built_exception(
    event: dict[str, Any], p: dict[str, Any], cache: FrameCache | None
) -> dict[str, Any]:
    error = p.get("error")
    kind = first_text(
        get_field(error, "name"),
        get_field(error, "type"),
        p.get("errorType"),
        p.get("exceptionType"),
    )
    value = first_text(get_field(error, "message"), error, p.get("message"), p.get("errorMessage"))
    stack = first_text(get_field(error, "stack"), p.get("stack"))
    kind = kind or "Error"
    value = value or "No error message"
    exception: dict[str, Any] = {"type": kind, "value": value}
    ex = _error_like(error, kind, value, stack)
    frames = cache.frames(ex) if cache is not None else parse_stack(ex)
    if not frames:
        frames = _fallback_frame(event, p)
    if frames:
        exception["stacktrace"] = {"frames": frames}
    exception["mechanism"] = dict(ONERROR_MECHANISM)
    return exception


# Error fields TraceKit 6.13.1 reads besides the stack: Opera's `stacktrace`, Firefox's
# `columnNumber` (its hack), React's `framesToPop`.
_TRACEKIT_FIELDS = ("stacktrace", "columnNumber", "framesToPop")


def _error_like(error: Any, kind: str, value: str, stack: str | None) -> dict[str, Any]:
    """The object computeStackTrace would get: the error object's own fields when there is one
    (its raw message decides the React pop), with the stack from `p.error.stack | p.stack`."""
    ex: dict[str, Any] = {"name": kind, "message": value}
    if isinstance(error, dict):
        ex.update((key, error[key]) for key in ("message", *_TRACEKIT_FIELDS) if key in error)
    if stack is not None:
        ex["stack"] = stack
    return ex


def _fallback_frame(event: dict[str, Any], p: dict[str, Any]) -> list[dict[str, Any]]:
    """The single frame the SDK's global handler makes from url/line/column (no stack)."""
    url = first_text(p.get("filename"), p.get("url"), p.get("source"), page_url(event))
    if url is None:
        return []
    frame: dict[str, Any] = {"filename": url, "function": "?", "in_app": True}
    lineno = first_number(p.get("lineno"), p.get("line"))
    colno = first_number(p.get("colno"), p.get("column"))
    if lineno is not None:
        frame["lineno"] = lineno
    if colno is not None:
        frame["colno"] = colno
    return [frame]


def apply_client_truncation(payload: dict[str, Any]) -> None:
    """BaseClient._applyClientOptions: message and the first exception value to 250 units."""
    message = payload.get("message")
    if isinstance(message, str):
        payload["message"] = truncate(message, MAX_VALUE_LENGTH)
    values = get_field(payload.get("exception"), "values")
    if isinstance(values, list) and values and isinstance(values[0], dict):
        value = values[0].get("value")
        if isinstance(value, str):
            values[0]["value"] = truncate(value, MAX_VALUE_LENGTH)


def apply_include_paths(
    payload: dict[str, Any], include_paths: tuple[re.Pattern[str], ...]
) -> None:
    """RudderStack's RewriteFrames iteratee: in_app = some includePath searches the filename."""
    if not include_paths:
        return
    frame_lists: list[Any] = [get_field(payload.get("stacktrace"), "frames")]
    values = get_field(payload.get("exception"), "values")
    if isinstance(values, list):
        frame_lists.extend(get_field(get_field(v, "stacktrace"), "frames") for v in values)
    for frames in frame_lists:
        if not isinstance(frames, list):
            continue
        for frame in frames:
            if isinstance(frame, dict):
                filename = frame.get("filename")
                frame["in_app"] = isinstance(filename, str) and any(
                    p.search(js_units(filename)) is not None for p in include_paths
                )
