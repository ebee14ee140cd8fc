"""@sentry/browser 6.13.1's `normalize(value, depth)`, which the client applies to `user`,
`contexts`, `extra` and each breadcrumb's `data` before sending (`normalizeDepth: 3`).

On JSON values it amounts to: below `depth` levels an object becomes "[Object]" and an array
"[Array]"; a key named `domainEmitter` (at any level) becomes "[DomainEmitter]"; an object under a
key `domain` with a truthy `_events`, or with `nativeEvent`, `preventDefault` and
`stopPropagation`, becomes "[Domain]" or "[SyntheticEvent]"; a `__proto__` key disappears (the
walk assigns it to its copy, which sets the copy's prototype). The JSON.stringify replacer that
runs the walk applies the key rule once more to every value it writes, hence "at any level".
Checked against the package itself: tests/data/sentry-browser-6.13.1.json.
"""

from typing import Any

from core.js.value import is_truthy

NORMALIZE_DEPTH = 3


def normalize(value: Any, depth: int = NORMALIZE_DEPTH) -> Any:
    """The value as 6.13.1's normalize(value, depth) returns it."""
    return _walk("", value, depth)


def _walk(key: str, value: Any, depth: int) -> Any:
    if key == "domainEmitter":
        return "[DomainEmitter]"
    if depth == 0:
        if value.__class__ is dict:
            return "[Object]"
        return "[Array]" if value.__class__ is list else value
    if value.__class__ is dict:
        if key == "domain" and is_truthy(value.get("_events")):
            return "[Domain]"
        if "nativeEvent" in value and "preventDefault" in value and "stopPropagation" in value:
            return "[SyntheticEvent]"
        return {k: _walk(k, v, depth - 1) for k, v in value.items() if k != "__proto__"}
    if value.__class__ is list:
        return [_walk("", item, depth - 1) for item in value]
    return value


def is_shallow(value: dict[str, Any]) -> bool:
    """Whether normalize leaves a flat object of scalars as it is (the usual user: no copy)."""
    for key, item in value.items():
        if item.__class__ is dict or item.__class__ is list or key in _SPECIAL_KEYS:
            return False
    return True


_SPECIAL_KEYS = frozenset({"domainEmitter", "__proto__"})
