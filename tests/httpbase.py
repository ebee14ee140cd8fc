"""The request handler base shared by the test servers: keep-alive, TCP_NODELAY, no logging."""

import socket
from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietKeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive with Nagle off (as Sentry's ingest), and no per-request log lines."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass
