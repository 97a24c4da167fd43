"""Verification proofs: ES256 signatures (JWS) over the claims app/domain/proofs.py builds.

Signing goes through PyJWT on top of cryptography rather than our own code: the JWS encoding,
the DER-to-raw conversion of ECDSA signatures and the header handling are done by a library
that verifiers use too. `build` reads the `[proofs]` settings; see docs/proofs.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt

from app.config.checks import ConfigError
from app.config.schema import Settings
from app.proofs.keys import ProofKey, development_key, from_pem, read


class JwsSigner:
    """Sign proofs with the active key; publish it and the verify-only keys as a JWKS."""

    def __init__(
        self, active: ProofKey, others: list[ProofKey], issuer: str, ttl: int, max_age: int
    ) -> None:
        if active.private is None:
            raise ValueError("the active proof key must be a private key")
        self._active = active
        self._private = active.private
        self._published = [active]
        for key in others:
            if key.kid not in {k.kid for k in self._published}:
                self._published.append(key)
        self.issuer = issuer
        self.ttl = ttl
        self.max_age = max_age

    @property
    def kid(self) -> str:
        return self._active.kid

    def sign(self, claims: dict[str, Any]) -> str:
        """Return the claims as a compact JWS signed ES256 by the active key."""
        headers = {"kid": self._active.kid, "typ": "JWT"}
        return jwt.encode(claims, self._private, algorithm="ES256", headers=headers)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the public keys, the active one first, as a JWK Set."""
        return {"keys": [key.jwk() for key in self._published]}


def build(settings: Settings) -> JwsSigner | None:
    """Return the proof signer the settings describe, or None when proofs are off.

    Unset `enabled` means on in development (a key generated in the instance folder) and on
    in production only when a key is configured.
    """
    proofs = settings.proofs
    enabled = proofs.enabled
    if enabled is None:
        enabled = settings.development or proofs.has_key
    if not enabled:
        return None
    others = [
        read(path, f"proofs.verify_key_files[{i}]", private=False)
        for i, path in enumerate(proofs.verify_key_files)
    ]
    return JwsSigner(
        _active(settings), others, settings.server.public_url, proofs.ttl, proofs.jwks_max_age
    )


def _active(settings: Settings) -> ProofKey:
    proofs = settings.proofs
    if proofs.key_file:
        return read(proofs.key_file, "proofs.key_file", private=True)
    text = proofs.key.get_secret_value()
    if text:
        return from_pem(text.encode(), "proofs.key", private=True)
    if settings.development:
        return development_key(Path(settings.server.instance_dir))
    raise ConfigError("proofs.key_file: proofs are enabled but no signing key is set")
