"""Typed results, one dataclass per schema of the server's OpenAPI document.

`Challenge` is `ChallengeView`, `CreatedChallenge` is `CreatedView`, `Status` is `StatusView`,
and `CallbackEvent` is the signed event a callback carries. Times are RFC 3339 UTC strings, as
the server sends them. Fields the server adds later are ignored until the client learns them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, Optional, TypeVar

from reverse_otp_client.errors import ProtocolError

StatusName = Literal["pending", "verified", "expired", "failed", "cancelled"]
ChannelName = Literal["sms", "whatsapp"]
FINAL = frozenset({"verified", "expired", "failed", "cancelled"})

T = TypeVar("T")
# Fields newer servers send; absent (an older server, a callback recorded before an upgrade)
# they read as their empty value.
ADDED_LATER: dict[str, Any] = {"locale": None, "return_url": None, "attempts": 0}


@dataclasses.dataclass(frozen=True)
class Challenge:
    """A challenge as its integrator sees it (`GET /api/v1/challenges/{id}`)."""

    id: str
    status: StatusName
    to: str
    phone: Optional[str]
    created_at: str
    expires_at: str
    verified_phone: Optional[str]
    verified_at: Optional[str]
    attempts: int
    failure_reason: Optional[str]
    metadata: dict[str, Any]
    method: Optional[str]  # inbound_sms, test, outbound_sms ...; None until verified
    # Once verified: a signed proof (compact JWS) to check with verify_proof; else None.
    proof: Optional[str]
    channels: list[ChannelName]
    channel: Optional[ChannelName]
    locale: Optional[str]
    return_url: Optional[str]

    @property
    def final(self) -> bool:
        """True once the challenge is verified, expired, failed or cancelled."""
        return self.status in FINAL


@dataclasses.dataclass(frozen=True)
class CodeSent:
    """A code the server sent to the challenge's expected phone (`POST .../send`, the fallback)."""

    id: str
    status: str
    channel: str
    to: Optional[str]
    resend_after: int
    sends_left: int


@dataclasses.dataclass(frozen=True)
class CreatedChallenge(Challenge):
    """A new challenge, with what only its creator sees: code, SMS text, links and token."""

    code: str
    body: str
    sms_uri: str
    qr_svg_url: str
    qr_png_url: str
    whatsapp: Optional[dict[str, str]]
    token: str
    status_url: str
    events_url: str
    verify_url: str


@dataclasses.dataclass(frozen=True)
class Status:
    """What the status token grants: no code, the phone masked."""

    expires_at: str
    phone: Optional[str]
    verified_at: Optional[str]
    status: StatusName
    channel: Optional[ChannelName]
    attempts: int

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclasses.dataclass(frozen=True)
class CallbackChallenge(Challenge):
    """The challenge inside a callback: phones masked unless the app opted in."""

    ended_at: Optional[str]


@dataclasses.dataclass(frozen=True)
class CallbackEvent:
    """A signed callback: `challenge.verified`, `.failed`, `.expired` or `.cancelled`."""

    id: str
    type: str
    timestamp: str
    data: CallbackChallenge


def from_json(cls: type[T], data: Any) -> T:
    """Build a result dataclass from decoded JSON, ignoring fields it does not know."""
    if not isinstance(data, Mapping):
        raise ProtocolError("invalid_response", f"expected a JSON object for {cls.__name__}")
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name not in data and field.name in ADDED_LATER:
            values[field.name] = ADDED_LATER[field.name]
            continue
        if field.name not in data:
            raise ProtocolError("invalid_response", f"{cls.__name__} lacks {field.name!r}")
        values[field.name] = data[field.name]
    return cls(**values)


def callback_event(data: Any) -> CallbackEvent:
    """Build a CallbackEvent (and its challenge) from a decoded callback body."""
    if not isinstance(data, Mapping):
        raise ProtocolError("invalid_response", "a callback body must be a JSON object")
    challenge = from_json(CallbackChallenge, data.get("data"))
    return from_json(CallbackEvent, {**data, "data": challenge})
