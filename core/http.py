"""HttpTransport: one POST of one gzip envelope to Sentry's envelope endpoint.

A keep-alive urllib3 pool sized to the number of sender threads, with TCP_NODELAY set (Nagle's
algorithm stalls small keep-alive requests: reference peers-and-sdk.md §3.1). sentry-sdk supplies
the DSN parsing and the X-Sentry-Auth header. urllib3's own retries are off: the sender decides.
"""

import gzip
import socket
import time
from datetime import datetime

import urllib3
from sentry_sdk.consts import EndpointType
from sentry_sdk.utils import Dsn

from core import __version__
from core.ratelimit import parse_retry_after
from core.transport import Attempt, Transport, build_envelope

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
GZIP_LEVEL = 1  # envelopes are small; speed matters more than the last few bytes
SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class HttpTransport(Transport):
    """Posts envelopes to the DSN's project over a shared keep-alive connection pool."""

    def __init__(self, dsn: str, *, connections: int) -> None:
        auth = Dsn(dsn).to_auth(f"rudder-sentry/{__version__}")
        self.url = auth.get_api_url(EndpointType.ENVELOPE)
        self.headers = {
            "Content-Type": "application/x-sentry-envelope",
            "Content-Encoding": "gzip",
            "X-Sentry-Auth": auth.to_header(),
            "User-Agent": f"rudder-sentry/{__version__}",
        }
        self.pool = urllib3.connection_from_url(
            self.url,
            maxsize=connections,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
            socket_options=SOCKET_OPTIONS,
        )

    def send(self, event_id: str, payload: bytes, sent_at: datetime) -> Attempt:
        """POST once; network errors come back as status 0."""
        envelope = build_envelope(event_id, payload, sent_at)
        body = gzip.compress(envelope, compresslevel=GZIP_LEVEL, mtime=0)
        try:
            response = self.pool.urlopen(
                "POST",
                self.url,
                body=body,
                headers=self.headers,
                redirect=False,
                preload_content=True,
            )
        except (urllib3.exceptions.HTTPError, OSError):
            return Attempt(status=0)
        return Attempt(
            status=response.status,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), time.time()),
            rate_limits=response.headers.get("X-Sentry-Rate-Limits"),
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.pool.close()
