"""JSON views of challenges: what each audience may see.

Every answer is built through a pydantic model, and /openapi.json is generated from the same
models, so the description and the answers cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask import url_for
from pydantic import BaseModel, ConfigDict, Field

from app.domain import links, phone
from app.domain.challenges import Challenge, Method, Status
from app.usecases.challenges import Created
from app.web.examples import (
    EXAMPLE_CALLBACK,
    EXAMPLE_CHALLENGE,
    EXAMPLE_CREATED,
    EXAMPLE_ERROR,
    EXAMPLE_JWKS,
    EXAMPLE_MESSAGE,
    EXAMPLE_STATUS,
    EXAMPLE_WHATSAPP,
)

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Channel = Literal["sms", "whatsapp"]


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChallengeView(View):
    """A challenge as its integrator sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CHALLENGE]})

    id: str = Field(description="challenge id (ch_...)")
    status: Status = Field(description="pending, or the final status")
    to: str = Field(description="virtual number the user texts, E.164")
    phone: str | None = Field(description="expected phone (E.164); null in discovery mode")
    created_at: Timestamp
    expires_at: Timestamp
    verified_phone: str | None = Field(description="number that verified it, E.164")
    verified_at: Timestamp | None
    attempts: int = Field(ge=0, description="failed attempts so far")
    failure_reason: str | None = Field(description="why it failed (too_many_attempts)")
    metadata: dict[str, Any] = Field(description="your own data, as sent")
    method: Method | None = Field(
        description="how it was verified: inbound_sms (the user's SMS), inbound_whatsapp (a"
        " WhatsApp message), test (a [[test_numbers]] code presented to /check), outbound_sms"
        " (a code sent to the user by the fallback); null until verified"
    )
    proof: str | None = Field(
        description="verified: a signed proof (compact JWS, ES256) your backend can check"
        " offline against /.well-known/jwks.json until its exp; else null (docs/proofs.md)"
    )
    channels: list[Channel] = Field(description="how the user may send the code")
    channel: Channel | None = Field(description="the channel that verified it (null until then)")
    locale: str | None = Field(description="language of the SMS and the page; null: the browser's")
    return_url: str | None = Field(description="where the hosted page leads when done")


class WhatsAppLink(View):
    """The WhatsApp way to send the code, for a challenge offered on WhatsApp."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_WHATSAPP]})

    uri: str = Field(description="https://wa.me/ link opening WhatsApp, prefilled")
    qr_svg_url: str = Field(description="QR code of the wa.me link, SVG")
    qr_png_url: str = Field(description="QR code of the wa.me link, PNG")


class CreatedView(ChallengeView):
    """A new challenge, with the secrets only its creator sees."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CREATED]})

    code: str = Field(description="the code the user must text")
    body: str = Field(description="the full SMS text to send")
    sms_uri: str = Field(description="sms: link opening the user's messaging app, prefilled")
    qr_svg_url: str = Field(description="QR code of the SMS, SVG")
    qr_png_url: str = Field(description="QR code of the SMS, PNG")
    whatsapp: WhatsAppLink | None = Field(
        description="wa.me link and its QR codes when the challenge is offered on WhatsApp"
    )
    token: str = Field(description="status token for the user's browser; keep it out of logs")
    status_url: str = Field(description="status URL for the user's browser")
    events_url: str = Field(description="live status stream (SSE) for the user's browser")
    verify_url: str = Field(description="hosted verification page to send the user to")


class CallbackChallengeView(ChallengeView):
    """The challenge inside a callback: phone numbers masked unless the app opted in."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CALLBACK["data"]]})

    ended_at: Timestamp | None


class CallbackView(View):
    """A signed callback (Standard Webhooks): a challenge reached a final status."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CALLBACK]})

    id: str = Field(description="event id, also the webhook-id header; the same on every retry")
    type: Literal[
        "challenge.verified", "challenge.failed", "challenge.expired", "challenge.cancelled"
    ] = Field(description="what happened")
    timestamp: Timestamp
    data: CallbackChallengeView


class StatusView(View):
    """What a status token grants: no code, no full number."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_STATUS]})

    expires_at: Timestamp
    phone: str | None = Field(description="masked expected or verified phone")
    verified_at: Timestamp | None
    status: Status
    channel: Channel | None = Field(description="the channel that verified it (null until then)")
    attempts: int = Field(
        ge=0,
        description="SMS with this challenge's code received from another number than the"
        " expected one (never which number)",
    )


class MessageView(View):
    """What the token holder needs to send the SMS."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_MESSAGE]})

    to: str = Field(description="virtual number to text, E.164")
    body: str = Field(description="the SMS text, code included")
    sms_uri: str = Field(description="sms: link opening the messaging app, prefilled")
    qr_svg_url: str = Field(description="QR code of the SMS, SVG")
    expires_at: Timestamp
    renewals: int = Field(ge=0, description="codes renewed so far")
    renew_in: int = Field(ge=0, description="seconds before a new code may be asked for")
    channels: list[Channel] = Field(description="how the user may send the code")
    whatsapp: WhatsAppLink | None = Field(
        description="wa.me link and its QR codes when the challenge is offered on WhatsApp"
    )


class JwkView(View):
    """A public key that verifies proofs (RFC 7517), with its RFC 7638 thumbprint as kid."""

    model_config = ConfigDict(json_schema_extra={"examples": EXAMPLE_JWKS["keys"]})

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str = Field(description="key id: the RFC 7638 thumbprint; the proof header names it")
    use: Literal["sig"]
    alg: Literal["ES256"]


class JwksView(View):
    """The keys that verify proofs: the signing key first, then verify-only keys."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_JWKS]})

    keys: list[JwkView]


class ErrorDetail(View):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ERROR]})

    code: str = Field(description="stable machine-readable word, e.g. not_found")
    message: str = Field(description="what went wrong, for people")


class ErrorBody(View):
    """The one error shape of every failed JSON answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": EXAMPLE_ERROR}]})

    error: ErrorDetail


class HealthView(View):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class CheckView(View):
    model_config = ConfigDict(json_schema_extra={"examples": [{"state": "ok", "detail": None}]})

    state: Literal["ok", "degraded", "down"]
    detail: str | None = None


class ReadinessView(View):
    """Readiness: ready unless a component is down; degraded components are listed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "checks": {"database": {"state": "ok", "detail": None}}}
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckView]


def rfc3339(moment: datetime | None) -> str | None:
    """Return a UTC time as RFC 3339 with a Z, to the second."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _challenge_fields(challenge: Challenge, proof: str | None = None) -> dict[str, Any]:
    return {
        "id": challenge.id,
        "status": challenge.status,
        "to": challenge.number,
        "phone": challenge.phone,
        "created_at": rfc3339(challenge.created_at),
        "expires_at": rfc3339(challenge.expires_at),
        "verified_phone": challenge.verified_phone,
        "verified_at": rfc3339(challenge.verified_at),
        "attempts": challenge.attempts,
        "failure_reason": challenge.failure_reason,
        "metadata": challenge.metadata,
        "method": challenge.method if challenge.status is Status.VERIFIED else None,
        "proof": proof,
        "channels": list(challenge.channels),
        "channel": challenge.channel,
        "locale": challenge.locale,
        "return_url": challenge.return_url,
    }


def challenge_view(challenge: Challenge, proof: str | None = None) -> dict[str, Any]:
    """The integrator's full view (API key holders), with the proof of a verified one."""
    return ChallengeView(**_challenge_fields(challenge, proof)).model_dump(mode="json")


def created_view(created: Created, body: str, public_url: str) -> dict[str, Any]:
    """The answer to a new challenge: the full view plus code, text, links and token."""
    challenge, token = created.challenge, created.token
    base = public_url
    return CreatedView(
        **_challenge_fields(challenge),
        code=created.code,
        body=body,
        sms_uri=links.sms_uri(challenge.number, body),
        qr_svg_url=base + url_for("api.qr", token=token, fmt="svg"),
        qr_png_url=base + url_for("api.qr", token=token, fmt="png"),
        whatsapp=_whatsapp(challenge, body, token, base),
        token=token,
        status_url=base + url_for("api.status", token=token),
        events_url=base + url_for("live.events", token=token),
        verify_url=base + url_for("pages.verify", token=token),
    ).model_dump(mode="json")


def _whatsapp(challenge: Challenge, body: str, token: str, base: str) -> WhatsAppLink | None:
    if "whatsapp" not in challenge.channels:
        return None
    return WhatsAppLink(
        uri=links.whatsapp_uri(challenge.number, body),
        qr_svg_url=base + url_for("api.qr", token=token, fmt="svg", channel="whatsapp"),
        qr_png_url=base + url_for("api.qr", token=token, fmt="png", channel="whatsapp"),
    )


def status_view(challenge: Challenge) -> dict[str, Any]:
    """What a status token grants: no code, no full number."""
    shown = challenge.verified_phone or challenge.phone
    return StatusView(
        expires_at=rfc3339(challenge.expires_at),
        phone=phone.mask(shown),
        verified_at=rfc3339(challenge.verified_at),
        status=challenge.status,
        channel=challenge.channel,
        attempts=challenge.attempts,
    ).model_dump(mode="json")


def message_view(challenge: Challenge, body: str, token: str, public_url: str) -> dict[str, Any]:
    """What the token holder needs to send the SMS: number, text, link, QR and timing."""
    link = _whatsapp(challenge, body, token, public_url)
    return {
        "to": challenge.number,
        "body": body,
        "sms_uri": links.sms_uri(challenge.number, body),
        "qr_svg_url": public_url + url_for("api.qr", token=token, fmt="svg"),
        "expires_at": rfc3339(challenge.expires_at),
        "renewals": challenge.renewals,
        "channels": list(challenge.channels),
        "whatsapp": None if link is None else link.model_dump(),
    }
