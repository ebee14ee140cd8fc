"""Generate a realistic RudderStack dump for benchmarks: browser sessions over many visitors.

Two mixes. "zipf": about 80 % track/page, 15 % identify, 5 % error tracks. "browser": what a
site's traffic looks like, breadcrumb-heavy: 60 % tracks, 20 % pages, 15 % identifies, 5 %
error tracks, each event with the whole context the v3 JS SDK sends (os, screen, campaign,
session, page-view id, ...). In both, errors are drawn from 1,000
distinct errors (a Chrome, Firefox or Safari stack and its message) with a Zipf distribution
(exponent 1.1), as real error streams repeat a few errors: the most frequent one is about 18 %
of them, the top 10 about 48 %. Deterministic for a given seed; events look like the v3 JS
SDK's (about 1 KB each).
A visitor's traits are stable, as when a site identifies on every page load: the first
identify of a visitor is sent, its repeats are `identify_unchanged`.
"""

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

DISTINCT_ERRORS = 1000
ZIPF_EXPONENT = 1.1
_ZIPF_CUMULATIVE: list[float] = []


def _error(rank: int) -> tuple[str, str]:
    """(message, stack) of the error of this popularity rank: a browser's format, its own
    functions, files and positions."""
    message = f"Cannot read properties of undefined (reading 'f{rank}')"
    file = f"https://shop.example.com/static/js/chunk-{rank % 37}.{rank:06x}.js"
    depth = 3 + rank % 5
    names = [f"fn{rank}_{level}" for level in range(depth)]
    if rank % 3 == 0:  # Chrome
        lines = [
            f"    at {name} ({file}:{10 + rank + level}:{5 + level})"
            for level, name in enumerate(names)
        ]
        return message, f"TypeError: {message}\n" + "\n".join(lines)
    if rank % 3 == 1:  # Firefox
        return message, "".join(
            f"{name}@{file}:{10 + rank + level}:{5 + level}\n" for level, name in enumerate(names)
        )
    return message, "".join(
        f"{name}@{file}:{rank + level}:{level + 1}\n" for level, name in enumerate(names)
    ) + "promiseReactionJob@[native code]\n"


def zipf_rank(rng: random.Random) -> int:
    """An error's popularity rank (0 = the most frequent), Zipf-distributed."""
    if not _ZIPF_CUMULATIVE:
        total = 0.0
        for rank in range(DISTINCT_ERRORS):
            total += 1 / (rank + 1) ** ZIPF_EXPONENT
            _ZIPF_CUMULATIVE.append(total)
    return rng.choices(range(DISTINCT_ERRORS), cum_weights=_ZIPF_CUMULATIVE)[0]


PAGES = ("/", "/offers", "/cart", "/checkout", "/p/42", "/p/77", "/account", "/docs")
TRACKS = ("Product Viewed", "Add To Cart", "Checkout Started", "Order Completed", "Search")
USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


PLANS = ("free", "pro")
START = datetime(2026, 11, 20, tzinfo=UTC)


def _timestamp(n: int) -> str:
    """Ten events a second, from START."""
    return (START + timedelta(milliseconds=100 * n)).isoformat(timespec="milliseconds")[:-6] + "Z"


def _context(url: str, traits: dict[str, Any]) -> dict[str, Any]:
    return {
        "app": {
            "name": "RudderLabs JavaScript SDK",
            "namespace": "com.rudderlabs.javascript",
            "version": "3.7.4",
            "installType": "cdn",
        },
        "library": {"name": "RudderLabs JavaScript SDK", "version": "3.7.4"},
        "userAgent": USER_AGENT,
        "locale": "en-US",
        "screen": {"density": 2, "width": 1728, "height": 1117},
        "page": {
            "path": url[26:] or "/",
            "referrer": "https://www.google.com/",
            "search": "",
            "title": "Shop",
            "url": url,
            "tab_url": url,
        },
        "traits": traits,
        "timezone": "GMT+0200",
    }


def _traits(visitor: int) -> dict[str, Any]:
    """An identify's traits."""
    return {
        "email": f"user{visitor}@example.org",
        "firstName": "User",
        "lastName": str(visitor),
        "plan": PLANS[visitor % 2],
    }


def _error_track(rng: random.Random) -> dict[str, Any]:
    """An error track's fields: one of the distinct errors, Zipf-drawn."""
    message, stack = _error(zipf_rank(rng))
    return {
        "type": "track",
        "event": "JavaScript Error",
        "properties": {"error": {"name": "TypeError", "message": message, "stack": stack}},
    }


def _plain_track(rng: random.Random, n: int) -> dict[str, Any]:
    """A plain track's fields."""
    return {
        "type": "track",
        "event": TRACKS[n % len(TRACKS)],
        "properties": {"sku": f"SKU-{n % 500}", "price": round(rng.random() * 100, 2)},
    }


def event(rng: random.Random, n: int, visitor: int) -> dict[str, Any]:
    """The n-th event, from visitor `visitor`."""
    anon = f"{visitor:08x}-1d2a-4e7b-9c31-2f8d6e5a{visitor % 65536:04x}"
    url = "https://shop.example.com" + PAGES[rng.randrange(len(PAGES))]
    identified = visitor % 3 == 0
    traits = (
        {"email": f"user{visitor}@example.org", "name": f"User {visitor}"} if identified else {}
    )
    base: dict[str, Any] = {
        "anonymousId": anon,
        "userId": f"u-{visitor}" if identified else "",
        "channel": "web",
        "messageId": f"{n:012x}-4c1a-9f7e-{visitor:012x}",
        "originalTimestamp": _timestamp(n),
        "sentAt": "2026-11-20T12:00:00.000Z",
        "integrations": {"All": True},
        "context": _context(url, traits),
    }
    roll = rng.random()
    if roll < 0.15:
        base["context"]["traits"] = _traits(visitor)
        base.update(type="identify", userId=f"u-{visitor}")
    elif roll < 0.20:
        base.update(_error_track(rng))
    elif roll < 0.55:
        base.update(type="page", name="Shop", properties={"url": url, "title": "Shop"})
    else:
        base.update(_plain_track(rng, n))
    return base


def browser_event(
    rng: random.Random, n: int, visitor: int, pages: dict[int, str]
) -> dict[str, Any]:
    """The n-th event of the "browser" mix, from visitor `visitor`; `pages` holds each visitor's
    current page-view id (a page event starts a new one)."""
    roll = rng.random()
    kind = (
        "track"
        if roll < 0.60
        else "page"
        if roll < 0.80
        else "identify"
        if roll < 0.95
        else "error"
    )
    if kind == "page" or visitor not in pages:
        pages[visitor] = f"{rng.getrandbits(64):016x}-{visitor:08x}"
    base = event(rng, n, visitor)
    context = base["context"]
    url = context["page"]["url"]
    context.update(
        os={"name": "", "version": ""},
        screen={
            "density": 2,
            "width": 1728,
            "height": 1117,
            "innerWidth": 1512,
            "innerHeight": 864,
        },
        campaign={},
        sessionId=1_732_000_000_000 + visitor,
        sessionStart=n % 7 == 0,
        autoTrack={"page": {"pageViewId": pages[visitor], "visitedAt": base["originalTimestamp"]}},
        ua_ch={"brands": [{"brand": "Chromium", "version": "124"}], "mobile": False},
    )
    context["page"].update(
        referring_domain="www.google.com",
        initial_referrer="https://www.google.com/",
        initial_referring_domain="www.google.com",
    )
    for key in ("type", "event", "properties", "name"):
        base.pop(key, None)
    if kind == "identify":
        context["traits"] = _traits(visitor)
        base.update(type="identify", userId=f"u-{visitor}")
    elif kind == "error":
        base.update(_error_track(rng))
    elif kind == "page":
        base.update(
            type="page", name="Shop", properties={"url": url, "title": "Shop", "path": url[26:]}
        )
    else:
        base.update(_plain_track(rng, n))
    return base


def generate(
    path: Path,
    events: int,
    visitors: int,
    seed: int = 1,
    *,
    sequential: bool = False,
    mix: str = "zipf",
) -> None:
    """Write `events` events over `visitors` visitors (a visitor's events interleave); with
    `sequential`, event n belongs to visitor n % visitors, so every visitor appears."""
    rng = random.Random(seed)
    pages: dict[int, str] = {}
    with path.open("wb") as out:
        batch: list[bytes] = []
        for n in range(events):
            visitor = n % visitors if sequential else rng.randrange(visitors)
            made = (
                browser_event(rng, n, visitor, pages)
                if mix == "browser"
                else event(rng, n, visitor)
            )
            batch.append(orjson.dumps(made))
            if len(batch) == 10_000:
                out.write(b"\n".join(batch) + b"\n")
                batch.clear()
        if batch:
            out.write(b"\n".join(batch) + b"\n")


if __name__ == "__main__":
    mix = sys.argv[4] if len(sys.argv) > 4 else "zipf"
    generate(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), mix=mix)
