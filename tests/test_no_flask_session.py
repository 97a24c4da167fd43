"""Flask's cookie session is off: nothing reads or signs it on any request, and code that
tried to keep something in it would fail loudly instead of setting a cookie."""

from __future__ import annotations

import pytest
from flask import session
from flask.sessions import SecureCookieSessionInterface

from tests.conftest import AUTH


def test_no_request_opens_a_signed_session_or_sets_its_cookie(app, client, monkeypatch):
    def refuse(*_: object) -> None:
        raise AssertionError("a signing serializer was built for Flask's session")

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", refuse)
    client.set_cookie("session", "eyJ4IjoxfQ.forged.cookie")
    for answer in (
        client.post("/api/v1/challenges", json={}, headers=AUTH),
        client.get("/api/v1/status/unknown-token"),
        client.get("/admin/"),
    ):
        assert answer.status_code < 500
        assert not any(h.startswith("session=") for h in answer.headers.getlist("Set-Cookie"))


def test_writing_to_flask_session_fails(app):
    with app.test_request_context("/"):
        assert not session
        with pytest.raises(RuntimeError):
            session["kept"] = "value"
