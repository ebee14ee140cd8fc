"""A real HTTP/2 server on 127.0.0.1 for the HTTP/2 test: hypercorn serving a tiny envelope
endpoint over TLS (ALPN h2), recording each request's HTTP version and client address."""

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.proxies import free_port


class H2Server:
    """`with H2Server(cert, key) as server:` serves until the block ends."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.port = free_port()
        self.requests: list[tuple[str, tuple[str, int]]] = []  # (http_version, client)
        self._config = Config()
        self._config.bind = [f"127.0.0.1:{self.port}"]
        self._config.certfile = str(cert)
        self._config.keyfile = str(key)
        self._config.alpn_protocols = ["h2", "http/1.1"]
        self._config.accesslog = None
        self._config.errorlog = None
        self._loop = asyncio.new_event_loop()
        self._stopped = asyncio.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        self.requests.append((scope["http_version"], tuple(scope["client"])))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_until_complete(
            serve(self._app, self._config, shutdown_trigger=self._stopped.wait)  # type: ignore[arg-type]
        )

    def __enter__(self) -> "H2Server":
        self._thread.start()
        self._ready.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
