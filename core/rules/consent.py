"""Consent: whether RudderStack's JS SDK loaded the Sentry destination on a page
(docs/behaviour.md, "Consent").

The SDK decides once per page load, from the visitor's consent and the destination's consent
settings. A replay reads that consent from each event's
`context.consentManagement`. v3 runs the consent plugin named by the event's provider
(@rudderstack/analytics-js 3.34.1); v1.1 runs its OneTrust or Ketch class (rudder-sdk-js
2.52.21). Both fail open: a TypeError inside the check (a malformed config, an unexpected
consent shape) is caught by the SDK and the destination loads, and so it does here.

Test data: tests/data/consent-cases.json, made by running those two packages' own code
(tests/data/generators/consent.js).
"""

from dataclasses import dataclass
from typing import Any

from core.config import unweb
from core.js.value import UNDEFINED, is_truthy, js_get, js_trim
from core.rules.eventfilter import Semantics

PROVIDERS = frozenset({"oneTrust", "ketch", "iubenda", "custom"})
_OWN_STRATEGY = frozenset({"iubenda", "custom"})  # an entry's resolutionStrategy wins for these


class _JsTypeError(Exception):
    """What the JS code would throw (and the SDK catches): the destination loads."""


@dataclass(frozen=True, slots=True)
class ConsentSettings:
    """The destination's consent fields, as the SDK receives them (`{"web": X}` → X)."""

    generic: Any = UNDEFINED  # consentManagement
    one_trust: Any = UNDEFINED  # oneTrustCookieCategories (legacy)
    ketch: Any = UNDEFINED  # ketchConsentPurposes (legacy)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> "ConsentSettings":
        """From a destination config (or its CONSENT_FIELDS)."""
        return cls(
            unweb(raw.get("consentManagement", UNDEFINED)),
            unweb(raw.get("oneTrustCookieCategories", UNDEFINED)),
            unweb(raw.get("ketchConsentPurposes", UNDEFINED)),
        )

    def can_deny(self, semantics: Semantics) -> bool:
        """Whether any event could be denied under these settings (else consent is skipped)."""
        if semantics is Semantics.V3 and is_truthy(self.generic):
            return isinstance(self.generic, list) and bool(self.generic)
        return is_truthy(self.one_trust) or is_truthy(self.ketch)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the destination loaded; when not, which provider and consent refused it."""

    consented: bool
    detail: str = ""


CONSENTED = Verdict(True)


def consent_verdict(
    event: dict[str, Any], settings: ConsentSettings, semantics: Semantics
) -> Verdict:
    """The SDK's decision for the page this event was sent from."""
    context = event.get("context")
    manager = context.get("consentManagement") if isinstance(context, dict) else None
    if not isinstance(manager, dict):
        return CONSENTED  # no consent manager on the page: the SDK's `?? true`
    try:
        if semantics is Semantics.V1_1:
            return _v1_1(manager, settings)
        return _v3(manager, settings)
    except _JsTypeError:
        return CONSENTED


# --- v3: the consent plugins of @rudderstack/analytics-js ---------------------------------------


def _v3(manager: dict[str, Any], settings: ConsentSettings) -> Verdict:
    provider = manager.get("provider")
    if not isinstance(provider, str) or provider not in PROVIDERS:
        return CONSENTED  # no plugin for it
    allowed = manager.get("allowedConsentIds", UNDEFINED)
    if _is_empty(allowed) and _is_empty(manager.get("deniedConsentIds", UNDEFINED)):
        return CONSENTED  # the consent manager had not initialised
    if isinstance(allowed, dict):  # SDKs up to 3.0.0-beta.18: OneTrust {id: group name}
        allowed = [*allowed.keys(), *allowed.values()]
    strategy = manager.get("resolutionStrategy", UNDEFINED)
    generic = settings.generic
    if is_truthy(generic):
        entry = _find_provider(generic, provider)
        consents = js_get(entry, "consents")
        if not is_truthy(consents):
            return CONSENTED
        ids = _configured(consents, "consent")
        if provider in _OWN_STRATEGY:
            own = js_get(entry, "resolutionStrategy")
            strategy = strategy if own is None or own is UNDEFINED else own
        return _resolve(provider, "consentManagement", ids, allowed, strategy)
    if provider == "oneTrust" and is_truthy(settings.one_trust):
        ids = _configured(settings.one_trust, "oneTrustCookieCategory")
        return _resolve(provider, "oneTrustCookieCategories", ids, allowed, "and")
    if provider == "ketch" and is_truthy(settings.ketch):
        ids = _configured(settings.ketch, "purpose")
        return _resolve(provider, "ketchConsentPurposes", ids, allowed, "or")
    return CONSENTED


def _find_provider(entries: Any, provider: str) -> Any:
    """`entries.find(c => c.provider === provider)`."""
    if not isinstance(entries, list):
        raise _JsTypeError("consentManagement.find is not a function")
    for entry in entries:
        if _prop(entry, "provider") == provider:
            return entry
    return UNDEFINED


def _configured(items: Any, key: str) -> list[str]:
    """`items.map(c => c[key].trim()).filter(n => n)`."""
    if not isinstance(items, list):
        raise _JsTypeError("map is not a function")
    ids = []
    for item in items:
        value = _prop(item, key)
        if not isinstance(value, str):
            raise _JsTypeError("trim is not a function")
        value = js_trim(value)
        if value:
            ids.append(value)
    return ids


def _resolve(provider: str, field: str, ids: list[str], allowed: Any, strategy: Any) -> Verdict:
    """`or`: any granted (or none configured); anything else: all granted."""
    if strategy == "or":
        if not ids or any(_includes(allowed, i) for i in ids):
            return CONSENTED
        return Verdict(False, f"{provider}: none of {ids} granted ({field}, or)")
    for consent in ids:
        if not _includes(allowed, consent):
            return Verdict(False, f"{provider}: {consent!r} not granted ({field}, and)")
    return CONSENTED


def _includes(allowed: Any, consent: str) -> bool:
    """`allowed.includes(consent)`: an array's element, or a string's substring."""
    if isinstance(allowed, list | str):
        return consent in allowed
    raise _JsTypeError("allowedConsentIds.includes is not a function")


# --- v1.1: rudder-sdk-js's OneTrust and Ketch classes --------------------------------------------


def _v1_1(manager: dict[str, Any], settings: ConsentSettings) -> Verdict:
    """OneTrust when `oneTrustCookieCategories` is set, else Ketch when `ketchConsentPurposes`
    is (the page's manager is not in the event; OneTrust wins as the SDK's options pick it first).
    A dump holds only the denied ids: an id that is not denied counts as granted."""
    denied = manager.get("deniedConsentIds")
    denied = [d for d in denied if isinstance(d, str)] if isinstance(denied, list) else []
    if is_truthy(settings.one_trust):
        if not denied:
            return CONSENTED  # OneTrust had not initialised, or denied nothing
        refused = {d.upper() for d in denied}
        for category in _truthy_values(settings.one_trust, "oneTrustCookieCategory"):
            if not isinstance(category, str):
                raise _JsTypeError("toUpperCase is not a function")
            group = js_trim(category.upper())
            if not group or group in refused:
                return Verdict(False, f"oneTrust: {category!r} not granted (v1.1)")
        return CONSENTED
    purposes = settings.ketch
    if not is_truthy(purposes) or _length(purposes) == 0:
        return CONSENTED
    wanted = _truthy_values(purposes, "purpose")
    for purpose in wanted:
        if not isinstance(purpose, str):
            raise _JsTypeError("trim is not a function")
        if js_trim(purpose) and js_trim(purpose) not in denied:
            return CONSENTED
    return Verdict(False, f"ketch: none of {wanted} granted (v1.1)")


def _truthy_values(items: Any, key: str) -> list[Any]:
    """`items.map(c => c[key]).filter(n => n)`."""
    if not isinstance(items, list):
        raise _JsTypeError("map is not a function")
    return [value for value in (_prop(item, key) for item in items) if is_truthy(value)]


def _length(value: Any) -> Any:
    return len(value) if isinstance(value, list | str) else UNDEFINED


def _prop(value: Any, key: str) -> Any:
    """`value[key]`, throwing on null and undefined as JS does."""
    if value is None or value is UNDEFINED:
        raise _JsTypeError(f"cannot read properties of {value} (reading '{key}')")
    return js_get(value, key)


def _is_empty(value: Any) -> bool:
    """No consent ids at all: absent, null, or an empty list or object."""
    return value is None or value is UNDEFINED or (isinstance(value, list | dict) and not value)


# --- what `validate` says of each consent setting -------------------------------------------------


def consent_readings(settings: ConsentSettings) -> list[str]:
    """What each consent setting requires of a visitor before the SDK loads Sentry (v3 first)."""
    generic = settings.generic
    readings = []
    if is_truthy(generic):
        if not isinstance(generic, list):
            readings.append("consentManagement is not a list: the v3 check fails, Sentry loads")
        else:
            readings.extend(_entry_reading(i, entry) for i, entry in enumerate(generic))
    for name, value, rule in (
        ("oneTrustCookieCategories", settings.one_trust, ("oneTrustCookieCategory", "all of")),
        ("ketchConsentPurposes", settings.ketch, ("purpose", "any of")),
    ):
        if not is_truthy(value):
            continue
        provider = "OneTrust" if name.startswith("one") else "Ketch"
        v3 = "v1.1 only: v3 reads consentManagement" if is_truthy(generic) else "v3 and v1.1"
        try:
            ids = _configured(value, rule[0])
        except _JsTypeError:
            readings.append(f"{name} is malformed: the check fails, Sentry loads ({v3})")
            continue
        readings.append(
            f"{name}: with {provider}, Sentry loads when {rule[1]} {ids} granted ({v3})"
        )
    if not readings:
        return ["none: Sentry loads whatever the visitor chose"]
    return readings


def _entry_reading(index: int, entry: Any) -> str:
    where = f"consentManagement[{index}]"
    provider = js_get(entry, "provider")
    if entry is None:
        return f"{where} is null: the v3 check fails before it, Sentry loads"
    consents = js_get(entry, "consents")
    if not is_truthy(consents):
        return f"{where} ({provider}): no consents, Sentry loads"
    try:
        ids = _configured(consents, "consent")
    except _JsTypeError:
        return f"{where} ({provider}) is malformed: the v3 check fails, Sentry loads"
    if not ids:
        return f"{where} ({provider}): no consent ids, Sentry loads"
    own = js_get(entry, "resolutionStrategy")
    if provider in _OWN_STRATEGY and own is not None and own is not UNDEFINED:
        rule = "any of" if own == "or" else "all of"
        return f"{where} ({provider}): Sentry loads when {rule} {ids} granted (its {own!r}; v3)"
    return (
        f"{where} ({provider}): Sentry loads when all of {ids} granted "
        "(any of when the event's resolutionStrategy is 'or'; v3)"
    )
