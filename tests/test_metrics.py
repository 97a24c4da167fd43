"""Prometheus metrics move with what happens, and /metrics is closed without its token."""

from __future__ import annotations

import json

import pytest

from app.ops.observer import open_stream
from app.providers.simulator import HEADER, sign
from tests.conftest import AUTH, NUMBER, SIM_SECRET, runtime
from tests.sms import create_on_simulator, text_in

TOKEN = "metrics-token-" + "0123456789abcdefghij"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings_overrides():
    return {"metrics": {"token": TOKEN}}


@pytest.fixture
def value(app):
    registry = runtime(app).ctx.observer.registry

    def read(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    return read


def test_counts_created_challenges(client, value):
    client.post("/api/v1/challenges", json={}, headers=AUTH)
    client.post("/api/v1/challenges", json={}, headers=AUTH)
    assert value("reverse_otp_challenges_created_total") == 2


def test_counts_a_verification_and_its_time_since_creation(client, clock, value):
    created = create_on_simulator(client)
    clock.advance(42)
    text_in(client, created["body"])
    assert value("reverse_otp_challenges_ended_total", status="verified") == 1
    assert value("reverse_otp_time_to_verify_seconds_count") == 1
    assert value("reverse_otp_time_to_verify_seconds_sum") == 42
    assert value("reverse_otp_time_to_verify_seconds_bucket", le="45.0") == 1
    assert value("reverse_otp_time_to_verify_seconds_bucket", le="30.0") == 0
    assert value("reverse_otp_inbound_messages_total", provider="simulator", outcome="matched") == 1


def test_counts_cancelled_expired_and_failed_endings(client, clock, value):
    cancelled = client.post("/api/v1/challenges", json={}, headers=AUTH).json
    client.post(f"/api/v1/challenges/{cancelled['id']}/cancel", headers=AUTH)
    expiring = client.post("/api/v1/challenges", json={}, headers=AUTH).json
    failing = create_on_simulator(client, phone="+33612345678")
    for _ in range(5):
        text_in(client, failing["body"], sender="+33698765432")
    clock.advance(601)
    client.get(f"/api/v1/challenges/{expiring['id']}", headers=AUTH)
    assert value("reverse_otp_challenges_ended_total", status="cancelled") == 1
    assert value("reverse_otp_challenges_ended_total", status="expired") == 1
    assert value("reverse_otp_challenges_ended_total", status="failed") == 1
    assert value("reverse_otp_challenges_ended_total", status="verified") == 0


def test_counts_inbound_outcomes_including_redeliveries(client, value):
    body = json.dumps({"from": "+33612345678", "to": NUMBER, "text": "hello", "id": "same"})
    for _ in range(2):
        client.post(
            "/webhooks/simulator",
            data=body,
            content_type="application/json",
            headers={HEADER: _sign(body)},
        )
    assert value("reverse_otp_inbound_messages_total", provider="simulator", outcome="no_code") == 1
    assert (
        value("reverse_otp_inbound_messages_total", provider="simulator", outcome="duplicate") == 1
    )


def test_counts_webhook_rejections_by_reason(client, value):
    client.post("/webhooks/simulator", json={"from": "x"})
    client.post("/webhooks/simulator", json={"from": "x"}, headers={HEADER: "00"})
    body = json.dumps({"from": "+33612345678"})
    client.post(
        "/webhooks/simulator",
        data=body,
        content_type="application/json",
        headers={HEADER: _sign(body)},
    )
    rejected = "reverse_otp_webhook_rejections_total"
    assert value(rejected, provider="simulator", reason="missing_signature") == 1
    assert value(rejected, provider="simulator", reason="bad_signature") == 1
    assert value(rejected, provider="simulator", reason="malformed") == 1


def test_open_streams_gauge_follows_open_and_close(app, value):
    observer = runtime(app).ctx.observer
    with open_stream(observer):
        with open_stream(observer):
            assert value("reverse_otp_open_streams") == 2
        assert value("reverse_otp_open_streams") == 1
    assert value("reverse_otp_open_streams") == 0


def test_callback_code_can_count_deliveries_and_retries(app, value):
    observer = runtime(app).ctx.observer
    observer.callback_delivery("failed")
    observer.callback_retry()
    observer.callback_delivery("delivered")
    assert value("reverse_otp_callback_deliveries_total", outcome="failed") == 1
    assert value("reverse_otp_callback_deliveries_total", outcome="delivered") == 1
    assert value("reverse_otp_callback_retries_total") == 1


def test_metrics_page_shows_the_counters_with_the_token(client):
    client.post("/api/v1/challenges", json={}, headers=AUTH)
    page = client.get("/metrics", headers=SCRAPE)
    assert page.status_code == 200
    assert page.mimetype == "text/plain"
    assert "reverse_otp_challenges_created_total 1.0" in page.get_data(as_text=True)


def test_metrics_page_refuses_a_wrong_token(client):
    page = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert page.status_code == 401
    assert page.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("settings_overrides", [{}])
def test_metrics_page_is_absent_without_a_configured_token(client):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def _sign(body: str) -> str:
    return sign(SIM_SECRET, body.encode())


def test_an_open_live_stream_counts_until_closed(client, value):
    created = client.post("/api/v1/challenges", json={}, headers=AUTH).json
    stream = client.get(f"/api/v1/status/{created['token']}/events", buffered=False)
    assert stream.status_code == 200
    assert value("reverse_otp_open_streams") == 1
    stream.close()
    assert value("reverse_otp_open_streams") == 0
