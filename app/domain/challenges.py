"""Challenges, inbound messages and the rules that decide between them.

Everything here is a pure function over frozen values: time comes in as `now`, and nothing
reads a clock, draws randomness or touches storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Where a challenge stands; every status but PENDING is final."""

    PENDING = "pending"
    VERIFIED = "verified"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self is not Status.PENDING


class Outcome(StrEnum):
    """What became of an inbound message; stable words reused by logs, metrics and the API."""

    MATCHED = "matched"
    NO_CODE = "no_code"
    UNKNOWN_CODE = "unknown_code"
    EXPIRED = "expired"
    WRONG_SENDER = "wrong_sender"
    ALREADY_SETTLED = "already_settled"
    INVALID_SENDER = "invalid_sender"
    UNKNOWN_NUMBER = "unknown_number"
    WRONG_PROVIDER = "wrong_provider"
    DUPLICATE = "duplicate"
    SENDER_BLOCKED = "sender_blocked"
    COUNTRY_DENIED = "country_denied"  # the sender's country is denied or not allowed
    SENDER_TYPE_REFUSED = "sender_type_refused"  # e.g. a premium-rate sender, for discovery
    PARTIAL = "partial"  # one part of a long SMS, stored until the others arrive


class Method(StrEnum):
    """How a verified challenge was proved; recorded on it and shown to its integrator."""

    INBOUND_SMS = "inbound_sms"  # the user texted the code to our number
    INBOUND_WHATSAPP = "inbound_whatsapp"  # the user sent it to our number on WhatsApp
    TEST = "test"  # a [[test_numbers]] entry's code, presented to /check
    OUTBOUND_SMS = "outbound_sms"  # a code the fallback sent to the user (app/usecases/fallback.py)
    EMAIL = "email"  # a code the fallback sent by email


# The ways a user can send the code: an SMS, or a WhatsApp message to the same kind of number.
CHANNELS = ("sms", "whatsapp")


class FailureReason(StrEnum):
    TOO_MANY_ATTEMPTS = "too_many_attempts"


@dataclass(frozen=True)
class Challenge:
    """One verification waiting for (or past) its SMS."""

    id: str
    number: str
    code_hash: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    phone: str | None = None
    status: Status = Status.PENDING
    attempts: int = 0
    max_attempts: int = 5
    verified_phone: str | None = None
    verified_at: datetime | None = None
    ended_at: datetime | None = None
    failure_reason: str | None = None
    code_sealed: bytes = b""
    renewals: int = 0
    renewed_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    app_id: str | None = None
    callback_url: str | None = None
    method: str | None = None  # how it was verified: inbound_sms, test, ...
    # The channels the user may send the code over, and the one that verified it.
    channels: tuple[str, ...] = ("sms",)
    channel: str | None = None
    # The language of the SMS and the page (None: the browser's), and where the page's final
    # state leads (checked against the allowed origins when the challenge was created).
    locale: str | None = None
    return_url: str | None = None
    email: str | None = None  # expected email address (the fallback's email channel)

    @property
    def discovery(self) -> bool:
        """True when any sender may verify it and becomes the verified number."""
        return self.phone is None

    def expired_at(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class InboundMessage:
    """An SMS as a provider delivered it, in provider-neutral form."""

    provider: str
    message_id: str
    sender: str
    to: str
    text: str
    sender_e164: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    channel: str = "sms"


@dataclass(frozen=True)
class Verdict:
    """The decision on one message against one challenge (or none)."""

    outcome: Outcome
    challenge_id: str | None = None
    new_status: Status | None = None

    @property
    def matched(self) -> bool:
        return self.outcome is Outcome.MATCHED


def match(challenge: Challenge | None, message: InboundMessage, now: datetime) -> Verdict:
    """Decide what a message does to the challenge its code points at.

    Rules, checked in this order, the first that applies wins:
    1. no challenge carries the code, the message went to another number than the
       challenge's (no challenge of that number carries it), or it came over a channel the
       challenge was not offered on: `unknown_code`;
    2. the challenge is past its expiry: `expired` (it becomes expired);
    3. the challenge is already final: `already_settled`;
    4. the sender is not a phone number: `invalid_sender`;
    5. an expected phone is set and the sender differs: `wrong_sender`, one failed attempt
       (the challenge fails when attempts reach max_attempts);
    6. otherwise: `matched`, the challenge is verified by the sender.
    """
    if (
        challenge is None
        or challenge.number != message.to
        or message.channel not in challenge.channels
    ):
        return Verdict(Outcome.UNKNOWN_CODE)
    cid = challenge.id
    if challenge.status is Status.PENDING and challenge.expired_at(now):
        return Verdict(Outcome.EXPIRED, cid, Status.EXPIRED)
    if challenge.status.final:
        return Verdict(Outcome.ALREADY_SETTLED, cid)
    if message.sender_e164 is None:
        return Verdict(Outcome.INVALID_SENDER, cid)
    if challenge.phone is not None and challenge.phone != message.sender_e164:
        failed = challenge.attempts + 1 >= challenge.max_attempts
        return Verdict(Outcome.WRONG_SENDER, cid, Status.FAILED if failed else None)
    return Verdict(Outcome.MATCHED, cid, Status.VERIFIED)


def inbound_method(channel: str) -> Method:
    """Return how a message over `channel` proves a challenge."""
    return Method.INBOUND_WHATSAPP if channel == "whatsapp" else Method.INBOUND_SMS


def end(challenge: Challenge, status: Status, now: datetime) -> Challenge:
    """Return the challenge in a final status (expired or cancelled)."""
    return replace(challenge, status=status, ended_at=now)


def clamp_ttl(requested: int | None, default: int, minimum: int, maximum: int) -> timedelta:
    """Return the lifetime to give a new challenge; raise ValueError out of bounds."""
    seconds = default if requested is None else requested
    if not minimum <= seconds <= maximum:
        raise ValueError(f"ttl must be between {minimum} and {maximum} seconds")
    return timedelta(seconds=seconds)
