"""Proof keys: EC P-256 keys read from PEM, the development key, RFC 7638 key ids.

A private key never leaves this module but to sign: nothing here logs a key, and only the
public half of any key is ever turned into JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from app.config.checks import ConfigError

DEV_KEY_FILE = "proofs_key.pem"


@dataclass(frozen=True)
class ProofKey:
    """One key: its id, its public JWK, and its private half when it may sign."""

    kid: str
    public: ec.EllipticCurvePublicKey = field(repr=False)
    private: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)

    def jwk(self) -> dict[str, str]:
        """Return the public key as a JWK with its kid, for ES256 signatures."""
        return {**public_jwk(self.public), "kid": self.kid, "use": "sig", "alg": "ES256"}


def public_jwk(public: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """Return the members of an EC public key's JWK (kty, crv, x, y)."""
    found: dict[str, Any] = ECAlgorithm.to_jwk(public, as_dict=True)
    return {k: str(found[k]) for k in ("kty", "crv", "x", "y")}


def thumbprint(public: ec.EllipticCurvePublicKey) -> str:
    """Return the RFC 7638 thumbprint (SHA-256, base64url) of a public key: its kid."""
    members = public_jwk(public)
    required = {k: members[k] for k in ("crv", "kty", "x", "y")}
    text = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(text).digest()).rstrip(b"=").decode()


def from_pem(pem: bytes, where: str, private: bool) -> ProofKey:
    """Read a PEM key; `private` demands a private key. Raise ConfigError naming `where`."""
    key: Any = None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        if not private:
            key = _public_or_none(pem)
    if key is None:
        wanted = "an unencrypted private key" if private else "a public or private key"
        raise ConfigError(f"{where}: not a PEM file holding {wanted}")
    secret = key if isinstance(key, ec.EllipticCurvePrivateKey) else None
    public = secret.public_key() if secret is not None else key
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
        raise ConfigError(f"{where}: proofs are signed with ES256: use an EC P-256 key")
    return ProofKey(thumbprint(public), public, secret)


def _public_or_none(pem: bytes) -> Any:
    try:
        return serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        return None


def read(path: str, where: str, private: bool) -> ProofKey:
    """Read a key from a PEM file; a missing or unreadable file is a ConfigError."""
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    return from_pem(pem, where, private)


def development_key(instance: Path) -> ProofKey:
    """Return the development key kept in the instance folder, made on first use.

    Several workers may start at once: the key is written to a file of its own, then linked
    into place, so every process ends up reading the one key that won.
    """
    path = instance / DEV_KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        draft = instance / f".{DEV_KEY_FILE}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(new_pem())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return read(str(path), f"development proof key {path}", private=True)


def new_pem() -> bytes:
    """Return a new EC P-256 private key as unencrypted PKCS#8 PEM."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
