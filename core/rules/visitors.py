"""Per-visitor state: what the browser's Sentry scope holds for one visitor (SPEC §5)."""

import hashlib
from typing import Any

from core.event.breadcrumbs import Ring

SENT_IS_CURRENT = b""  # Visitor.sent: the last user sent is exactly the current one


class Visitor:
    """What the browser's Sentry scope holds for one visitor, compactly: the user as its JSON
    bytes, breadcrumbs as a ring of 8- or 12-byte records (core/event/breadcrumbs.py), what
    Dedupe compares of the last error (two digests), and which user was last sent: None (none
    yet), SENT_IS_CURRENT (the usual case: no copy kept), or the 16-byte digest of that user's
    JSON once a later user was kept without being sent."""

    __slots__ = ("crumbs", "head", "rare", "sent", "user")

    def __init__(self) -> None:
        self.user: bytes | None = None
        self.sent: bytes | None = None
        self.crumbs: Ring | None = None
        self.head = 0
        self.rare: Rare | None = None  # what only visitors with errors or consent need

    def extras(self) -> "Rare":
        """The visitor's Rare part, made on first use."""
        rare = self.rare
        if rare is None:
            rare = self.rare = Rare()
        return rare


class Rare:
    """Per-visitor state most visitors never need: one slot in Visitor instead of three."""

    __slots__ = ("event_ids", "last_error", "pages")

    def __init__(self) -> None:
        self.event_ids = b""  # of the sentry.event breadcrumbs in the ring, oldest first
        self.last_error: tuple[bytes | None, bytes | None] | None = None  # rules/dedupe keys
        # consent decided per page load: (hash of a pageViewId, its Verdict, ...), newest last
        self.pages: tuple[Any, ...] = ()


def digest(user_json: bytes) -> bytes:
    return hashlib.blake2b(user_json, digest_size=16).digest()


def is_last_sent(visitor: Visitor) -> bool:
    """Whether the visitor's current user is the one its last user-context event carried."""
    sent = visitor.sent
    if sent is SENT_IS_CURRENT:
        return True
    assert visitor.user is not None
    return sent is not None and sent == digest(visitor.user)
