"""Through a real server with two workers: /metrics moves, logs are JSON without tokens."""

from __future__ import annotations

import json
import re

import pytest
import requests

from app.providers.simulator import HEADER, sign
from tests.conftest import NUMBER, SIM_SECRET, base_settings
from tests.e2e.server import running_server, write_config

pytestmark = pytest.mark.e2e
TOKEN = "e2e-metrics-token-" + "0123456789abcdef"
API = {"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"}


def scrape(base: str) -> dict[str, float]:
    response = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    response.raise_for_status()
    values = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def sms(base: str, text: str, message_id: str, secret: str = SIM_SECRET) -> requests.Response:
    body = json.dumps({"from": "+33612345678", "to": NUMBER, "text": text, "id": message_id})
    headers = {"Content-Type": "application/json", HEADER: sign(secret, body.encode())}
    return requests.post(f"{base}/webhooks/simulator", data=body, headers=headers, timeout=5)


def test_metrics_move_during_a_verification_and_logs_stay_clean(tmp_path):
    config = write_config(
        tmp_path / "config.toml", base_settings(tmp_path, metrics={"token": TOKEN})
    )
    with running_server(tmp_path, config=config, workers=2) as base:
        before = scrape(base)
        created = [
            requests.post(f"{base}/api/v1/challenges", json={}, headers=API, timeout=5).json()
            for _ in range(4)
        ]
        mine = [c for c in created if c["to"] == NUMBER]
        assert sms(base, mine[0]["body"], "e2e-1").json() == {"outcomes": ["matched"]}
        assert sms(base, "hello", "e2e-2").json() == {"outcomes": ["no_code"]}
        assert sms(base, "forged", "e2e-3", secret="wrong").status_code == 403
        requests.get(f"{base}/api/v1/status/{mine[0]['token']}", timeout=5)
        after = [scrape(base) for _ in range(4)]  # several scrapes: either worker may answer

    created_key = "reverse_otp_challenges_created_total"
    verified_key = 'reverse_otp_challenges_ended_total{status="verified"}'
    matched_key = 'reverse_otp_inbound_messages_total{outcome="matched",provider="simulator"}'
    no_code_key = 'reverse_otp_inbound_messages_total{outcome="no_code",provider="simulator"}'
    rejected_key = (
        'reverse_otp_webhook_rejections_total{provider="simulator",reason="bad_signature"}'
    )
    for values in after:
        assert values[created_key] - before.get(created_key, 0) == 4
        assert values[verified_key] - before.get(verified_key, 0) == 1
        assert values[matched_key] - before.get(matched_key, 0) == 1
        assert values[no_code_key] - before.get(no_code_key, 0) == 1
        assert values[rejected_key] - before.get(rejected_key, 0) == 1
        assert values["reverse_otp_time_to_verify_seconds_count"] == 1

    log = next(tmp_path.glob("server-*.log")).read_text()
    lines = [line for line in log.splitlines() if line.startswith("{")]
    access = [json.loads(line) for line in lines if '"app.access"' in line]
    assert any(entry["path"] == "/api/v1/status/***" for entry in access)
    assert all(re.fullmatch(r"[0-9a-f]{24}", entry["request_id"]) for entry in access)
    for secret in (mine[0]["token"], mine[0]["code"], TOKEN):
        assert secret not in log
