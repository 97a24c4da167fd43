"""Inbound SMS through the simulator webhook: matching, attempts, outcomes, idempotency."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.providers.simulator import HEADER, sign
from app.store.tables import inbound_messages
from tests.conftest import AUTH, NUMBER, SIM_SECRET, runtime

PHONE = "+33612345678"
OTHER = "+33698765432"


def create(client, **body):
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201
    return response.json


def sms(client, sender, text, to=NUMBER, message_id=None, secret=SIM_SECRET):
    payload = {"from": sender, "to": to, "text": text, "id": message_id or f"m-{sender}-{text}"}
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", HEADER: sign(secret, body)}
    return client.post("/webhooks/simulator", data=body, headers=headers)


def outcome(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["outcomes"][0]


def status(client, challenge):
    return client.get(f"/api/v1/challenges/{challenge['id']}", headers=AUTH).json


@pytest.fixture
def on_simulator(app):
    """Make every challenge land on the simulator number."""
    policy = runtime(app).ctx.policy
    object.__setattr__(policy, "numbers", {NUMBER: "simulator"})


pytestmark = pytest.mark.usefixtures("on_simulator")


def test_expected_phone_verifies_from_that_phone(client):
    ch = create(client, phone=PHONE)
    assert outcome(sms(client, PHONE, ch["body"])) == "matched"
    shown = status(client, ch)
    assert shown["status"] == "verified"
    assert shown["verified_phone"] == PHONE
    assert shown["verified_at"]


def test_discovery_learns_the_senders_number(client):
    ch = create(client)
    assert outcome(sms(client, OTHER, f"hi {ch['code'].lower()}")) == "matched"
    assert status(client, ch)["verified_phone"] == OTHER


def test_right_code_from_another_number_counts_one_failed_attempt(client):
    ch = create(client, phone=PHONE)
    assert outcome(sms(client, OTHER, ch["body"], message_id="a1")) == "wrong_sender"
    shown = status(client, ch)
    assert (shown["status"], shown["attempts"]) == ("pending", 1)


def test_the_fifth_wrong_sender_fails_the_challenge(client):
    ch = create(client, phone=PHONE)
    for i in range(4):
        assert outcome(sms(client, OTHER, ch["body"], message_id=f"w{i}")) == "wrong_sender"
        assert status(client, ch)["status"] == "pending"
    assert outcome(sms(client, OTHER, ch["body"], message_id="w4")) == "wrong_sender"
    shown = status(client, ch)
    assert (shown["status"], shown["attempts"], shown["failure_reason"]) == (
        "failed",
        5,
        "too_many_attempts",
    )
    assert outcome(sms(client, PHONE, ch["body"])) == "already_settled"


def test_a_verified_challenge_cannot_be_verified_again(client):
    ch = create(client)
    assert outcome(sms(client, PHONE, ch["body"], message_id="first")) == "matched"
    assert outcome(sms(client, OTHER, ch["body"], message_id="second")) == "already_settled"
    assert status(client, ch)["verified_phone"] == PHONE


def test_an_expired_challenge_is_not_verified(client, clock):
    ch = create(client, ttl=60)
    clock.advance(61)
    assert outcome(sms(client, PHONE, ch["body"])) == "expired"
    assert status(client, ch)["status"] == "expired"


def test_a_cancelled_challenge_is_not_verified(client):
    ch = create(client)
    client.post(f"/api/v1/challenges/{ch['id']}/cancel", headers=AUTH)
    assert outcome(sms(client, PHONE, ch["body"])) == "already_settled"


def test_text_without_a_code_is_no_code(client):
    assert outcome(sms(client, PHONE, "hello")) == "no_code"


def test_an_unknown_code_is_unknown_code(client):
    create(client)
    assert outcome(sms(client, PHONE, "VERIFY ZZZZZZ")) == "unknown_code"


def test_a_message_to_a_number_that_is_not_ours_is_stored_and_rejected(client, app):
    ch = create(client)
    assert outcome(sms(client, PHONE, ch["body"], to="+14155550199")) == "unknown_number"
    assert status(client, ch)["status"] == "pending"


def test_a_message_through_the_wrong_provider_is_rejected(client, app):
    ch = create(client)
    policy = runtime(app).ctx.policy
    object.__setattr__(policy, "numbers", policy.numbers | {"+14155550100": "twilio"})
    assert outcome(sms(client, PHONE, ch["body"], to="+14155550100")) == "wrong_provider"
    assert status(client, ch)["status"] == "pending"


def test_alphanumeric_sender_cannot_verify(client):
    ch = create(client)
    assert outcome(sms(client, "ACME", ch["body"])) == "invalid_sender"
    assert status(client, ch)["status"] == "pending"


def test_the_same_message_delivered_twice_has_one_effect(client, app):
    ch = create(client, phone=PHONE)
    first = sms(client, OTHER, ch["body"], message_id="dup")
    second = sms(client, OTHER, ch["body"], message_id="dup")
    assert (outcome(first), outcome(second)) == ("wrong_sender", "duplicate")
    assert status(client, ch)["attempts"] == 1


def test_every_inbound_message_is_stored_with_its_outcome(client, app):
    ch = create(client)
    sms(client, PHONE, "hello", message_id="x1")
    sms(client, PHONE, ch["body"], message_id="x2")
    store = runtime(app).ctx.store
    with store.reader.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(inbound_messages.c.message_id, inbound_messages.c.outcome)).all()
    assert sorted(map(tuple, rows)) == [("x1", "no_code"), ("x2", "matched")]


def test_a_bad_signature_is_refused_and_changes_nothing(client):
    ch = create(client)
    response = sms(client, PHONE, ch["body"], secret="another-secret")
    assert response.status_code == 403
    assert status(client, ch)["status"] == "pending"


def test_a_malformed_simulator_request_is_a_400(client):
    body = b'{"from": 1}'
    response = client.post(
        "/webhooks/simulator",
        data=body,
        headers={"Content-Type": "application/json", HEADER: sign(SIM_SECRET, body)},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_webhook"


def test_an_unknown_provider_is_404(client):
    assert client.post("/webhooks/nope").status_code == 404


def test_a_store_failure_answers_503_so_the_provider_retries(client, app, monkeypatch):
    from app.store.base import StoreUnavailable

    ch = create(client)
    store = runtime(app).ctx.store

    def broken():
        raise StoreUnavailable("database is locked")

    monkeypatch.setattr(store, "begin", broken)
    response = sms(client, PHONE, ch["body"])
    assert response.status_code == 503
    monkeypatch.undo()
    assert status(client, ch)["status"] == "pending"
    assert outcome(sms(client, PHONE, ch["body"])) == "matched"
