"""Smaller threat-model checks: forged webhooks, binding, senders, stored secrets, texts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app.providers import twilio
from app.providers.simulator import HEADER, sign
from app.store.tables import limit_counters, metadata
from app.usecases import api_keys, challenges
from tests.conftest import NUMBER, PUBLIC_URL, SIM_SECRET, TWILIO_NUMBER, TWILIO_TOKEN
from tests.security.helpers import create, outcome, send_sms

PHONE = "+14155550123"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": [{"number": NUMBER, "provider": "simulator"}]}


def simulator_post(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"} | ({HEADER: signature} if signature else {})
    return client.post("/webhooks/simulator", data=body, headers=headers)


def test_forged_simulator_webhooks_change_no_challenge(client, ctx):
    made = create(client)
    body = json.dumps({"from": PHONE, "to": NUMBER, "text": made["body"], "id": "f1"}).encode()
    good = sign(SIM_SECRET, body)
    forgeries = [
        None,
        "",
        good[:-1] + ("0" if good[-1] != "0" else "1"),
        sign("another-secret", body),
        sign(SIM_SECRET, body + b" "),
        good[:32],
    ]
    for signature in forgeries:
        assert simulator_post(client, body, signature).status_code == 403
    assert challenges.get_challenge(ctx, made["id"]).status.value == "pending"
    assert simulator_post(client, body, good).json["outcomes"] == ["matched"]


TWILIO_ONLY = {"numbers": [{"number": TWILIO_NUMBER, "provider": "twilio"}]}


@pytest.mark.parametrize("settings_overrides", [TWILIO_ONLY])
def test_forged_twilio_webhooks_change_no_challenge(client, ctx):
    made = create(client)
    params = {"From": PHONE, "To": TWILIO_NUMBER, "Body": made["body"], "MessageSid": "SM1"}
    url = PUBLIC_URL + "/webhooks/twilio"
    good = twilio.signature(TWILIO_TOKEN, url, sorted(params.items()))
    tampered = params | {"From": "+14155550199"}
    cases = [
        (params, None),
        (params, twilio.signature("wrong-token", url, sorted(params.items()))),
        (params, twilio.signature(TWILIO_TOKEN, url + "x", sorted(params.items()))),
        (tampered, good),
    ]
    for fields, signature in cases:
        headers = {"X-Twilio-Signature": signature} if signature else {}
        response = client.post(
            "/webhooks/twilio",
            data=urlencode(fields),
            headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 403
    assert challenges.get_challenge(ctx, made["id"]).status.value == "pending"


def test_a_code_verifies_only_its_own_challenge(client, ctx):
    first, second = create(client), create(client)
    assert outcome(send_sms(client, PHONE, first["body"])) == "matched"
    assert challenges.get_challenge(ctx, first["id"]).status.value == "verified"
    assert challenges.get_challenge(ctx, second["id"]).status.value == "pending"


def test_a_sender_that_is_no_phone_number_verifies_nothing(client, ctx):
    made = create(client)
    assert outcome(send_sms(client, "EXAMPLE", made["body"])) == "invalid_sender"
    assert challenges.get_challenge(ctx, made["id"]).status.value == "pending"


def all_stored_values(ctx) -> str:
    out = []
    with ctx.store.reader.connect() as conn:
        for table in metadata.sorted_tables:
            out += [repr(tuple(row)) for row in conn.execute(select(table))]
    return "\n".join(out)


def test_the_database_never_holds_a_code_token_or_api_key(client, ctx):
    key = api_keys.create_api_key(ctx, "dump")
    made = create(client, phone=PHONE)
    discovery = create(client)
    send_sms(client, "+14155550199", "VERIFY 0000000000000")
    dump = all_stored_values(ctx)
    for secret in (key, made["code"], made["token"], discovery["code"], discovery["token"]):
        assert secret not in dump
    with ctx.store.reader.connect() as conn:
        counters = repr(conn.execute(select(limit_counters)).all())
    assert "sender:" in counters  # the guessing sender was counted...
    assert "4155550199" not in counters  # ...under a keyed hash, not its number


def test_inbound_texts_are_stored_once_in_inbound_messages_only(client, ctx):
    made = create(client)
    send_sms(client, PHONE, made["body"] + " secret-note-123")
    with ctx.store.reader.connect() as conn:
        for table in metadata.sorted_tables:
            rows = " ".join(repr(tuple(r)) for r in conn.execute(select(table)))
            if table.name != "inbound_messages":
                assert "secret-note-123" not in rows
