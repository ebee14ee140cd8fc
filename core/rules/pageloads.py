"""Page loads: how long the browser's memory lasts (docs/behaviour.md, "Page loads").

Sentry's scope (the user, breadcrumbs), its Dedupe integration, its release-health session and
RudderStack's consent decision live in one page's memory. A page load is the events of a visitor
that share `context.autoTrack.page.pageViewId` (the v3 SDK's page-lifecycle tracking writes it,
one per document); without it, a visitor's run of events with no gap over PAGE_GAP of event
time and no change of `context.sessionId` (RudderStack's own session, shared by the tabs of a
browser). This module is the one place that decides where a page load begins; the engine keeps
what each page load holds (core/rules/visitors.py).

A page load is named by a key: an odd number for a page view id, an even one for a run, NO_PAGE
for none yet. Keys are hashes, compared within one process only (a shard's or a job's): which
events share a page load does not depend on the hash seed.
"""

from typing import Any, Final

from core.js.value import js_get, js_string

PAGE_GAP_MS: Final = 30 * 60 * 1000  # a run's events further apart than this are two page loads
NO_PAGE: Final = 0  # the key of a visitor that has had no event yet
NO_TIME: Final = -(2**62)  # an event with no time: it never opens a gap
_KEY_MASK: Final = (1 << 61) - 1  # keys fit a machine word (an unboxed int when compiled)


def page_view_id(event: dict[str, Any]) -> str | None:
    """`context.autoTrack.page.pageViewId`: the events of one page load share it."""
    context = event.get("context")
    if context.__class__ is not dict:
        return None
    value = js_get(js_get(context.get("autoTrack"), "page"), "pageViewId")
    return value if value.__class__ is str and value else None


def page_key(event: dict[str, Any]) -> int:
    """The key of the page load this event belongs to, as far as the event itself tells: its
    page view id (an odd key), else its RudderStack session id (an even one; having none is a
    session id of its own). Never NO_PAGE."""
    view = page_view_id(event)
    if view is not None:
        return (hash(view) & _KEY_MASK) << 1 | 1
    context = event.get("context")
    session = context.get("sessionId") if context.__class__ is dict else None
    text = None if session is None else js_string(session)
    return (hash(("run", text)) & _KEY_MASK) << 2 | 2


def is_page_view(key: int) -> bool:
    """Whether a key names a page view (not a run of events)."""
    return bool(key & 1)


def starts_page_load(current: int, seen_ms: int, key: int, moment_ms: int) -> bool:
    """Whether an event of page-load key `key` at `moment_ms` begins a page load, after the
    visitor's last event (page load `current`, at `seen_ms`): another key, or a run broken by a
    gap of more than PAGE_GAP_MS either way (an event with no time breaks nothing). A page view
    lasts however long its tab stays open."""
    if key != current:
        return True
    if is_page_view(key) or seen_ms == NO_TIME or moment_ms == NO_TIME:
        return False
    return abs(moment_ms - seen_ms) > PAGE_GAP_MS
