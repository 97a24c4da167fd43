"""Keyed hashing and sealing of codes and tokens under a ring of server keys.

Codes are never stored as typed: the store keeps an HMAC for lookups, and a copy sealed with
a key derived from the challenge's status token, which the store never keeps. A database dump
therefore reveals no pending code, yet whoever holds the token can be shown the code again.
The first key of the ring signs and hashes new values; every key is tried when looking up,
so a key can be added and the old one retired without breaking pending challenges.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyRing:
    """Server keys, newest first."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys or any(len(k) < 16 for k in keys):
            raise ValueError("the key ring needs at least one key of 16 bytes or more")
        self.keys = keys

    def digest(self, purpose: str, value: str) -> str:
        """Return the HMAC-SHA256 of a value under the newest key, as hex."""
        return _mac(self.keys[0], purpose, value)

    def digests(self, purpose: str, value: str) -> list[str]:
        """Return the value's HMAC under every key, newest first, for lookups."""
        return [_mac(key, purpose, value) for key in self.keys]


def _mac(key: bytes, purpose: str, value: str) -> str:
    # hmac.digest is OpenSSL's one-shot HMAC: the same value as hmac.new, a fraction of the cost.
    return hmac.digest(key, purpose.encode() + b"\x00" + value.encode(), "sha256").hex()


def seal(token: str, code: str) -> bytes:
    """Encrypt a code under a key derived from the status token (AES-256-GCM)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_token_key(token)).encrypt(nonce, code.encode(), b"code")


def unseal(token: str, sealed: bytes) -> str | None:
    """Decrypt a sealed code with its token; None if it does not open."""
    if len(sealed) < 13:
        return None
    try:
        return AESGCM(_token_key(token)).decrypt(sealed[:12], sealed[12:], b"code").decode()
    except InvalidTag:
        return None


def _token_key(token: str) -> bytes:
    return hashlib.sha256(b"reverse-otp code seal\x00" + token.encode()).digest()


def same(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets in constant time (as digests, so lengths do not leak either)."""
    left = hashlib.sha256(a.encode() if isinstance(a, str) else a).digest()
    right = hashlib.sha256(b.encode() if isinstance(b, str) else b).digest()
    return hmac.compare_digest(left, right)
