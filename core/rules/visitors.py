"""Per-visitor state: what the browser held for one visitor, page load by page load
(docs/behaviour.md, "Page loads"; where one begins is core/rules/pageloads.py's rule).

The visitor's current page load is held in the Visitor itself (the usual case: one at a time);
the page loads of other tabs, which may come back, are set aside as PageLoads, a few per
visitor. Under `--scope page` a page load holds its own user and breadcrumbs (as the browser's
Sentry scope does); under `--scope visitor` those stay on the Visitor across page loads, and
only what is per page load under both (Dedupe's memory, the session, the consent decision, the
page URL) is set aside and restored.
"""

import hashlib

from core.event.breadcrumbs import Ring
from core.rules.consent import Verdict
from core.rules.pageloads import NO_PAGE, NO_TIME, is_page_view
from core.rules.sessions import Session

SENT_IS_CURRENT = b""  # Visitor.sent: the last user sent is exactly the current one
PARKED_PAGE_LOADS = 3  # other tabs' page loads a visitor keeps (with the current one, four)


class Visitor:
    """What the browser holds for one visitor, compactly: the user as its JSON bytes,
    breadcrumbs as a ring of 8- or 12-byte records (core/event/breadcrumbs.py), which user was
    last sent (None: none yet; SENT_IS_CURRENT, the usual case: no copy kept; else the 16-byte
    digest of that user's JSON once a later user was kept without being sent), the current page
    load's key and the time of the visitor's last event in it (ms; for the gap of a run)."""

    __slots__ = ("crumbs", "head", "page", "rare", "seen", "sent", "user")

    def __init__(self) -> None:
        self.user: bytes | None = None
        self.sent: bytes | None = None
        self.crumbs: Ring | None = None
        self.head = 0
        self.rare: Rare | None = None  # what only some visitors need
        self.page = NO_PAGE
        self.seen = NO_TIME

    def extras(self) -> "Rare":
        """The visitor's Rare part, made on first use."""
        rare = self.rare
        if rare is None:
            rare = self.rare = Rare()
        return rare


class Rare:
    """Per-visitor state most visitors never need: one slot in Visitor instead of seven.
    All of it but `parked` belongs to the current page load."""

    __slots__ = ("changes", "event_ids", "last_error", "parked", "session", "url", "verdict")

    def __init__(self) -> None:
        self.event_ids = b""  # of the sentry.event breadcrumbs in the ring, oldest first
        self.last_error: tuple[bytes | None, bytes | None] | None = None  # rules/dedupe keys
        self.verdict: Verdict | None = None  # consent, decided on a page view's first event
        self.session: Session | None = None  # release health (when the config has a release)
        self.url: str | None = None  # the page's URL as its last event saw it (sessions only)
        self.changes = 0  # URL changes in this page load: history navigations
        self.parked: tuple[PageLoad, ...] = ()  # other tabs' page loads, newest last


class PageLoad:
    """A page load set aside while another tab of the visitor is in use."""

    __slots__ = (
        "changes",
        "crumbs",
        "event_ids",
        "head",
        "key",
        "last_error",
        "session",
        "url",
        "user",
        "verdict",
    )

    def __init__(self, key: int, visitor: Visitor, rare: Rare, with_scope: bool) -> None:
        """The visitor's current page load, `key`; its user and breadcrumbs too when
        `with_scope` (they are the page load's under --scope page)."""
        self.key = key
        self.user = visitor.user if with_scope else None
        self.crumbs = visitor.crumbs if with_scope else None
        self.head = visitor.head if with_scope else 0
        self.event_ids = rare.event_ids if with_scope else b""
        self.last_error = rare.last_error
        self.verdict = rare.verdict
        self.session = rare.session
        self.url = rare.url
        self.changes = rare.changes


def begin_page_load(visitor: Visitor, key: int, own_scope: bool) -> None:
    """Make page load `key` the visitor's current one: another tab's, set aside earlier, or a
    new one. The page load left is set aside when it is a page view (a tab that may come back;
    a run of events without one has ended). With `own_scope` (--scope page) the user and
    breadcrumbs go and come with their page load; a new one starts with none."""
    rare = visitor.rare
    leaving = visitor.page
    if own_scope and visitor.sent is SENT_IS_CURRENT and visitor.user is not None:
        visitor.sent = digest(visitor.user)  # the user leaving was the last one sent
    if rare is None:  # nothing of the page load left is worth keeping but its scope
        if is_page_view(leaving) and own_scope and (visitor.user is not None or visitor.crumbs):
            rare = visitor.extras()
        else:
            if own_scope:
                visitor.user, visitor.crumbs, visitor.head = None, None, 0
            visitor.page = key
            return
    parked = rare.parked
    found: PageLoad | None = None
    for index, page in enumerate(parked):
        if page.key == key:
            found = page
            parked = parked[:index] + parked[index + 1 :]
            break
    if is_page_view(leaving):
        kept = parked[max(0, len(parked) + 1 - PARKED_PAGE_LOADS) :]
        parked = (*kept, PageLoad(leaving, visitor, rare, own_scope))
    rare.parked = parked
    if found is None:
        rare.last_error = rare.verdict = rare.session = rare.url = None
        rare.changes = 0
        if own_scope:
            visitor.user, visitor.crumbs, visitor.head = None, None, 0
            rare.event_ids = b""
    else:
        rare.last_error, rare.verdict, rare.session = found.last_error, found.verdict, found.session
        rare.url, rare.changes = found.url, found.changes
        if own_scope:
            visitor.user, visitor.crumbs, visitor.head = found.user, found.crumbs, found.head
            rare.event_ids = found.event_ids
    visitor.page = key


def digest(user_json: bytes) -> bytes:
    """The 16-byte digest a user is remembered by once it is no longer the current one."""
    return hashlib.blake2b(user_json, digest_size=16).digest()


def is_last_sent(visitor: Visitor) -> bool:
    """Whether the visitor's current user is the one its last user-context event carried."""
    sent = visitor.sent
    if sent is SENT_IS_CURRENT:
        return True
    return sent is not None and visitor.user is not None and sent == digest(visitor.user)
