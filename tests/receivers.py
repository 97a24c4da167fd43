"""Real HTTP receivers on loopback addresses, served from threads, for callback tests.

Every wait is bounded; a receiver records what reached it, and when.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass
class Received:
    head: bytes
    body: bytes
    at: float


@dataclass
class Receiver:
    """An HTTP server on `host` that answers 200, or drips its status line one byte a tick.

    `drip`: seconds between the bytes of an answer that never ends (at most `drip_for`
    seconds, then the connection is closed). `tls`: serve HTTPS with this context.
    """

    host: str = "127.0.0.1"
    port: int = 0
    drip: float | None = None
    drip_for: float = 10.0
    tls: ssl.SSLContext | None = None
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    dripping: int = 0
    ended: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Receiver:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, self.port))
        self.port = self._sock.getsockname()[1]
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def url(self, host: str | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{host or self.host}:{self.port}/hook"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            head, body = _read_request(conn)
            self.received.append(Received(head, body, time.monotonic()))
            if self.drip is None:
                conn.sendall(OK)
            else:
                self._drip(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.ended.append(time.monotonic())
            conn.close()

    def _drip(self, conn: socket.socket) -> None:
        self.dripping += 1
        try:
            until = time.monotonic() + self.drip_for
            for byte in (b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000)[:10_000]:
                if time.monotonic() > until or self._stop.wait(self.drip or 0):
                    return
                conn.sendall(bytes([byte]))
        finally:
            self.dripping -= 1


def _read_request(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head, body


def wait_for(condition: object, timeout: float) -> bool:
    """Poll `condition()` on the real clock until true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)  # real sockets in real threads: nothing to advance
    return bool(condition())  # type: ignore[operator]
