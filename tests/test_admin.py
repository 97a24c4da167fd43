"""The operator dashboard: closed without a key, a signed session, masked numbers, SVG charts."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from app.web.admin import COOKIE
from tests.conftest import AUTH, runtime
from tests.sms import create_on_simulator, text_in

KEY = "admin-key-" + "0123456789abcdefghijkl"
OTHER_KEY = "another-key-" + "0123456789abcdefghijkl"
BEARER = {"Authorization": f"Bearer {KEY}"}
SENDER = "+33612345678"


@pytest.fixture
def settings_overrides():
    return {"admin": {"key": KEY}}


def log_in(client, key=KEY):
    return client.post("/admin/login", data={"key": key})


@pytest.mark.parametrize("settings_overrides", [{}])
@pytest.mark.parametrize("path", ["/admin", "/admin/login"])
def test_dashboard_is_absent_without_an_admin_key(client, path):
    assert client.get(path, headers=BEARER).status_code == 404


def test_shows_the_login_form_without_a_session(client):
    response = client.get("/admin")
    assert response.status_code == 401
    assert 'name="key"' in response.get_data(as_text=True)


def test_refuses_a_wrong_key_at_login(client):
    response = log_in(client, "not-the-key")
    assert response.status_code == 401
    assert COOKIE not in response.headers.get("Set-Cookie", "")


def test_login_sets_a_strict_http_only_session_cookie(client):
    response = log_in(client)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(COOKIE + "=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" in cookie  # the public URL is https
    assert KEY not in cookie
    assert client.get("/admin").status_code == 200


def test_refuses_a_tampered_session_cookie(client):
    log_in(client)
    value = client.get_cookie(COOKIE, path="/admin").value
    client.set_cookie(COOKIE, value[:-2] + "xx", path="/admin")
    assert client.get("/admin").status_code == 401


def test_session_ends_when_the_key_changes(app, client, settings):
    log_in(client)
    rt = runtime(app)
    rt.settings = settings.model_copy(
        update={"admin": settings.admin.model_copy(update={"key": OTHER_KEY})}
    )
    assert client.get("/admin").status_code == 401


def test_session_expires(client, settings, monkeypatch):
    log_in(client)
    later = int(time.time()) + settings.admin.session_hours * 3600 + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get("/admin").status_code == 401


def test_logout_clears_the_session(client):
    log_in(client)
    client.post("/admin/logout")
    assert client.get("/admin").status_code == 401


def test_a_bearer_key_opens_the_dashboard(client):
    assert client.get("/admin", headers=BEARER).status_code == 200
    assert client.get("/admin", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_dashboard_shows_recent_activity_with_numbers_masked(client, clock):
    verified = create_on_simulator(client, phone=SENDER)
    clock.advance(25)
    text_in(client, verified["body"], sender=SENDER)
    text_in(client, "hello", sender="+33698765432")
    client.post("/api/v1/challenges", json={}, headers=AUTH)
    html = client.get("/admin", headers=BEARER).get_data(as_text=True)
    assert verified["id"][:14] in html
    assert '<span class="outcome matched">' in html
    assert '<span class="outcome no_code">' in html
    assert SENDER not in html and "+33698765432" not in html
    assert verified["code"] not in html


def test_dashboard_draws_its_charts_as_inline_svg_without_scripts(client, clock):
    created = create_on_simulator(client)
    clock.advance(12)
    text_in(client, created["body"])
    html = client.get("/admin?window=1h", headers=BEARER).get_data(as_text=True)
    assert html.count("<svg") == 7
    assert "<script" not in html
    assert not re.search(r'(src|href)="https?://', html)
    assert "10s-20s: 1" in html  # the time-to-verify bucket holding 12 s


def test_unknown_window_falls_back_to_a_day(client):
    html = client.get("/admin?window=forever", headers=BEARER).get_data(as_text=True)
    assert 'aria-current="page">24h' in html


def test_refuses_logins_from_an_address_after_ten_failures(client):
    for _ in range(10):
        assert log_in(client, "guess").status_code == 401
    refused = log_in(client, KEY)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_logins"
    assert int(refused.headers["Retry-After"]) > 0
