"""identify → Sentry user, exactly as RudderStack's Sentry integration (docs/behaviour.md,
"identify → the Sentry user").

    Sentry.setUser(removeUndefinedAndNullValues({
        id: message.userId, email, username: name, ip_address: context.traits.ip_address,
        ...message.context.traits}))

`email` and `name` come from `getDefinedTraits` (context.traits only); the call is dropped when
userId, email, name and ip_address are all JS-falsy (evaluated before the spread).
"""

from collections.abc import Callable
from typing import Any

from core.js.value import UNDEFINED, get_value, is_truthy, js_or, js_string, utf16_units


class NoContextError(Exception):
    """`message.context` is null or undefined: destructuring `traits` throws in the SDK."""


Lookup = Callable[[str], Any]


def trait_lookup(message: dict[str, Any]) -> Lookup:
    """How `get(message, 'context.traits.' + name)` resolves for this message.

    With `context` and `context.traits` plain objects and no dotted key at the root (get-value
    checks the whole path as a root key first), the lookup is exactly `traits[name]`; anything
    else takes get-value's full walk, joined keys included.
    """
    context = message.get("context")
    traits = context.get("traits") if context.__class__ is dict else None
    if traits.__class__ is dict and not any("." in key for key in message):
        get = traits.get
        return lambda name: get(name, UNDEFINED)
    return lambda name: get_value(message, "context.traits." + name)


def _trait(lookup: Lookup, *names: str) -> Any:
    """`get(..A) || get(..B) || ...`: the first truthy value, else the last one."""
    value: Any = UNDEFINED
    for name in names:
        value = lookup(name)
        if is_truthy(value):
            return value
    return value


def defined_traits(message: dict[str, Any], lookup: Lookup | None = None) -> tuple[Any, Any]:
    """getDefinedTraits' `email` and `name` (the only keys the Sentry integration reads)."""
    lookup = lookup or trait_lookup(message)
    email = _trait(lookup, "email", "Email", "E-mail")
    first = _trait(lookup, "firstName", "firstname", "first_name")
    last = _trait(lookup, "lastName", "lastname", "last_name")
    full = (
        f"{js_string(first)} {js_string(last)}"
        if is_truthy(first) and is_truthy(last)
        else UNDEFINED
    )
    name = js_or(_trait(lookup, "name", "Name"), full)
    return email, name


def spread(value: Any) -> dict[str, Any]:
    """`{...value}` for a JSON value: objects by key, strings and arrays by index."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return {str(i): unit for i, unit in enumerate(utf16_units(value))}
    if isinstance(value, list):
        return {str(i): item for i, item in enumerate(value)}
    return {}


def map_user(message: dict[str, Any]) -> dict[str, Any] | None:
    """The user `Sentry.setUser` receives, or None when the integration drops the call.

    Raises NoContextError when `context` is missing or null.
    """
    context = message.get("context")
    if context is None:
        raise NoContextError
    traits = context.get("traits", UNDEFINED) if isinstance(context, dict) else UNDEFINED
    lookup = trait_lookup(message)
    email, name = defined_traits(message, lookup)
    user_id = message.get("userId", UNDEFINED)  # get(message, 'userId'): no dots, no quirks
    ip_address = lookup("ip_address")
    if not any(is_truthy(v) for v in (user_id, email, name, ip_address)):
        return None
    payload: dict[str, Any] = {
        "id": user_id,
        "email": email,
        "username": name,
        "ip_address": ip_address,
    }
    if traits is not UNDEFINED:
        payload.update(spread(traits))
    return {k: v for k, v in payload.items() if v is not None and v is not UNDEFINED}
