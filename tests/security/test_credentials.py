"""Every credential check is throttled per address, weak credentials are refused at start-up,
and an admin session ends at logout (security round 2)."""

from __future__ import annotations

import hashlib
import json

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.config import load
from app.config.checks import ConfigError
from app.limits.rules import LimitsUnavailable
from app.web.admin import COOKIE, SALT
from tests.conftest import API_KEY, base_settings, runtime

ADMIN_KEY = "admin-key-0123456789-abcdefghijklmnop"
METRICS_TOKEN = "metrics-token-0123456789-abcdefghijk"
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OTHER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def settings_overrides():
    return {"admin": {"key": ADMIN_KEY}, "metrics": {"token": METRICS_TOKEN}}


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


ROUTES = [
    ("/admin", ADMIN_KEY),
    ("/metrics", METRICS_TOKEN),
    ("/api/v1/challenges/ch_unknown", API_KEY),
]


@pytest.mark.parametrize(("path", "secret"), ROUTES)
def test_bearer_guesses_are_refused_after_the_failure_limit_even_when_right(
    client, settings, path, secret
):
    allowed = settings.limits.credential_failures.split("/")[0]
    for _ in range(int(allowed)):
        assert client.get(path, headers=bearer("guess"), environ_base=ATTACKER).status_code == 401
    refused = client.get(path, headers=bearer(secret), environ_base=ATTACKER)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] in {"too_many_logins", "too_many_failures"}
    assert int(refused.headers["Retry-After"]) > 0
    # The limit is per client address: another address is not locked out.
    assert client.get(path, headers=bearer(secret), environ_base=OTHER).status_code in {200, 404}


@pytest.mark.parametrize(("path", "secret"), ROUTES)
def test_credential_failures_are_forgotten_after_their_window(client, clock, path, secret):
    for _ in range(10):
        client.get(path, headers=bearer("guess"), environ_base=ATTACKER)
    assert client.get(path, headers=bearer(secret), environ_base=ATTACKER).status_code == 429
    clock.advance(901)
    assert client.get(path, headers=bearer(secret), environ_base=ATTACKER).status_code in {200, 404}


@pytest.mark.parametrize(("path", "secret"), ROUTES)
def test_credential_checks_fail_closed_when_the_counters_are_down(
    app, client, monkeypatch, path, secret
):
    counters = runtime(app).ctx.limits.counters

    def down(*args, **kwargs):
        raise LimitsUnavailable("counters down")

    monkeypatch.setattr(counters, "peek", down)
    monkeypatch.setattr(counters, "hit", down)
    answer = client.get(path, headers=bearer("guess"), environ_base=ATTACKER)
    assert answer.status_code == 503


@pytest.mark.parametrize(
    ("section", "weak", "named"),
    [
        ({"admin": {"key": "a"}}, "a", "admin.key"),
        ({"metrics": {"token": "m"}}, "m", "metrics.token"),
        ({"api": {"keys": ["k"]}}, "k", "api.keys[0]"),
        ({"admin": {"key": "x" * 40}}, "x", "admin.key"),
    ],
)
def test_weak_configured_credentials_are_refused_at_start_up(tmp_path, section, weak, named):
    with pytest.raises(ConfigError) as refused:
        load(overrides=base_settings(tmp_path, **section), environ={})
    message = str(refused.value)
    assert message.startswith(named + ":")
    assert "\n" not in message
    assert weak * 3 not in message  # the value itself is never echoed


@pytest.mark.parametrize("key", ["basic_password", "path_token"])
def test_weak_provider_webhook_credentials_are_refused_at_start_up(tmp_path, key):
    basic = {"basic_username": "gateway", "basic_password": "p"}
    section = basic if key == "basic_password" else {"path_token": "p" * 20}
    providers = base_settings(tmp_path)["providers"] | {"smsgateway24": section}
    with pytest.raises(ConfigError, match=rf"^providers\.smsgateway24\.{key}:"):
        load(overrides=base_settings(tmp_path, providers=providers), environ={})


def log_in(client, key=ADMIN_KEY):
    return client.post("/admin/login", data={"key": key})


def test_admin_cookie_captured_before_logout_is_refused_after_it(client):
    assert log_in(client).status_code == 303
    captured = client.get_cookie(COOKIE, path="/admin").value
    assert client.get("/admin").status_code == 200
    client.post("/admin/logout")
    client.set_cookie(COOKIE, captured, path="/admin")
    assert client.get("/admin").status_code == 401


def test_logging_out_one_admin_session_keeps_the_others(app):
    first, second = app.test_client(), app.test_client()
    log_in(first)
    log_in(second)
    first.post("/admin/logout")
    assert first.get("/admin").status_code == 401
    assert second.get("/admin").status_code == 200


def test_admin_session_ends_server_side_after_its_lifetime(client, clock, settings):
    log_in(client)
    clock.advance(settings.admin.session_hours * 3600 + 1)
    assert client.get("/admin").status_code == 401


def test_admin_cookie_carries_no_digest_of_the_key(client, settings):
    log_in(client)
    cookie = client.get_cookie(COOKIE, path="/admin").value
    payload = URLSafeTimedSerializer(settings.server.secret_key, salt=SALT).loads(cookie)
    fingerprint = hashlib.sha256(b"admin:" + ADMIN_KEY.encode()).hexdigest()
    assert fingerprint[:16] not in json.dumps(payload)
    assert ADMIN_KEY not in json.dumps(payload)
