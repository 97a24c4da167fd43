"""The fallback: send a code to the user's expected phone, check it, read delivery receipts.

Opt-in (`[[senders]]`); a challenge keeps working by inbound SMS meanwhile. Every send passes
the pumping guards (app/domain/pumping.py, app/limits/sends.py) before any money is spent.
The code is numeric, kept only as a keyed hash, and its wrong guesses count against the
challenge's attempts (the fifth wrong one fails it), whichever way it arrives.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from app.crypto import same
from app.domain import pumping, sends
from app.domain.challenges import Challenge, Method
from app.domain.pumping import Refused
from app.domain.sends import Send
from app.limits.sends import Reservation, SendGuard
from app.providers.base import Rejected, WebhookRequest
from app.senders.base import Channel, Outgoing, Receipt, Sender, SendFailed
from app.senders.transport import Transport
from app.usecases.context import (
    Conflict,
    Context,
    Forbidden,
    NotFound,
    ServiceError,
    TooSoon,
    Unavailable,
)

log = logging.getLogger(__name__)

OUTBOUND_PURPOSE = "outbound-code"


class SendStore(Protocol):
    """What the fallback needs from storage (app/store/sends_sql.py)."""

    def add(self, send: Send) -> bool: ...

    def for_challenge(self, challenge_id: str) -> list[Send]: ...

    def set_result(
        self, send_id: str, sender: str, status: str, provider_id: str | None,
        detail: str | None, now: datetime,
    ) -> None: ...  # fmt: skip

    def find(self, sender: str, provider_id: str) -> Send | None: ...

    def set_status(self, send_id: str, old: str, new: str, detail: str, now: datetime) -> bool: ...

    def counts(self, since: datetime) -> list[tuple[str, str, str, int]]: ...


class Observe(Protocol):
    def __call__(self, sender: str, country: str, status: str) -> None: ...


@dataclass
class Fallback:
    """The configured fallback: senders in order, guards, transport and send records."""

    senders: list[Sender]
    guard: SendGuard
    store: SendStore
    transport: Transport
    public_url: str
    max_sends: int = 4
    resend_base: int = 30
    observe: Observe = field(default=lambda sender, country, status: None)

    def sender(self, name: str) -> Sender | None:
        return next((s for s in self.senders if s.name == name), None)


class ProviderFailed(ServiceError):
    """Every sender serving the destination failed: 502, try again later."""

    status = 502


def refuse(refused: Refused) -> ServiceError:
    """Return the API error of a guard's refusal: where a code would go is 403 (400 for an
    unreadable number), how many were sent is 429 (app/domain/pumping.py names them all)."""
    if refused.reason in ("invalid_phone", "invalid_email"):
        return ServiceError(refused.reason, str(refused))
    if refused.reason in pumping.FORBIDDEN:
        return Forbidden(refused.reason, str(refused))
    return TooSoon(refused.reason, str(refused), 3600)


def enabled(fallback: Fallback | None) -> Fallback:
    """Return the fallback, or raise NotFound(fallback_disabled) when none is configured."""
    if fallback is None or not fallback.senders:
        raise NotFound("fallback_disabled", "this server sends no codes (no [[senders]])")
    return fallback


def send_wait(fb: Fallback, previous: list[Send], now: datetime) -> int:
    """Return the seconds before the next send of a challenge may go (0: now)."""
    if not previous:
        return 0
    wait = pumping.resend_wait(len(previous), fb.resend_base)
    return max(0, int(wait - (now - previous[-1].created_at).total_seconds() + 0.999))


def default_channel(challenge: Challenge) -> Channel:
    """Return the channel `/send` uses when none is asked for: SMS to an expected phone,
    else email to an expected address."""
    return "email" if challenge.phone is None and challenge.email is not None else "sms"


def send_code(
    ctx: Context, fb: Fallback | None, challenge: Challenge, name: str,
    channel: Channel | None = None,
) -> Send:  # fmt: skip
    """Send a fresh code to the challenge's expected phone through the first sender serving
    its country, or (channel `email`) to its expected address through the first email
    sender; return the send. `name` is the app's name, shown in the text.

    Raises NotFound (no fallback), Conflict (final, or no expected phone / address), TooSoon
    (the growing cooldown, or the per-challenge cap, both shared by the channels), Forbidden
    or TooSoon (a pumping guard, see `refuse`), Unavailable (no sender serves the
    destination) and ProviderFailed (every serving sender failed).
    """
    fb = enabled(fb)
    now = ctx.clock.now()
    channel = channel or default_channel(challenge)
    if challenge.status.final:
        raise Conflict("already_settled", f"challenge is already {challenge.status.value}")
    to = challenge.email if channel == "email" else challenge.phone
    if to is None:
        if channel == "email":
            raise Conflict("no_expected_email", "codes are emailed only to an expected address")
        raise Conflict("no_expected_phone", "codes are sent only to a challenge's expected phone")
    previous = fb.store.for_challenge(challenge.id)
    if len(previous) >= fb.max_sends:
        raise TooSoon("send_limit", "no more codes are sent for this challenge", 0)
    wait = send_wait(fb, previous, now)
    if wait:
        raise TooSoon("send_too_soon", f"a new code can be sent in {wait} s", wait)
    try:
        if channel == "email":
            reservation = fb.guard.reserve_email(to, now)
        else:
            reservation = fb.guard.reserve(to, now)
    except Refused as refused:
        log.info("fallback send refused challenge=%s reason=%s", challenge.id, refused.reason)
        raise refuse(refused) from None
    country = reservation.dest.country
    serving = [s for s in fb.senders if s.channel == channel and s.serves(country)]
    if not serving:
        fb.guard.release(reservation, now)
        where = "email" if channel == "email" else "this country"
        raise Unavailable("no_sender", f"no sender serves {where}")
    code = sends.new_code(secrets.randbelow)
    send = Send(
        id="snd_" + secrets.token_urlsafe(12),
        challenge_id=challenge.id,
        seq=len(previous) + 1,
        sender=serving[0].name,
        channel=channel,
        country=country,
        # An email's domain stays out of the send record (only its keyed hash is counted).
        prefix="" if channel == "email" else reservation.dest.prefix,
        code_hash=ctx.keys.digest(OUTBOUND_PURPOSE, f"{challenge.id}:{code}"),
        created_at=now,
    )
    if not fb.store.add(send):  # another send of this challenge took the turn
        fb.guard.release(reservation, now)
        raise TooSoon("send_too_soon", "a code is being sent already", fb.resend_base)
    if channel == "email":
        text = sends.email_text(name, code)
    else:
        text = sends.message_text(name, code, fb.public_url)
    return _dispatch(ctx, fb, send, serving, to, text, name, reservation)


def _dispatch(
    ctx: Context, fb: Fallback, send: Send, serving: list[Sender], to: str, text: str,
    name: str, reservation: Reservation,
) -> Send:  # fmt: skip
    """Try the serving senders in order; a non-retryable failure stops (the request itself
    is refused), a retryable one moves on to the next sender."""
    reason = "no_sender"
    for sender in serving:
        subject = sends.email_subject(name) if send.channel == "email" else ""
        message = Outgoing(to, text, send.id, _receipt_url(fb, sender), subject)
        try:
            accepted = fb.transport.send(sender, message)
        except SendFailed as failed:
            log.warning("fallback send failed sender=%s reason=%s", sender.name, failed.reason)
            fb.observe(sender.name, send.country, "failed")
            reason = failed.reason
            if not failed.retryable:
                break
            continue
        now = ctx.clock.now()
        fb.store.set_result(send.id, sender.name, sends.SENT, accepted.provider_id, None, now)
        fb.observe(sender.name, send.country, "sent")
        log.info("fallback code sent challenge=%s sender=%s", send.challenge_id, sender.name)
        return replace(
            send, sender=sender.name, status=sends.SENT, provider_id=accepted.provider_id
        )
    now = ctx.clock.now()
    fb.store.set_result(send.id, send.sender, sends.FAILED, None, reason, now)
    fb.guard.release(reservation, now)
    raise ProviderFailed("send_failed", "the code could not be sent; try again later")


def _receipt_url(fb: Fallback, sender: Sender) -> str:
    base = f"{fb.public_url.rstrip('/')}/receipts/{sender.name}"
    token = getattr(getattr(sender, "common", None), "receipt_token", "")
    return f"{base}/{token}" if token else base


class OutboundCodes:
    """The Voucher (app/usecases/checks.py) for codes the fallback sent on one channel (one
    voucher per channel): it covers a challenge once a code was sent for it on that channel,
    and vouches for any such code (a message may arrive after its resend) until the challenge
    ends. /check then verifies (recording `method`) or counts a failed attempt."""

    def __init__(self, fb: Fallback, channel: Channel = "sms") -> None:
        self.fb = fb
        self.channel = channel
        self.method = Method.EMAIL.value if channel == "email" else Method.OUTBOUND_SMS.value

    def covers(self, ctx: Context, challenge: Challenge) -> bool:
        expected = challenge.email if self.channel == "email" else challenge.phone
        return expected is not None and bool(self._sent(challenge))

    def vouches(self, ctx: Context, challenge: Challenge, code: str) -> bool:
        digest = ctx.keys.digest(OUTBOUND_PURPOSE, f"{challenge.id}:{code.strip()}")
        # Compare with every send (no early exit), in constant time each.
        right = [same(s.code_hash, digest) for s in self._sent(challenge)]
        if any(right) and self.channel == "sms" and challenge.phone is not None:
            # The breaker's numerator: a code that reached its phone. Counted when vouched
            # for, a moment before the verification commits (a race lost to another ending
            # is rare and only makes the breaker a little more lenient).
            self.fb.guard.verified(challenge.phone, ctx.clock.now())
        return any(right)

    def _sent(self, challenge: Challenge) -> list[Send]:
        found = self.fb.store.for_challenge(challenge.id)
        return [s for s in found if s.status != sends.FAILED and s.channel == self.channel]


def record_receipts(ctx: Context, fb: Fallback | None, name: str, request: WebhookRequest) -> int:
    """Check and apply a sender's delivery receipts; return how many changed a send.

    Raises NotFound (no such sender) and Rejected (the request is not the provider's).
    """
    fb = enabled(fb)
    sender = fb.sender(name)
    if sender is None:
        raise NotFound("not_found", "no such sender")
    now = ctx.clock.now()
    sender.verify_receipt(request, now)
    return sum(_apply(ctx, fb, sender, receipt, now) for receipt in sender.parse_receipts(request))


def _apply(ctx: Context, fb: Fallback, sender: Sender, receipt: Receipt, now: datetime) -> int:
    send = fb.store.find(sender.name, receipt.provider_id)
    if send is None or not sends.advances(send.status, receipt.status):
        return 0
    if not fb.store.set_status(send.id, send.status, receipt.status, receipt.detail, now):
        return 0
    fb.observe(sender.name, send.country, receipt.status)
    return 1


__all__ = ["Fallback", "OutboundCodes", "Rejected", "record_receipts", "send_code"]
