"""Use case: a code presented to `POST /api/v1/challenges/<id>/check`, instead of an SMS.

Who may vouch for such a code is a list of `Voucher`s on the context: the operator's
`[[test_numbers]]`, and the fallback's codes sent to the user (one voucher per channel). For
a challenge, every voucher that covers it is asked and the first that vouches decides; when
none covers it (discovery mode, a phone no source knows), the check is refused and nothing
changes. A wrong code is a failed attempt like every other (the challenge fails at its
limit); a right one verifies the expected phone (or, for an emailed code, the expected
address) and records the voucher's `method` on the challenge.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from app.config.schema import Settings
from app.crypto import KeyRing, same
from app.domain.challenges import Challenge, Method, Status
from app.usecases import callbacks as outbox
from app.usecases.challenges import get_challenge
from app.usecases.context import Conflict, Context, Forbidden, Voucher, publish

log = logging.getLogger(__name__)

TEST_CODE_PURPOSE = "test-code"


class TestNumbers(Voucher):
    """The `[[test_numbers]]` entries: each phone's fixed code, kept only as a keyed hash."""

    method = Method.TEST.value

    def __init__(self, keys: KeyRing, entries: Iterable[tuple[str, str]]) -> None:
        self.keys = keys
        self.hashes = {phone: keys.digest(TEST_CODE_PURPOSE, fold(code)) for phone, code in entries}

    @classmethod
    def from_settings(cls, settings: Settings, keys: KeyRing) -> TestNumbers:
        entries = [(e.phone, e.code.get_secret_value()) for e in settings.test_numbers]
        return cls(keys, entries)

    def knows(self, phone: str | None) -> bool:
        """Whether a phone is a listed test number."""
        return phone is not None and phone in self.hashes

    def covers(self, ctx: Context, challenge: Challenge) -> bool:
        return not challenge.discovery and self.knows(challenge.phone)

    def vouches(self, ctx: Context, challenge: Challenge, code: str) -> bool:
        expected = self.hashes.get(challenge.phone or "", "")
        return same(self.keys.digest(TEST_CODE_PURPOSE, fold(code)), expected)


def fold(code: str) -> str:
    """Read a typed code forgivingly: case, spaces and dashes do not matter."""
    return "".join(code.split()).replace("-", "").upper()


def check_code(ctx: Context, challenge: Challenge, code: str) -> Challenge:
    """Apply a presented code to a challenge and return the challenge as it then stands.

    Refused (403 `check_refused`, nothing changes) when no voucher covers the challenge:
    discovery mode, or an expected phone no source knows. A final challenge is a 409. A right
    code verifies the expected phone; a wrong one counts a failed attempt.
    """
    covering = [v for v in ctx.vouchers if v.covers(ctx, challenge)]
    if not covering:
        ctx.observer.code_checked("none", "refused")
        raise Forbidden("check_refused", _refusal(challenge))
    challenge = get_challenge(ctx, challenge.id)  # expire it first if its time is up
    if challenge.status.final:
        raise Conflict("already_settled", f"challenge is already {challenge.status.value}")
    # Every covering voucher is asked (a code may have gone by SMS and another by email);
    # the first that vouches names the method, the first covering one a wrong code's.
    vouching = [v for v in covering if v.vouches(ctx, challenge, code)]
    right = bool(vouching)
    voucher = vouching[0] if vouching else covering[0]
    now = ctx.clock.now()
    after = _verify(ctx, challenge, voucher.method, now) if right else _fail(ctx, challenge, now)
    ctx.observer.code_checked(voucher.method, "verified" if right else "wrong_code")
    log.info(
        "code checked challenge=%s method=%s outcome=%s",
        challenge.id,
        voucher.method,
        "verified" if right else "wrong_code",
    )
    return after


def _refusal(challenge: Challenge) -> str:
    if challenge.discovery:
        return "a discovery challenge is verified only by the SMS its user sends"
    return "no code can be checked for this challenge's phone; it is verified by SMS"


def _verify(ctx: Context, challenge: Challenge, method: str, now: datetime) -> Challenge:
    with ctx.store.begin() as tx:
        verified = tx.verify_checked(challenge.id, method, now)
        if verified is not None:
            outbox.enqueue(ctx, tx, challenge.id, now)
    return _settled(ctx, challenge, verified, Status.VERIFIED)


def _fail(ctx: Context, challenge: Challenge, now: datetime) -> Challenge:
    with ctx.store.begin() as tx:
        after = tx.count_attempt(challenge.id, now)
        if after is not None and after.status.final:
            outbox.enqueue(ctx, tx, challenge.id, now)
    if after is not None and after.status.final:
        publish(ctx, challenge.id, after.status)
    return after or _current(ctx, challenge)


def _settled(
    ctx: Context, challenge: Challenge, changed: Challenge | None, status: Status
) -> Challenge:
    if changed is None:  # it ended meanwhile (an SMS, expiry, cancel)
        raise Conflict("already_settled", "challenge is no longer pending")
    publish(ctx, challenge.id, status)
    return changed


def _current(ctx: Context, challenge: Challenge) -> Challenge:
    current = ctx.store.challenge(challenge.id) or challenge
    if current.status.final:
        raise Conflict("already_settled", f"challenge is already {current.status.value}")
    return current
