"""Request bodies have a time allowance; one client address has a connection cap.

The real-socket behaviour (drippers, /healthz, 408 on the wire) is in
tests/e2e/test_slow_bodies.py; these pin the rules themselves.
"""

import io
import socket

import pytest
from werkzeug.exceptions import RequestTimeout

from app.cli.server import PeerCount, capped_worker, fair_worker, options, peer_cap
from app.config import load
from app.web.bodies import BodyRules, DeadlineInput
from tests.conftest import base_settings

RULES = BodyRules(timeout=20.0, grace=5.0, min_rate=500)


class Ticks:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_body_allowance_grows_with_the_bytes_received_up_to_the_timeout():
    assert RULES.allowance(0) == 5.0
    assert RULES.allowance(2500) == 10.0
    assert RULES.allowance(1_000_000) == 20.0
    assert BodyRules(timeout=7.0, grace=5.0, min_rate=0).allowance(0) == 7.0


def test_a_read_after_the_allowance_ran_out_answers_408():
    clock = Ticks()
    body = DeadlineInput(io.BytesIO(b"x" * 5000), RULES, None, now=clock)
    assert body.read(2500) == b"x" * 2500  # allowance now 10 s
    clock.now = 9.9
    assert body.read(100) == b"x" * 100
    clock.now = 10.3  # 2600 bytes allow 10.2 s
    with pytest.raises(RequestTimeout):
        body.read(100)


def test_a_socket_read_is_bounded_by_what_is_left_and_shuts_the_read_side():
    server, client = socket.socketpair()
    with server, client:
        clock = Ticks()
        with client.makefile("rb", buffering=0) as stream:
            body = DeadlineInput(stream, BodyRules(0.2, 0.2, 0), client, now=clock)
            with pytest.raises(RequestTimeout):
                body.read(10)  # nothing ever arrives: the socket timeout ends the wait
        assert client.recv(10) == b""  # read side shut: nothing more is waited for
        assert client.gettimeout() is None  # the server's own timeout is restored


def test_the_app_answers_408_as_json_when_a_body_is_too_slow(client, monkeypatch):
    from app.web import bodies

    monkeypatch.setattr(bodies.DeadlineInput, "left", lambda self: -1.0)
    response = client.post("/webhooks/simulator", data=b"{}", content_type="application/json")
    assert response.status_code == 408
    assert response.json["error"]["code"] == "request_timeout"


def test_a_peer_over_its_connection_cap_is_refused_until_one_closes():
    peers = PeerCount(2)
    assert [peers.enter("198.51.100.7") for _ in range(3)] == [True, True, False]
    assert peers.enter("198.51.100.8")
    peers.leave("198.51.100.7")
    assert peers.enter("198.51.100.7")


def test_the_per_peer_cap_is_off_behind_trusted_proxies(tmp_path):
    direct = load(overrides=base_settings(tmp_path), environ={})
    proxied = load(overrides=base_settings(tmp_path, limits={"trusted_proxies": 1}), environ={})
    assert peer_cap(direct) == direct.server.max_connections_per_peer == 50
    assert peer_cap(proxied) == 0


def test_the_server_uses_the_capped_worker_when_a_cap_is_set():
    from gunicorn.workers.ggevent import GeventWorker

    worker = options("127.0.0.1", 8000, 1, 100, max_per_peer=20)["worker_class"]
    assert issubclass(worker, GeventWorker)
    assert options("127.0.0.1", 8000, 1, 100)["worker_class"] is fair_worker()
    assert issubclass(capped_worker(5), GeventWorker)
