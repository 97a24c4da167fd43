"""The claims of a verification proof: what a signed token says about a verified challenge.

Pure functions only: signing and keys are adapters (app/proofs/). The rules, written down in
docs/proofs.md:

- only a verified challenge has claims;
- `iat` is the verification time and `exp` is `iat + ttl`, whenever the claims are built, so
  an old verification can never yield a proof that lives longer than `ttl` after it;
- past `exp` there are no claims at all (no already-expired proof is handed out);
- `metadata_sha256` binds the integrator's metadata, as the API shows it, to the proof.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.apps import DEFAULT_APP_ID
from app.domain.challenges import Challenge, Method, Status

# How a challenge was verified (its stored `method`) -> its RFC 8176 "amr" value. "sms" is
# registered there; the others are ours. A challenge stored before methods were recorded was
# verified by SMS; a method this table does not know yet is named as it is stored.
AMR = {
    Method.INBOUND_SMS.value: "sms",
    Method.TEST.value: "test",  # a [[test_numbers]] code presented to /check: no phone used
    # A code the fallback texted to the user: RFC 8176's "sms" is exactly that direction.
    Method.OUTBOUND_SMS.value: "sms",
    Method.INBOUND_WHATSAPP.value: "whatsapp",  # a WhatsApp message to our number
    # A code the fallback emailed: the address is proven, not a phone (see `claims`).
    Method.EMAIL.value: "email",
    "whatsapp": "whatsapp",
}


def amr(method: str | None = None) -> list[str]:
    """Return the `amr` claim for the method that verified a challenge (default: SMS)."""
    if method is None:
        return ["sms"]
    return [AMR.get(method, method)]


def canonical_json(value: Any) -> bytes:
    """Return the canonical JSON bytes of a value: sorted keys, no spaces, UTF-8.

    Non-ASCII characters are written as themselves (as RFC 8785 does); a lone surrogate,
    which UTF-8 cannot hold, is written as its \\uXXXX escape, as JavaScript's
    JSON.stringify writes it.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        escaped = "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
        return escaped.encode("utf-8")


def metadata_sha256(metadata: dict[str, Any]) -> str:
    """Return base64url (no padding) of SHA-256 over the metadata's canonical JSON."""
    digest = hashlib.sha256(canonical_json(metadata)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def claims(
    challenge: Challenge,
    issuer: str,
    ttl: int,
    now: datetime,
) -> dict[str, Any] | None:
    """Return the claims proving a verified challenge, or None (not verified, or past exp)."""
    verified_at = challenge.verified_at
    if challenge.status is not Status.VERIFIED or verified_at is None:
        return None
    emailed = challenge.method == Method.EMAIL.value
    if (challenge.email if emailed else challenge.verified_phone) is None:
        return None
    issued = _seconds(verified_at)
    if now >= verified_at + timedelta(seconds=ttl):
        return None
    # A challenge proved by an emailed code proves its address and no phone: `sub` is the
    # address as a mailto: URI (never a phone number), with the OpenID Connect claims.
    subject = f"mailto:{challenge.email}" if emailed else challenge.verified_phone
    extra = {"email": challenge.email, "email_verified": True} if emailed else {}
    return {
        **extra,
        "iss": issuer,
        "sub": subject,
        "aud": challenge.app_id or DEFAULT_APP_ID,
        "jti": challenge.id,
        "iat": issued,
        "exp": issued + ttl,
        "amr": amr(challenge.method),
        "metadata_sha256": metadata_sha256(challenge.metadata),
    }


def _seconds(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())
