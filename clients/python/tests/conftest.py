"""Fixtures: the real server (given by clients/ci.sh), an SMS simulator, a callback receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest


@dataclass(frozen=True)
class Server:
    """A running reverse-otp server in development mode, as clients/ci.sh starts it."""

    url: str
    api_key: str
    simulator_secret: str
    callback_secret: str

    def send_sms(self, sender: str, to: str, text: str) -> httpx.Response:
        """Play the user's phone: post a signed SMS to the simulator webhook."""
        payload = {"from": sender, "to": to, "text": text, "id": "sim-" + secrets.token_hex(8)}
        body = json.dumps(payload).encode()
        signature = hmac.new(self.simulator_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Simulator-Signature": signature}
        return httpx.post(self.url + "/webhooks/simulator", content=body, headers=headers)


@pytest.fixture(scope="session")
def server() -> Server:
    url = os.environ.get("REVERSE_OTP_CLIENT_TEST_URL")
    if not url:
        pytest.skip("no server: clients/ci.sh sets REVERSE_OTP_CLIENT_TEST_URL and the rest")
    return Server(
        url=url,
        api_key=os.environ["REVERSE_OTP_CLIENT_TEST_API_KEY"],
        simulator_secret=os.environ["REVERSE_OTP_CLIENT_TEST_SIMULATOR_SECRET"],
        callback_secret=os.environ["REVERSE_OTP_CLIENT_TEST_CALLBACK_SECRET"],
    )


def new_phone() -> str:
    """A fresh French mobile number (+33 61...: every one valid), so the per-phone limit never
    bites."""
    return "+3361" + "".join(secrets.choice("0123456789") for _ in range(7))


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 204 and keeps what it was sent."""

    def __init__(self) -> None:
        self.received: queue.Queue[Delivery] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                received.put(Delivery(dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/callbacks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def next(self, timeout: float = 20.0) -> Delivery:
        return self.received.get(timeout=timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    try:
        yield found
    finally:
        found.httpd.shutdown()
        found.httpd.server_close()
