"""Callback events and their Standard Webhooks signature; pure functions only.

A callback is one JSON body, fixed when the event is recorded so every retry sends the same
bytes, and signed at each attempt over "<webhook-id>.<webhook-timestamp>.<body>" with
HMAC-SHA256 (https://www.standardwebhooks.com). Secrets are shown as "whsec_<base64>".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from app.domain import phone
from app.domain.challenges import Challenge, Status

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of the format, not a secret
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
MAX_URL_LENGTH = 2000
EVENT_TYPES = {
    Status.VERIFIED: "challenge.verified",
    Status.FAILED: "challenge.failed",
    Status.EXPIRED: "challenge.expired",
    Status.CANCELLED: "challenge.cancelled",
}
# Delay before the second attempt; each later one doubles, up to MAX_DELAY.
FIRST_DELAY = 5.0
MAX_DELAY = 3 * 3600.0


class InvalidSecret(ValueError):
    """A callback secret is not "whsec_" and 24 to 64 bytes of base64."""


class Result(StrEnum):
    """What an attempt's answer means for the event."""

    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    ABANDONED = "abandoned"


def event_type(status: Status) -> str | None:
    """Return the event type a final status announces (None for pending)."""
    return EVENT_TYPES.get(status)


def event_body(
    challenge: Challenge,
    event_id: str,
    now: datetime,
    full_phone: bool,
    proof: str | None = None,
) -> bytes:
    """Return the JSON body announcing a challenge's final status (compact, UTF-8).

    `proof` is the signed proof of a verified challenge (docs/proofs.md), or None.
    """
    kind = event_type(challenge.status)
    if kind is None:
        raise ValueError("only a final status makes an event")
    body = {
        "id": event_id,
        "type": kind,
        "timestamp": _time(now),
        "data": data(challenge, full_phone) | {"proof": proof},
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def data(challenge: Challenge, full_phone: bool) -> dict[str, Any]:
    """Return the challenge as callbacks show it: numbers masked unless `full_phone`."""
    shown: Callable[[str | None], str | None] = (lambda n: n) if full_phone else phone.mask
    return {
        "id": challenge.id,
        "status": challenge.status.value,
        "to": challenge.number,
        "phone": shown(challenge.phone),
        "created_at": _time(challenge.created_at),
        "expires_at": _time(challenge.expires_at),
        "verified_phone": shown(challenge.verified_phone),
        "verified_at": _time(challenge.verified_at),
        "ended_at": _time(challenge.ended_at),
        "attempts": challenge.attempts,
        "failure_reason": challenge.failure_reason,
        "metadata": challenge.metadata,
        "method": challenge.method if challenge.status is Status.VERIFIED else None,
        "channels": list(challenge.channels),
        "channel": challenge.channel,
        "locale": challenge.locale,
        "return_url": challenge.return_url,
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def secret_bytes(secret: str) -> bytes:
    """Return the key inside a "whsec_" secret, or raise InvalidSecret."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"a callback secret starts with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("a callback secret is base64 after whsec_") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(
            f"a callback secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
        )
    return key


def format_secret(key: bytes) -> str:
    """Return raw key bytes as a "whsec_" secret; pass `secrets.token_bytes(32)`."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the webhook-signature value: "v1," and the base64 HMAC-SHA256."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the Standard Webhooks headers for one attempt, signed with every secret."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets),
        "Content-Type": "application/json",
    }


def classify(status: int | None) -> Result:
    """Judge an answer: 2xx delivered; 4xx but 429 final; anything else retried.

    `None` stands for no answer at all (timeout, refused connection, TLS failure).
    Redirects are failures (never followed) and are retried: the URL may be fixed.
    """
    if status is None:
        return Result.RETRY
    if 200 <= status < 300:
        return Result.DELIVERED
    if 400 <= status < 500 and status != 429:
        return Result.GIVE_UP
    return Result.RETRY


def retry_delay(attempts: int, random: Callable[[], float]) -> float:
    """Return seconds to wait after `attempts` failed tries: doubling, with jitter.

    "Equal jitter": half the exponential delay is kept, the other half drawn at random, so
    receivers recovering from an outage are not hit by every sender at once.
    """
    ceiling = min(MAX_DELAY, FIRST_DELAY * 2.0 ** max(attempts - 1, 0))
    return ceiling / 2 + random() * ceiling / 2


def check_url(url: str) -> str | None:
    """Return why a callback URL cannot be used, or None when it can."""
    if len(url) > MAX_URL_LENGTH:
        return f"the callback URL is longer than {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "the callback URL cannot be read"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the callback URL must be http:// or https:// with a host"
    if parts.username or parts.password:
        return "the callback URL must not carry a user name or password"
    return None
