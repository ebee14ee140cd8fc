"""`validate`: the destination config checked against the RudderStack dashboard's own schema
(core/data/sentry-destination-schema.json, rudder-integrations-config's
src/configurations/destinations/sentry/schema.json, evaluated as its Ajv validator does), and
what will surprise a user of it: how each filter entry will be read, entries that do nothing,
consent settings that load Sentry for everyone (docs/behaviour.md, "Configuration").

A shape the dashboard refuses is invalid (exit 2), with the schema's reason; where the SDK would
still read it (a plain list of strings, `X` where `{"web": X}` belongs), replay reads it so, and
the result says that too.
"""

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.config import (
    SECRET_FIELDS,
    DestinationConfig,
    compile_include_paths,
    compile_patterns,
    dsn_problem,
    normalize,
    read_config_file,
    select_destination,
    shown_secret,
    unweb,
)
from core.errors import ConfigError
from core.js.regex import SLASHED, js_to_python, looks_like_regex, nested_quantifier, read_entry
from core.rules.consent import ConsentSettings, consent_readings

SCHEMA_FILE = Path(__file__).parent / "data" / "sentry-destination-schema.json"
# `{{ expr || default }}` templates and `env.X` references: the dashboard fills them in later
TEMPLATE = r"(^\{\{.*\|\|(.*)\}\}$)|(^env[.].+)"
READ_ANYWAY = "replay reads it as the SDK would"
_COMPILED: dict[str, re.Pattern[str]] = {}


def _search(pattern: str, value: str) -> bool:
    """Ajv's `new RegExp(pattern, "u").test(value)`. The schema's patterns use no construct
    whose meaning the u flag changes but `.`, which then takes one code point: so the JS
    source, translated, is searched in the string's code points (Python's own)."""
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = re.compile(js_to_python(pattern))
    return compiled.search(value) is not None


@functools.cache
def _validator() -> Any:
    """The schema's validator: JSON Schema draft-07 (jsonschema), with Ajv's patterns."""
    import jsonschema  # validate alone needs it: replay never imports it

    def pattern(validator: Any, regex: str, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, str) and not _search(regex, instance):
            yield jsonschema.ValidationError(f"{instance[:60]!r} does not match {regex!r}")

    draft7 = jsonschema.Draft7Validator
    kind = jsonschema.validators.extend(draft7, {"pattern": pattern})  # type: ignore[no-untyped-call]
    return kind(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def schema_errors(raw: dict[str, Any]) -> list[str]:
    """Every way the raw destination config breaks the dashboard's schema, one line each:
    where (a JSON pointer into the config) and why."""
    found = sorted(_validator().iter_errors(raw), key=lambda error: list(error.absolute_path))
    return [f"/{'/'.join(map(str, error.absolute_path))}: {_why(error)}" for error in found]


def _why(error: Any) -> str:
    """The validator's message, or for a secret field one that never quotes the value as given."""
    path = error.absolute_path
    if not path or path[0] not in SECRET_FIELDS:
        return str(error.message)
    shown = shown_secret(error.instance)
    if error.validator == "type":
        return f"{shown} is not of type {error.validator_value!r}"
    if error.validator == "pattern":
        return f"{shown} does not match {error.validator_value!r}"
    return f"{shown} breaks the schema's {error.validator!r} rule"


def read_anyway(raw: dict[str, Any]) -> list[str]:
    """The shapes the dashboard refuses that the SDK, and so replay, still reads."""
    notes = []
    for key in ("ignoreErrors", "includePaths", "allowUrls", "denyUrls", "whitelistedEvents",
                "blacklistedEvents", "oneTrustCookieCategories", "ketchConsentPurposes",
                "consentManagement", "useNativeSDK", "connectionMode"):  # fmt: skip
        value = raw.get(key)
        if isinstance(value, dict) and "web" in value and key not in _WEB_WRAPPED:
            notes.append(f"{key} is {{'web': ...}}: {READ_ANYWAY}, unwrapped")
        elif key in _WEB_WRAPPED and value is not None and not isinstance(value, dict):
            notes.append(f"{key} is not {{'web': ...}}: {READ_ANYWAY}")
        items = unweb(value)
        if isinstance(items, list) and any(isinstance(item, str) for item in items):
            notes.append(f"{key} holds plain strings, not objects: {READ_ANYWAY}")
    return notes


_WEB_WRAPPED = frozenset(
    {
        "oneTrustCookieCategories",
        "ketchConsentPurposes",
        "consentManagement",
        "useNativeSDK",
        "connectionMode",
    }
)


def consent_warnings(raw: dict[str, Any]) -> list[str]:
    """Consent settings the SDK's check fails on, which loads Sentry for every visitor."""
    value = unweb(raw.get("consentManagement"))
    if not isinstance(value, list):
        return []
    return [
        f"consentManagement[{index}].consents[{number}] has no 'consent': the SDK's consent "
        "check fails on it, and a failed check loads the destination for every visitor"
        for index, item in enumerate(value)
        if isinstance(item, dict) and isinstance(item.get("consents"), list)
        for number, consent in enumerate(item["consents"])
        if isinstance(consent, dict) and "consent" not in consent
    ]


def config_warnings(config: DestinationConfig, raw: dict[str, Any]) -> list[str]:
    """What will surprise a user of this config."""
    warnings = [*config.warnings, *consent_warnings(raw), *read_anyway(raw)]
    if config.debug_mode:
        warnings.append("debugMode is on: replays with this config are dry-runs, nothing is sent")
    if config.dsn and not _search(TEMPLATE, config.dsn):
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
