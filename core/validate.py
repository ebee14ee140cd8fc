"""`validate`: the Sentry destination schema (reference rudderstack-semantics.md §3.2) and the
warnings of SPEC §2.2 (how each filter entry will be read, and what will surprise a user)."""

import re
from typing import Any

from core.config import (
    PATTERN_LISTS,
    STRING_FIELDS,
    DestinationConfig,
    compile_include_paths,
    compile_patterns,
    dsn_problem,
    normalize,
    read_config_file,
    select_destination,
    unweb,
)
from core.errors import ConfigError
from core.js.regex import (
    SLASHED,
    js_to_python,
    js_units,
    looks_like_regex,
    nested_quantifier,
    read_entry,
)
from core.rules.consent import ConsentSettings, consent_readings

# `{{ expr || default }}` templates and `env.X` references are always accepted by the schema
TEMPLATE = r"(^\{\{.*\|\|(.*)\}\}$)|(^env[.].+)"
DSN_PATTERN = f"{TEMPLATE}|^(.{{1,300}})$"
ITEM_PATTERN = f"{TEMPLATE}|^(.{{0,100}})$"
URL_ITEM_PATTERN = f"{TEMPLATE}|^(?!.*\\.ngrok\\.io).*$"
FILTER_OPTIONS = ("disable", "whitelistedEvents", "blacklistedEvents")
CONSENT_PROVIDERS = ("custom", "iubenda", "ketch", "oneTrust")
LEGACY_CONSENT_LISTS = (
    ("oneTrustCookieCategories", "oneTrustCookieCategory"),
    ("ketchConsentPurposes", "purpose"),
)
DASHBOARD_REFUSES = "the dashboard's schema refuses this shape (replay reads it as the SDK would)"
KNOWN_KEYS = frozenset(
    {
        *STRING_FIELDS,
        *PATTERN_LISTS,
        "includePaths",
        "debugMode",
        "blacklistedEvents",
        "whitelistedEvents",
        "eventFilteringOption",
        "oneTrustCookieCategories",
        "consentManagement",
        "ketchConsentPurposes",
        "useNativeSDK",
        "connectionMode",
    }
)
ITEM_PATTERNS = {
    "ignoreErrors": ITEM_PATTERN,
    "includePaths": ITEM_PATTERN,
    "allowUrls": URL_ITEM_PATTERN,
    "denyUrls": URL_ITEM_PATTERN,
}
_COMPILED: dict[str, re.Pattern[str]] = {}


def _matches(pattern: str, value: str) -> bool:
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = re.compile(js_to_python(pattern))
    return compiled.search(js_units(value)) is not None


def schema_errors(raw: dict[str, Any]) -> list[str]:
    """Every way the raw destination config breaks the destination's JSON schema."""
    errors = [
        f"unknown key {key!r} (the schema allows no other keys)"
        for key in raw
        if key not in KNOWN_KEYS
    ]
    dsn = unweb(raw.get("dsn"))
    if dsn is None:
        errors.append("dsn is required")
    elif not isinstance(dsn, str) or not _matches(DSN_PATTERN, dsn):
        errors.append("dsn must be a string of 1 to 300 characters on one line")
    for key in STRING_FIELDS[1:]:
        value = unweb(raw.get(key))
        if value is not None and not isinstance(value, str):
            errors.append(f"{key} must be a string")
    for key in ("debugMode", "useNativeSDK"):
        value = unweb(raw.get(key))
        if value is not None and not isinstance(value, bool):
            errors.append(f"{key} must be a boolean")
    option = unweb(raw.get("eventFilteringOption"))
    if option is not None and option not in FILTER_OPTIONS:
        errors.append(f"eventFilteringOption must be one of {', '.join(FILTER_OPTIONS)}")
    connection = unweb(raw.get("connectionMode"))
    if connection is not None and connection != "device":
        errors.append("connectionMode must be 'device' (Sentry is device mode only)")
    for key, pattern in ITEM_PATTERNS.items():
        errors.extend(_list_errors(raw, key, key, pattern))
    for key in ("whitelistedEvents", "blacklistedEvents"):
        errors.extend(_list_errors(raw, key, "eventName", ITEM_PATTERN))
    errors.extend(consent_findings(raw)[0])
    return errors


def _list_errors(
    raw: dict[str, Any], key: str, item_key: str, pattern: str = ITEM_PATTERN
) -> list[str]:
    """An array whose object items may hold `item_key`, a string matching `pattern` (a plain
    string item is read as that string, as SPEC §4.1 allows)."""
    value = unweb(raw.get(key))
    if value is None:
        return []
    if not isinstance(value, list):
        return [f"{key} must be an array"]
    errors = []
    for index, item in enumerate(value):
        if isinstance(item, dict) and item_key not in item:
            continue  # the schema requires no key of an item
        text = item.get(item_key) if isinstance(item, dict) else item
        if not isinstance(text, str):
            errors.append(f"{key}[{index}].{item_key} must be a string")
        elif not _matches(pattern, text):
            errors.append(f"{key}[{index}].{item_key} does not match the schema pattern")
    return errors


def consent_findings(raw: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(errors, warnings) for the consent settings, as the dashboard's schema checks them:
    `provider` one of four, `resolutionStrategy` required (and `and`/`or`) for `custom` only,
    each `consents[].consent` a string of at most 100 characters. Item shapes the dashboard
    would refuse but the SDK still reads (a string where an object belongs) are warnings."""
    errors: list[str] = []
    warnings: list[str] = []
    for key, item_key in LEGACY_CONSENT_LISTS:
        errors.extend(_list_errors(raw, key, item_key))
        warnings.extend(_plain_items(raw, key, item_key))
    value = unweb(raw.get("consentManagement"))
    if value is None:
        return errors, warnings
    if not isinstance(value, list):
        return [*errors, "consentManagement must be an array"], warnings
    for index, item in enumerate(value):
        where = f"consentManagement[{index}]"
        if isinstance(item, str):
            warnings.append(f"{where} is a string, not an object: {DASHBOARD_REFUSES}")
        elif not isinstance(item, dict):
            errors.append(f"{where} must be an object")
        else:
            found = _consent_entry_errors(item, where)
            errors.extend(found)
            if not found:
                warnings.extend(_consent_entry_warnings(item, where))
    return errors, warnings


def _consent_entry_errors(item: dict[str, Any], where: str) -> list[str]:
    errors = []
    provider = item.get("provider")
    if "provider" in item and provider not in CONSENT_PROVIDERS:
        errors.append(f"{where}.provider must be one of {', '.join(CONSENT_PROVIDERS)}")
    if provider == "custom":
        strategy = item.get("resolutionStrategy")
        if strategy is None:
            errors.append(f"{where}.resolutionStrategy is required for the custom provider")
        elif strategy not in ("and", "or"):
            errors.append(f"{where}.resolutionStrategy must be 'and' or 'or'")
    consents = item.get("consents")
    if consents is None:
        return errors
    if not isinstance(consents, list):
        return [*errors, f"{where}.consents must be an array"]
    for number, consent in enumerate(consents):
        name = f"{where}.consents[{number}]"
        if not isinstance(consent, dict):
            errors.append(f"{name} must be an object {{'consent': string}}")
        elif "consent" in consent and not isinstance(consent["consent"], str):
            errors.append(f"{name}.consent must be a string")
        elif "consent" in consent and not _matches(ITEM_PATTERN, consent["consent"]):
            errors.append(f"{name}.consent does not match the schema pattern")
    return errors


def _consent_entry_warnings(item: dict[str, Any], where: str) -> list[str]:
    consents = item.get("consents")
    if not isinstance(consents, list):
        return []
    return [
        f"{where}.consents[{number}] has no 'consent': the SDK's consent check fails on it, "
        "and a failed check loads the destination for every visitor"
        for number, consent in enumerate(consents)
        if isinstance(consent, dict) and "consent" not in consent
    ]


def _plain_items(raw: dict[str, Any], key: str, item_key: str) -> list[str]:
    value = unweb(raw.get(key))
    if not isinstance(value, list):
        return []
    return [
        f"{key}[{index}] is a plain string, not {{{item_key!r}: ...}}: {DASHBOARD_REFUSES}"
        for index, item in enumerate(value)
        if isinstance(item, str)
    ]


def config_warnings(config: DestinationConfig, raw: dict[str, Any]) -> list[str]:
    """What will surprise a user of this config (SPEC §2.2)."""
    warnings = [*config.warnings, *consent_findings(raw)[1]]
    if config.debug_mode:
        warnings.append("debugMode is on: replays with this config are dry-runs, nothing is sent")
    if config.dsn and not _matches(TEMPLATE, config.dsn):
        problem = dsn_problem(config.dsn)
        if problem is not None:
            warnings.append(problem)
    for key, entries in config.pattern_lists():
        warnings.extend(compile_patterns(entries, key)[1])
        warnings.extend(
            f"{key}: {entry!r} looks like a regular expression but is matched literally "
            f"(write it as /pattern/ to use it as one)"
            for entry in entries
            if looks_like_regex(entry)
        )
        if entries == () and _has_items(raw, key):
            warnings.append(f"{key}: every entry is empty, so the list is empty")
    warnings.extend(compile_include_paths(config.include_paths)[1])
    warnings.extend(_backtracking_warnings(config))
    option = config.event_filtering_option
    if option == "whitelistedEvents" and not _named(config.whitelisted_events):
        warnings.append("the allowlist is empty: every track event will be filtered")
    if option == "blacklistedEvents" and not _named(config.blacklisted_events):
        warnings.append("the denylist is empty: nothing will be filtered")
    return warnings


def _backtracking_warnings(config: DestinationConfig) -> list[str]:
    """Regex entries shaped like `(a+)+`, which can backtrack for minutes on some inputs."""
    sources = [
        (key, entry, slashed.group(1))
        for key, entries in config.pattern_lists()
        for entry in entries
        if (slashed := SLASHED.match(entry)) is not None
    ]
    sources += [("includePaths", entry, entry) for entry in config.include_paths]
    return [
        f"{key}: {entry!r} repeats a group that itself repeats: it can backtrack for minutes "
        "on some inputs, and an event that runs over its time budget fails (regex_timeout)"
        for key, entry, source in sources
        if nested_quantifier(source)
    ]


def _has_items(raw: dict[str, Any], key: str) -> bool:
    value = unweb(raw.get(key))
    return isinstance(value, list) and bool(value)


def _named(items: Any) -> bool:
    return isinstance(items, list) and any(
        isinstance(i, dict) and isinstance(i.get("eventName"), str) and i["eventName"].strip()
        for i in items
    )


def entry_readings(config: DestinationConfig) -> list[dict[str, str]]:
    """How each filter entry will be read: substring, regex, or skipped."""
    readings = []
    for key, entries in config.pattern_lists():
        for entry in entries:
            pattern, _ = read_entry(entry)
            read_as = "skipped" if pattern is None else pattern.kind
            readings.append({"field": key, "entry": entry, "read_as": read_as})
    for entry in config.include_paths:
        skipped = bool(compile_include_paths((entry,))[1])
        read_as = "skipped" if skipped else "regex"
        readings.append({"field": "includePaths", "entry": entry, "read_as": read_as})
    return readings


def validate_file(path: str, destination: str | None = None) -> dict[str, Any]:
    """Load, select, check and normalize a config; the result `validate` prints."""
    raw, dest_id, dest_name = select_destination(read_config_file(path), destination, path)
    errors = schema_errors(raw)
    try:
        config = normalize(raw, dest_id, dest_name)
    except ConfigError as exc:
        errors.append(str(exc))
        config = DestinationConfig(destination_id=dest_id, destination_name=dest_name)
    return {
        "valid": not errors,
        "destination": {"id": dest_id, "name": dest_name},
        "errors": errors,
        "warnings": config_warnings(config, raw),
        "entries": entry_readings(config),
        "consent": consent_readings(ConsentSettings.from_raw(raw)),
        "config": config.to_json(),
    }
