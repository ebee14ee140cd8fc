"""Real forward proxies on 127.0.0.1 for the proxy tests: proxy.py (HTTP, and HTTPS through
CONNECT) and pproxy (SOCKS5), each in a process of its own, with its access log kept."""

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the proxy did not listen on {port}: {log.read_text()[-2000:]}")


@contextmanager
def _process(args: list[str], port: int, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, process, log)
            yield
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def http_proxy(log: Path, auth: str | None = None) -> Iterator[str]:
    """proxy.py on loopback; yields its URL (with `auth`, user:password, it requires it)."""
    port = free_port()
    args = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port)]
    args += ["--num-acceptors", "1", "--num-workers", "1"]
    if auth:
        args += ["--basic-auth", auth]
    with _process(args, port, log):
        yield f"http://{auth + '@' if auth else ''}127.0.0.1:{port}"


@contextmanager
def socks_proxy(log: Path) -> Iterator[str]:
    """pproxy serving SOCKS5 on loopback; yields its URL."""
    port = free_port()
    args = [sys.executable, "-m", "pproxy", "-l", f"socks5://127.0.0.1:{port}", "-v"]
    with _process(args, port, log):
        yield f"socks5://127.0.0.1:{port}"


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port on loopback that accepts connections and never says a word (a hung proxy, or a
    TLS handshake that never completes); yields the port."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()
