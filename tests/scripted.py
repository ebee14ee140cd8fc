"""A scripted HTTP/1.1 server on 127.0.0.1 for client tests: it reads whole requests and
writes canned answers (optionally late, in small pieces, or over TLS), counting connections and
requests in flight."""

import socket
import ssl
import threading
import time
from collections.abc import Callable

KEY = "0123456789abcdef0123456789abcdef"

# An answer for one request: the bytes to write and whether to close the connection after.
Script = Callable[[int], tuple[bytes, bool]]


class ScriptedServer:
    """Reads whole requests (head + Content-Length body) and writes scripted answers, in
    pieces of `chunk` bytes to split them across TCP segments."""

    def __init__(
        self,
        script: Script,
        *,
        chunk: int = 0,
        tls: ssl.SSLContext | None = None,
        delay: Callable[[int], float] = lambda _: 0.0,
    ) -> None:
        self.script = script
        self.chunk = chunk
        self.tls = tls
        self.delay = delay  # seconds to wait before answering request n (1-based)
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dsn = f"{'https' if tls else 'http'}://{KEY}@localhost:{self.port}/1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(sock,), daemon=True).start()

    def _connection(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            stream = sock.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = stream.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = stream.read(length)
                with self.lock:
                    self.requests.append((head, body))
                    number = len(self.requests)
                    self.in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, self.in_flight)
                time.sleep(self.delay(number))
                answer, close = self.script(number)
                with self.lock:
                    self.in_flight -= 1
                if self.chunk:
                    for start in range(0, len(answer), self.chunk):
                        sock.sendall(answer[start : start + self.chunk])
                else:
                    sock.sendall(answer)
                if close:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            sock.close()

    def close(self) -> None:
        self.listener.close()


def always(answer: bytes, close: bool = False) -> Script:
    return lambda _: (answer, close)
