"""Twilio Webhook Rules signing with a SharedKey (HMAC-SHA256 or HMAC-SHA1), announced in
X-Twilio-Webhooks-Signature-Settings, checked as Twilio's own SDK computes it; the auth-token
HMAC-SHA1 path is unchanged and the announcement cannot switch its key or algorithm."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator

from app.config.checks import ConfigError
from tests.conftest import PUBLIC_URL, TWILIO_TOKEN
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import SAMPLES, SENDER, twilio_sid

SHARED = "shared-key-secret-0123456789abcdef"
KEY_ID = "webhooks_sharedkey_01hx0000000000000000000000"
URL = PUBLIC_URL + "/webhooks/twilio"


def params(text: str, mid: str) -> dict[str, str]:
    sid = twilio_sid(mid)
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": SENDER,
        "To": SAMPLES["twilio"].number,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
    }


def post(client, fields, key, algorithm=None, settings=None):
    signature = RequestValidator(key).compute_signature(URL, fields, algorithm)
    headers = {"X-Twilio-Signature": signature}
    if settings is not None:
        headers[SIGNATURE_SETTINGS_HEADER] = settings
    return client.post(
        "/webhooks/twilio",
        data=urlencode(fields),
        headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
    )


def twilio_app(make_app, **section):
    return make_app("twilio", providers={"twilio": section}).test_client()


@pytest.mark.parametrize("algorithm", ["HMAC_SHA256", "HMAC_SHA1"])
def test_a_shared_key_signature_announced_by_twilio_verifies(make_app, algorithm):
    client = twilio_app(make_app, auth_token=TWILIO_TOKEN, shared_key_secret=SHARED)
    created = new_challenge(client)
    settings = f"key={KEY_ID},algorithm={algorithm}"
    answer = post(client, params(created["body"], "s-1"), SHARED, algorithm, settings)
    assert answer.status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_a_hmac_sha256_vector_built_as_twilio_builds_it():
    """Twilio's SDK signs the URL and sorted parameters with SHA-256 under the SharedKey."""
    from app.providers import twilio

    fields = params("VERIFY 7K3M9Q", "vector")
    expected = RequestValidator(SHARED).compute_signature(URL, fields, "HMAC_SHA256")
    assert twilio.signature(SHARED, URL, list(fields.items()), "HMAC_SHA256") == expected
    assert len(expected) == 44  # base64 of a 32-byte digest


def test_the_auth_token_path_is_unchanged(make_app):
    client = twilio_app(make_app, auth_token=TWILIO_TOKEN, shared_key_secret=SHARED)
    created = new_challenge(client)
    assert post(client, params(created["body"], "s-2"), TWILIO_TOKEN).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


@pytest.mark.parametrize(
    ("key", "algorithm", "settings"),
    [
        (TWILIO_TOKEN, "HMAC_SHA256", f"key={KEY_ID},algorithm=HMAC_SHA256"),  # token, announced
        (SHARED, None, None),  # the shared key without its announcement
        (SHARED, "HMAC_SHA256", None),
        (SHARED, "HMAC_SHA1", f"key={KEY_ID},algorithm=HMAC_MD5"),  # unknown algorithm
        (SHARED, "HMAC_SHA256", f"key={KEY_ID},algorithm=HMAC_SHA1"),  # algorithm mismatch
    ],
)
def test_a_signature_under_another_key_or_algorithm_than_announced_is_refused(
    make_app, key, algorithm, settings
):
    client = twilio_app(make_app, auth_token=TWILIO_TOKEN, shared_key_secret=SHARED)
    created = new_challenge(client)
    assert post(client, params(created["body"], "s-3"), key, algorithm, settings).status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_an_announced_shared_key_is_refused_when_none_is_configured(make_app):
    client = twilio_app(make_app, auth_token=TWILIO_TOKEN)
    created = new_challenge(client)
    settings = f"key={KEY_ID},algorithm=HMAC_SHA256"
    answer = post(client, params(created["body"], "s-4"), TWILIO_TOKEN, "HMAC_SHA256", settings)
    assert answer.status_code == 403


def test_only_the_configured_shared_key_id_is_accepted(make_app):
    client = twilio_app(
        make_app, auth_token=TWILIO_TOKEN, shared_key_secret=SHARED, shared_key_id=KEY_ID
    )
    created = new_challenge(client)
    other = "key=webhooks_sharedkey_other,algorithm=HMAC_SHA256"
    fields = params(created["body"], "s-5")
    assert post(client, fields, SHARED, "HMAC_SHA256", other).status_code == 403
    mine = f"key={KEY_ID},algorithm=HMAC_SHA256"
    assert post(client, fields, SHARED, "HMAC_SHA256", mine).status_code == 200


def test_with_only_a_shared_key_the_auth_token_path_is_closed(make_app):
    client = twilio_app(make_app, shared_key_secret=SHARED)
    created = new_challenge(client)
    assert post(client, params(created["body"], "s-6"), TWILIO_TOKEN).status_code == 403
    settings = f"key={KEY_ID},algorithm=HMAC_SHA256"
    answer = post(client, params(created["body"], "s-6"), SHARED, "HMAC_SHA256", settings)
    assert answer.status_code == 200


def test_twilio_needs_an_auth_token_or_a_shared_key(make_app):
    with pytest.raises(ConfigError, match=r"providers\.twilio\.auth_token"):
        twilio_app(make_app, account_sid="AC" + "0" * 32)
