"""Proofs of verified challenges: the domain's claims, signed by the configured signer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.domain import proofs as rules
from app.domain.challenges import Challenge

if TYPE_CHECKING:
    from app.usecases.context import Context


def proof_for(ctx: Context, challenge: Challenge, now: datetime | None = None) -> str | None:
    """Return a signed proof of a verified challenge, or None (off, not verified, past exp).

    Every call signs anew, but the claims depend only on the stored challenge: `iat` is the
    verification time and `exp` is `iat + ttl`, so reading a challenge again never extends
    what its proof allows.
    """
    if ctx.proofs is None:
        return None
    at = now or ctx.clock.now()
    claims = rules.claims(challenge, ctx.proofs.issuer, ctx.proofs.ttl, at)
    return None if claims is None else ctx.proofs.sign(claims)
