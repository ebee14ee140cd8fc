"""@sentry/browser 6.13.1 InboundFilters (docs/behaviour.md, "InboundFilters").

Decision order: internal SentryError → ignoreErrors → denyUrls → allowUrls; first hit wins.
"""

import re
from dataclasses import dataclass
from typing import Any

from core.js.regex import Pattern, PatternSet
from core.js.value import UNDEFINED, is_truthy, js_get, js_string
from core.outcome import Outcome

# DEFAULT_IGNORE_ERRORS of 6.13.1 (the 8.x additions such as ResizeObserver are not in it)
DEFAULT_IGNORE_ERRORS = (
    Pattern("/^Script error\\.?$/", re.compile(r"^Script error\.?\Z")),
    Pattern(
        "/^Javascript error: Script error\\.? on line 0$/",
        re.compile(r"^Javascript error: Script error\.? on line 0\Z"),
    ),
)
SKIPPED_FILENAMES = frozenset({"<anonymous>", "[native code]"})


@dataclass(frozen=True, slots=True)
class InboundFilters:
    """The merged filter options: user patterns plus the defaults (ignoreInternal is on)."""

    ignore_errors: PatternSet
    deny_urls: PatternSet
    allow_urls: PatternSet
    ignore_internal: bool = True  # RudderStack never changes the integration's default

    @classmethod
    def from_patterns(
        cls,
        ignore_errors: PatternSet,
        deny_urls: PatternSet,
        allow_urls: PatternSet,
        *,
        ignore_internal: bool = True,
    ) -> "InboundFilters":
        """Options as `_mergeOptions` builds them: the user's ignoreErrors, then the defaults."""
        merged = PatternSet((*ignore_errors.patterns, *DEFAULT_IGNORE_ERRORS))
        return cls(merged, deny_urls, allow_urls, ignore_internal)


def _first_exception(event: dict[str, Any]) -> Any:
    values = js_get(event.get("exception"), "values")
    return values[0] if isinstance(values, list) and values else UNDEFINED


def is_sentry_error(event: dict[str, Any]) -> bool:
    """`event.exception.values[0].type === 'SentryError'`."""
    return bool(js_get(_first_exception(event), "type") == "SentryError")


def possible_messages(event: dict[str, Any]) -> list[Any]:
    """_getPossibleEventMessages: the message alone, else `${value}` and `${type}: ${value}`."""
    message = event.get("message")
    if is_truthy(message):
        return [message]
    if "exception" not in event or not is_truthy(event["exception"]):
        return []
    first = _first_exception(event)
    if not is_truthy(first):
        first = {}
    if not isinstance(first, dict):
        first = {}  # destructuring a primitive reads undefined properties
    kind = first.get("type", UNDEFINED)
    value = first.get("value", UNDEFINED)
    kind = "" if kind is UNDEFINED else kind
    value = "" if value is UNDEFINED else value
    return [js_string(value), f"{js_string(kind)}: {js_string(value)}"]


def last_valid_url(frames: Any) -> Any:
    """Filename of the last frame that is not `<anonymous>`/`[native code]`, or None."""
    if not isinstance(frames, list):
        return None
    for frame in reversed(frames):
        if not is_truthy(frame):
            continue
        filename = js_get(frame, "filename")
        if filename in SKIPPED_FILENAMES:
            continue
        return filename if is_truthy(filename) else None
    return None


def event_filter_url(event: dict[str, Any]) -> Any:
    """_getEventFilterUrl: event.stacktrace first, else the first exception's frames."""
    stacktrace = event.get("stacktrace")
    if is_truthy(stacktrace):
        if stacktrace is not None and not isinstance(stacktrace, dict):
            return None
        frames = js_get(stacktrace, "frames")
        return last_valid_url([] if frames is UNDEFINED else frames)
    frames = js_get(js_get(_first_exception(event), "stacktrace"), "frames")
    return last_valid_url(frames) if is_truthy(frames) else None


def _matches(value: Any, patterns: PatternSet) -> bool:
    return isinstance(value, str) and patterns.matches_any(value)


def _entry(patterns: PatternSet, value: str) -> str:
    pattern = patterns.first_match(value)
    return repr(pattern.entry) if pattern is not None else "?"


def inbound_decision(
    event: dict[str, Any], filters: InboundFilters
) -> tuple[Outcome | None, str, str]:
    """The drop outcome for an error event (None when it is kept), the --explain detail and
    the rule that decided (the option and its entry)."""
    if filters.ignore_internal and is_sentry_error(event):
        return Outcome.INTERNAL_SENTRY_ERROR, "exception type is SentryError", "ignoreInternal"
    for message in possible_messages(event):
        if _matches(message, filters.ignore_errors):
            rule = f"ignoreErrors entry {_entry(filters.ignore_errors, message)}"
            return Outcome.IGNORED_ERROR, f"{rule} matched {_short(message)}", rule
    if filters.deny_urls or filters.allow_urls:
        url = event_filter_url(event)
        if filters.deny_urls and is_truthy(url) and _matches(url, filters.deny_urls):
            rule = f"denyUrls entry {_entry(filters.deny_urls, url)}"
            return Outcome.DENIED_URL, f"{rule} matched {_short(url)}", rule
        if filters.allow_urls and is_truthy(url) and not _matches(url, filters.allow_urls):
            return Outcome.NOT_ALLOWED_URL, f"no allowUrls entry matched {_short(url)}", "allowUrls"
    return None, "", ""


def _short(value: Any) -> str:
    text = js_string(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")
