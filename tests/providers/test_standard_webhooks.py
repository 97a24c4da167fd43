"""The generic provider's Standard Webhooks scheme, checked against the reference signer
(the `standardwebhooks` package): webhook-id, webhook-timestamp, webhook-signature."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from app.config.checks import ConfigError
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import JSON, SAMPLES, SENDER, Sample

SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-test-key-32byt").decode()
OTHER = "whsec_" + base64.b64encode(b"another-standard-webhooks-key-32").decode()
SECTION = {"signature_scheme": "standard-webhooks", "signature_secret": SECRET}


def signed(text: str, mid: str, when: datetime, secret: str = SECRET, **headers: str) -> Sample:
    body = json.dumps({"id": mid, "from": SENDER, "to": SAMPLES["generic"].number, "text": text})
    signature = Webhook(secret).sign(f"msg_{mid}", when, body)
    stamp = str(int(when.timestamp()))
    sent = {"webhook-id": f"msg_{mid}", "webhook-timestamp": stamp, "webhook-signature": signature}
    return Sample("POST", "/webhooks/generic", JSON | sent | headers, body.encode())


@pytest.fixture
def client(make_app):
    return make_app("generic", providers={"generic": SECTION}).test_client()


def test_a_standard_webhooks_signature_verifies(client, clock):
    created = new_challenge(client)
    assert signed(created["body"], "1", clock.now()).send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_one_valid_signature_among_several_is_enough(client, clock):
    created = new_challenge(client)
    genuine = signed(created["body"], "2", clock.now())
    other = signed(created["body"], "2", clock.now(), OTHER).headers["webhook-signature"]
    several = f"v2,AAAA {other} {genuine.headers['webhook-signature']}"
    request = Sample(genuine.method, genuine.path, genuine.headers, genuine.body)
    request.headers["webhook-signature"] = several
    assert request.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


@pytest.mark.parametrize("shift", [timedelta(seconds=-301), timedelta(seconds=301)])
def test_a_timestamp_outside_five_minutes_is_refused(client, clock, shift):
    created = new_challenge(client)
    assert signed(created["body"], "3", clock.now() + shift).send(client).status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_a_timestamp_within_the_tolerance_is_accepted(client, clock):
    created = new_challenge(client)
    late = signed(created["body"], "4", clock.now() - timedelta(seconds=290))
    assert late.send(client).status_code == 200


def test_another_secret_or_a_changed_header_is_refused(client, clock):
    created = new_challenge(client)
    assert signed(created["body"], "5", clock.now(), OTHER).send(client).status_code == 403
    genuine = signed(created["body"], "5", clock.now())
    for name in ("webhook-id", "webhook-timestamp"):
        moved = dict(genuine.headers)
        moved[name] = moved[name] + "1"
        forged = Sample(genuine.method, genuine.path, moved, genuine.body)
        assert forged.send(client).status_code == 403
    unversioned = dict(genuine.headers)
    unversioned["webhook-signature"] = genuine.headers["webhook-signature"].split(",", 1)[1]
    assert Sample("POST", genuine.path, unversioned, genuine.body).send(client).status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_a_missing_standard_webhooks_header_is_refused(client, clock):
    genuine = signed("hello", "6", clock.now())
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = {k: v for k, v in genuine.headers.items() if k != name}
        assert Sample("POST", genuine.path, headers, genuine.body).send(client).status_code == 403


def test_the_tolerance_is_a_setting(make_app, clock):
    section = SECTION | {"tolerance": 30}
    client = make_app("generic", providers={"generic": section}).test_client()
    assert signed("hi", "7", clock.now() - timedelta(seconds=31)).send(client).status_code == 403


@pytest.mark.parametrize(
    "secret", ["whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_a_standard_webhooks_secret_must_be_a_base64_key(make_app, secret):
    with pytest.raises(ConfigError, match=r"providers\.generic\.signature_secret"):
        make_app("generic", providers={"generic": SECTION | {"signature_secret": secret}})


def test_the_reference_signer_and_ours_agree():
    from app.providers.generic import standard_key, standard_signature

    when = datetime(2026, 1, 1, tzinfo=UTC)
    body = '{"id":"x"}'
    reference = Webhook(SECRET).sign("msg_1", when, body)
    ours = standard_signature(
        standard_key(SECRET), "msg_1", str(int(when.timestamp())), body.encode()
    )
    assert reference == "v1," + ours
