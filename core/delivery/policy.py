"""Delivery policy as pure functions: what an answer means, rate limits, retry timing.

Protocol: Sentry's develop docs, "Rate Limiting" (docs/delivery.md, "Answers").
`X-Sentry-Rate-Limits` is `retry_after:categories:scope:reason_code[:namespaces], ...`; an empty
category list means every category; the header may come with any status. A bare 429 blocks
everything for 60 s.

Bounded whatever the server says: a wait that is zero, negative, not a number or a
date already past is no usable limit, and a 429 without a usable limit for our events waits
the 60 s default for them; no wait is longer than a day.
"""

import math
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from enum import StrEnum

DEFAULT_RETRY_AFTER = 60.0
PROXY_AUTH = 407  # the proxy wants credentials: as final as Sentry's 401
MAX_WAIT = 86_400.0  # seconds: the longest wait a header can impose (Sentry's daily quotas)
MAX_RETRIES_PER_S = 50.0  # repeated attempts, all parcels together: never hammer a struggling host
MAX_ATTEMPTS = 10  # 5xx/408/network: about 2.5 minutes of backoff in all
EVENT_CATEGORIES = frozenset({"error"})  # what our event items count as; "" = all categories
SESSION_CATEGORIES = frozenset({"session"})  # release-health session updates


class Action(StrEnum):
    """What the sender does with a parcel after one attempt's answer."""

    ACCEPTED = "accepted"  # 2xx
    WAIT = "wait"  # 429: retry once the rate limit ends, with no attempt limit
    BACKOFF = "backoff"  # 5xx, 408, no answer: retry after a backoff, up to MAX_ATTEMPTS
    FAIL = "fail"  # any other 4xx (400, 413, ...): a permanent failure of this event
    STOP = "stop"  # 401/403: the DSN is wrong; 407: the proxy wants other credentials


def classify(status: int) -> Action:
    """The action for an answer's HTTP status (0: no answer, a network error)."""
    if 200 <= status < 300:
        return Action.ACCEPTED
    if status == 429:
        return Action.WAIT
    if status in (401, 403, PROXY_AUTH):
        return Action.STOP
    if status == 0 or status == 408 or status >= 500:
        return Action.BACKOFF
    return Action.FAIL


def usable_wait(seconds: float) -> float | None:
    """A wait in (0, MAX_WAIT], or None for zero, negative, infinite or not a number."""
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(seconds, MAX_WAIT)


def parse_retry_after(header: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when
    absent or unusable."""
    if not header:
        return None
    try:
        return usable_wait(float(header))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return usable_wait(float(moment.timestamp()) - now_epoch)


def parse_rate_limits(header: str) -> Iterator[tuple[float, frozenset[str]]]:
    """(seconds, categories) per limit in an X-Sentry-Rate-Limits header; {""} means all."""
    for limit in header.split(","):
        parts = limit.strip().split(":")
        if not parts or not parts[0]:
            continue
        try:
            seconds = usable_wait(float(parts[0]))
        except ValueError:
            continue
        if seconds is None:
            continue
        categories = [c for c in (parts[1].split(";") if len(parts) > 1 else []) if c]
        yield seconds, frozenset(categories or [""])


def backoff_delay(attempt: int, jitter: float, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with jitter: attempt 0 → about `base`, doubling up to `cap`.

    `jitter` in [0, 1) spreads the delay over [50 %, 100 %] of the nominal value.
    """
    nominal = min(cap, base * 2.0**attempt)
    return nominal * (0.5 + jitter / 2)


class RateLimits:
    """Deadlines per category (keeps the maximum on overlap)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def update(
        self,
        status: int,
        retry_after: float | None,
        header: str | None,
        now: float,
        categories: frozenset[str] = EVENT_CATEGORIES,
    ) -> None:
        """Apply a response's rate-limit information, received at monotonic time `now`, to a
        request of `categories`. A 429 always makes those wait: when its headers give no usable
        limit for them, the Retry-After, else 60 s (for every category when it named none)."""
        limits = list(parse_rate_limits(header)) if header else []
        for seconds, limited in limits:
            self._limit(limited, now + seconds)
        if status == 429 and self.wait_time(now, categories) <= 0:
            seconds = retry_after if retry_after is not None else DEFAULT_RETRY_AFTER
            self._limit(categories if limits else frozenset({""}), now + seconds)

    def _limit(self, categories: frozenset[str], deadline: float) -> None:
        for category in categories:
            if deadline > self._until.get(category, 0.0):
                self._until[category] = deadline

    def wait_time(self, now: float, categories: frozenset[str] = EVENT_CATEGORIES) -> float:
        """Seconds until an event of `categories` may be sent (0 when not limited)."""
        deadline = max((self._until.get(c, 0.0) for c in (*categories, "")), default=0.0)
        return max(0.0, deadline - now)


class Pacer:
    """--rate N: at most N sends per second (evenly spaced slots)."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    def reserve(self, now: float) -> float:
        """Book the next slot; returns how long the caller must wait for it."""
        if not self._interval:
            return 0.0
        slot = max(now, self._next)
        self._next = slot + self._interval
        return slot - now
