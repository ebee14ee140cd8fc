"""The filter engine: one decision per event record, shared by replay, dry-run and validate.

Order per event (SPEC §6): integrations object → client-side event filtering → type handling →
inbound filters (errors) → includePaths → --max-age. The engine keeps what the browser's Sentry
scope would hold per visitor (the current user and the last N breadcrumbs); it does no I/O.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from core.config import DestinationConfig, compile_include_paths, compile_patterns
from core.eventfilter import Semantics, destination_enabled, event_denied
from core.inbound import InboundFilters, inbound_decision
from core.mapping import (
    IDENTIFY_FINGERPRINT,
    apply_include_paths,
    build_error_payload,
    common_fields,
    error_event_names,
    event_id,
    event_time,
    event_timestamp,
    format_timestamp,
    is_error_event,
    navigation_target,
    parse_timestamp,
    release_for,
)
from core.outcome import Outcome
from core.reader import Record
from core.user import NoContextError, map_user

SENTRY_RETIMESTAMP_AGE = timedelta(days=30)  # Relay max_secs_in_past (reference peers §4.1)


class IdentifyMode(StrEnum):
    """--identify-events: when a kept identify becomes a user-context event."""

    CHANGED = "changed"
    ALL = "all"
    NONE = "none"


@dataclass(frozen=True)
class EngineOptions:
    """Engine settings that come from the command line, not the destination config."""

    semantics: Semantics = Semantics.V3
    identify_events: IdentifyMode = IdentifyMode.CHANGED
    error_events: tuple[str, ...] = ()
    breadcrumbs: int = 100
    max_age_days: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one event; `sentry_event` is set only when something is sent."""

    outcome: Outcome
    detail: str = ""
    sentry_event: dict[str, Any] | None = None
    kind: str = ""  # "identify" or "error" when something is sent
    older_than_30_days: bool = False


# A breadcrumb kept compactly until an error event needs it: (timestamp, category, text).
Crumb = tuple[Any, str, str | None]


class Visitor:
    """What the browser's Sentry scope holds for one visitor."""

    __slots__ = ("crumbs", "sent_digest", "user")

    def __init__(self) -> None:
        self.user: dict[str, Any] | None = None
        self.sent_digest: bytes | None = None
        self.crumbs: list[Crumb] = []


def visitor_key(event: dict[str, Any]) -> str:
    """anonymousId, else userId (a number counts, as its string), else one shared bucket."""
    anonymous_id = event.get("anonymousId")
    if isinstance(anonymous_id, str) and anonymous_id:
        return "a:" + anonymous_id
    user_id = event.get("userId")
    if isinstance(user_id, str) and user_id:
        return "u:" + user_id
    if isinstance(user_id, int | float) and not isinstance(user_id, bool):
        return "u:" + str(user_id)
    return ""


def _digest(user: dict[str, Any]) -> bytes:
    return hashlib.blake2b(orjson.dumps(user, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


class Engine:
    """Decides every record of a run, in input order; owns the per-visitor state."""

    def __init__(self, config: DestinationConfig, options: EngineOptions, *, now: datetime) -> None:
        self.config = config
        self.options = options
        self.now = now
        self.visitors: dict[str, Visitor] = {}
        ignore, w1 = compile_patterns(config.ignore_errors, "ignoreErrors")
        deny, w2 = compile_patterns(config.deny_urls, "denyUrls")
        allow, w3 = compile_patterns(config.allow_urls, "allowUrls")
        self.filters = InboundFilters.from_patterns(ignore, deny, allow)
        self.include_paths, w4 = compile_include_paths(config.include_paths)
        self.warnings = [*w1, *w2, *w3, *w4]
        self.error_names = error_event_names(options.error_events)
        self.max_age = (
            timedelta(days=options.max_age_days) if options.max_age_days is not None else None
        )
        self.base_tags = {"logger": config.logger} if config.logger else {}

    def decide(self, record: Record) -> Decision:
        """The decision for one event record (never a rejected one)."""
        event = record.event
        assert event is not None
        enabled, why = destination_enabled(event, self.options.semantics)
        if not enabled:
            return Decision(Outcome.DESTINATION_DISABLED, why)
        cfg = self.config
        denied, why = event_denied(
            event,
            cfg.event_filtering_option,
            cfg.whitelisted_events,
            cfg.blacklisted_events,
            self.options.semantics,
        )
        if denied:
            return Decision(Outcome.EVENT_FILTERED, why)
        kind = record.type
        if kind == "identify":
            return self._identify(record, event)
        if kind == "track":
            if is_error_event(event, self.error_names):
                return self._error(record, event)
            name = event.get("event")
            self._crumb(event, "rudderstack.track", name if isinstance(name, str) else None)
            return Decision(Outcome.BREADCRUMB, f"track {name!r}")
        if kind in ("page", "screen"):
            target = navigation_target(event)
            self._crumb(event, "navigation", target)
            return Decision(Outcome.BREADCRUMB, f"{kind} to {target!r}")
        return Decision(Outcome.NO_OP, f"{kind} does nothing for Sentry")

    def _visitor(self, event: dict[str, Any]) -> Visitor:
        key = visitor_key(event)
        visitor = self.visitors.get(key)
        if visitor is None:
            visitor = self.visitors[key] = Visitor()
        return visitor

    def _crumb(self, event: dict[str, Any], category: str, text: str | None) -> None:
        limit = self.options.breadcrumbs
        if limit <= 0:
            return
        crumbs = self._visitor(event).crumbs
        crumbs.append((event_timestamp(event, None), category, text))
        if len(crumbs) >= 2 * limit:  # trim in batches: amortized O(1) per breadcrumb
            del crumbs[:-limit]

    def _identify(self, record: Record, event: dict[str, Any]) -> Decision:
        try:
            user = map_user(event)
        except NoContextError:
            return Decision(Outcome.IDENTIFY_NO_CONTEXT, "context is missing or null")
        if user is None:
            return Decision(Outcome.IDENTIFY_DROPPED, "no userId, email, name or ip_address")
        visitor = self._visitor(event)
        visitor.user = user
        mode = self.options.identify_events
        if mode is IdentifyMode.NONE:
            return Decision(Outcome.USER_SET, _describe_user(user))
        digest = _digest(user)
        if mode is IdentifyMode.CHANGED and digest == visitor.sent_digest:
            return Decision(Outcome.IDENTIFY_UNCHANGED, _describe_user(user))
        sentry, timestamp = self._common(
            record, event, "identify", {"rudderstack.type": "identify"}
        )
        sentry.update(
            level="info", message="identify", fingerprint=list(IDENTIFY_FINGERPRINT), user=user
        )
        decision = self._sendable(sentry, timestamp, "identify", _describe_user(user))
        if decision.sentry_event is not None:
            visitor.sent_digest = digest
        return decision

    def _error(self, record: Record, event: dict[str, Any]) -> Decision:
        payload = build_error_payload(event)
        dropped, why = inbound_decision(payload, self.filters)
        if dropped is not None:
            return Decision(dropped, why)
        apply_include_paths(payload, self.include_paths)
        tags = {**payload.pop("tags", {}), "rudderstack.type": "track"}
        sentry, timestamp = self._common(record, event, "error", tags)
        sentry.update(payload)
        visitor = self._visitor(event)
        if visitor.user is not None:
            sentry["user"] = visitor.user
        crumbs = self._breadcrumbs(visitor)
        if crumbs:
            sentry["breadcrumbs"] = {"values": crumbs}
        return self._sendable(sentry, timestamp, "error", _describe_error(sentry))

    def _common(
        self, record: Record, event: dict[str, Any], kind: str, tags: dict[str, str]
    ) -> tuple[dict[str, Any], datetime | None]:
        cfg = self.config
        timestamp = event_time(event, record.created_at)
        sentry = common_fields(
            event,
            event_id_hex=event_id(kind, event),
            timestamp=timestamp,
            source=f"{record.source}:{record.line}",
            environment=cfg.environment,
            release=release_for(event, cfg.custom_version_property, cfg.release),
            server_name=cfg.server_name,
            tags={**self.base_tags, **tags},
        )
        return sentry, timestamp

    def _sendable(
        self, sentry: dict[str, Any], timestamp: datetime | None, kind: str, detail: str
    ) -> Decision:
        age = self.now - timestamp if timestamp is not None else None
        if self.max_age is not None and age is not None and age > self.max_age:
            return Decision(Outcome.TOO_OLD, f"{age.days} days old")
        old = age is not None and age > SENTRY_RETIMESTAMP_AGE
        return Decision(Outcome.WOULD_SEND, detail, sentry, kind, old)

    def _breadcrumbs(self, visitor: Visitor) -> list[dict[str, Any]]:
        limit = self.options.breadcrumbs
        if limit <= 0 or not visitor.crumbs:
            return []
        result = []
        for raw_time, category, text in visitor.crumbs[-limit:]:
            crumb: dict[str, Any] = {"category": category, "level": "info"}
            moment = parse_timestamp(raw_time)
            if moment is not None:
                crumb["timestamp"] = format_timestamp(moment)
            if category == "navigation":
                crumb["type"] = "navigation"
                if text is not None:
                    crumb["data"] = {"to": text}
            else:
                crumb["type"] = "default"
                if text is not None:
                    crumb["message"] = text
            result.append(crumb)
        return result


def _describe_user(user: dict[str, Any]) -> str:
    parts = [f"{key}={user[key]!r}" for key in ("id", "email", "username") if key in user]
    return "user " + (" ".join(parts) if parts else f"with {len(user)} traits")


def _describe_error(sentry: dict[str, Any]) -> str:
    values = sentry.get("exception", {}).get("values") if "exception" in sentry else None
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return f"error {values[0].get('type')}: {values[0].get('value')}"[:120]
    return f"error message {sentry.get('message')!r}"[:120]
