"""One worker serves its connections in turn: a keep-alive connection with many requests
already waiting in its socket does not keep the worker to itself.

gevent switches greenlets only when one would block, and reading a request that is already
buffered does not block: without a yield after each request, one busy connection was served
request after request while the others' requests waited, ready, for seconds (the multi-second
p99 at 32 connections on SQLite)."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.conftest import base_settings
from tests.e2e.server import running_server, write_config

pytestmark = pytest.mark.e2e

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
PIPELINED = 300
STATUS_LINE = b"HTTP/1.1 200 "


class Drain(threading.Thread):
    """Reads a connection's answers as they come, counting them."""

    def __init__(self, conn: socket.socket, expected: int) -> None:
        super().__init__(daemon=True)
        self.conn = conn
        self.expected = expected
        self.seen = b""
        self.first = threading.Event()

    @property
    def answers(self) -> int:
        return self.seen.count(STATUS_LINE)

    def run(self) -> None:
        while self.answers < self.expected:
            chunk = self.conn.recv(65536)
            if not chunk:
                return
            self.seen += chunk
            self.first.set()


def answer(conn: socket.socket) -> bytes:
    """Read one whole /healthz answer (its body is one JSON line)."""
    seen = b""
    while not (b"\r\n\r\n" in seen and seen.rstrip().endswith(b"}")):
        chunk = conn.recv(65536)
        assert chunk, "the server closed the connection"
        seen += chunk
    return seen


def test_a_connection_with_requests_waiting_does_not_hold_the_worker(tmp_path):
    config = write_config(tmp_path / "config.toml", base_settings(tmp_path))
    with running_server(tmp_path, config=config, workers=1) as base:
        port = int(base.rsplit(":", 1)[1])
        with (
            socket.create_connection(("127.0.0.1", port), timeout=30) as busy,
            socket.create_connection(("127.0.0.1", port), timeout=30) as other,
        ):
            for conn in (busy, other):  # both connections served once: both are open
                conn.sendall(REQUEST)
                assert STATUS_LINE in answer(conn)
            drain = Drain(busy, PIPELINED)
            drain.start()
            busy.sendall(REQUEST * PIPELINED)
            assert drain.first.wait(30)  # the worker is now answering the busy connection
            other.sendall(REQUEST)
            assert STATUS_LINE in answer(other)
            served_before = drain.answers
            drain.join(30)
    assert drain.answers == PIPELINED
    # Served in turn, the other connection's request waits for about one of the busy
    # connection's requests; held, it waits for all of them.
    assert served_before < PIPELINED // 2, served_before
