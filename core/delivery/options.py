"""How a real run delivers: requests in flight, pacing, deadlines, proxy, TLS (docs/delivery.md)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.config import mask_dsn_value
from core.errors import UsageError

DEFAULT_WORKERS = 32  # in flight at once: at a 100 ms round trip, 320 events/s
READ_TIMEOUT = 30.0  # seconds for one whole request: connect, TLS, the answer
GIVE_UP_AFTER = 60.0  # seconds of unreachability, while nothing was accepted, before stopping
# the schemes libcurl proxies through (CURLOPT_PROXY); a proxy without one is http
PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


@dataclass(frozen=True)
class DeliveryOptions:
    """`--workers`, `--rate`, `--proxy`, `--ca-bundle`, `--give-up-after` and the deadline."""

    workers: int = DEFAULT_WORKERS
    rate: float | None = None
    read_timeout: float = READ_TIMEOUT
    proxy: str | None = None  # None: the environment's, as curl reads it; "": none
    ca_bundle: str | None = None
    give_up_after: float | None = GIVE_UP_AFTER

    def __post_init__(self) -> None:
        problem = proxy_problem(self.proxy)
        if problem is not None:
            raise UsageError(problem)


def proxy_problem(proxy: str | None) -> str | None:
    """Why libcurl cannot use `proxy` ([scheme://][user:password@]host[:port]), its password
    masked; None when it can, and for None or "" (the environment's proxy, or none)."""
    if not proxy:
        return None
    shown = mask_dsn_value(proxy)
    if any(c.isspace() or ord(c) < 32 for c in proxy):
        return f"--proxy {shown!r} holds a space or a control character"
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        _ = parts.port  # urllib checks the port when it is read
    except ValueError as exc:
        return f"--proxy {shown!r} is not a proxy URL: {exc}"
    if parts.scheme.lower() not in PROXY_SCHEMES:
        schemes = ", ".join(PROXY_SCHEMES)
        return f"--proxy {shown!r}: a proxy is reached over {schemes}, not {parts.scheme!r}"
    if not parts.hostname:
        return f"--proxy {shown!r} names no host"
    return None
