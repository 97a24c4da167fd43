"""The fallback's email channel end to end: a real server process mails a code through a
real SMTP server on loopback (aiosmtpd), and the code read from the captured mail verifies
the challenge through /check."""

from __future__ import annotations

import json
import re

import pytest
import requests
from aiosmtpd.controller import Controller

from tests.conftest import NUMBER, base_settings
from tests.e2e.server import free_port, running_server, write_config
from tests.e2e.test_browser import AUTH
from tests.fallback.test_email_sender import Inbox

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@example.org"


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp):
    tmp = tmp_path_factory.mktemp("email")
    port = free_port()
    raw = base_settings(tmp, server={})
    raw["server"] |= {"public_url": f"http://127.0.0.1:{port}", "name": "Example Shop"}
    raw["numbers"] = [{"number": NUMBER, "provider": "simulator"}]
    raw["fallback"] = {"allowed_countries": ["FR"]}
    config = write_config(tmp / "config.toml", raw)
    sender = {"kind": "email", "name": "mail", "host": "127.0.0.1", "port": smtp[1],
              "from": "codes@shop.example", "starttls": False}  # fmt: skip
    lines = ["[[senders]]"] + [f"{k} = {json.dumps(v)}" for k, v in sender.items()]
    config.write_text(config.read_text() + "\n".join(lines) + "\n")
    with running_server(tmp, config=config, port=port, workers=1) as base:
        yield base


def test_the_mailed_code_verifies_through_check(server, smtp):
    inbox, _ = smtp
    created = requests.post(
        server + "/api/v1/challenges", json={"email": EMAIL}, headers=AUTH, timeout=10
    )
    assert created.status_code == 201, created.text
    challenge_id = created.json()["id"]
    sent = requests.post(
        f"{server}/api/v1/challenges/{challenge_id}/send",
        json={"channel": "email"}, headers=AUTH, timeout=10,
    )  # fmt: skip
    assert sent.status_code == 202, sent.text
    assert sent.json()["channel"] == "email" and EMAIL not in sent.text
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [EMAIL]
    mail = envelope.content.decode()
    assert "Subject: Your Example Shop verification code" in mail
    code = re.search(r"^(\d{6}) is your Example Shop verification code\.", mail, re.M).group(1)
    checked = requests.post(
        f"{server}/api/v1/challenges/{challenge_id}/check",
        json={"code": code}, headers=AUTH, timeout=10,
    )  # fmt: skip
    assert checked.status_code == 200, checked.text
    assert checked.json()["status"] == "verified"
    assert checked.json()["method"] == "email"
    assert checked.json()["verified_phone"] is None
    again = requests.post(
        f"{server}/api/v1/challenges/{challenge_id}/check",
        json={"code": code}, headers=AUTH, timeout=10,
    )  # fmt: skip
    assert again.status_code == 409


def test_a_header_injection_sends_nothing(server, smtp):
    inbox, _ = smtp
    before = len(inbox.envelopes)
    created = requests.post(
        server + "/api/v1/challenges",
        json={"email": "jane@example.org\r\nBcc: all@victim.example"}, headers=AUTH, timeout=10,
    )  # fmt: skip
    assert created.status_code == 400
    assert created.json()["error"]["message"].startswith("email: ")
    assert len(inbox.envelopes) == before
