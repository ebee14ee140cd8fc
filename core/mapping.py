"""RudderStack event → Sentry event: error events, user-context events, common fields (SPEC §5).

Nothing of the replaying machine goes into an event: no hostname, argv, environment or git
release; `sdk.settings.infer_ip = "never"` stops Sentry from using the sender's IP address.
"""

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from core import __version__
from core.jsvalue import UNDEFINED, as_line_number, get_value, js_string, js_trim, truncate
from core.stack import parse_stack

DEFAULT_ERROR_EVENTS = (
    "Error",
    "Exception",
    "Error Occurred",
    "Application Error",
    "JavaScript Error",
    "Unhandled Error",
    "Uncaught Exception",
)
LEVELS = frozenset({"fatal", "error", "warning", "info", "debug"})
MAX_VALUE_LENGTH = 250  # @sentry/browser maxValueLength
EVENT_ID_NAMESPACE = uuid.UUID("5d3c1b8e-7a4f-5e2b-9c61-0f2a8e4b7d19")  # fixed forever: ids must
# stay stable across versions, or a re-run with an old state file would send duplicates
SDK_INFO = {"name": "rudder-sentry", "version": __version__, "settings": {"infer_ip": "never"}}
IDENTIFY_FINGERPRINT = ("rudderstack", "identify")


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


def first_text(*values: Any) -> str | None:
    """The first value that is a non-empty string (SPEC §5.2 `a | b`)."""
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


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


def _get(container: Any, key: str) -> Any:
    return container.get(key) if isinstance(container, dict) else None


def page_url(event: dict[str, Any]) -> Any:
    """context.page.url, or None."""
    return _get(_get(event.get("context"), "page"), "url")


def build_error_payload(event: dict[str, Any]) -> dict[str, Any]:
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
        payload["exception"] = {"values": [_built_exception(event, p)]}
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


def _built_exception(event: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    error = p.get("error")
    kind = first_text(
        _get(error, "name"), _get(error, "type"), p.get("errorType"), p.get("exceptionType")
    )
    value = first_text(_get(error, "message"), error, p.get("message"), p.get("errorMessage"))
    stack = first_text(_get(error, "stack"), p.get("stack"))
    kind = kind or "Error"
    value = value or "No error message"
    exception: dict[str, Any] = {"type": kind, "value": value}
    frames = parse_stack(_error_like(error, kind, value, stack))
    if not frames:
        frames = _fallback_frame(event, p)
    if frames:
        exception["stacktrace"] = {"frames": frames}
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
    values = _get(payload.get("exception"), "values")
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
    frame_lists: list[Any] = [_get(payload.get("stacktrace"), "frames")]
    values = _get(payload.get("exception"), "values")
    if isinstance(values, list):
        frame_lists.extend(_get(_get(v, "stacktrace"), "frames") for v in values)
    for frames in frame_lists:
        if not isinstance(frames, list):
            continue
        for frame in frames:
            if isinstance(frame, dict):
                filename = frame.get("filename")
                frame["in_app"] = isinstance(filename, str) and any(
                    p.search(filename) is not None for p in include_paths
                )


def release_for(event: dict[str, Any], property_path: str, release: str) -> str:
    """customVersionProperty in context, then properties, then the root; else `release`."""
    if property_path:
        for container in (event.get("context"), event.get("properties"), event):
            value = get_value(container, property_path)
            if value is not UNDEFINED and not isinstance(value, bool):
                if isinstance(value, str) and value:
                    return value
                if isinstance(value, int | float):
                    return js_string(value)
    return release


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or epoch seconds/milliseconds."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


TIMESTAMP_KEYS = ("originalTimestamp", "timestamp", "sentAt", "receivedAt")


def event_time(event: dict[str, Any], created_at: str | None) -> datetime | None:
    """The first of originalTimestamp | timestamp | sentAt | receivedAt | the archive row's
    createdAt that parses (a garbled one is skipped)."""
    for value in (*(event.get(key) for key in TIMESTAMP_KEYS), created_at):
        moment = parse_timestamp(value)
        if moment is not None:
            return moment
    return None


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as Sentry reads it (`moment` is aware, in UTC)."""
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def event_id(kind: str, event: dict[str, Any]) -> str:
    """uuid5 of kind, messageId, anonymousId and originalTimestamp (SPEC §8), 32 hex digits."""
    message_id = event.get("messageId")
    if isinstance(message_id, str) and message_id:
        anonymous_id = event.get("anonymousId")
        original = event.get("originalTimestamp")
        name = (
            f"{kind}:{message_id}:{'' if anonymous_id is None else js_string(anonymous_id)}"
            f":{'' if original is None else js_string(original)}"
        )
    else:
        canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        name = f"{kind}:sha256:{hashlib.sha256(canonical).hexdigest()}"
    return uuid5_hex(name)


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def uuid5_hex(name: str) -> str:
    """`uuid.uuid5(EVENT_ID_NAMESPACE, name).hex`, without building UUID objects."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()


def request_info(event: dict[str, Any]) -> dict[str, Any] | None:
    """Sentry `request` from context.page.url, context.userAgent and context.page.referrer."""
    context = event.get("context")
    page = _get(context, "page")
    request: dict[str, Any] = {}
    url = first_text(page_url(event))
    if url is not None:
        request["url"] = url
    headers = {}
    user_agent = first_text(_get(context, "userAgent"))
    if user_agent is not None:
        headers["User-Agent"] = user_agent
    referrer = first_text(_get(page, "referrer"))
    if referrer is not None:
        headers["Referer"] = referrer
    if headers:
        request["headers"] = headers
    return request or None


RUDDERSTACK_EXTRA_KEYS = (
    "messageId",
    "anonymousId",
    "userId",
    "type",
    "event",
    "originalTimestamp",
    "receivedAt",
)


def common_fields(
    event: dict[str, Any],
    *,
    event_id_hex: str,
    timestamp: datetime | None,
    source: str,
    environment: str,
    release: str,
    server_name: str,
    tags: dict[str, str],
) -> dict[str, Any]:
    """The fields every sent event carries (SPEC §5.3)."""
    sentry: dict[str, Any] = {"event_id": event_id_hex, "platform": "javascript"}
    if timestamp is not None:
        sentry["timestamp"] = format_timestamp(timestamp)
    if environment:
        sentry["environment"] = environment
    if release:
        sentry["release"] = release
    if server_name:
        sentry["server_name"] = server_name
    sentry["tags"] = tags
    request = request_info(event)
    if request is not None:
        sentry["request"] = request
    extra = {k: event[k] for k in RUDDERSTACK_EXTRA_KEYS if event.get(k) is not None}
    extra["source"] = source
    sentry["extra"] = {"rudderstack": extra}
    sentry["sdk"] = SDK_INFO
    return sentry


def navigation_target(event: dict[str, Any]) -> str | None:
    """properties.url | context.page.url | name: where a page/screen navigated to."""
    properties = event.get("properties")
    if properties.__class__ is dict:
        url = properties.get("url")
        if url.__class__ is str and url:
            return url
    return first_text(page_url(event), event.get("name"))
