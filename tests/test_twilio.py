"""Twilio: the official signature vectors, and signed webhooks as Twilio's own SDK signs them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from app.providers import twilio
from app.store.tables import inbound_messages
from tests.conftest import AUTH, PUBLIC_URL, TWILIO_NUMBER, TWILIO_TOKEN, runtime

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]
PHONE = "+33612345678"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (VECTOR_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_official_signature_vectors(url, expected):
    assert twilio.signature("12345", url, VECTOR_PARAMS) == expected


def test_official_vector_with_repeated_parameters():
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio.signature("12345", VECTOR_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_url_variants_cover_the_default_port_both_ways():
    assert twilio.url_variants("https://a.example/x?y=1") == [
        "https://a.example/x?y=1",
        "https://a.example:443/x?y=1",
    ]
    assert "https://a.example/x" in twilio.url_variants("https://a.example:443/x")


@pytest.fixture
def on_twilio(app):
    policy = runtime(app).ctx.policy
    object.__setattr__(policy, "numbers", {TWILIO_NUMBER: "twilio"})


pytestmark = pytest.mark.usefixtures("on_twilio")


def create(client, **body):
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201
    assert response.json["to"] == TWILIO_NUMBER
    return response.json


def form(challenge, sid="SM0123456789abcdef0123456789abcdef", sender=PHONE):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": sender,
        "To": TWILIO_NUMBER,
        "Body": challenge["body"],
        "NumSegments": "1",
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


def post_signed(client, params, path="/webhooks/twilio", tamper=None):
    url = PUBLIC_URL + path
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    body = urlencode(params).encode()
    if tamper is not None:
        body = tamper(body)
    return client.post(
        path,
        data=body,
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def status(client, challenge):
    return client.get(f"/api/v1/challenges/{challenge['id']}", headers=AUTH).json


def test_a_twilio_signed_webhook_verifies_the_challenge(client):
    ch = create(client, phone=PHONE)
    response = post_signed(client, form(ch))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "<Response></Response>" in response.get_data(as_text=True)
    assert status(client, ch)["status"] == "verified"


def test_signatures_cover_the_query_string(client):
    ch = create(client)
    assert post_signed(client, form(ch), path="/webhooks/twilio?site=eu").status_code == 200
    assert status(client, ch)["status"] == "verified"


def test_a_get_callback_is_signed_over_the_url(client):
    ch = create(client)
    path = "/webhooks/twilio?" + urlencode(form(ch))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, {})
    response = client.get(path, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert status(client, ch)["status"] == "verified"


def flip_one_byte(body: bytes) -> bytes:
    index = body.index(b"Body=") + 5
    changed = bytes([body[index] ^ 0x01])
    return body[:index] + changed + body[index + 1 :]


def test_one_changed_byte_is_refused_with_403_and_changes_nothing(client, app):
    ch = create(client, phone=PHONE)
    response = post_signed(client, form(ch), tamper=flip_one_byte)
    assert response.status_code == 403
    assert status(client, ch)["status"] == "pending"
    assert status(client, ch)["attempts"] == 0
    with runtime(app).ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(inbound_messages)).scalar() == 0


def test_a_missing_signature_is_refused(client):
    ch = create(client)
    response = client.post("/webhooks/twilio", data=form(ch))
    assert response.status_code == 403
    assert status(client, ch)["status"] == "pending"


def test_a_signature_for_another_host_is_refused(client):
    ch = create(client)
    params = form(ch)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        "https://attacker.example/webhooks/twilio", params
    )
    response = client.post(
        "/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def test_the_same_message_sid_twice_has_exactly_one_effect(client, app):
    ch = create(client, phone=PHONE)
    params = form(ch, sender="+33698765432")
    assert post_signed(client, params).status_code == 200
    assert post_signed(client, params).status_code == 200
    assert status(client, ch)["attempts"] == 1
    with runtime(app).ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(inbound_messages)).scalar() == 1


def test_a_parameter_split_that_signs_alike_is_refused(client):
    """Twilio signs names and values run together: "Body=X" and "BodyX=" sign alike."""
    ch = create(client)
    genuine = form(ch)
    url = PUBLIC_URL + "/webhooks/twilio"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, genuine)
    forged = {k: v for k, v in genuine.items() if k != "Body"} | {"Body" + genuine["Body"]: ""}
    assert RequestValidator(TWILIO_TOKEN).compute_signature(url, forged) == signature
    response = client.post(
        "/webhooks/twilio",
        data=urlencode(forged),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 403
    assert post_signed(client, genuine).status_code == 200
    assert status(client, ch)["status"] == "verified"


def test_a_value_swallowing_the_next_parameter_is_refused(client):
    ch = create(client)
    genuine = form(ch)
    forged = dict(genuine)
    forged["To"] = genuine["To"] + "ToCity" + "SAN FRANCISCO"
    genuine_with_city = genuine | {"ToCity": "SAN FRANCISCO"}
    url = PUBLIC_URL + "/webhooks/twilio"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, genuine_with_city)
    assert RequestValidator(TWILIO_TOKEN).compute_signature(url, forged) == signature
    response = client.post(
        "/webhooks/twilio", data=forged, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert status(client, ch)["status"] == "pending"


def test_a_message_sid_swallowing_the_parameters_after_it_is_refused(client, app):
    """Captured: a wrong-sender POST. Letting MessageSid absorb the parameters sorted after it
    signs alike; replayed under new MessageSids it would count failures on the victim's code."""
    ch = create(client, phone=PHONE)
    genuine = form(ch, sender="+33698765432")
    assert post_signed(client, genuine).status_code == 200
    url = PUBLIC_URL + "/webhooks/twilio"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, genuine)
    forged = {k: v for k, v in genuine.items() if k not in ("NumMedia", "NumSegments")}
    forged["MessageSid"] = genuine["MessageSid"] + "NumMedia0NumSegments1"
    assert RequestValidator(TWILIO_TOKEN).compute_signature(url, forged) == signature
    response = client.post(
        "/webhooks/twilio", data=forged, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert status(client, ch)["attempts"] == 1
    with runtime(app).ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(inbound_messages)).scalar() == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"MessageSid": "SM0123456789abcdef0123456789abcde"},  # 31 hex digits
        {"MessageSid": "XX0123456789abcdef0123456789abcdef"},
        {"MessageSid": "SM0123456789abcdef0123456789abcdeg"},
        {"SmsSid": "SMffffffffffffffffffffffffffffffff"},  # the legacy copy disagrees
        {"AccountSid": "AC0123456789abcdef0123456789abcdef0"},
    ],
)
def test_signed_parameters_twilio_never_sends_are_refused(client, changes):
    ch = create(client)
    assert post_signed(client, form(ch) | changes).status_code == 403
    assert status(client, ch)["status"] == "pending"


def test_a_get_callback_with_a_form_body_is_refused(client):
    ch = create(client, phone=PHONE)
    path = "/webhooks/twilio?" + urlencode(form(ch, sender="+33698765432"))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, {})
    response = client.get(
        path,
        data=urlencode({"From": PHONE, "MessageSid": "SM" + "1" * 32}),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 403
    assert status(client, ch)["status"] == "pending"
