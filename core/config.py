"""The Sentry destination config: shapes, selection, normalization, overrides
(docs/behaviour.md, "Configuration").

Shapes accepted: a bare `config` object, a destination entry, a sourceConfig response
(`{"source":{...}}`), a workspace config (`{"sources":[...]}`) and a multi-workspace map.
Normalization follows the SDKs' own (`convertObjectToArray` in rudder-sdk-js's utils):
`{"web": X}` → X, missing list → [], `{"ignoreErrors": "..."}` → its string, empty items dropped.
The event lists keep their items as given: a malformed item must stay malformed
(docs/behaviour.md, "Client-side event filtering").
"""

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from core.errors import ConfigError
from core.js.regex import Pattern, PatternSet, compile_js_regex, read_entry

PATTERN_LISTS = ("ignoreErrors", "allowUrls", "denyUrls")
STRING_FIELDS = ("dsn", "environment", "customVersionProperty", "release", "serverName", "logger")
CONSENT_FIELDS = ("consentManagement", "oneTrustCookieCategories", "ketchConsentPurposes")
SECRET_FIELDS = frozenset({"dsn"})  # config fields whose value is never echoed as given
_DSN_USERINFO = re.compile(r"(?<=:/)(/?)[^@/\s]*(?=@)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/+")


def mask_dsn(text: str) -> str:
    """The text with every DSN key in it (the userinfo before '@') replaced by '****'."""
    return _DSN_USERINFO.sub(r"\1****", text)


def mask_dsn_value(dsn: str) -> str:
    """A whole DSN with everything between its scheme and its last '@' replaced by '****',
    also when it does not parse (no scheme, one slash, a space or a newline in the key)."""
    at = dsn.rfind("@")
    if at < 0:
        return dsn
    scheme = _SCHEME.match(dsn)
    start = scheme.end() if scheme is not None else 0
    return dsn[:start] + "****" + dsn[at:] if at >= start else dsn


def shown_secret(value: Any) -> str:
    """How a secret field's value is echoed: a string with its DSN key masked, anything else
    by its JSON type alone (a list or object may hold a DSN anywhere, even in a key)."""
    if isinstance(value, str):
        return repr(mask_dsn_value(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an object" if isinstance(value, dict) else "an array"


def dsn_problem(dsn: str) -> str | None:
    """Why sentry-sdk cannot parse the DSN (the key masked), or None when it can."""
    from sentry_sdk.utils import BadDsn, Dsn  # sentry-sdk is slow to import; most paths skip it

    try:
        Dsn(dsn)
    except (BadDsn, ValueError) as exc:  # ValueError: urllib's port and IPv6 checks
        return f"the DSN {mask_dsn_value(dsn)!r} does not parse: {mask_dsn(str(exc))}"
    return None


@dataclass(frozen=True)
class DestinationConfig:
    """The effective, normalized config the engine runs on."""

    dsn: str = ""
    environment: str = ""
    release: str = ""
    custom_version_property: str = ""
    server_name: str = ""
    logger: str = ""
    ignore_errors: tuple[str, ...] = ()
    allow_urls: tuple[str, ...] = ()
    deny_urls: tuple[str, ...] = ()
    include_paths: tuple[str, ...] = ()
    debug_mode: bool = False
    event_filtering_option: Any = "disable"
    whitelisted_events: Any = field(default_factory=list)
    blacklisted_events: Any = field(default_factory=list)
    consent: dict[str, Any] = field(default_factory=dict)  # CONSENT_FIELDS as given (rules/consent)
    destination_id: str = ""
    destination_name: str = ""
    warnings: tuple[str, ...] = ()

    def pattern_lists(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The InboundFilters lists by their RudderStack names."""
        return (
            ("ignoreErrors", self.ignore_errors),
            ("allowUrls", self.allow_urls),
            ("denyUrls", self.deny_urls),
        )

    def to_json(self) -> dict[str, Any]:
        """The normalized config in RudderStack's key names, DSN key masked."""
        return {
            "dsn": mask_dsn_value(self.dsn),
            "environment": self.environment,
            "customVersionProperty": self.custom_version_property,
            "release": self.release,
            "serverName": self.server_name,
            "logger": self.logger,
            "ignoreErrors": list(self.ignore_errors),
            "allowUrls": list(self.allow_urls),
            "denyUrls": list(self.deny_urls),
            "includePaths": list(self.include_paths),
            "debugMode": self.debug_mode,
            "eventFilteringOption": self.event_filtering_option,
            "whitelistedEvents": self.whitelisted_events,
            "blacklistedEvents": self.blacklisted_events,
            **{key: unweb(value) for key, value in self.consent.items()},
        }


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace or extend config fields."""

    dsn: str | None = None
    environment: str | None = None
    release: str | None = None
    server_name: str | None = None
    logger: str | None = None
    ignore_errors: tuple[str, ...] = ()
    allow_urls: tuple[str, ...] = ()
    deny_urls: tuple[str, ...] = ()
    include_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedConfig:
    """A selected destination: its raw config object (for validation) and the normalized one."""

    raw: dict[str, Any]
    config: DestinationConfig


def read_config_file(path: str) -> Any:
    """The parsed JSON document at `path`."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: config is not valid JSON: {exc}") from exc


def load_config(path: str, destination: str | None = None) -> LoadedConfig:
    """Load `path` in any accepted shape and select its one Sentry destination."""
    document = read_config_file(path)
    raw, dest_id, dest_name = select_destination(document, destination, path)
    return LoadedConfig(raw, normalize(raw, dest_id, dest_name))


def select_destination(
    document: Any, wanted: str | None, path: str = "config"
) -> tuple[dict[str, Any], str, str]:
    """The raw config of the one enabled Sentry destination, with its id and name."""
    entries = _destination_entries(document)
    if entries is None:
        if not isinstance(document, dict):
            raise ConfigError(f"{path}: a config must be a JSON object")
        return document, "", ""
    sentry = [e for e in entries if _is_sentry(e)]
    enabled = [e for e in sentry if e.get("enabled") is not False]
    if wanted is not None:
        enabled = [e for e in enabled if wanted in (e.get("id"), e.get("name"))]
        if not enabled:
            raise ConfigError(f"{path}: no enabled Sentry destination with id or name {wanted!r}")
    if not enabled:
        disabled = len(sentry) - len(enabled)
        note = f" ({disabled} disabled)" if disabled else ""
        raise ConfigError(f"{path}: no enabled Sentry destination{note}")
    if len(enabled) > 1:
        ids = ", ".join(str(e.get("id") or e.get("name") or "?") for e in enabled)
        raise ConfigError(
            f"{path}: {len(enabled)} Sentry destinations ({ids}); pick one with --destination"
        )
    entry = enabled[0]
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: the Sentry destination has no config object")
    return config, str(entry.get("id") or ""), str(entry.get("name") or "")


def _destination_entries(document: Any) -> list[dict[str, Any]] | None:
    """All destination entries in a wrapped config, or None for a bare config object."""
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("sources"), list):
        return _from_sources(document["sources"])
    if isinstance(document.get("source"), dict):
        return _from_sources([document["source"]])
    if isinstance(document.get("destinations"), list):
        return _from_sources([document])
    if isinstance(document.get("config"), dict) and (
        "destinationDefinition" in document or "destinationDefinitionId" in document
    ):
        return [document]
    if document and all(
        isinstance(v, dict) and isinstance(v.get("sources"), list) for v in document.values()
    ):
        return [e for ws in document.values() for e in _from_sources(ws["sources"])]
    return None


def _from_sources(sources: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for source in sources:
        if isinstance(source, dict) and isinstance(source.get("destinations"), list):
            found.extend(d for d in source["destinations"] if isinstance(d, dict))
    return found


def _is_sentry(entry: dict[str, Any]) -> bool:
    definition = entry.get("destinationDefinition")
    if not isinstance(definition, dict):
        return "destinationDefinition" not in entry and isinstance(entry.get("config"), dict)
    return definition.get("name") == "SENTRY" or definition.get("displayName") == "Sentry"


def unweb(value: Any) -> Any:
    """`{"web": X}` → X: server-side configs keep source-type fields nested."""
    if isinstance(value, dict) and "web" in value:
        return value["web"]
    return value


def _is_empty(value: Any) -> bool:
    # ramda isEmpty, as convertObjectToArray uses it; null/undefined are dropped too
    return value is None or value in ("", [], {})


def string_entries(raw: dict[str, Any], key: str, warnings: list[str]) -> tuple[str, ...]:
    """A list field's string values: items `{key: "..."}` or plain strings, empties dropped."""
    value = unweb(raw.get(key))
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list, not {type(value).__name__}")
    entries: list[str] = []
    for index, item in enumerate(value):
        text = item.get(key) if isinstance(item, dict) else item
        if _is_empty(text):
            continue
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            warnings.append(f"{key}[{index}]: {text!r} is not a string and is ignored")
            continue
        entries.append(text if isinstance(text, str) else str(text))
    return tuple(entries)


def event_entries(raw: dict[str, Any], key: str) -> Any:
    """An event list with its items as given; a plain string item is `{"eventName": item}`."""
    value = unweb(raw.get(key))
    if value is None:
        return []
    if not isinstance(value, list):
        return value  # a non-list blocks everything (allowlist) or nothing (denylist)
    return [{"eventName": item} if isinstance(item, str) else item for item in value]


def _text(raw: dict[str, Any], key: str, warnings: list[str]) -> str:
    value = unweb(raw.get(key))
    if value is None:
        return ""
    if not isinstance(value, str):
        shown = shown_secret(value) if key in SECRET_FIELDS else repr(value)
        warnings.append(f"{key}: {shown} is not a string and is ignored")
        return ""
    return value


def normalize(raw: dict[str, Any], dest_id: str = "", dest_name: str = "") -> DestinationConfig:
    """The effective config of a raw destination `config` object."""
    warnings: list[str] = []
    texts = {key: _text(raw, key, warnings) for key in STRING_FIELDS}
    return DestinationConfig(
        dsn=texts["dsn"],
        environment=texts["environment"],
        release=texts["release"],
        custom_version_property=texts["customVersionProperty"],
        server_name=texts["serverName"],
        logger=texts["logger"],
        ignore_errors=string_entries(raw, "ignoreErrors", warnings),
        allow_urls=string_entries(raw, "allowUrls", warnings),
        deny_urls=string_entries(raw, "denyUrls", warnings),
        include_paths=string_entries(raw, "includePaths", warnings),
        debug_mode=unweb(raw.get("debugMode")) is True,
        event_filtering_option=unweb(raw.get("eventFilteringOption", "disable")),
        whitelisted_events=event_entries(raw, "whitelistedEvents"),
        blacklisted_events=event_entries(raw, "blacklistedEvents"),
        consent={key: raw[key] for key in CONSENT_FIELDS if key in raw},
        destination_id=dest_id,
        destination_name=dest_name,
        warnings=tuple(warnings),
    )


def apply_overrides(config: DestinationConfig, overrides: Overrides) -> DestinationConfig:
    """Command-line values replace scalar fields and extend the pattern lists."""
    changes: dict[str, Any] = {
        name: value
        for name in ("dsn", "environment", "release", "server_name", "logger")
        if (value := getattr(overrides, name)) is not None
    }
    for name in ("ignore_errors", "allow_urls", "deny_urls", "include_paths"):
        extra = tuple(v for v in getattr(overrides, name) if v)
        if extra:
            changes[name] = getattr(config, name) + extra
    return replace(config, **changes) if changes else config


def compile_patterns(entries: tuple[str, ...], field_name: str) -> tuple[PatternSet, list[str]]:
    """The entries as a PatternSet, plus a warning for each entry that is skipped."""
    patterns: list[Pattern] = []
    warnings: list[str] = []
    for entry in entries:
        pattern, warning = read_entry(entry)
        if pattern is None:
            warnings.append(f"{field_name}: {warning}")
        else:
            patterns.append(pattern)
    return PatternSet(patterns), warnings


def compile_include_paths(
    entries: tuple[str, ...],
) -> tuple[tuple[re.Pattern[str], ...], list[str]]:
    """includePaths as `new RegExp(path)` (no flags); ones that do not compile are skipped."""
    compiled: list[re.Pattern[str]] = []
    warnings: list[str] = []
    for entry in entries:
        try:
            compiled.append(compile_js_regex(entry))
        except ValueError as exc:
            warnings.append(
                f"includePaths: {entry!r} skipped (invalid, or JavaScript-only syntax): {exc}"
            )
    return tuple(compiled), warnings
