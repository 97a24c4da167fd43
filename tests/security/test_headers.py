"""Security headers on pages and API answers; the API's explicit CORS policy."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Response

from tests.conftest import AUTH


def test_api_answers_forbid_referrers_sniffing_and_framing(client):
    response = client.post("/api/v1/challenges", json={}, headers=AUTH)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_status_and_qr_answers_forbid_referrers(client):
    token = client.post("/api/v1/challenges", json={}, headers=AUTH).json["token"]
    for path in (f"/api/v1/status/{token}", f"/api/v1/status/{token}/qr.svg"):
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_pages_get_a_strict_content_security_policy(app):
    app.add_url_rule("/probe-page", "probe", lambda: Response("<p>hi</p>", mimetype="text/html"))
    response = app.test_client().get("/probe-page")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_webhook_answers_get_the_headers_too(client):
    response = client.post("/webhooks/simulator", data=b"{}")
    assert response.status_code == 403
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_cross_origin_api_calls_by_default(client):
    response = client.post(
        "/api/v1/challenges", json={}, headers=AUTH | {"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/challenges",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


CORS = {
    "api": {
        "keys": ["test-api-key-0123456789-abcdefghijk"],
        "cors_origins": ["https://app.example.com"],
    }
}


@pytest.mark.parametrize("settings_overrides", [CORS])
def test_listed_origins_may_call_the_api(client, settings_overrides: Any):
    origin = {"Origin": "https://app.example.com"}
    preflight = client.options(
        "/api/v1/challenges",
        headers=origin | {"Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.post("/api/v1/challenges", json={}, headers=AUTH | origin)
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Origin" in response.headers.getlist("Vary")
    other = client.post(
        "/api/v1/challenges", json={}, headers=AUTH | {"Origin": "https://x.example"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
