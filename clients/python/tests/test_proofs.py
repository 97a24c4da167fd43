"""Proofs: a verified challenge's proof verifies against the server's JWK Set; a changed,
misdirected, expired or unknown-key proof is refused (against the real server)."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from reverse_otp_client import AsyncClient, Client, InvalidProof, verify_callback, verify_proof
from tests.conftest import Receiver, Server, new_phone


def verified(client: Client, server: Server, **body: Any) -> tuple[str, str]:
    phone = new_phone()
    created = client.create(phone=phone, **body)
    assert created.proof is None
    assert server.send_sms(phone, created.to, created.body).status_code == 200
    return created.id, phone


def refused(proof: str, jwks: dict[str, Any], **checks: Any) -> str:
    options = {"audience": "default", **checks}
    with pytest.raises(InvalidProof) as caught:
        verify_proof(proof, jwks, **options)
    return caught.value.code


def test_a_verified_challenges_proof_verifies_and_names_the_phone(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        challenge_id, phone = verified(client, server)
        shown = client.get(challenge_id)
        jwks = client.jwks()
    assert shown.status == "verified" and shown.proof is not None
    claims = verify_proof(shown.proof, jwks, audience="default", issuer=server.url)
    assert claims["sub"] == phone
    assert claims["jti"] == challenge_id
    assert claims["amr"] == ["sms"]


def test_a_pending_challenge_has_no_proof(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        created = client.create(phone=new_phone())
        assert client.get(created.id).proof is None
        assert client.cancel(created.id).proof is None


def test_changed_misdirected_expired_and_unknown_key_proofs_are_refused(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        challenge_id, _ = verified(client, server)
        proof = client.get(challenge_id).proof
        jwks = client.jwks()
    assert proof is not None
    header, payload, signature = proof.split(".")
    changed = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    assert refused(f"{header}.{payload}.{changed}", jwks, issuer=server.url) == "bad_signature"
    assert refused(proof, jwks, issuer=server.url, audience="app_other") == "wrong_audience"
    assert refused(proof, jwks, issuer="https://elsewhere.test") == "wrong_issuer"
    exp = jwt.decode(proof, options={"verify_signature": False})["exp"]
    assert verify_proof(proof, jwks, audience="default", issuer=server.url, now=exp - 1)
    assert refused(proof, jwks, issuer=server.url, now=exp) == "expired"
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    public = jwt.algorithms.ECAlgorithm.to_jwk(other, as_dict=True)
    stranger = {"keys": [{**public, "kid": "someone-else", "alg": "ES256"}]}
    assert refused(proof, stranger, issuer=server.url) == "unknown_key"
    assert refused("not.a.proof", jwks, issuer=server.url) == "malformed"


def test_the_callback_carries_a_proof_that_verifies(server: Server, receiver: Receiver) -> None:
    with Client(server.url, server.api_key) as client:
        challenge_id, phone = verified(client, server, callback_url=receiver.url)
        delivery = receiver.next()
        jwks = client.jwks()
    event = verify_callback(delivery.body, delivery.headers, server.callback_secret)
    assert event.data.proof is not None
    claims = verify_proof(event.data.proof, jwks, audience="default", issuer=server.url)
    assert (claims["jti"], claims["sub"]) == (challenge_id, phone)


def test_the_async_client_fetches_the_same_keys(server: Server) -> None:
    async def keys() -> dict[str, Any]:
        async with AsyncClient(server.url) as client:
            return await client.jwks()

    with Client(server.url) as client:
        assert asyncio.run(keys()) == client.jwks()
