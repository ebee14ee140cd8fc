"""How a real run delivers: requests in flight, pacing, deadlines, proxy and TLS (SPEC §2.1, §8)."""

from dataclasses import dataclass

DEFAULT_WORKERS = 32  # in flight at once: at a 100 ms round trip, 320 events/s
READ_TIMEOUT = 30.0  # seconds for one whole request: connect, TLS, the answer
GIVE_UP_AFTER = 60.0  # seconds of unreachability, while nothing was accepted, before stopping


@dataclass(frozen=True)
class DeliveryOptions:
    """`--workers`, `--rate`, `--proxy`, `--ca-bundle`, `--give-up-after` and the deadline."""

    workers: int = DEFAULT_WORKERS
    rate: float | None = None
    read_timeout: float = READ_TIMEOUT
    proxy: str | None = None  # None: the environment's, as curl reads it; "": none
    ca_bundle: str | None = None
    give_up_after: float | None = GIVE_UP_AFTER
