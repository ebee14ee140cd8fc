"""The filter engine: one decision per event record, shared by replay, dry-run and validate.

Order per event (docs/behaviour.md, "Filtering"): consent → integrations object → client-side
event filtering → type handling → inbound filters and Dedupe (errors) → includePaths →
--max-age. The engine keeps what the browser's Sentry scope would hold per visitor (the current
user, the last N breadcrumbs and what Dedupe compares of the last error); it does no I/O.
"""

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from core.config import (
    DestinationConfig,
    compile_include_paths,
    compile_patterns,
)
from core.event.breadcrumbs import (
    CATEGORY_MASK,
    ID_SIZE,
    LEVEL_SHIFT,
    NAVIGATION,
    SENTRY_EVENT,
    SEVERITIES,
    TRACK,
    TextTable,
    append,
    breadcrumbs_json,
    event_description,
    evicted_word,
    micros,
    new_ring,
)
from core.event.error import (
    FrameCache,
    apply_include_paths,
    build_error_payload,
    error_event_names,
    is_error_event,
)
from core.event.fields import (
    IDENTIFY_FINGERPRINT,
    common_fields,
    navigation_target,
    page_url,
    release_for,
)
from core.event.ids import event_id
from core.event.normalize import is_shallow, normalize
from core.event.timestamps import event_time
from core.identity import visitor_key
from core.input.records import Record
from core.js.value import js_get
from core.outcome import Outcome
from core.rules.budget import BudgetExceededError
from core.rules.consent import ConsentSettings, Verdict, consent_verdict
from core.rules.dedupe import dedupe_keys, is_duplicate
from core.rules.eventfilter import (
    Semantics,
    destination_enabled,
    event_denied,
    fast_enabled,
    filtering_active,
)
from core.rules.identify import NoContextError, map_user
from core.rules.inbound import InboundFilters, inbound_decision
from core.rules.pageloads import NO_TIME, is_page_view, page_key, starts_page_load
from core.rules.sessions import Session, SessionItem
from core.rules.visitors import SENT_IS_CURRENT, Visitor, begin_page_load, digest, is_last_sent

DEFAULT_RETENTION_DAYS = 90.0  # Relay keeps an event's own time within the retention, else
# re-dates it to its arrival (docs/behaviour.md, "Retention")
SESSION_MAX_AGE_MS = 5 * 86_400_000  # Relay's max_session_secs_in_past: older sessions dropped
NO_SESSION = Session("", 0, "", "", None, None)  # a page load whose sessions are never sent


class Scope(StrEnum):
    """--scope: how long the browser's memory of user and breadcrumbs lasts."""

    PAGE = "page"  # one page load, as the browser keeps them
    VISITOR = "visitor"  # the visitor's whole history


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
    scope: Scope = Scope.PAGE
    retention_days: float = DEFAULT_RETENTION_DAYS


class Decision:
    """What happens to one event; `sentry_event` is set only when something is sent.
    Not to be changed once made (a plain class for a native constructor, as core.input's
    Record)."""

    __slots__ = ("detail", "kind", "older", "outcome", "rule", "sentry_event", "sessions")

    def __init__(
        self,
        outcome: Outcome,
        detail: str = "",
        sentry_event: dict[str, Any] | None = None,
        kind: str = "",  # "identify" or "error" when something is sent
        older: bool = False,  # older than the project's retention: Relay re-dates it
        sessions: list[SessionItem] | None = None,  # release-health items this event makes
        rule: str = "",  # the option (and entry) that decided a drop: what `diff` groups by
    ) -> None:
        self.outcome = outcome
        self.detail = detail
        self.sentry_event = sentry_event
        self.kind = kind
        self.older = older
        self.sessions = sessions
        self.rule = rule

    def __repr__(self) -> str:
        return f"Decision({self.outcome!r}, {self.detail!r}, kind={self.kind!r})"


# Shared decisions for the common outcomes when no --explain detail is wanted.
_PLAIN = {outcome: Decision(outcome) for outcome in Outcome}
_BREADCRUMB = _PLAIN[Outcome.BREADCRUMB]
_NAVIGATION_TYPES = frozenset({"page", "screen"})


class Engine:
    """Decides every record of a run, in input order; owns the per-visitor state.

    With `explain` off, decisions carry no detail text (nothing formats what nobody reads);
    with `rules` on they still name the rule that decided a drop (what `diff` counts by).
    """

    def __init__(
        self,
        config: DestinationConfig,
        options: EngineOptions,
        *,
        now: datetime,
        explain: bool = True,
        budget: AbstractContextManager[None] | None = None,
        rules: bool = False,
    ) -> None:
        self.config = config
        self.rules = rules or explain
        self.budget = budget or nullcontext()  # bounds the regex work of one error event
        self.options = options
        self.now = now
        self.explain = explain
        self.by_anonymous_id: dict[str, Visitor] = {}
        self.by_user_id: dict[str, Visitor] = {}  # and "" for events with neither id
        self.texts = TextTable()
        ignore, w1 = compile_patterns(config.ignore_errors, "ignoreErrors")
        deny, w2 = compile_patterns(config.deny_urls, "denyUrls")
        allow, w3 = compile_patterns(config.allow_urls, "allowUrls")
        self.filters = InboundFilters.from_patterns(ignore, deny, allow)
        self.include_paths, w4 = compile_include_paths(config.include_paths)
        self.warnings = [*w1, *w2, *w3, *w4]
        self.pattern_labels = {
            pattern.regex: f"{name} entry {pattern.entry!r}"
            for name, patterns in (
                ("ignoreErrors", ignore),
                ("denyUrls", deny),
                ("allowUrls", allow),
            )
            for pattern in patterns.patterns
            if pattern.regex is not None
        }
        self.pattern_labels.update(
            {regex: f"includePaths entry {regex.pattern!r}" for regex in self.include_paths}
        )
        self.error_names = error_event_names(options.error_events)
        self.max_age = (
            timedelta(days=options.max_age_days) if options.max_age_days is not None else None
        )
        self.base_tags = {"logger": config.logger} if config.logger else {}
        self.semantics = options.semantics
        self.filtering = filtering_active(config.event_filtering_option)
        self.crumb_limit = options.breadcrumbs
        self.frame_cache = FrameCache()
        self.consent = ConsentSettings.from_raw(config.consent)
        self.consent_active = self.consent.can_deny(self.semantics)
        self.own_scope = options.scope is Scope.PAGE
        self.retention = timedelta(days=options.retention_days)
        # release health: only a release can make a session the SDK sends
        self.sessions = bool(config.release or config.custom_version_property)
        self.now_ms = micros(now) // 1000
        self.session_max_age = SESSION_MAX_AGE_MS
        if options.max_age_days is not None:
            self.session_max_age = min(SESSION_MAX_AGE_MS, int(options.max_age_days * 86_400_000))
        self.sessions_too_old = 0  # session items not sent: started too long ago
        self._items: list[SessionItem] = []  # the session items of the event being decided

    def decide(self, record: Record) -> Decision:
        """The decision for one event record (never a rejected one)."""
        event = record.event
        assert event is not None
        visitor = self._visitor(event)
        time_us = crumb_time(event)
        moment = NO_TIME if time_us is None else time_us // 1000
        key = page_key(event)
        if starts_page_load(visitor.page, visitor.seen, key, moment):
            begin_page_load(visitor, key, self.own_scope)
        if moment != NO_TIME:
            visitor.seen = moment
        if self.consent_active:
            verdict = self._consent(visitor, event, key)
            if not verdict.consented:
                return self._decision(Outcome.CONSENT_DENIED, verdict.detail, verdict.detail)
        if self.sessions:
            self._track_sessions(visitor, event, moment)
        decision = self._decide_type(record, event, visitor, time_us, moment)
        items = self._items
        if not items:
            return decision
        self._items = []
        return Decision(
            decision.outcome,
            decision.detail,
            decision.sentry_event,
            decision.kind,
            decision.older,
            self._timely(items),
            decision.rule,
        )

    def _decide_type(
        self,
        record: Record,
        event: dict[str, Any],
        visitor: Visitor,
        time_us: int | None,
        moment: int,
    ) -> Decision:
        """Steps 2 to 7 (docs/behaviour.md, "Filtering") for an event whose page load loaded
        Sentry."""
        if not (fast_enabled(event, self.semantics)):
            enabled, why = destination_enabled(event, self.semantics)
            if not enabled:
                return self._decision(Outcome.DESTINATION_DISABLED, why, why)
        if self.filtering:
            cfg = self.config
            denied, why = event_denied(
                event,
                cfg.event_filtering_option,
                cfg.whitelisted_events,
                cfg.blacklisted_events,
                self.semantics,
            )
            if denied:
                rule = f"eventFilteringOption {cfg.event_filtering_option}"
                return self._decision(Outcome.EVENT_FILTERED, why, rule)
        kind = record.type
        if kind == "track":
            if is_error_event(event, self.error_names):
                return self._error(record, event, visitor, time_us, moment)
            name = event.get("event")
            text = name if name.__class__ is str else None
            self._crumb(visitor, time_us, TRACK, text)
            return Decision(Outcome.BREADCRUMB, f"track {name!r}") if self.explain else _BREADCRUMB
        if kind in _NAVIGATION_TYPES:
            target = navigation_target(event)
            self._crumb(visitor, time_us, NAVIGATION, target)
            if self.explain:
                return Decision(Outcome.BREADCRUMB, f"{kind} to {target!r}")
            return _BREADCRUMB
        if kind == "identify":
            return self._identify(record, event, visitor, moment)
        return self._decision(Outcome.NO_OP, f"{kind} does nothing for Sentry")

    def _consent(self, visitor: Visitor, event: dict[str, Any], key: int) -> Verdict:
        """The consent decision of the event's page load: made on a page view's first event,
        as the SDK decides once when it loads destinations; an event of no page view is decided
        on its own."""
        if not is_page_view(key):
            return consent_verdict(event, self.consent, self.semantics)
        rare = visitor.extras()
        verdict = rare.verdict
        if verdict is None:
            verdict = rare.verdict = consent_verdict(event, self.consent, self.semantics)
        return verdict

    def _track_sessions(self, visitor: Visitor, event: dict[str, Any], moment: int) -> None:
        """The page load's session: started on its first event that loaded Sentry, ended and
        started again at each history navigation but the first (core/rules/sessions.py)."""
        rare = visitor.extras()
        session = rare.session
        if session is None:
            session = rare.session = self._start_session(visitor, event, moment)
        url = page_url(event)
        if url.__class__ is not str or not url:
            return
        previous = rare.url
        rare.url = url
        if previous is None or previous == url or moment == NO_TIME:
            return
        rare.changes += 1
        if rare.changes >= 2 and session is not NO_SESSION:
            self._items.append(session.end(moment))
            rare.session = self._start_session(visitor, event, moment, session.release)

    def _start_session(
        self, visitor: Visitor, event: dict[str, Any], moment: int, release: str | None = None
    ) -> Session:
        """A new session (its init item queued), or NO_SESSION where none is sent: no string
        release, or no time to give it."""
        if release is None:
            release = release_for(event, self.config.custom_version_property, self.config.release)
        if not release or moment == NO_TIME:
            return NO_SESSION
        context = event.get("context")
        agent = context.get("userAgent") if context.__class__ is dict else None
        user = orjson.loads(visitor.user) if visitor.user is not None else None
        sid = event_id("session", event)
        session = Session(sid, moment, release, self.config.environment, agent, user)
        self._items.append(session.item())
        return session

    def _timely(self, items: list[SessionItem]) -> list[SessionItem]:
        """The items Relay takes: of sessions started within SESSION_MAX_AGE_MS (and
        --max-age); the others are counted."""
        kept = [item for item in items if self.now_ms - item.started_ms <= self.session_max_age]
        self.sessions_too_old += len(items) - len(kept)
        return kept

    def _decision(self, outcome: Outcome, detail: str, rule: str = "") -> Decision:
        if self.explain:
            return Decision(outcome, detail, rule=rule)
        if rule and self.rules:
            return Decision(outcome, rule=rule)
        return _PLAIN[outcome]

    @property
    def visitor_count(self) -> int:
        """Visitors seen so far (what the engine's memory grows with)."""
        return len(self.by_anonymous_id) + len(self.by_user_id)

    def _visitor(self, event: dict[str, Any]) -> Visitor:
        key = event.get("anonymousId")
        if key.__class__ is str and key:  # visitor_key's first case, inline: the usual one
            index = self.by_anonymous_id
        else:
            anonymous, key = visitor_key(event)
            index = self.by_anonymous_id if anonymous else self.by_user_id
        visitor = index.get(key)
        if visitor is None:
            visitor = index[key] = Visitor()
        return visitor

    def _crumb(
        self,
        visitor: Visitor,
        time_us: int | None,
        category: int,
        text: str | None,
        event_hex: str = "",
    ) -> None:
        """Add a breadcrumb to the visitor's scope (a sentry.event one carries its event id,
        and its level in `category`)."""
        limit = self.crumb_limit
        if limit <= 0:
            return
        word = category | self.texts.id_of(text)
        if visitor.crumbs is None:
            visitor.crumbs = new_ring(time_us, word)
        else:
            rare = visitor.rare
            if rare is not None and rare.event_ids:  # an overwritten sentry.event takes its id
                gone = evicted_word(visitor.crumbs, visitor.head, limit)
                if gone is not None and gone & CATEGORY_MASK == SENTRY_EVENT:
                    rare.event_ids = rare.event_ids[ID_SIZE:]
            visitor.crumbs, visitor.head = append(
                visitor.crumbs, visitor.head, limit, time_us, word
            )
        if event_hex:
            visitor.extras().event_ids += bytes.fromhex(event_hex)

    def _identify(
        self, record: Record, event: dict[str, Any], visitor: Visitor, moment: int
    ) -> Decision:
        try:
            user = map_user(event)
        except NoContextError:
            return self._decision(Outcome.IDENTIFY_NO_CONTEXT, "context is missing or null")
        if user is None:
            return self._decision(Outcome.IDENTIFY_DROPPED, "no userId, email, name or ip_address")
        rare = visitor.rare
        if rare is not None and rare.session is not None and rare.session is not NO_SESSION:
            rare.session.set_user(user, moment)  # Scope.setUser updates the session
        if not is_shallow(user):
            user = normalize(user)  # as the browser sends it (normalizeDepth 3)
        # canonical (sorted) JSON: compact to keep, and what "the user changed" compares.
        # orjson's result holds a 4 KiB allocation whatever its length: keep an exact copy.
        user_json = orjson.dumps(user, option=orjson.OPT_SORT_KEYS)
        current = visitor.user
        if current is None or user_json != current:
            if visitor.sent is SENT_IS_CURRENT:
                assert current is not None
                visitor.sent = digest(current)  # the user being replaced was the last sent
            visitor.user = bytes(memoryview(user_json))
        mode = self.options.identify_events
        if mode is IdentifyMode.NONE:
            return self._decision(Outcome.USER_SET, _describe_user(user) if self.explain else "")
        if mode is IdentifyMode.CHANGED and is_last_sent(visitor):
            visitor.sent = SENT_IS_CURRENT
            detail = _describe_user(user) if self.explain else ""
            return self._decision(Outcome.IDENTIFY_UNCHANGED, detail)
        sentry, timestamp = self._common(
            record, event, "identify", {"rudderstack.type": "identify"}
        )
        sentry.update(
            level="info", message="identify", fingerprint=list(IDENTIFY_FINGERPRINT), user=user
        )
        detail = _describe_user(user) if self.explain else ""
        decision = self._sendable(sentry, timestamp, "identify", detail)
        if decision.sentry_event is not None:
            visitor.sent = SENT_IS_CURRENT
        return decision

    def label(self, exceeded: BudgetExceededError) -> str:
        """What ran over an event's budget: a config entry, or the 6.13.1 stack parsers."""
        pattern = exceeded.pattern
        if pattern is not None and pattern in self.pattern_labels:
            return self.pattern_labels[pattern]
        return f"the 6.13.1 stack parsers (in {exceeded.function})"

    def _error(
        self,
        record: Record,
        event: dict[str, Any],
        visitor: Visitor,
        time_us: int | None,
        moment: int,
    ) -> Decision:
        with self.budget:  # the regexes: TraceKit's, the filters', includePaths'
            payload = build_error_payload(event, self.frame_cache)
            dropped, why, rule = inbound_decision(payload, self.filters)
            if dropped is None:
                apply_include_paths(payload, self.include_paths)
        if dropped is not None:
            return self._decision(dropped, why, rule)
        keys = dedupe_keys(payload)
        rare = visitor.extras()
        if is_duplicate(keys, rare.last_error):
            detail = "same as this page load's previous error"
            return self._decision(Outcome.DEDUPLICATED, detail, "Dedupe")
        rare.last_error = keys
        tags = {**payload.pop("tags", {}), "rudderstack.type": "track"}
        sentry, timestamp = self._common(record, event, "error", tags)
        sentry.update(payload)
        # both are kept as JSON already: spliced into the payload as they are
        if visitor.user is not None:
            sentry["user"] = orjson.Fragment(visitor.user)
        if visitor.crumbs:
            values = breadcrumbs_json(visitor.crumbs, visitor.head, self.texts, rare.event_ids)
            sentry["breadcrumbs"] = {"values": orjson.Fragment(values)}
        # the browser's Breadcrumbs integration records the event it sends (in the scope, so
        # the visitor's next events carry it); --max-age is the tool's and does not undo that
        level = SEVERITIES.index(sentry["level"]) << LEVEL_SHIFT
        description = event_description(sentry)
        self._crumb(visitor, time_us, SENTRY_EVENT | level, description, sentry["event_id"])
        session = rare.session
        if session is not None and session is not NO_SESSION:
            # the browser sent it: its session is updated, whatever --max-age decides below
            item = session.after_event(js_get(sentry.get("exception"), "values"), moment)
            if item is not None:
                self._items.append(item)
        detail = _describe_error(sentry) if self.explain else ""
        return self._sendable(sentry, timestamp, "error", detail)

    def _common(
        self, record: Record, event: dict[str, Any], kind: str, tags: dict[str, str]
    ) -> tuple[dict[str, Any], datetime | None]:
        cfg = self.config
        timestamp = event_time(event, record.created_at)
        sentry = common_fields(
            event,
            event_id_hex=event_id(kind, event),
            timestamp=timestamp,
            source=record.where(),
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
            return self._decision(Outcome.TOO_OLD, f"{age.days} days old", "--max-age")
        old = age is not None and age > self.retention
        return Decision(Outcome.WOULD_SEND, detail, sentry, kind, old)


def crumb_time(event: dict[str, Any]) -> int | None:
    """A breadcrumb's time in microseconds since the epoch (None when no candidate parses)."""
    value = event.get("originalTimestamp")
    if value.__class__ is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return micros(moment)
    fallback = event_time(event, None)
    return micros(fallback) if fallback is not None else None


def _describe_user(user: dict[str, Any]) -> str:
    parts = [f"{key}={user[key]!r}" for key in ("id", "email", "username") if key in user]
    return "user " + (" ".join(parts) if parts else f"with {len(user)} traits")


def _describe_error(sentry: dict[str, Any]) -> str:
    values = sentry.get("exception", {}).get("values") if "exception" in sentry else None
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return f"error {values[0].get('type')}: {values[0].get('value')}"[:120]
    return f"error message {sentry.get('message')!r}"[:120]
