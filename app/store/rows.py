"""Row mappers: domain values to table rows and back."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from app.domain.apps import App
from app.domain.challenges import Challenge, Status
from app.store.base import Delivery


def from_challenge(challenge: Challenge) -> dict[str, Any]:
    """Return a challenge as a table row."""
    return {
        "id": challenge.id,
        "number": challenge.number,
        "code_hash": challenge.code_hash,
        "token_hash": challenge.token_hash,
        "code_sealed": challenge.code_sealed,
        "phone": challenge.phone,
        "status": challenge.status.value,
        "attempts": challenge.attempts,
        "max_attempts": challenge.max_attempts,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "verified_phone": challenge.verified_phone,
        "verified_at": challenge.verified_at,
        "ended_at": challenge.ended_at,
        "failure_reason": challenge.failure_reason,
        "renewals": challenge.renewals,
        "renewed_at": challenge.renewed_at,
        "metadata": challenge.metadata,
        "app_id": challenge.app_id,
        "callback_url": challenge.callback_url,
        "method": challenge.method,
        "channels": ",".join(challenge.channels),
        "channel": challenge.channel,
        "locale": challenge.locale,
        "return_url": challenge.return_url,
        "email": challenge.email,
    }


def to_challenge(row: Row[Any]) -> Challenge:
    """Return a table row as a challenge."""
    m = row._mapping
    return Challenge(
        id=m["id"],
        number=m["number"],
        code_hash=m["code_hash"],
        token_hash=m["token_hash"],
        code_sealed=bytes(m["code_sealed"]),
        phone=m["phone"],
        status=Status(m["status"]),
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        verified_phone=m["verified_phone"],
        verified_at=m["verified_at"],
        ended_at=m["ended_at"],
        failure_reason=m["failure_reason"],
        renewals=m["renewals"],
        renewed_at=m["renewed_at"],
        metadata=m["metadata"] or {},
        app_id=m["app_id"],
        callback_url=m["callback_url"],
        method=m["method"],
        channels=tuple((m["channels"] or "sms").split(",")),
        channel=m["channel"],
        locale=m["locale"],
        return_url=m["return_url"],
        email=m["email"],
    )


def to_delivery(row: Row[Any]) -> Delivery:
    """Return a claimed row as a delivery."""
    m = row._mapping
    return Delivery(
        id=m["id"],
        event_id=m["event_id"],
        app_id=m["app_id"],
        challenge_id=m["challenge_id"],
        event_type=m["event_type"],
        url=m["url"],
        body=bytes(m["body"]),
        attempts=m["attempts"],
        created_at=m["created_at"],
        lease=m["lease"],
    )


def from_app(app: App) -> dict[str, Any]:
    """Return an app as a table row."""
    return {
        "id": app.id,
        "name": app.name,
        "callback_url": app.callback_url,
        "callback_secret": app.callback_secret,
        "full_phone": app.full_phone,
        "numbers": list(app.numbers),
        "ttl": app.ttl,
        "created_at": app.created_at,
        "revoked_at": app.revoked_at,
        "old_callback_secret": app.old_callback_secret,
        "old_secret_until": app.old_secret_until,
        "return_origins": list(app.return_origins),
    }


def to_app(row: Row[Any]) -> App:
    """Return a table row as an app."""
    m = row._mapping
    return App(
        id=m["id"],
        name=m["name"],
        callback_url=m["callback_url"],
        callback_secret=m["callback_secret"],
        full_phone=bool(m["full_phone"]),
        numbers=tuple(m["numbers"] or ()),
        ttl=m["ttl"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        old_callback_secret=m["old_callback_secret"],
        old_secret_until=m["old_secret_until"],
        return_origins=tuple(m["return_origins"] or ()),
    )
