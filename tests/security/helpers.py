"""Helpers for the security tests: send a simulator SMS through the real webhook route."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask.testing import FlaskClient

from app.providers.simulator import HEADER, sign
from tests.conftest import AUTH, NUMBER, SIM_SECRET


def send_sms(
    client: FlaskClient, sender: str, text: str, message_id: str | None = None, to: str = NUMBER
) -> Any:
    """Deliver an SMS through /webhooks/simulator, signed; return the response."""
    body = json.dumps(
        {"from": sender, "to": to, "text": text, "id": message_id or secrets.token_hex(8)}
    ).encode()
    return client.post(
        "/webhooks/simulator",
        data=body,
        headers={HEADER: sign(SIM_SECRET, body), "Content-Type": "application/json"},
    )


def outcome(response: Any) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    found: str = response.json["outcomes"][0]
    return found


def create(client: FlaskClient, **body: Any) -> Any:
    """Create a challenge over the API; return the JSON answer (asserting 201)."""
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json
