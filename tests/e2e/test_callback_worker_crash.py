"""A callback worker killed in the middle of a delivery loses nothing.

The real `reverse-otp callbacks run` process delivers to a receiver on 127.0.0.1. The
receiver holds the first request open; the test SIGKILLs the worker while it waits for the
answer, starts a new one, and checks that every event arrives at least once, signed, and
that event ids let the receiver drop the duplicate.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from app import create_app
from app.config import load
from app.usecases import challenges
from tests.callback_helpers import HOOK_SECRET, SIMULATOR_ONLY
from tests.conftest import base_settings, runtime
from tests.e2e.server import running_server, write_config
from tests.test_callback_receivers import documented_verify

pytestmark = pytest.mark.e2e


class Receiver(ThreadingHTTPServer):
    """Records every callback; holds the first one open until released."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callbacks"

    def ids(self) -> list[str]:
        with self.lock:
            return [headers["webhook-id"] for headers, _ in self.received]


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        try:
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            if len(body) < length:
                return  # cut off by the kill mid-send (deliveries run concurrently): not received
            with self.server.lock:
                first = not self.server.received
                self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            if first:
                self.server.holding.set()
                self.server.release.wait(30)
            self.send_response(200)
            self.end_headers()
        except OSError:
            pass  # the worker died while we held its request

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_worker(cwd: Path, config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    env["REVERSE_OTP_CONFIG"] = str(config)
    exe = Path(sys.executable).with_name("reverse-otp")
    with (cwd / "worker.log").open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [str(exe), "callbacks", "run"], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_killed_worker_mid_delivery_loses_no_event(tmp_path):
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    callbacks = {
        "url": receiver.url,
        "secret": HOOK_SECRET,
        "allow_private": True,
        "worker": False,
        "connect_timeout": 1,
        "read_timeout": 2,
        "lease": 3.5,
        "poll_interval": 0.1,
    }
    raw = base_settings(tmp_path, callbacks=callbacks, numbers=SIMULATOR_ONLY)
    config = write_config(tmp_path / "config.toml", raw)
    app = create_app(load(overrides=raw, environ={}))
    ctx = runtime(app).ctx
    for _ in range(3):
        made = challenges.create_challenge(ctx, None, None, {})
        challenges.cancel_challenge(ctx, made.challenge.id)
    expected = {row["event_id"] for row in ctx.store.outbox_rows()}
    assert len(expected) == 3

    first = start_worker(tmp_path, config)
    try:
        assert receiver.holding.wait(30), "the worker sent nothing"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
        receiver.release.set()
    held = receiver.ids()[0]

    second = start_worker(tmp_path, config)
    try:
        wait_for(lambda: set(receiver.ids()) == expected)
        wait_for(lambda: {r["state"] for r in ctx.store.outbox_rows()} == {"delivered"})
    finally:
        second.terminate()
        second.wait(10)
        receiver.shutdown()
        receiver.server_close()
        ctx.store.dispose()

    ids = receiver.ids()
    assert ids.count(held) >= 2, "the interrupted event was not sent again"
    assert set(ids) == expected
    verify = documented_verify()
    assert all(verify(HOOK_SECRET, headers, body) for headers, body in receiver.received)
    unique = {headers["webhook-id"]: body for headers, body in receiver.received}
    assert len(unique) == 3


def test_server_processes_deliver_each_callback_once(tmp_path):
    receiver = Receiver()
    receiver.release.set()  # answer at once
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    callbacks = {
        "url": receiver.url,
        "secret": HOOK_SECRET,
        "allow_private": True,
        "poll_interval": 0.1,
    }
    raw = base_settings(tmp_path, callbacks=callbacks, numbers=SIMULATOR_ONLY)
    config = write_config(tmp_path / "config.toml", raw)
    auth = {"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"}
    try:
        with running_server(tmp_path, config=config, workers=2) as base:
            for _ in range(6):
                made = requests.post(f"{base}/api/v1/challenges", json={}, headers=auth, timeout=10)
                cancel = f"{base}/api/v1/challenges/{made.json()['id']}/cancel"
                assert requests.post(cancel, headers=auth, timeout=10).status_code == 200
            wait_for(lambda: len(receiver.ids()) >= 6)
            time.sleep(0.5)  # room for a duplicate to show up, were there one
    finally:
        receiver.shutdown()
        receiver.server_close()
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == 6
