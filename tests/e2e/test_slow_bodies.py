"""Through a real server: slow request bodies neither hold connections nor starve others.

One gevent worker with `worker_connections = 100`. Drippers connect from 127.0.0.2 (a
loopback address of their own), the health check from 127.0.0.1. Every loop is bounded.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests

from tests.conftest import base_settings
from tests.e2e.server import running_server, write_config

pytestmark = pytest.mark.e2e
GRACE, TIMEOUT, PER_PEER = 3.0, 6.0, 20
HEAD = (
    "POST /webhooks/simulator HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("slow-bodies")
    server = {"body_grace": GRACE, "body_timeout": TIMEOUT, "max_connections_per_peer": PER_PEER}
    settings = base_settings(tmp_path, server=server, streams={"worker_connections": 100})
    config = write_config(tmp_path / "config.toml", settings)
    with running_server(tmp_path, config=config, workers=1) as url:
        yield url


def dripper(base: str, source: str) -> socket.socket:
    """Open a connection from `source` and start a body that never completes."""
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock.sendall(HEAD.encode())
    return sock


def answer(sock: socket.socket, within: float) -> bytes:
    """Read what the server sends until it closes or `within` seconds pass."""
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_drippers_from_one_address_cannot_starve_the_health_check(base: str) -> None:
    with ExitStack() as stack:
        drips = [stack.enter_context(dripper(base, "127.0.0.2")) for _ in range(110)]
        started = time.monotonic()
        health = requests.get(f"{base}/healthz", timeout=GRACE - 0.5)
        assert health.status_code == 200
        assert time.monotonic() - started < GRACE  # before any body deadline freed a slot
        refused = [d for d in drips[PER_PEER:] if answer(d, 2).startswith(b"HTTP/1.1 503")]
        assert len(refused) == 110 - PER_PEER


def test_a_dripping_body_gets_408_and_a_closed_connection_by_its_deadline(base: str) -> None:
    with dripper(base, "127.0.0.3") as sock:
        started = time.monotonic()
        got = b""
        for _ in range(int(TIMEOUT * 4) + 8):  # one byte every 0.25 s: 4 bytes a second
            try:
                sock.sendall(b" ")
            except OSError:
                break
            got += answer(sock, 0.25)
            if got:
                break
        got += answer(sock, 2)
        elapsed = time.monotonic() - started
        sock.settimeout(2)
        closed = sock.recv(1) == b""
    assert got.startswith(b"HTTP/1.1 408"), got[:80]
    assert b"request_timeout" in got
    assert closed
    assert GRACE - 0.5 <= elapsed <= GRACE + 2.5  # 4 bytes a second add almost nothing
