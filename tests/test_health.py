"""Liveness needs nothing; readiness asks every registered component."""

from __future__ import annotations

from app.ops.health import Health, StoreHealth, check
from tests.conftest import runtime


class Fixed:
    def __init__(self, health: Health) -> None:
        self.answer = health

    def health(self) -> Health:
        return self.answer


class Broken:
    def health(self) -> Health:
        raise ConnectionError("refused")


class DownStore:
    def ping(self) -> None:
        raise OSError("no route to host")


def test_liveness_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_when_database_and_bus_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "checks": {"database": {"state": "ok"}, "bus": {"state": "ok"}},
    }


def test_not_ready_when_a_component_is_down(app, client):
    runtime(app).components["limiter"] = Fixed(Health("down", "redis unreachable"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["limiter"] == {"state": "down", "detail": "redis unreachable"}


def test_a_degraded_component_is_reported_but_ready(app, client):
    runtime(app).components["bus"] = Fixed(Health("degraded", "using the in-process fallback"))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["bus"]["state"] == "degraded"


def test_a_check_that_raises_counts_as_down():
    report = check({"bus": Broken()})
    assert not report.ready
    assert report.checks["bus"] == Health("down", "ConnectionError")


def test_store_that_cannot_ping_is_down():
    assert StoreHealth(DownStore()).health().state == "down"
