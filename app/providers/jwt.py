"""Verify HMAC-signed JSON Web Tokens (HS256/HS384/HS512), the only kind webhooks use here.

A dozen lines of hmac instead of a JWT library: the caller names the algorithms it accepts,
so `alg: none` and key-confusion tricks cannot apply, and claims are checked by the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from app.providers.base import Rejected

HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, binascii.Error):
        raise Rejected("bad_token") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    """Return a compact token; used to build test requests and documentation examples."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    mac = hmac.new(key, f"{header}.{payload}".encode(), HASHES[alg]).digest()
    return f"{header}.{payload}.{b64url(mac)}"


def verify(token: str, key: bytes, algorithms: tuple[str, ...]) -> dict[str, Any]:
    """Return the claims of a token signed with `key` in one of `algorithms`, or raise Rejected."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise Rejected("bad_token")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise Rejected("bad_token") from None
    alg = header.get("alg") if isinstance(header, dict) else None
    if alg not in algorithms or alg not in HASHES or not isinstance(claims, dict):
        raise Rejected("bad_token")
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), HASHES[alg]).digest()
    if not hmac.compare_digest(expected, b64url_decode(parts[2])):
        raise Rejected("bad_signature")
    return claims


def number_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
