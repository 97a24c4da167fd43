"""Helpers shared by the callback tests: challenges, inbound SMS and a worker."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.domain.callbacks import format_secret
from app.providers.simulator import HEADER, sign
from app.workers.delivery import Deliverer
from app.workers.delivery import deliverer_for as build_deliverer
from tests.conftest import AUTH, NUMBER, SIM_SECRET, runtime

HOOK = "https://hooks.example.com/reverse-otp"
HOOK_SECRET = format_secret(b"callback-secret-for-tests-0123456789"[:32])
PHONE = "+33612345678"
# Challenges take turns over the numbers; with one number every SMS goes to the simulator.
SIMULATOR_ONLY = [{"number": NUMBER, "provider": "simulator"}]


def create(client: FlaskClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    response = client.post("/api/v1/challenges", json=body, headers=headers or AUTH)
    assert response.status_code == 201, response.json
    return response.json


def text_in(client: FlaskClient, sender: str, text: str, to: str = NUMBER) -> int:
    """Deliver an SMS through the simulator webhook; return the HTTP status."""
    payload = {"from": sender, "to": to, "text": text, "id": "sim-" + secrets.token_hex(6)}
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", HEADER: sign(SIM_SECRET, body)}
    return client.post("/webhooks/simulator", data=body, headers=headers).status_code


def worker(app: Flask, *addresses: str) -> Deliverer:
    """The app's delivery worker, resolving every host to `addresses` (public by default)."""
    rt = runtime(app)
    deliverer = build_deliverer(rt.settings, rt.ctx)
    found = list(addresses) or ["93.184.216.34"]
    deliverer.resolver = lambda host, port: found
    return deliverer


def outbox(app: Flask, challenge_id: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = runtime(app).ctx.store.outbox_rows(challenge_id)  # type: ignore[attr-defined]
    return rows
