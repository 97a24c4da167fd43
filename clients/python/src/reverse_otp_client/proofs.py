"""Verify a proof of a verified challenge offline (the server's docs/proofs.md).

A proof is a compact JWS signed ES256; the keys are the server's /.well-known/jwks.json
(`Client.jwks()`). Checking uses PyJWT: `pip install "reverse-otp-client[proofs]"`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Optional

from reverse_otp_client.errors import InvalidProof, ReverseOtpError

REQUIRED = ["iss", "sub", "aud", "jti", "iat", "exp"]


def verify_proof(
    proof: str,
    jwks: Mapping[str, Any],
    *,
    audience: str,
    issuer: str,
    leeway: float = 0,
    now: Optional[float] = None,
) -> dict[str, Any]:
    """Return the claims of a valid proof; raise InvalidProof when it is not one.

    `jwks` is the server's JWK Set (`client.jwks()`, cached as its Cache-Control allows;
    fetch it again on `unknown_key`), `audience` your app id (`default` for the API keys of
    the server's configuration file), `issuer` the server's public URL. Only ES256 is
    accepted. Then check `sub` (the verified phone) and `jti` (the challenge id) yourself.
    `now` (Unix seconds) replaces the clock, for tests.
    """
    try:
        import jwt
    except ImportError:  # pragma: no cover - the extra is installed where this runs
        needs = 'verify_proof needs PyJWT: pip install "reverse-otp-client[proofs]"'
        raise ReverseOtpError("missing_dependency", needs) from None
    try:
        kid = jwt.get_unverified_header(proof).get("kid")
        keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(dict(jwks)).keys}
    except jwt.PyJWTError:
        raise InvalidProof("malformed", "not a proof, or not a JWK Set") from None
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidProof("unknown_key", "no key of the JWK Set has the proof's kid")
    claims = _decode(jwt, proof, key, audience, issuer)
    exp = claims["exp"]
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise InvalidProof("malformed", "the proof's exp is not a number")
    if (time.time() if now is None else now) >= exp + leeway:
        raise InvalidProof("expired", "the proof has expired")
    return claims


def _decode(jwt: Any, proof: str, key: Any, audience: str, issuer: str) -> dict[str, Any]:
    """Check signature, audience, issuer and presence of claims; expiry is the caller's."""
    failures = [
        (jwt.InvalidAudienceError, "wrong_audience", "the proof is for another app"),
        (jwt.InvalidIssuerError, "wrong_issuer", "the proof comes from another server"),
        (jwt.MissingRequiredClaimError, "missing_claim", "the proof lacks a claim"),
        (jwt.InvalidSignatureError, "bad_signature", "the signature does not match"),
        (jwt.PyJWTError, "malformed", "the proof cannot be read"),
    ]
    try:
        claims: dict[str, Any] = jwt.decode(
            proof,
            key,
            algorithms=["ES256"],
            audience=audience,
            issuer=issuer,
            # exp is checked against `now` above; iat is the verification time.
            options={"require": REQUIRED, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        for kind, code, message in failures:
            if isinstance(exc, kind):
                raise InvalidProof(code, message) from None
        raise  # pragma: no cover - PyJWTError is the last entry
    return claims
