"""verify_callback: Standard Webhooks signatures, timestamp tolerance, secret rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from reverse_otp_client import InvalidCallback, verify_callback

# The Standard Webhooks specification's published example (secret, id, timestamp, signature).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_STAMP = 1614265330
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
NOW = 1_800_000_000
EVENT = {
    "id": "evt_1",
    "type": "challenge.verified",
    "timestamp": "2027-01-15T08:00:00Z",
    "data": {
        "id": "ch_1",
        "status": "verified",
        "to": "+15017122661",
        "phone": "+33 6** *** *78",
        "created_at": "2027-01-15T07:59:00Z",
        "expires_at": "2027-01-15T08:09:00Z",
        "verified_phone": "+33 6** *** *78",
        "verified_at": "2027-01-15T08:00:00Z",
        "ended_at": "2027-01-15T08:00:00Z",
        "attempts": 0,
        "failure_reason": None,
        "method": None,
        "metadata": {"order": 42},
        "proof": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIrMzM2MTIzNDU2NzgifQ.c2ln",
        "channels": ["sms", "whatsapp"],
        "channel": "whatsapp",
        "locale": "fr",
        "return_url": "https://shop.example/done",
    },
}


def signed(body: bytes, secret: str = SECRET, stamp: int = NOW) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"evt_1.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "Webhook-Id": "evt_1",
        "Webhook-Timestamp": str(stamp),
        "Webhook-Signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_the_specifications_example_verifies_up_to_its_json() -> None:
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_STAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    body = b'{"test": 2432232314}'
    with pytest.raises(InvalidCallback) as caught:  # signature good; not one of our events
        verify_callback(body, headers, SPEC_SECRET, now=SPEC_STAMP)
    assert caught.value.code == "invalid_body"
    with pytest.raises(InvalidCallback) as tampered:
        verify_callback(b'{"test": 2432232315}', headers, SPEC_SECRET, now=SPEC_STAMP)
    assert tampered.value.code == "bad_signature"


def test_a_signed_callback_gives_its_typed_event() -> None:
    body = json.dumps(EVENT).encode()
    event = verify_callback(body, signed(body), SECRET, now=NOW)
    assert event.type == "challenge.verified" and event.id == "evt_1"
    assert event.data.metadata == {"order": 42} and event.data.ended_at == "2027-01-15T08:00:00Z"
    assert verify_callback(body.decode(), signed(body), SECRET, now=NOW) == event


def test_a_changed_body_is_refused() -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(InvalidCallback) as caught:
        verify_callback(body.replace(b"42", b"43"), signed(body), SECRET, now=NOW)
    assert caught.value.code == "bad_signature"


def test_another_secret_is_refused() -> None:
    body = json.dumps(EVENT).encode()
    other = "whsec_" + base64.b64encode(b"t" * 32).decode()
    with pytest.raises(InvalidCallback) as caught:
        verify_callback(body, signed(body, other), SECRET, now=NOW)
    assert caught.value.code == "bad_signature"


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_outside_the_tolerance_is_refused(offset: int) -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(InvalidCallback) as caught:
        verify_callback(body, signed(body, stamp=NOW + offset), SECRET, now=NOW)
    assert caught.value.code == "stale_timestamp"


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_timestamp_within_the_tolerance_is_accepted(offset: int) -> None:
    body = json.dumps(EVENT).encode()
    assert verify_callback(body, signed(body, stamp=NOW + offset), SECRET, now=NOW).id == "evt_1"


def test_the_tolerance_can_be_narrowed() -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(InvalidCallback):
        verify_callback(body, signed(body, stamp=NOW - 60), SECRET, now=NOW, tolerance=30)


def test_any_v1_signature_may_match_during_a_rotation() -> None:
    body = json.dumps(EVENT).encode()
    headers = signed(body)
    old = signed(body, "whsec_" + base64.b64encode(b"o" * 32).decode())
    headers["Webhook-Signature"] = (
        old["Webhook-Signature"] + " v2,abc " + headers["Webhook-Signature"]
    )
    assert verify_callback(body, headers, SECRET, now=NOW).id == "evt_1"


@pytest.mark.parametrize("missing", ["Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    body = json.dumps(EVENT).encode()
    headers = signed(body)
    del headers[missing]
    with pytest.raises(InvalidCallback) as caught:
        verify_callback(body, headers, SECRET, now=NOW)
    assert caught.value.code == "missing_headers"


def test_a_secret_that_is_not_base64_is_refused() -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(InvalidCallback) as caught:
        verify_callback(body, signed(body), "whsec_not*base64", now=NOW)
    assert caught.value.code == "invalid_secret"
