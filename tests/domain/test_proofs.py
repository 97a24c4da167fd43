"""The claims of a proof: pure rules over a challenge."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.domain import proofs
from app.domain.challenges import Challenge, Status

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def verified(**changes: object) -> Challenge:
    challenge = Challenge(
        id="ch_abc",
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
    return replace(challenge, **changes)  # type: ignore[arg-type]


def test_claims_name_issuer_phone_app_challenge_and_method():
    claims = proofs.claims(verified(app_id="app_x"), "https://v.test", 600, NOW)
    assert claims is not None
    assert claims["iss"] == "https://v.test"
    assert claims["sub"] == "+33612345678"
    assert claims["aud"] == "app_x"
    assert claims["jti"] == "ch_abc"
    assert claims["amr"] == ["sms"]


def test_default_app_is_the_audience_of_challenges_without_an_app():
    assert proofs.claims(verified(), "https://v.test", 600, NOW)["aud"] == "default"  # type: ignore[index]


def test_iat_is_verification_time_and_exp_is_ttl_later_whenever_read():
    early = proofs.claims(verified(), "i", 600, NOW)
    late = proofs.claims(verified(), "i", 600, NOW + timedelta(seconds=599))
    assert early == late
    assert early is not None
    assert early["iat"] == int(NOW.timestamp())
    assert early["exp"] == early["iat"] + 600


def test_no_claims_once_the_ttl_has_passed():
    assert proofs.claims(verified(), "i", 600, NOW + timedelta(seconds=600)) is None


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.EXPIRED, Status.FAILED, Status.CANCELLED]
)
def test_no_claims_for_a_challenge_not_verified(status):
    assert proofs.claims(verified(status=status), "i", 600, NOW) is None


@pytest.mark.parametrize(
    ("method", "expected"),
    [(None, "sms"), ("inbound_sms", "sms"), ("test", "test"), ("whatsapp", "whatsapp")],
)
def test_the_stored_method_maps_to_amr(method, expected):
    assert proofs.amr(method) == [expected]
    claims = proofs.claims(verified(method=method), "i", 600, NOW)
    assert claims is not None and claims["amr"] == [expected]


def test_a_method_not_in_the_table_is_named_as_stored():
    assert proofs.amr("carrier_pigeon") == ["carrier_pigeon"]


def test_metadata_hash_is_sha256_of_sorted_compact_utf8_json():
    metadata = {"b": [1, True, None], "a": {"z": "é", "y": "x\ny"}}
    text = '{"a":{"y":"x\\ny","z":"é"},"b":[1,true,null]}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
    assert proofs.metadata_sha256(metadata) == expected.decode()


def test_metadata_hash_ignores_key_order_and_tells_values_apart():
    assert proofs.metadata_sha256({"a": 1, "b": 2}) == proofs.metadata_sha256({"b": 2, "a": 1})
    assert proofs.metadata_sha256({"a": 1}) != proofs.metadata_sha256({"a": "1"})


def test_metadata_hash_of_a_lone_surrogate_does_not_crash():
    # JSON lets a request carry "\ud800"; UTF-8 cannot hold it, so it stays escaped.
    assert proofs.canonical_json({"a": "\ud800"}) == b'{"a":"\\ud800"}'


def test_empty_metadata_hashes_the_empty_object():
    digest = hashlib.sha256(b"{}").digest()
    assert proofs.metadata_sha256({}) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_canonical_json_matches_the_documented_python_form():
    value = {"k": [1, 2.5, "ü"], "a": {}}
    documented = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert proofs.canonical_json(value) == documented.encode()
