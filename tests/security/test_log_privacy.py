"""No code, token, API key, signature or full phone number reaches the logs, even at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from app.ops.logfilter import redact
from app.providers.simulator import HEADER, sign
from app.usecases import api_keys
from tests.conftest import API_KEY, NUMBER, SIM_SECRET
from tests.security.helpers import outcome, send_sms

EXPECTED = "+33612345678"
SENDER = "+14155550123"
STRANGER = "+447911123456"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": [{"number": NUMBER, "provider": "simulator"}],
        "limits": {"sender_failures": "2/hour"},
    }


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.stream = io.StringIO()
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.stream.write(self.format(record) + "\n")


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    root = logging.getLogger()
    capture, level = Capture(), root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(level)


def test_the_whole_flow_at_debug_logs_no_secret_and_no_full_number(app, ctx, debug_logs):
    client = app.test_client()
    key = api_keys.create_api_key(ctx, "privacy")
    auth = {"Authorization": f"Bearer {key}"}
    secrets_seen: list[str] = [key]

    expected = client.post("/api/v1/challenges", json={"phone": EXPECTED}, headers=auth).json
    discovery = client.post("/api/v1/challenges", json={}, headers=auth).json
    cancelled = client.post("/api/v1/challenges", json={}, headers=auth).json
    for made in (expected, discovery, cancelled):
        secrets_seen += [made["code"], made["token"]]
        client.get(f"/api/v1/status/{made['token']}")
        client.get(f"/api/v1/status/{made['token']}/qr.svg")
        client.get(f"/api/v1/challenges/{made['id']}", headers=auth)
    client.post(f"/api/v1/challenges/{cancelled['id']}/cancel", headers=auth)
    client.post(f"/api/v1/challenges/{cancelled['id']}/cancel", headers=auth)  # 409

    assert outcome(send_sms(client, STRANGER, expected["body"])) == "wrong_sender"
    assert outcome(send_sms(client, STRANGER, "VERIFY 0000000000000")) == "unknown_code"
    assert outcome(send_sms(client, STRANGER, discovery["body"])) == "sender_blocked"
    assert outcome(send_sms(client, EXPECTED, expected["body"], "SM-1")) == "matched"
    assert outcome(send_sms(client, EXPECTED, expected["body"], "SM-1")) == "duplicate"
    assert outcome(send_sms(client, SENDER, discovery["body"])) == "matched"
    assert outcome(send_sms(client, SENDER, cancelled["body"])) == "already_settled"

    body = json.dumps({"from": SENDER, "to": NUMBER, "text": discovery["body"], "id": "x"})
    signature = sign(SIM_SECRET, body.encode())
    forged = client.post(
        "/webhooks/simulator", data=body, headers={HEADER: signature[:-4] + "0000"}
    )
    assert forged.status_code == 403
    client.get("/api/v1/challenges/nope", headers={"Authorization": "Bearer wrong-key-123456"})
    secrets_seen += [signature, "wrong-key-123456", API_KEY, SIM_SECRET]

    text = debug_logs.stream.getvalue()
    assert "outcome=matched" in text and "outcome=wrong_sender" in text  # decisions are logged
    for secret in secrets_seen:
        assert secret not in text
    for number in (EXPECTED, SENDER, STRANGER):
        assert number not in text and number[1:] not in text and number[-9:] not in text
    # Nothing had to be redacted: no secret was handed to a logger in the first place.
    assert not [r.getMessage() for r in debug_logs.records if getattr(r, "redacted", False)]


def test_the_safety_net_redacts_what_slips_through(app, debug_logs):
    log = logging.getLogger("some.library")
    log.debug("GET /api/v1/status/%s HTTP/1.1", "Zm9vYmFyYmF6cXV4cXV1eA0123456789")
    log.debug("headers %s", {"Authorization": "Bearer rotp_abcdefghijklmnop"})
    log.debug("X-Twilio-Signature: %s from=%s", "c2lnbmF0dXJlLXZhbHVl", "+14155550123")
    log.debug("form From=%s&Body=hi", "%2B14155550123")
    text = debug_logs.stream.getvalue()
    for leaked in ("Zm9vYmFy", "rotp_abc", "c2lnbmF0", "4155550123", "415555012"):
        assert leaked not in text
    assert all(getattr(r, "redacted", False) for r in debug_logs.records)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /api/v1/status/abcdefghijklmnopqrstuvwxyz0123/qr.svg", "/status/[token]/qr.svg"),
        ("inbound sender=+33612345678", "+336*****78"),
        ("token=abc123&x=1", "token=[redacted]"),
    ],
)  # fmt: skip
def test_redaction_keeps_what_an_operator_needs(line, kept):
    assert kept in redact(line)


@pytest.mark.e2e
def test_the_real_server_at_debug_logs_no_secret_no_token_path_and_no_full_number(tmp_path):
    import requests

    from tests.conftest import base_settings
    from tests.e2e.server import running_server, write_config

    raw = base_settings(tmp_path, numbers=[{"number": NUMBER, "provider": "simulator"}])
    config = write_config(tmp_path / "config.toml", raw)
    env = {"REVERSE_OTP_LOG_LEVEL": "DEBUG"}
    with running_server(tmp_path, config=config, workers=1, env=env) as base:
        auth = {"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"}
        made = requests.post(f"{base}/api/v1/challenges", json={"phone": EXPECTED}, headers=auth)
        made = made.json()
        requests.get(f"{base}/api/v1/status/{made['token']}", timeout=5)
        requests.get(f"{base}/api/v1/status/{made['token']}/qr.png", timeout=5)
        body = json.dumps({"from": EXPECTED, "to": NUMBER, "text": made["body"], "id": "SM-e2e"})
        answer = requests.post(
            f"{base}/webhooks/simulator",
            data=body,
            headers={HEADER: sign(SIM_SECRET, body.encode()), "Content-Type": "application/json"},
            timeout=5,
        )
        assert answer.json()["outcomes"] == ["matched"]
    text = "".join(p.read_text() for p in tmp_path.glob("server-*.log"))
    assert "outcome=matched" in text
    for secret in (made["code"], made["token"], API_KEY, EXPECTED, EXPECTED[1:]):
        assert secret not in text
