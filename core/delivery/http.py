"""HTTP to Sentry's envelope endpoint through libcurl (pycurl), as sentry-cli sends through curl.

libcurl brings what a sender in the field needs and a hand-written client did not have:
non-blocking connects and TLS handshakes, HTTP/2 with multiplexing where the server offers it
(ALPN), HTTP/1.1 keep-alive otherwise, and HTTP, HTTPS (CONNECT) and SOCKS proxies, read from
`--proxy` or from the environment as curl reads it. TLS is always verified, against the first
of `--ca-bundle`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, the system store and certifi; the CA
file is always set explicitly, since the wheel's built-in default path does not exist on every
distribution. sentry-sdk supplies the DSN parsing and the X-Sentry-Auth header. There are no
retries here: the sender decides (core/delivery/sender.py).
"""

import os
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pycurl
from isal import isal_zlib
from sentry_sdk.consts import EndpointType
from sentry_sdk.utils import Dsn

from core import __version__
from core.config import mask_dsn
from core.delivery.policy import PROXY_AUTH
from core.delivery.seam import Parcel
from core.errors import ConfigError

CONNECT_TIMEOUT = 8.0  # seconds: an unreachable host is known (and shown) within 10 s
GZIP_LEVEL = 1  # isal's level 1 packs a 1.4 KB envelope as tightly as zlib's in 17 µs, not 41
GZIP_WBITS = 31  # a gzip header and trailer around a 32 KiB-window deflate stream
MAX_ANSWER = 64 * 1024  # bytes of an answer kept (Sentry's are a few dozen)
CA_ENVIRONMENT = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
SYSTEM_CA_FILES = (  # where distributions keep the system store as one file
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
)
# libcurl errors that no retry can fix: the certificate or the CA bundle is wrong
TLS_VERIFY_ERRORS = frozenset(
    {
        pycurl.E_PEER_FAILED_VERIFICATION,
        pycurl.E_SSL_CACERT_BADFILE,
        pycurl.E_SSL_CERTPROBLEM,
        pycurl.E_SSL_ISSUER_ERROR,
    }
)
TLS_HANDSHAKE_ERRORS = frozenset({pycurl.E_SSL_CONNECT_ERROR})  # e.g. https to a plain server


def find_ca_bundle(explicit: str | None = None) -> str:
    """The CA file to trust: `--ca-bundle`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, the system
    store, else certifi's. Raises ConfigError for a named file that does not exist."""
    named: list[tuple[str, str | None]] = [("--ca-bundle", explicit)]
    named += [(name, os.environ.get(name)) for name in CA_ENVIRONMENT]
    for origin, path in named:
        if path:
            if not Path(path).is_file():
                raise ConfigError(f"{origin} {path}: no such CA file")
            return path
    default = ssl.get_default_verify_paths().cafile
    for path in (default, *SYSTEM_CA_FILES):
        if path and Path(path).is_file():
            return path
    import certifi  # sentry-sdk's own dependency

    return str(certifi.where())


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt came to: an HTTP status, or (status 0) libcurl's error."""

    status: int
    retry_after: str | None = None
    rate_limits: str | None = None
    text: str = ""  # the answer's body (cut), or libcurl's error message
    error: int = 0  # libcurl's error code, 0 when an answer came


class Exchange:
    """One libcurl easy handle and the answer it is collecting; reused request after request
    (the connections live in the multi handle's cache, shared by all exchanges)."""

    __slots__ = ("body", "curl", "headers")

    def __init__(self, curl: pycurl.Curl) -> None:
        self.curl = curl
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        curl.setopt(pycurl.HEADERFUNCTION, self._header)
        curl.setopt(pycurl.WRITEFUNCTION, self._write)

    def prepare(self, body: bytes) -> None:
        """Load the next request's body and forget the last answer."""
        self.headers = {}
        self.body = bytearray()
        self.curl.setopt(pycurl.POSTFIELDS, body)  # pycurl keeps the bytes and sets the size

    def answer(self, error: int = 0, message: str = "") -> Answer:
        """The finished attempt."""
        if error:
            if self.curl.getinfo(pycurl.HTTP_CONNECTCODE) == PROXY_AUTH:  # CONNECT refused
                return Answer(PROXY_AUTH, text=mask_dsn(message))
            return Answer(0, text=mask_dsn(message), error=error)  # a proxy URL's password
        status = int(self.curl.getinfo(pycurl.RESPONSE_CODE))
        text = self.body[:MAX_ANSWER].decode("utf-8", "replace")
        headers = self.headers
        return Answer(status, headers.get("retry-after"), headers.get("x-sentry-rate-limits"), text)

    def _header(self, line: bytes) -> None:
        if line.startswith(b"HTTP/"):  # a new answer (after a 1xx, or a proxy's CONNECT)
            self.headers = {}
            return
        name, colon, value = line.partition(b":")
        if colon:
            key = name.strip().lower().decode("latin-1")
            if key in ("retry-after", "x-sentry-rate-limits"):
                text = value.strip().decode("latin-1")
                earlier = self.headers.get(key)
                self.headers[key] = f"{earlier}, {text}" if earlier else text

    def _write(self, data: bytes) -> None:
        if len(self.body) < MAX_ANSWER:
            self.body += data


class EnvelopeClient:
    """Requests to one DSN's envelope endpoint: the URL, the static headers, TLS and proxy
    settings, and fresh easy handles configured with them."""

    def __init__(
        self,
        dsn: str,
        *,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        auth = Dsn(dsn).to_auth(f"rudder-sentry/{__version__}")
        self.url = auth.get_api_url(EndpointType.ENVELOPE)
        self.proxy = proxy
        self.ca_bundle = find_ca_bundle(ca_bundle)
        self.timeout = timeout
        self.headers = [
            "Content-Type: application/x-sentry-envelope",
            "Content-Encoding: gzip",
            f"X-Sentry-Auth: {auth.to_header()}",
            f"User-Agent: rudder-sentry/{__version__}",
            "Expect:",  # no 100-continue round trip before the body
        ]

    def exchange(self) -> Exchange:
        """A new easy handle with every setting but the body."""
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, self.url)
        curl.setopt(pycurl.POST, 1)
        curl.setopt(pycurl.HTTPHEADER, self.headers)
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)  # h2 when offered
        curl.setopt(pycurl.PIPEWAIT, 1)  # wait to multiplex on a connection being set up
        curl.setopt(pycurl.CAINFO, self.ca_bundle)
        curl.setopt(pycurl.SSL_VERIFYPEER, 1)
        curl.setopt(pycurl.SSL_VERIFYHOST, 2)
        curl.setopt(pycurl.PROXY_CAINFO, self.ca_bundle)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(min(CONNECT_TIMEOUT, self.timeout) * 1000))
        curl.setopt(pycurl.TIMEOUT_MS, max(1, int(self.timeout * 1000)))
        curl.setopt(pycurl.TCP_NODELAY, 1)
        curl.setopt(pycurl.NOSIGNAL, 1)
        if self.proxy is not None:
            curl.setopt(pycurl.PROXY, self.proxy)  # "" means none, whatever the environment
        return Exchange(curl)

    def body(self, parcel: Parcel, sent_at: datetime) -> bytes:
        """The gzip envelope of one parcel, stamped `sent_at`."""
        return isal_zlib.compress(parcel.envelope(sent_at), GZIP_LEVEL, GZIP_WBITS)
