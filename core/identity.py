"""Who a visitor is: the key that the browser's memory (core/rules/visitors.py), the shards
(core/shard.py) and event ids (core/event/ids.py) all use (docs/behaviour.md, "Visitors").

A visitor is its `anonymousId` when that is a non-empty string, else its `userId` (a number
counting as JavaScript's `String()` of it: the browser read the JSON number as a double, so
`1.0` is "1" and 2**64 + 1 is "18446744073709552000"), else one shared bucket of the events
with neither.
"""

from typing import Any

from core.js.value import number_to_string


def visitor_key(event: dict[str, Any]) -> tuple[bool, str]:
    """(True, anonymousId) when it is a non-empty string, else (False, userId as a string);
    (False, "") is the shared bucket of events with neither."""
    return key_of(event.get("anonymousId"), event.get("userId"))


def key_of(anonymous_id: Any, user_id: Any) -> tuple[bool, str]:
    """visitor_key from the two fields' values (an event's, or a line's peeked fields)."""
    if anonymous_id.__class__ is str and anonymous_id:
        return True, anonymous_id
    if isinstance(user_id, str):
        return False, user_id
    if isinstance(user_id, int | float) and not isinstance(user_id, bool):
        return False, number_key(user_id)
    return False, ""


def number_key(value: int | float) -> str:
    """String(Number(value)): a JSON number as the browser's JavaScript wrote it back."""
    try:
        return number_to_string(float(value))
    except OverflowError:  # beyond a double: JSON.parse gives ±Infinity
        return "Infinity" if value > 0 else "-Infinity"
