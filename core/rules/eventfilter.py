"""Destination selection per event: the `integrations` object and client-side event filtering.

docs/behaviour.md, "The integrations object" and "Client-side event filtering", for the two
RudderStack JS SDK generations: v3 (`@rudderstack/analytics-js`) and v1.1 (`rudder-sdk-js` 1.x/2.x).
"""

from enum import StrEnum
from typing import Any

from core.js.value import UNDEFINED, is_truthy, js_get, js_trim

DISPLAY_NAME = "Sentry"
V11_ALIASES = frozenset({"SENTRY", "sentry", "Sentry"})  # Sentry/constants.js CNameMapping


class Semantics(StrEnum):
    """Which SDK generation's rules apply."""

    V3 = "v3"
    V1_1 = "v1.1"


_FILTER_OPTIONS = frozenset({"whitelistedEvents", "blacklistedEvents"})
_V3 = Semantics.V3  # a plain global: reading an enum member through its class costs more


def fast_enabled(event: dict[str, Any], semantics: Semantics) -> bool:
    """True for the common shapes that certainly reach Sentry (no integrations object, or
    `{"All": true, ...}` naming no Sentry key); False means: ask `destination_enabled`."""
    integrations = event.get("integrations", UNDEFINED)
    if integrations is UNDEFINED:
        return True
    if integrations.__class__ is not dict or integrations.get("All", True) is not True:
        return False
    if semantics is _V3:
        return DISPLAY_NAME not in integrations
    return not any(key in integrations for key in V11_ALIASES)


def filtering_active(option: Any) -> bool:
    """Whether eventFilteringOption can block anything at all (else the check is skipped).

    Both SDK generations filter only for these two exact values (v1.1 also needs it truthy).
    """
    return isinstance(option, str) and option in _FILTER_OPTIONS


def destination_enabled(event: dict[str, Any], semantics: Semantics) -> tuple[bool, str]:
    """Whether the event's `integrations` object lets it reach Sentry, and why not."""
    integrations = event.get("integrations", UNDEFINED)
    if semantics is Semantics.V3:
        return _enabled_v3(integrations)
    return _enabled_v11(integrations)


def _enabled_v3(integrations: Any) -> tuple[bool, str]:
    if integrations is UNDEFINED:
        return True, ""
    if integrations is None:
        # `null.All` throws inside the destinations queue; the SDK's error handler swallows it
        return False, "integrations is null"
    all_value = js_get(integrations, "All")
    if all_value is UNDEFINED or all_value is None:  # `All ?? true`
        all_value = True
    value = js_get(integrations, DISPLAY_NAME)
    if is_truthy(all_value):
        if value is not UNDEFINED and not is_truthy(value):
            return False, f"integrations.Sentry is {_show(value)}"
        return True, ""
    if value is not UNDEFINED and is_truthy(value):
        return True, ""
    return False, f"integrations.All is {_show(all_value)} and Sentry is not enabled"


def _enabled_v11(integrations: Any) -> tuple[bool, str]:
    if not isinstance(integrations, dict):
        return True, ""  # the SDK falls back to {All: true}
    value: Any = UNDEFINED
    key_used = ""
    for key, item in integrations.items():  # transformToRudderNames: a later alias wins
        if key in V11_ALIASES:
            value, key_used = item, key
    all_value = integrations.get("All", UNDEFINED)
    if all_value is UNDEFINED:
        all_value = True
    if not is_truthy(all_value):
        if value is not UNDEFINED and is_truthy(value):
            return True, ""
        return False, f"integrations.All is {_show(all_value)} and Sentry is not enabled"
    if value is not UNDEFINED and not is_truthy(value):
        return False, f"integrations.{key_used} is {_show(value)}"
    return True, ""


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    return repr(value)


class MalformedListError(Exception):
    """An event-list item without a string eventName: the SDK throws, the event is not delivered."""


def event_denied(
    event: dict[str, Any],
    option: Any,
    allowlist: Any,
    denylist: Any,
    semantics: Semantics,
) -> tuple[bool, str]:
    """Whether client-side event filtering blocks the event, and why."""
    try:
        if semantics is Semantics.V3:
            return _denied_v3(event.get("type"), event.get("event"), option, allowlist, denylist)
        return _denied_v11(event.get("event"), option, allowlist, denylist)
    except MalformedListError as exc:
        return True, str(exc)


def _item_name(item: Any, list_name: str) -> str:
    name = item.get("eventName") if isinstance(item, dict) else None
    if not isinstance(name, str):
        raise MalformedListError(f"{list_name} has an item without a string eventName: {item!r}")
    return name


def _some(items: list[Any], list_name: str, wanted: str, fold: bool) -> bool:
    for item in items:  # Array.prototype.some: stops at the first match
        name = js_trim(_item_name(item, list_name))
        if (name.upper() if fold else name) == wanted:
            return True
    return False


def _denied_v3(
    kind: Any, name: Any, option: Any, allowlist: Any, denylist: Any
) -> tuple[bool, str]:
    if kind != "track":  # compared exactly: the v3 SDK only filters `type === 'track'`
        return False, ""
    valid = isinstance(name, str) and name != ""
    if option == "blacklistedEvents":
        if not valid or not isinstance(denylist, list):
            return False, ""
        if _some(denylist, "blacklistedEvents", js_trim(name), fold=False):
            return True, f"event {name!r} is on the denylist"
        return False, ""
    if option == "whitelistedEvents":
        if not valid:
            return True, "allowlist active and the event has no name"
        if not isinstance(allowlist, list):
            return True, "allowlist active but whitelistedEvents is not a list"
        if _some(allowlist, "whitelistedEvents", js_trim(name), fold=False):
            return False, ""
        return True, f"event {name!r} is not on the allowlist"
    return False, ""


def _denied_v11(name: Any, option: Any, allowlist: Any, denylist: Any) -> tuple[bool, str]:
    if not isinstance(name, str) or name == "" or not is_truthy(option):
        return False, ""
    wanted = js_trim(name).upper()
    if option == "blacklistedEvents":
        if isinstance(denylist, list) and _some(denylist, "blacklistedEvents", wanted, fold=True):
            return True, f"event {name!r} is on the denylist"
        return False, ""
    if option == "whitelistedEvents":
        if not isinstance(allowlist, list):
            return True, "allowlist active but whitelistedEvents is not a list"
        if _some(allowlist, "whitelistedEvents", wanted, fold=True):
            return False, ""
        return True, f"event {name!r} is not on the allowlist"
    return False, ""
