"""Verify a signed callback (Standard Webhooks, https://www.standardwebhooks.com)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Optional, Union

from reverse_otp_client.errors import InvalidCallback, ProtocolError
from reverse_otp_client.models import CallbackEvent, callback_event

TOLERANCE = 5 * 60  # seconds a callback's timestamp may be away from now


def verify_callback(
    payload: Union[bytes, str],
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = TOLERANCE,
    now: Optional[float] = None,
) -> CallbackEvent:
    """Check a callback and return its event; raise InvalidCallback when it is not ours.

    `payload` is the raw request body as received (verify before parsing, never re-serialise),
    `headers` the request headers (any case), `secret` the app's `whsec_...` callback secret.
    The timestamp must be within `tolerance` seconds of `now`; any `v1` signature may match
    (during a secret rotation the server signs with both secrets).
    """
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    found = {k.lower(): v for k, v in headers.items()}
    msg_id = found.get("webhook-id", "")
    stamp = found.get("webhook-timestamp", "").strip()
    signatures = found.get("webhook-signature", "")
    if not msg_id or not stamp or not signatures:
        raise InvalidCallback("missing_headers", "webhook-id, -timestamp and -signature needed")
    if not stamp.isdigit():
        raise InvalidCallback("stale_timestamp", "webhook-timestamp is not a number")
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        raise InvalidCallback("stale_timestamp", "webhook-timestamp is outside the tolerance")
    expected = _sign(_key(secret), f"{msg_id}.{stamp}.".encode() + body)
    given = [part.split(",", 1)[1] for part in signatures.split() if part.startswith("v1,")]
    if not any(hmac.compare_digest(expected, sig) for sig in given):
        raise InvalidCallback("bad_signature", "no signature matches the secret")
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidCallback("invalid_body", "the callback body is not JSON") from None
    try:
        return callback_event(data)
    except ProtocolError as exc:
        raise InvalidCallback("invalid_body", exc.message) from None


def _key(secret: str) -> bytes:
    encoded = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCallback("invalid_secret", "the secret is not whsec_ + base64") from None


def _sign(key: bytes, content: bytes) -> str:
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
