"""The fallback's email channel through the API: an expected `email` on create, `/send`
with channel email through a real SMTP server on loopback (aiosmtpd), `/check`, the proof."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.domain import proofs
from app.ops import logfilter
from tests.conftest import AUTH
from tests.fallback.test_email_sender import Inbox, free_port

PHONE = "+33612345678"
EMAIL = "jane.doe@example.org"
ADMIN_KEY = "admin-key-" + "0123456789abcdefghijkl"


@pytest.fixture
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def settings_overrides(inbox) -> dict[str, Any]:
    smtp = {"kind": "email", "name": "mail", "host": "127.0.0.1", "port": inbox[1],
            "from": "codes@shop.example", "starttls": False}  # fmt: skip
    sms = {"kind": "twilio", "name": "tw", "account_sid": "AC" + "b" * 32,
           "auth_token": "t", "from": "+15005550006"}  # fmt: skip
    return {
        "admin": {"key": ADMIN_KEY},
        "senders": [sms, smtp],
        "fallback": {"allowed_countries": ["FR"], "per_phone": ["2/hour"],
                     "per_domain": ["3/hour"]},
    }  # fmt: skip


def create(client, **body: Any) -> dict:
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201, response.json
    return response.json


def send(client, challenge: dict, **body: Any):
    return client.post(f"/api/v1/challenges/{challenge['id']}/send", json=body, headers=AUTH)


def check(client, challenge: dict, code: str):
    url = f"/api/v1/challenges/{challenge['id']}/check"
    return client.post(url, json={"code": code}, headers=AUTH)


def mailed_code(inbox) -> tuple[list[str], str]:
    envelope = inbox[0].envelopes[-1]
    text = envelope.content.decode()
    return envelope.rcpt_tos, re.search(r"^(\d{6}) is your ", text, re.M).group(1)


@pytest.mark.parametrize(
    "email",
    [
        "jane@example.org\r\nBcc: all@victim.example",
        "jane@example.org\nBcc: all@victim.example",
        "jane@example.org\r",
        "Jane Doe <jane@example.org>",
        "jane@example.org, eve@example.org",
        "jane@example.org;eve@example.org",
        '"jane doe"@example.org',
        "jane@[127.0.0.1]",
        "jane@localhost",
        "jane",
        "@example.org",
        "",
        "j" * 65 + "@example.org",
        "jane@" + "a" * 250 + ".org",
        "jané@example.org",
    ],
)
def test_a_bad_email_is_refused_naming_the_field(client, inbox, email):
    response = client.post("/api/v1/challenges", json={"email": email}, headers=AUTH)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "invalid_request"
    assert response.json["error"]["message"].startswith("email: ")


def test_an_email_that_is_not_a_string_is_refused(client, inbox):
    response = client.post("/api/v1/challenges", json={"email": ["a@b.org"]}, headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("email: ")


def proof_claims(ctx, clock, challenge: dict) -> dict[str, Any]:
    stored = ctx.store.challenge(challenge["id"])
    found = proofs.claims(stored, "https://issuer.example", 300, clock.now())
    assert found is not None
    return found


def test_the_emailed_code_verifies_the_challenge_as_email(client, ctx, clock, inbox):
    challenge = create(client, email="Jane.Doe@Example.ORG")
    sent = send(client, challenge)  # no phone: email is the default channel
    assert sent.status_code == 202, sent.json
    assert sent.json["channel"] == "email"
    assert sent.json["to"] == "J******e@e*****e.org"  # masked
    recipients, code = mailed_code(inbox)
    assert recipients == ["Jane.Doe@example.org"]  # the domain folded, the local part kept
    checked = check(client, challenge, code)
    assert checked.status_code == 200, checked.json
    assert checked.json["status"] == "verified"
    assert checked.json["method"] == "email"
    assert checked.json["verified_phone"] is None
    claims = proof_claims(ctx, clock, challenge)
    assert claims["amr"] == ["email"]
    assert claims["sub"] == "mailto:Jane.Doe@example.org"
    assert claims["email"] == "Jane.Doe@example.org" and claims["email_verified"] is True


def test_an_emailed_code_does_not_prove_the_expected_phone(client, ctx, clock, inbox):
    challenge = create(client, phone=PHONE, email=EMAIL)
    sent = send(client, challenge, channel="email")
    assert sent.status_code == 202, sent.json
    _, code = mailed_code(inbox)
    checked = check(client, challenge, code)
    assert checked.json["status"] == "verified" and checked.json["method"] == "email"
    assert checked.json["verified_phone"] is None
    claims = proof_claims(ctx, clock, challenge)
    assert claims["sub"] != PHONE and claims["amr"] == ["email"]


def test_a_wrong_code_is_a_failed_attempt(client, inbox):
    challenge = create(client, email=EMAIL)
    send(client, challenge)
    _, code = mailed_code(inbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answer = check(client, challenge, wrong)
    assert answer.status_code == 200
    assert answer.json["status"] == "pending" and answer.json["attempts"] == 1


def test_email_without_an_expected_address_is_refused(client, inbox):
    challenge = create(client, phone=PHONE)
    answer = send(client, challenge, channel="email")
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "no_expected_email"
    assert inbox[0].envelopes == []


def test_an_unknown_channel_is_refused(client, inbox):
    challenge = create(client, email=EMAIL)
    answer = send(client, challenge, channel="fax")
    assert answer.status_code == 400
    assert answer.json["error"]["message"].startswith("channel: ")


def test_the_hosted_page_token_sends_only_to_the_stored_address(client, inbox):
    challenge = create(client, email=EMAIL)
    url = f"/api/v1/challenges/{challenge['id']}/send"
    typed = client.post(url, json={"token": challenge["token"], "email": "eve@evil.example"})
    assert typed.status_code == 400  # no field names another address
    sent = client.post(url, json={"token": challenge["token"], "channel": "email"})
    assert sent.status_code == 202, sent.json
    assert [e.rcpt_tos for e in inbox[0].envelopes] == [[EMAIL]]


def test_cooldown_and_the_per_address_cap_hold(client, clock, inbox):
    challenge = create(client, email=EMAIL)
    assert send(client, challenge).status_code == 202
    again = send(client, challenge)
    assert again.status_code == 429 and again.json["error"]["code"] == "send_too_soon"
    clock.advance(31)
    assert send(client, challenge).status_code == 202
    # per_phone is 2/hour: a third code to the same address (another challenge) is refused
    other = create(client, email=EMAIL.upper())
    third = send(client, other)
    assert third.status_code == 429, third.json
    assert third.json["error"]["code"] == "cap_address_hour"
    assert len(inbox[0].envelopes) == 2


def test_the_per_domain_cap_holds(client, inbox):
    answers = [send(client, create(client, email=f"user{i}@example.org")) for i in range(5)]
    codes = [a.json.get("error", {}).get("code", a.status_code) for a in answers]
    assert codes == [202, 202, 202, "cap_domain_hour", "cap_domain_hour"]
    assert send(client, create(client, email="user9@other.example")).status_code == 202
    assert len(inbox[0].envelopes) == 4


def test_the_address_never_reaches_the_logs(client, inbox, caplog):
    logfilter.install()
    with caplog.at_level(logging.DEBUG):
        challenge = create(client, email=EMAIL)
        send(client, challenge)
        _, code = mailed_code(inbox)
        check(client, challenge, code)
        logging.getLogger("probe").warning("leaked %s", EMAIL)
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("app", "probe")]
    assert any(r.name == "app.usecases.fallback" for r in ours)
    text = "\n".join(r.getMessage() for r in ours)
    assert EMAIL not in text and "example.org" not in text
    passed = [r.name for r in ours if getattr(r, "redacted", False)]
    assert passed == ["probe"]  # the filter caught the probe; the server passed no address


def test_the_dashboard_shows_the_address_masked(client, inbox):
    challenge = create(client, email=EMAIL)
    send(client, challenge)
    check(client, challenge, mailed_code(inbox)[1])
    html = client.get("/admin", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).text
    assert challenge["id"][:14] in html
    assert '<small class="email">j******e@e*****e.org</small>' in html
    assert EMAIL not in html and "example.org" not in html
