"""A minimal loopback envelope sink for `make bench`: answers 200 and counts event ids.

Run as a process of its own (`python -m tests.bench.sink [DELAY]`): it prints its port, then
serves `POST /api/<project>/envelope/` (answering each after DELAY seconds, default 0: a
realistic round trip to Sentry is about 0.1), `GET /__stats` (posts, unique event ids) and
`POST /__reset`. Keep-alive and TCP_NODELAY, as Sentry's ingest would; a thread per connection
and a deep listen queue, so hundreds of requests can be in flight at once.
"""

import json
import sys
import threading
import time
import zlib
from http.server import ThreadingHTTPServer
from typing import Any

from tests.httpbase import QuietKeepAliveHandler

LOCK = threading.Lock()
STATE: dict[str, Any] = {"posts": 0, "ids": set()}
DELAY = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0


def event_id_of(body: bytes, gzipped: bool) -> str | None:
    """The envelope header's event_id (None for envelopes without one, such as the stock
    client's client reports), decompressing only the first few hundred bytes."""
    head = zlib.decompressobj(wbits=31).decompress(body, 512) if gzipped else body[:512]
    event_id = json.loads(head.split(b"\n", 1)[0]).get("event_id")
    return str(event_id) if event_id else None


class Handler(QuietKeepAliveHandler):
    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with LOCK:
            stats = {"posts": STATE["posts"], "unique": len(STATE["ids"])}
        self._reply(json.dumps(stats).encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/__reset":
            with LOCK:
                STATE["posts"] = 0
                STATE["ids"] = set()
            self._reply(b"{}")
            return
        if DELAY:
            time.sleep(DELAY)  # the round trip to a distant Sentry
        event_id = event_id_of(body, self.headers.get("Content-Encoding") == "gzip")
        with LOCK:
            STATE["posts"] += 1
            if event_id is not None:
                STATE["ids"].add(event_id)
        self._reply(json.dumps({"id": event_id}).encode())


def main() -> None:
    ThreadingHTTPServer.request_queue_size = 1024  # hundreds of connects arrive at once
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
