"""Waiting long polls count against the stream caps per address and per challenge."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.web import live, live_state
from tests.conftest import AUTH

ADDRESS = {"REMOTE_ADDR": "203.0.113.40"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"streams": {"max_per_ip": 2, "max_per_token": 3}}


class HeldPolls:
    """Long polls that wait until the test lets each of them answer."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Semaphore(0)
        self.gates: list[threading.Event] = []
        self.threads: list[threading.Thread] = []
        self.statuses: list[int] = []
        real = live.wait_for_change

        def held(waiter: Any, read: Any, now: Any, seconds: float) -> Any:
            if seconds == 0:
                return real(waiter, read, now, seconds)
            gate = threading.Event()
            self.gates.append(gate)
            self.entered.release()
            assert gate.wait(10), "the test never released this long poll"
            return read()

        monkeypatch.setattr(live, "wait_for_change", held)

    def start(self, app: Any, url: str, environ: dict[str, str]) -> None:
        def run() -> None:
            answer = app.test_client().get(url, environ_base=environ)
            self.statuses.append(answer.status_code)

        thread = threading.Thread(target=run)
        thread.start()
        self.threads.append(thread)
        assert self.entered.acquire(timeout=10), "the long poll did not start waiting"

    def release(self, index: int) -> None:
        self.gates[index].set()
        self.threads[index].join(10)

    def release_all(self) -> None:
        for index in range(len(self.gates)):
            self.release(index)


def token(client) -> str:
    response = client.post("/api/v1/challenges", json={}, headers=AUTH)
    assert response.status_code == 201
    return response.json["token"]


def test_long_polls_past_the_per_address_cap_are_refused_and_a_released_slot_is_reused(
    app, client, monkeypatch
):
    polls = HeldPolls(monkeypatch)
    url = f"/api/v1/status/{token(client)}?wait=30"
    for _ in range(2):
        polls.start(app, url, ADDRESS)
    refused = client.get(url, environ_base=ADDRESS)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_streams"
    assert "ip" in refused.json["error"]["message"]
    assert int(refused.headers["Retry-After"]) > 0
    other = token(client)  # the cap is per address, across challenges
    assert client.get(f"/api/v1/status/{other}?wait=0", environ_base=ADDRESS).status_code == 429
    polls.release(0)
    assert client.get(url.replace("wait=30", "wait=0"), environ_base=ADDRESS).status_code == 200
    polls.release_all()
    assert polls.statuses == [200, 200]


def test_long_polls_past_the_per_challenge_cap_are_refused(app, client, monkeypatch):
    polls = HeldPolls(monkeypatch)
    url = f"/api/v1/status/{token(client)}?wait=30"
    for n in range(3):
        polls.start(app, url, {"REMOTE_ADDR": f"198.51.100.{n}"})
    refused = client.get(url, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert refused.status_code == 429
    assert "challenge" in refused.json["error"]["message"]
    polls.release_all()
    again = url.replace("wait=30", "wait=0")
    assert client.get(again, environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200


def test_a_long_poll_that_fails_releases_its_slot(app, client, monkeypatch):
    url = f"/api/v1/status/{token(client)}?wait=30"

    def broken(*args: Any) -> Any:
        raise RuntimeError("bus gone")

    monkeypatch.setattr(live, "wait_for_change", broken)
    for _ in range(3):
        assert client.get(url, environ_base=ADDRESS).status_code == 500
    with app.app_context():
        assert live_state.live_state().streams.open_streams() == 0
