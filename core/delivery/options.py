"""How a real run delivers: requests in flight, pacing and the answer deadline (SPEC §2.1, §8)."""

from dataclasses import dataclass

DEFAULT_WORKERS = 4
READ_TIMEOUT = 30.0  # seconds for one answer, once the request is written


@dataclass(frozen=True)
class DeliveryOptions:
    """`--workers`, `--rate` and the per-request deadline."""

    workers: int = DEFAULT_WORKERS
    rate: float | None = None
    read_timeout: float = READ_TIMEOUT
