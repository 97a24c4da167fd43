"""Abuse limits: challenge creation per API key, IP and phone; pending cap; sender cool-off."""

from __future__ import annotations

import secrets
import shutil
from datetime import timedelta
from typing import Any

import pytest

from app.config import load
from app.domain import rates
from app.limits.rules import Count, LimitsUnavailable
from app.store.tables import inbound_messages
from app.usecases import challenges, context
from tests.backends import REDIS_URL, require_redis
from tests.conftest import AUTH, NUMBER, base_settings, development_settings
from tests.security.helpers import create, outcome, send_sms

SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]
VICTIM = "+14155550123"
ATTACKER = "+14155550199"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": SIM_ONLY,
        "limits": {
            "per_api_key": "100/hour",
            "per_ip": "50/hour",
            "per_phone": "2/hour",
            "max_pending": 6,
            "sender_failures": "3/hour",
            "sender_cooloff": 600,
        },
    }


def test_reads_rates_in_units_and_seconds():
    assert rates.parse("10/hour") == rates.Rate(10, 3600)
    assert rates.parse("5/minutes") == rates.Rate(5, 60)
    assert rates.parse("7/600") == rates.Rate(7, 600)
    assert rates.parse("0/day").off


@pytest.mark.parametrize("text", ["ten/hour", "5/fortnight", "5", "-1/hour", "3/0"])
def test_refuses_unreadable_rates(text):
    with pytest.raises(ValueError, match="rate"):
        rates.parse(text)


PER_IP_3 = {"numbers": SIM_ONLY, "limits": {"per_ip": "3/minute"}}
END_USER = {"client_ip": "198.51.100.20"}


@pytest.mark.parametrize("settings_overrides", [PER_IP_3])
def test_limits_challenges_per_client_ip_with_retry_after(client):
    for _ in range(3):
        assert client.post("/api/v1/challenges", json=END_USER, headers=AUTH).status_code == 201
    response = client.post("/api/v1/challenges", json=END_USER, headers=AUTH)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited_ip"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


# The demo creates challenges for the peer address (behind trusted_proxies): it is where
# X-Forwarded-For still matters for the per-IP limit.
@pytest.fixture
def demo(tmp_path, make_app):
    def build(**limits: Any) -> Any:
        raw = development_settings(tmp_path, limits=limits)
        return make_app(load(overrides=raw, environ={})).test_client()

    return build


def test_ignores_forwarded_for_unless_a_proxy_is_trusted(demo):
    client = demo(per_ip="3/minute")
    for n in range(3):
        demo_from(client, f"198.51.100.{n}")
    response = client.post("/demo", headers={"X-Forwarded-For": "198.51.100.9"})
    assert response.json["error"]["code"] == "rate_limited_ip"


def demo_from(client, forwarded_for):
    response = client.post("/demo", headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == 303
    assert "/v/" in response.headers["Location"]
    return response


def test_counts_the_address_the_trusted_proxy_saw_not_forged_entries(demo):
    client = demo(per_ip="2/minute", trusted_proxies=1)
    demo_from(client, "203.0.113.7, 198.51.100.1")
    demo_from(client, "203.0.113.8, 198.51.100.1")
    response = client.post("/demo", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.1"})
    assert response.json["error"]["code"] == "rate_limited_ip"
    demo_from(client, "198.51.100.2")


@pytest.mark.parametrize("settings_overrides", [{"limits": {"per_api_key": "4/hour"}}])
def test_limits_challenges_per_api_key(ctx, clock):
    for n in range(4):
        challenges.create_challenge(ctx, None, None, {}, caller="key:a", client_ip=f"10.0.0.{n}")
    with pytest.raises(context.RateLimited) as refused:
        challenges.create_challenge(ctx, None, None, {}, caller="key:a", client_ip="10.0.0.9")
    assert refused.value.code == "rate_limited_api_key"
    assert refused.value.retry_after == 3600
    challenges.create_challenge(ctx, None, None, {}, caller="key:b", client_ip="10.0.0.9")
    clock.advance(3600)
    challenges.create_challenge(ctx, None, None, {}, caller="key:a", client_ip="10.0.0.10")


def test_limits_challenges_per_expected_phone(ctx):
    for n in range(2):
        challenges.create_challenge(ctx, VICTIM, None, {}, caller=f"key:{n}")
    with pytest.raises(context.RateLimited) as refused:
        challenges.create_challenge(ctx, "+1 415 555 0123", None, {}, caller="key:9")
    assert refused.value.code == "rate_limited_phone"


def test_caps_pending_challenges_and_frees_slots_as_they_end(ctx, clock):
    made = [challenges.create_challenge(ctx, None, None, {}, caller=f"k{n}") for n in range(6)]
    with pytest.raises(context.RateLimited) as refused:
        challenges.create_challenge(ctx, None, None, {}, caller="k6")
    assert refused.value.code == "too_many_pending"
    challenges.cancel_challenge(ctx, made[0].challenge.id)
    challenges.create_challenge(ctx, None, None, {}, caller="k7")
    clock.advance(601)  # all pending are past their expiry, even before the job ends them
    challenges.create_challenge(ctx, None, None, {}, caller="k8")


def test_sender_over_budget_cools_off_and_its_messages_match_nothing(client, ctx, clock):
    target = create(client)
    for _ in range(3):
        assert outcome(send_sms(client, ATTACKER, "VERIFY " + random_code())) == "unknown_code"
    right_code = send_sms(client, ATTACKER, "VERIFY " + target["code"])
    assert outcome(right_code) == "sender_blocked"
    assert challenges.get_challenge(ctx, target["id"]).status.value == "pending"
    assert stored_outcomes(ctx) == ["unknown_code"] * 3 + ["sender_blocked"]
    clock.advance(601)  # the cool-off lasts until the failure window (an hour) ends too
    assert outcome(send_sms(client, ATTACKER, "VERIFY " + random_code())) == "sender_blocked"
    clock.advance(3000)
    assert not ctx.limits.sender_blocked(ATTACKER, clock.now())
    fresh = create(client)
    assert outcome(send_sms(client, ATTACKER, fresh["body"])) == "matched"


def test_successes_do_not_spend_a_senders_budget(client):
    for _ in range(5):
        made = create(client)
        assert outcome(send_sms(client, VICTIM, made["body"])) == "matched"
    assert outcome(send_sms(client, VICTIM, "VERIFY " + random_code())) == "unknown_code"


def test_messages_without_a_code_spend_nothing(client):
    for _ in range(10):
        assert outcome(send_sms(client, ATTACKER, "hello")) == "no_code"
    assert outcome(send_sms(client, ATTACKER, "VERIFY " + random_code())) == "unknown_code"


def test_replayed_failures_are_counted_once(client):
    for _ in range(5):
        assert outcome(send_sms(client, ATTACKER, "VERIFY " + random_code(), "same-id")) in (
            "unknown_code",
            "duplicate",
        )
    assert outcome(send_sms(client, ATTACKER, "VERIFY " + random_code())) == "unknown_code"


def test_wrong_sender_attempts_spend_the_senders_budget(client):
    target = create(client, phone=VICTIM)
    for _ in range(3):
        assert outcome(send_sms(client, ATTACKER, target["body"])) == "wrong_sender"
    assert outcome(send_sms(client, ATTACKER, target["body"])) == "sender_blocked"


class BrokenCounters:
    def hit(self, *args: Any, **kwargs: Any) -> Count:
        raise LimitsUnavailable("counters down")

    def peek(self, *args: Any, **kwargs: Any) -> Count | None:
        raise LimitsUnavailable("counters down")

    def hit_chain(self, *args: Any, **kwargs: Any) -> Any:
        raise LimitsUnavailable("counters down")

    def kept_in(self, store: object) -> bool:
        return False


def test_fails_closed_when_counters_are_unreachable(client, ctx):
    target = create(client)
    assert ctx.limits is not None
    ctx.limits.counters = BrokenCounters()
    response = client.post("/api/v1/challenges", json={}, headers=AUTH)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "limits_unavailable"
    assert response.headers["Retry-After"]
    webhook = send_sms(client, ATTACKER, target["body"])
    assert webhook.status_code == 503
    assert stored_outcomes(ctx) == []
    assert challenges.get_challenge(ctx, target["id"]).status.value == "pending"


def test_database_counters_fail_closed_when_the_database_is_down(tmp_path, make_app):
    raw = base_settings(tmp_path, numbers=SIM_ONLY)
    folder = tmp_path / "gone" / "dir"
    folder.mkdir(parents=True)
    raw["database"] = {"url": f"sqlite:///{folder}/db.sqlite", "auto_create": False}
    app = make_app(raw)
    shutil.rmtree(tmp_path / "gone")  # the database disappears after start-up
    response = app.test_client().post("/api/v1/challenges", json={}, headers=AUTH)
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def random_code() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(13))


def stored_outcomes(ctx) -> list[str]:
    with ctx.store.reader.connect() as conn:
        rows = conn.execute(inbound_messages.select().order_by(inbound_messages.c.id))
        return [row.outcome for row in rows]


@pytest.fixture
def redis_prefix() -> str:
    require_redis()
    return f"test:{secrets.token_hex(6)}:"


def test_redis_counters_are_shared_by_every_instance(tmp_path, redis_prefix, make_app):
    limits = {"storage": "redis", "redis_url": REDIS_URL, "key_prefix": redis_prefix}
    limits |= {"per_ip": "3/hour"}
    raw = base_settings(tmp_path, numbers=SIM_ONLY, limits=limits)
    first, second = make_app(raw).test_client(), make_app(raw).test_client()
    statuses = [
        c.post("/api/v1/challenges", json=END_USER, headers=AUTH).status_code
        for c in (first, second, first, second)
    ]
    assert statuses == [201, 201, 201, 429]


def test_redis_counters_fail_closed(tmp_path, make_app):
    limits = {"storage": "redis", "redis_url": "redis://127.0.0.1:1/0"}
    app = make_app(base_settings(tmp_path, numbers=SIM_ONLY, limits=limits))
    response = app.test_client().post("/api/v1/challenges", json={}, headers=AUTH)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "limits_unavailable"


def test_database_counter_windows_restart_after_they_end(ctx, clock):
    assert ctx.limits is not None
    counters = ctx.limits.counters
    now = clock.now()
    assert [counters.hit("k", 60, now).value for _ in range(3)] == [1, 2, 3]
    assert counters.peek("k", now + timedelta(seconds=59)).value == 3
    assert counters.peek("k", now + timedelta(seconds=60)) is None
    assert counters.hit("k", 60, now + timedelta(seconds=60)).value == 1
