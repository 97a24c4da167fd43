"""Two instances, one PostgreSQL, one Redis: a challenge created on one instance, its webhook
handled by the other, its status stream open on the first, and the event arrives; then again
with Redis stopped mid-test (delivery degrades to the database poller), and after it is back."""

from __future__ import annotations

import secrets

import pytest
import requests
from sqlalchemy import create_engine

from app.store import migrate
from tests.conftest import NUMBER, SIM_SECRET, base_settings
from tests.e2e.live import SseClient, create, signed_sms
from tests.e2e.server import free_port, running_server, write_config
from tests.engines import empty, postgres_url

pytestmark = pytest.mark.e2e


@pytest.fixture
def postgres():
    """The PostgreSQL database, migrated and emptied: the one tests/engines.py names
    (REVERSE_OTP_TEST_DATABASE_URL, else REVERSE_OTP_TEST_POSTGRES_URL, else the CI database),
    so runs with databases of their own never empty another run's; skipped when unreachable,
    except in CI."""
    url = postgres_url()
    engine = create_engine(url)
    migrate.upgrade(engine)
    empty(engine)
    engine.dispose()
    return url


def instance(tmp_path, name, port, database, redis_url, channel):
    folder = tmp_path / name
    folder.mkdir()
    raw = base_settings(
        folder,
        events={
            "backend": "redis",
            "redis_url": redis_url,
            "redis_channel": channel,
            "poll_interval": 0.2,
        },
        streams={"max_per_ip": 0, "heartbeat": 1},
        codes={"min_ttl": 10},
    )
    raw["server"]["public_url"] = f"http://127.0.0.1:{port}"
    raw["database"] = {"url": database}
    raw["numbers"] = [{"number": NUMBER, "provider": "simulator"}]
    return folder, write_config(folder / "config.toml", raw)


def deliver(base, created):
    body, headers = signed_sms(SIM_SECRET, NUMBER, created["body"])
    answer = requests.post(base + "/webhooks/simulator", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcomes"] == ["matched"]


def stream(base, created):
    client = SseClient(base, f"/api/v1/status/{created['token']}/events", timeout=15)
    assert client.status == 200
    assert client.next_event()[0] == "pending"
    return client


def verified_across(first, second):
    """Create on `first`, stream on `first`, deliver through `second`: the stream sees it."""
    created = create(first, "test-api-key-0123456789-abcdefghijk", phone="+33612345678")
    client = stream(first, created)
    try:
        deliver(second, created)
        name, data = client.next_event()
    finally:
        client.close()
    assert (name, data["status"]) == ("verified", "verified")
    shown = requests.get(
        f"{second}/api/v1/challenges/{created['id']}",
        headers={"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"},
        timeout=10,
    ).json()
    assert shown["verified_phone"] == "+33612345678"


def test_two_instances_share_challenges_and_events(tmp_path, postgres, own_redis):
    redis_url, start_redis, stop_redis = own_redis
    channel = f"test:{secrets.token_hex(8)}"
    port_a, port_b = free_port(), free_port()
    dir_a, config_a = instance(tmp_path, "a", port_a, postgres, redis_url, channel)
    dir_b, config_b = instance(tmp_path, "b", port_b, postgres, redis_url, channel)
    with (
        running_server(dir_a, config=config_a, port=port_a, workers=1) as a,
        running_server(dir_b, config=config_b, port=port_b, workers=1) as b,
    ):
        verified_across(a, b)
        verified_across(b, a)

        stop_redis()  # mid-test: both instances lose their bus
        verified_across(a, b)
        ready = requests.get(a + "/readyz", timeout=10)
        assert ready.status_code == 200  # degraded, still serving
        states = {name: check["state"] for name, check in ready.json()["checks"].items()}
        assert "degraded" in states.values(), states

        start_redis()
        verified_across(a, b)

        # Expiry is announced on time to a stream held by the other instance.
        short = create(b, "test-api-key-0123456789-abcdefghijk", ttl=10)
        client = stream(a, short)
        try:
            name, data = client.next_event()
        finally:
            client.close()
        assert (name, data["status"]) == ("expired", "expired")
