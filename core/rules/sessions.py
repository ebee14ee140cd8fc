"""Release-health sessions, as @sentry/browser 6.13.1 sends them (docs/behaviour.md,
"Release health: sessions"; checked against tests/data/sentry-sessions-6.13.1.json, made by
running the SDK).

RudderStack initialises 6.13.1 without `autoSessionTracking`, so it is on:
- `startSessionTracking` (@sentry/browser sdk.ts) starts a session when the page loads and at
  every history navigation but the page's first (the instrumentation's `lastHref` starts
  undefined, and a navigation `from` undefined starts none); `Hub.startSession` first ends the
  current one: an `ok` session becomes `exited`, and it is sent once more, whatever its status;
- `Scope.setUser` updates the session: `did` from the first user whose `id || email ||
  username` is set, `ip_address` likewise, the timestamp; nothing is sent;
- `BaseClient._updateSessionFromEvent`: an event that is sent (after every filter) updates an
  `ok` session that has no error yet (errors = 1 when it has an exception, 0 for a message), or
  any `ok` session when one of its exceptions is unhandled (`crashed`); the update is sent;
- `BaseClient.captureSession` sends only when the release is a string (RudderStack passes
  `release || null`), then sets `init` false; `Session.toJSON` is the item's payload.
Times are the events' (the SDK's clock), in milliseconds.
"""

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from core.event.ids import uuid5_hex
from core.js.value import UNDEFINED, is_truthy, js_or, js_string

OK: Final = "ok"
EXITED: Final = "exited"
CRASHED: Final = "crashed"


class SessionItem:
    """One session update to send: its ledger id, its JSON, when it happened and when its
    session started (Relay drops sessions started too long ago). Plain, as Record."""

    __slots__ = ("item_id", "moment_ms", "payload", "started_ms")

    def __init__(self, item_id: str, payload: bytes, moment_ms: int, started_ms: int) -> None:
        self.item_id = item_id
        self.payload = payload
        self.moment_ms = moment_ms
        self.started_ms = started_ms


class Session:
    """@sentry/hub 6.13.1's Session, for one page load; `sent` counts the items made, which
    numbers them (a re-run makes the same items with the same ids)."""

    __slots__ = (
        "did",
        "environment",
        "errors",
        "init",
        "ip_address",
        "release",
        "sent",
        "sid",
        "started_ms",
        "status",
        "timestamp_ms",
        "user_agent",
    )

    def __init__(
        self,
        sid: str,
        started_ms: int,
        release: str,
        environment: str,
        user_agent: Any,
        user: dict[str, Any] | None,
    ) -> None:
        self.sid = sid
        self.started_ms = started_ms
        self.timestamp_ms = started_ms
        self.release = release
        self.environment = environment
        self.user_agent = user_agent
        self.status = OK
        self.errors = 0
        self.init = True
        self.did: Any = UNDEFINED
        self.ip_address: Any = UNDEFINED
        self.sent = 0
        if user is not None:
            self.set_user(user, started_ms)

    def set_user(self, user: dict[str, Any], moment_ms: int) -> None:
        """`Scope.setUser` → `session.update({user})`."""
        if not is_truthy(self.ip_address) and is_truthy(user.get("ip_address", UNDEFINED)):
            self.ip_address = user["ip_address"]
        if not is_truthy(self.did):
            self.did = js_or(
                user.get("id", UNDEFINED),
                user.get("email", UNDEFINED),
                user.get("username", UNDEFINED),
            )
        self.timestamp_ms = moment_ms

    def after_event(self, exceptions: Any, moment_ms: int) -> SessionItem | None:
        """`_updateSessionFromEvent` for an event sent at `moment_ms` whose
        `exception.values` is `exceptions` (UNDEFINED for none): the update to send, if any."""
        errored = crashed = False
        if is_truthy(exceptions):
            errored = True
            if isinstance(exceptions, list):
                crashed = any(_unhandled(value) for value in exceptions)
        if self.status != OK or (self.errors != 0 and not crashed):
            return None
        if crashed:
            self.status = CRASHED
        self.errors = self.errors or int(errored or crashed)
        self.timestamp_ms = moment_ms
        return self.item()

    def end(self, moment_ms: int) -> SessionItem:
        """`Hub.startSession` ending this one: `ok` becomes `exited`; sent again in any case."""
        if self.status == OK:
            self.status = EXITED
        self.timestamp_ms = moment_ms
        return self.item()

    def item(self) -> SessionItem:
        """`captureSession`: this session's JSON as it is now (then `init` is false)."""
        attrs: dict[str, Any] = {"release": self.release}
        if self.environment:
            attrs["environment"] = self.environment
        if is_truthy(self.ip_address):
            attrs["ip_address"] = self.ip_address
        if is_truthy(self.user_agent):
            attrs["user_agent"] = self.user_agent
        payload: dict[str, Any] = {
            "sid": self.sid,
            "init": self.init,
            "started": iso_ms(self.started_ms),
            "timestamp": iso_ms(self.timestamp_ms),
            "status": self.status,
            "errors": self.errors,
        }
        did = self.did
        if did.__class__ is str or (isinstance(did, int | float) and not isinstance(did, bool)):
            payload["did"] = js_string(did)
        payload["attrs"] = attrs
        item_id = uuid5_hex(f"session:{self.sid}:{self.sent}")
        self.sent += 1
        self.init = False
        return SessionItem(item_id, orjson.dumps(payload), self.timestamp_ms, self.started_ms)


def _unhandled(value: Any) -> bool:
    """`mechanism && mechanism.handled === false`."""
    mechanism = value.get("mechanism") if isinstance(value, dict) else None
    return isinstance(mechanism, dict) and mechanism.get("handled", UNDEFINED) is False


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def moment_of(moment_ms: int) -> datetime:
    """An epoch time in milliseconds as an aware UTC datetime (exact: no float on the way)."""
    return _EPOCH + timedelta(milliseconds=moment_ms)


def iso_ms(moment_ms: int) -> str:
    """`new Date(ms).toISOString()`: UTC, milliseconds, "Z"."""
    return moment_of(moment_ms).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"
