"""JSON views of challenges: what each audience may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from app.domain import links, phone
from app.domain.challenges import Challenge
from app.services import Created


def rfc3339(moment: datetime | None) -> str | None:
    """Return a UTC time as RFC 3339 with a Z, to the second."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def challenge_view(challenge: Challenge) -> dict[str, Any]:
    """The integrator's full view (API key holders)."""
    return {
        "id": challenge.id,
        "status": challenge.status.value,
        "to": challenge.number,
        "phone": challenge.phone,
        "created_at": rfc3339(challenge.created_at),
        "expires_at": rfc3339(challenge.expires_at),
        "verified_phone": challenge.verified_phone,
        "verified_at": rfc3339(challenge.verified_at),
        "attempts": challenge.attempts,
        "failure_reason": challenge.failure_reason,
        "metadata": challenge.metadata,
    }


def created_view(created: Created, body: str, public_url: str) -> dict[str, Any]:
    """The answer to a new challenge: the full view plus code, text, links and token."""
    challenge, token = created.challenge, created.token
    base = public_url
    return challenge_view(challenge) | {
        "code": created.code,
        "body": body,
        "sms_uri": links.sms_uri(challenge.number, body),
        "qr_svg_url": base + url_for("api.qr", token=token, fmt="svg"),
        "qr_png_url": base + url_for("api.qr", token=token, fmt="png"),
        "token": token,
        "status_url": base + url_for("api.status", token=token),
        "events_url": base + url_for("live.events", token=token),
        "verify_url": base + url_for("pages.verify", token=token),
    }


def status_view(challenge: Challenge) -> dict[str, Any]:
    """What a status token grants: no code, no full number."""
    shown = challenge.verified_phone or challenge.phone
    return {
        "expires_at": rfc3339(challenge.expires_at),
        "phone": phone.mask(shown),
        "verified_at": rfc3339(challenge.verified_at),
        "status": challenge.status.value,
    }


def message_view(challenge: Challenge, body: str, token: str, public_url: str) -> dict[str, Any]:
    """What the token holder needs to send the SMS: number, text, link, QR and timing."""
    return {
        "to": challenge.number,
        "body": body,
        "sms_uri": links.sms_uri(challenge.number, body),
        "qr_svg_url": public_url + url_for("api.qr", token=token, fmt="svg"),
        "expires_at": rfc3339(challenge.expires_at),
        "renewals": challenge.renewals,
    }
