"""The pure rules of callbacks: body, signature, secrets, answers, backoff, URLs."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from app.domain import callbacks
from app.domain.callbacks import Result
from app.domain.challenges import Challenge, Status

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SECRET = callbacks.format_secret(bytes(range(32)))


def verified(**overrides):
    values = dict(
        id="ch_1",
        number="+15017122661",
        code_hash="h",
        token_hash="t",
        created_at=NOW - timedelta(minutes=1),
        expires_at=NOW + timedelta(minutes=9),
        status=Status.VERIFIED,
        verified_phone="+33612345678",
        verified_at=NOW,
        ended_at=NOW,
        metadata={"order": 42},
    )
    return Challenge(**(values | overrides))


def test_body_names_the_event_and_masks_the_verified_number():
    body = json.loads(callbacks.event_body(verified(), "evt_1", NOW, full_phone=False))
    assert body["id"] == "evt_1"
    assert body["type"] == "challenge.verified"
    assert body["timestamp"] == "2026-03-01T09:30:00Z"
    assert body["data"]["verified_phone"] == "+33 6** *** *78"
    assert body["data"]["metadata"] == {"order": 42}


def test_body_shows_the_full_number_to_an_app_that_opted_in():
    body = json.loads(callbacks.event_body(verified(), "evt_1", NOW, full_phone=True))
    assert body["data"]["verified_phone"] == "+33612345678"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (Status.VERIFIED, "challenge.verified"),
        (Status.FAILED, "challenge.failed"),
        (Status.EXPIRED, "challenge.expired"),
        (Status.CANCELLED, "challenge.cancelled"),
    ],
)
def test_each_final_status_has_its_event_type(status, kind):
    body = callbacks.event_body(verified(status=status), "evt_1", NOW, False)
    assert json.loads(body)["type"] == kind


def test_a_pending_challenge_makes_no_event():
    with pytest.raises(ValueError):
        callbacks.event_body(verified(status=Status.PENDING), "evt_1", NOW, False)


def test_signature_is_what_the_standardwebhooks_library_computes():
    body = callbacks.event_body(verified(), "evt_1", NOW, False)
    stamp = int(NOW.timestamp())
    expected = Webhook(SECRET).sign("evt_1", NOW, body.decode())
    assert callbacks.sign(SECRET, "evt_1", stamp, body) == expected


def test_signature_is_hmac_sha256_over_id_timestamp_and_body():
    import hashlib
    import hmac

    digest = hmac.new(bytes(range(32)), b"evt_9.1700000000.{}", hashlib.sha256).digest()
    assert callbacks.sign(SECRET, "evt_9", 1700000000, b"{}") == (
        "v1," + base64.b64encode(digest).decode()
    )


@pytest.mark.parametrize(
    "secret",
    ["", "abc", "whsec_", "whsec_not base64!", "whsec_" + base64.b64encode(b"x" * 23).decode()],
)
def test_refuses_malformed_secrets(secret):
    with pytest.raises(callbacks.InvalidSecret):
        callbacks.secret_bytes(secret)


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, Result.DELIVERED),
        (204, Result.DELIVERED),
        (301, Result.RETRY),
        (400, Result.GIVE_UP),
        (404, Result.GIVE_UP),
        (410, Result.GIVE_UP),
        (429, Result.RETRY),
        (500, Result.RETRY),
        (503, Result.RETRY),
        (None, Result.RETRY),
    ],
)
def test_classifies_answers(status, result):
    assert callbacks.classify(status) is result


def test_retry_delays_double_with_jitter_and_stay_bounded():
    low = [callbacks.retry_delay(n, lambda: 0.0) for n in range(1, 6)]
    high = [callbacks.retry_delay(n, lambda: 1.0) for n in range(1, 6)]
    assert low == [2.5, 5.0, 10.0, 20.0, 40.0]
    assert high == [5.0, 10.0, 20.0, 40.0, 80.0]
    assert callbacks.retry_delay(60, lambda: 1.0) == callbacks.MAX_DELAY


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "example.com/hook", "https://user:pw@example.com/", "http:///x"],
)
def test_refuses_unusable_callback_urls(url):
    assert callbacks.check_url(url) is not None


def test_accepts_an_https_callback_url():
    assert callbacks.check_url("https://hooks.example.com:8443/reverse-otp?x=1") is None
