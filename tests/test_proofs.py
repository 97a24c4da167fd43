"""Proofs through the app: GET and callbacks carry them, the JWKS verifies them with PyJWT,
and tampering, rotation-out, expiry and other audiences are refused."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app import create_app
from app.clock import FakeClock
from app.config import load
from app.usecases import apps
from tests.callback_helpers import HOOK, HOOK_SECRET, PHONE, SIMULATOR_ONLY, create, outbox, text_in
from tests.conftest import AUTH, PUBLIC_URL, base_settings, runtime


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_file(folder: Path, name: str) -> str:
    path = folder / f"{name}.pem"
    path.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    return str(path)


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return {name: key_file(folder, name) for name in ("a", "b")}


@pytest.fixture
def clock() -> FakeClock:
    # Real time: PyJWT checks exp against the real clock.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def settings_with(tmp_path: Path, **proofs: object):
    raw = base_settings(
        tmp_path,
        proofs=proofs,
        numbers=SIMULATOR_ONLY,
        callbacks={"url": HOOK, "secret": HOOK_SECRET},
    )
    return load(overrides=raw, environ={})


@pytest.fixture
def settings(tmp_path, keys):
    return settings_with(tmp_path, key_file=keys["a"], verify_key_files=[keys["b"]])


def verified(client, **body) -> dict:
    made = create(client, phone=PHONE, **body)
    assert text_in(client, PHONE, made["body"]) == 200
    return made


def show(client, challenge_id: str, headers=None) -> dict:
    answer = client.get(f"/api/v1/challenges/{challenge_id}", headers=headers or AUTH)
    assert answer.status_code == 200
    return answer.json


def jwks_of(client) -> jwt.PyJWKSet:
    answer = client.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    return jwt.PyJWKSet.from_dict(answer.json)


def check(token: str, keyset: jwt.PyJWKSet, audience: str = "default", **options) -> dict:
    """Verify a proof as an integrator would: the key its header names, ES256 only."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = keyset[kid]
    return jwt.decode(
        token, key, algorithms=["ES256"], audience=audience, issuer=PUBLIC_URL, **options
    )


def test_a_verified_challenge_carries_a_proof_that_verifies_with_the_jwks(client):
    made = verified(client, metadata={"order": 42, "cart": ["x", "é"]})
    view = show(client, made["id"])
    claims = check(view["proof"], jwks_of(client))
    assert claims["sub"] == PHONE
    assert claims["aud"] == "default"
    assert claims["jti"] == made["id"]
    assert claims["amr"] == ["sms"]
    verified_at = datetime.strptime(view["verified_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert claims["iat"] == int(verified_at.replace(tzinfo=UTC).timestamp())
    assert claims["exp"] == claims["iat"] + 600
    # The documented metadata hash, recomputed from the metadata the API shows.
    canonical = json.dumps(
        view["metadata"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    assert claims["metadata_sha256"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_the_proof_header_names_the_active_key(client, keys):
    token = show(client, verified(client)["id"])["proof"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == jwks_of(client).keys[0].key_id


@pytest.mark.parametrize("action", ["pending", "cancelled", "failed", "expired"])
def test_a_challenge_that_is_not_verified_has_no_proof(client, clock, action):
    made = create(client, phone=PHONE)
    if action == "cancelled":
        client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    elif action == "failed":
        for _ in range(5):
            text_in(client, "+33699999999", made["body"])
    elif action == "expired":
        clock.advance(601)
    view = show(client, made["id"])
    assert view["status"] == action
    assert view["proof"] is None
    assert made["proof"] is None


def test_reading_again_later_never_extends_the_proof(client, clock):
    made = verified(client)
    first = jwt.decode(show(client, made["id"])["proof"], options={"verify_signature": False})
    clock.advance(300)
    again = jwt.decode(show(client, made["id"])["proof"], options={"verify_signature": False})
    assert (again["iat"], again["exp"]) == (first["iat"], first["exp"])


def test_after_its_ttl_a_verification_yields_no_proof(client, clock):
    made = verified(client)
    clock.advance(599)
    assert show(client, made["id"])["proof"] is not None
    clock.advance(1)
    assert show(client, made["id"])["proof"] is None


def test_an_expired_proof_is_refused(tmp_path, settings):
    # The server's clock runs 601 s behind the verifier's: the proof it hands out is one
    # the verifier finds expired.
    behind = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=601))
    app = create_app(settings, clock=behind)
    client = app.test_client()
    token = show(client, verified(client)["id"])["proof"]
    with pytest.raises(jwt.ExpiredSignatureError):
        check(token, jwks_of(client))
    runtime(app).ctx.store.dispose()  # type: ignore[attr-defined]


def test_a_proof_with_any_byte_changed_is_refused(client):
    token = show(client, verified(client)["id"])["proof"]
    keyset = jwks_of(client)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "+33600000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        check(f"{header}.{forged}.{signature}", keyset)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(jwt.InvalidSignatureError):
        check(f"{header}.{payload}.{flipped}", keyset)


def test_a_proof_is_refused_for_another_audience(client, ctx):
    shop = apps.register(ctx, "Shop")
    made = verified(client, headers={"Authorization": f"Bearer {shop.key}"})
    token = show(client, made["id"], {"Authorization": f"Bearer {shop.key}"})["proof"]
    keyset = jwks_of(client)
    assert check(token, keyset, audience=shop.app.id)["aud"] == shop.app.id
    with pytest.raises(jwt.InvalidAudienceError):
        check(token, keyset, audience="default")


def test_rotation_keeps_old_proofs_valid_until_the_old_key_is_rotated_out(
    tmp_path, keys, client, clock
):
    token = show(client, verified(client)["id"])["proof"]
    # Step 2: b signs, a stays published for verification only.
    rotated = create_app(
        settings_with(tmp_path, key_file=keys["b"], verify_key_files=[keys["a"]]), clock=clock
    )
    keyset = jwks_of(rotated.test_client())
    assert len(keyset.keys) == 2
    assert check(token, keyset)["sub"] == PHONE
    # Step 3: a is gone; its proofs no longer verify.
    retired = create_app(settings_with(tmp_path, key_file=keys["b"]), clock=clock)
    keyset = jwks_of(retired.test_client())
    assert jwt.get_unverified_header(token)["kid"] not in [k.key_id for k in keyset.keys]
    with pytest.raises(KeyError):
        check(token, keyset)
    for built in (rotated, retired):
        runtime(built).ctx.store.dispose()  # type: ignore[attr-defined]


def test_the_callback_carries_a_proof_that_verifies(app, client):
    made = verified(client)
    rows = outbox(app, made["id"])
    assert len(rows) == 1
    body = json.loads(rows[0]["body"])
    assert body["type"] == "challenge.verified"
    claims = check(body["data"]["proof"], jwks_of(client))
    assert claims["jti"] == made["id"]
    assert claims["sub"] == PHONE


def test_a_cancelled_challenges_callback_has_a_null_proof(app, client):
    made = create(client, phone=PHONE)
    client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    assert json.loads(outbox(app, made["id"])[0]["body"])["data"]["proof"] is None


def test_jwks_publishes_public_keys_only_with_thumbprint_kids_and_cache_headers(client, keys):
    answer = client.get("/.well-known/jwks.json")
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    published = answer.json["keys"]
    assert len(published) == 2
    for jwk, path in zip(published, (keys["a"], keys["b"]), strict=True):
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
        required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
        text = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
        digest = hashlib.sha256(text).digest()
        assert jwk["kid"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        private = serialization.load_pem_private_key(Path(path).read_bytes(), None)
        numbers = private.public_key().public_numbers()  # type: ignore[union-attr]
        x = base64.urlsafe_b64decode(jwk["x"] + "=")
        assert int.from_bytes(x, "big") == numbers.x
    again = client.get("/.well-known/jwks.json", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_with_proofs_off_there_is_no_jwks_and_no_proof(tmp_path, clock):
    app = create_app(settings_with(tmp_path), clock=clock)  # production, no key: off
    client = app.test_client()
    assert client.get("/.well-known/jwks.json").status_code == 404
    made = verified(client)
    assert show(client, made["id"])["proof"] is None
    runtime(app).ctx.store.dispose()  # type: ignore[attr-defined]


def test_a_test_number_verified_through_check_gets_a_proof_saying_test(tmp_path, keys, clock):
    raw = base_settings(
        tmp_path,
        proofs={"key_file": keys["a"]},
        test_numbers=[{"phone": "+12025550123", "code": "424242"}],
    )
    app = create_app(load(overrides=raw, environ={}), clock=clock)
    client = app.test_client()
    made = create(client, phone="+12025550123")
    answer = client.post(
        f"/api/v1/challenges/{made['id']}/check", json={"code": "424242"}, headers=AUTH
    )
    assert answer.json["status"] == "verified"
    keyset = jwks_of(client)
    for proof in (answer.json["proof"], show(client, made["id"])["proof"]):
        claims = check(proof, keyset)
        assert claims["amr"] == ["test"]
        assert claims["sub"] == "+12025550123"
    runtime(app).ctx.store.dispose()  # type: ignore[attr-defined]


def test_a_wrong_code_at_check_gives_no_proof(tmp_path, keys, clock):
    raw = base_settings(
        tmp_path,
        proofs={"key_file": keys["a"]},
        test_numbers=[{"phone": "+12025550123", "code": "424242"}],
    )
    app = create_app(load(overrides=raw, environ={}), clock=clock)
    client = app.test_client()
    made = create(client, phone="+12025550123")
    answer = client.post(
        f"/api/v1/challenges/{made['id']}/check", json={"code": "000000"}, headers=AUTH
    )
    assert answer.json["status"] == "pending"
    assert answer.json["proof"] is None
    runtime(app).ctx.store.dispose()  # type: ignore[attr-defined]


def test_the_documented_example_proof_verifies_with_the_example_key_set():
    from app.web.views import EXAMPLE_CHALLENGE, EXAMPLE_JWKS

    keyset = jwt.PyJWKSet.from_dict(EXAMPLE_JWKS)
    claims = check_at(EXAMPLE_CHALLENGE["proof"], keyset, "https://verify.example.com")
    assert claims["jti"] == EXAMPLE_CHALLENGE["id"]
    assert claims["sub"] == EXAMPLE_CHALLENGE["verified_phone"]


def check_at(token: str, keyset: jwt.PyJWKSet, issuer: str) -> dict:
    key = keyset[jwt.get_unverified_header(token)["kid"]]
    # The example is long expired: its signature and claims still hold.
    return jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience="default",
        issuer=issuer,
        options={"verify_exp": False},
    )
