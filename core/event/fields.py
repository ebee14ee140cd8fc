"""The fields every sent event carries, and the navigation target of a breadcrumb
(docs/behaviour.md, "Fields every sent event carries", "Other events").

Nothing of the replaying machine goes into an event: no hostname, argv, environment or git
release; `sdk.settings.infer_ip = "never"` stops Sentry from using the sender's IP address.
"""

from datetime import datetime
from typing import Any

from core import __version__
from core.event.normalize import normalize
from core.event.timestamps import format_timestamp
from core.js.value import UNDEFINED, get_value, js_string

SDK_INFO = {"name": "rudder-sentry", "version": __version__, "settings": {"infer_ip": "never"}}
IDENTIFY_FINGERPRINT = ("rudderstack", "identify")


def first_text(*values: Any) -> str | None:
    """The first value that is a non-empty string (the `a | b` of docs/behaviour.md)."""
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


def get_field(container: Any, key: str) -> Any:
    """`container[key]` when `container` is an object, else None."""
    return container.get(key) if isinstance(container, dict) else None


def page_url(event: dict[str, Any]) -> Any:
    """context.page.url, or None."""
    return get_field(get_field(event.get("context"), "page"), "url")


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


def request_info(event: dict[str, Any]) -> dict[str, Any] | None:
    """Sentry `request` from context.page.url, context.userAgent and context.page.referrer."""
    context = event.get("context")
    page = get_field(context, "page")
    request: dict[str, Any] = {}
    url = first_text(page_url(event))
    if url is not None:
        request["url"] = url
    headers = {}
    user_agent = first_text(get_field(context, "userAgent"))
    if user_agent is not None:
        headers["User-Agent"] = user_agent
    referrer = first_text(get_field(page, "referrer"))
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
    """The fields every sent event carries."""
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
    if any(v.__class__ is dict or v.__class__ is list for v in extra.values()):
        extra = normalize({"rudderstack": extra})["rudderstack"]  # as the browser sends it
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
