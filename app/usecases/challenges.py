"""Use cases of a challenge's life: create, show, renew, cancel, expire, purge."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from app.crypto import seal, unseal
from app.domain import callbacks, codes, phone, returns, testnumbers
from app.domain import challenges as rules
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.challenges import Challenge, Status
from app.limits.rules import Check, LimitsUnavailable, Refusal
from app.store.base import StoreUnavailable
from app.usecases import callbacks as outbox
from app.usecases import numbers, texts
from app.usecases.context import (
    CODE_PURPOSE,
    TOKEN_PURPOSE,
    Conflict,
    Context,
    NotFound,
    Policy,
    RateLimited,
    ServiceError,
    TooSoon,
    Unavailable,
    publish,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Created:
    """A new challenge with the secrets only its creator sees: the code and the token."""

    challenge: Challenge
    code: str
    token: str


def check_return_url(ctx: Context, app: App, url: str | None) -> str | None:
    """Return a return URL the app may use, or raise ServiceError (400) naming the problem."""
    if url is None:
        return None
    allowed = frozenset(ctx.policy.return_origins) | frozenset(app.return_origins)
    try:
        return returns.check(url, allowed, ctx.policy.development)
    except returns.InvalidReturnUrl as exc:
        raise ServiceError("invalid_return_url", f"return_url: {exc}") from None


def create_challenge(
    ctx: Context,
    phone_input: str | None,
    ttl: int | None,
    metadata: dict[str, Any],
    *,
    caller: str | None = None,
    client_ip: str | None = None,
    app: App | None = None,
    callback_url: str | None = None,
    channels: list[str] | None = None,
    locale: str | None = None,
    return_url: str | None = None,
    email: str | None = None,
) -> Created:
    """Create a pending challenge, in expected-phone mode when a phone is given. `email`
    (validated at the edge) is an expected address the fallback may send a code to.

    Raises RateLimited when the caller, the client address, the phone or the global cap on
    pending challenges says no. `app` (default: the default app) supplies the default ttl,
    the numbers it may use and the callback secret a per-challenge `callback_url` needs.
    `channels` (default: every channel the app's numbers receive) are those the user may send
    the code over; a number receiving all of them is preferred, and the challenge is offered
    on those of them its number receives. An unknown or unreceived channel is refused (400).
    `locale` is a well-formed BCP 47 tag: an enabled language fixes the SMS and page
    language, another leaves them to the browser. `return_url` must pass check_return_url.
    """
    policy = ctx.policy
    app = app or ctx.default_app
    expected = _expected_phone(policy, phone_input)
    _check_callback(app, callback_url)
    return_url = check_return_url(ctx, app, return_url)
    try:
        lifetime = rules.clamp_ttl(ttl, app.ttl or policy.ttl, policy.min_ttl, policy.max_ttl)
    except ValueError as exc:
        raise ServiceError("invalid_ttl", str(exc)) from None
    now = ctx.clock.now()
    limits = ctx.limits
    checks = [] if limits is None else limits.create_checks(caller, client_ip, expected, app.id)
    # Counters kept in the store are charged by the insert's own statement; others (Redis)
    # are charged here, in one round trip, before anything is written.
    folded = limits is not None and limits.counters.kept_in(ctx.store)
    if limits is not None and not folded:
        _refuse(limits.charge(checks, now))
    try:
        number, offered = numbers.choose(ctx, app, expected, channels)
    except ServiceError:
        if limits is not None and folded:  # the limits answer first, and are charged, as above
            _refuse(limits.charge(checks, now))
        raise
    token = secrets.token_urlsafe(32)
    fmt = policy.format_for(expected is None)
    for attempt in range(20):
        code = _new_code(policy, fmt)
        challenge = Challenge(
            id="ch_" + secrets.token_urlsafe(16),
            number=number,
            code_hash=ctx.keys.digest(CODE_PURPOSE, f"{number}:{code}"),
            token_hash=ctx.keys.digest(TOKEN_PURPOSE, token),
            code_sealed=seal(token, code),
            created_at=now,
            expires_at=now + lifetime,
            phone=expected,
            max_attempts=policy.max_attempts,
            metadata=metadata,
            app_id=None if app.id == DEFAULT_APP_ID else app.id,
            callback_url=callback_url,
            channels=offered,
            locale=texts.language(ctx, locale),
            return_url=return_url,
            email=email,
        )
        # A retry after a code collision never charges the counters again.
        if _add(ctx, challenge, checks if folded and attempt == 0 else []):
            log.info("challenge created id=%s number=%s", challenge.id, phone.mask(number))
            ctx.observer.challenge_created()
            return Created(challenge, code, token)
    raise Unavailable("code_space_exhausted", "no free code on this number; try again later")


def _add(ctx: Context, challenge: Challenge, checks: list[Check]) -> bool:
    """Add the challenge under the pending cap, charging `checks` in the same statement;
    True once added, False when its code is already pending on the number."""
    limits = ctx.limits
    if limits is None:
        return ctx.store.create_challenge(challenge, challenge.created_at).added
    try:
        made = ctx.store.create_challenge(
            challenge, challenge.created_at, limits.rules.max_pending, [c.hit for c in checks]
        )
    except StoreUnavailable as exc:
        if checks:  # the counters could not be charged: the limits fail closed
            raise LimitsUnavailable(f"limit counters unavailable: {exc}") from exc
        raise
    _refuse(limits.refusal(checks, made.chain, challenge.created_at))
    if made.pending is not None:
        _refuse(limits.pending_full(made.pending))
    return made.added


def _check_callback(app: App, callback_url: str | None) -> None:
    if callback_url is None:
        return
    problem = callbacks.check_url(callback_url)
    if problem:
        raise ServiceError("invalid_callback_url", problem)
    if not app.callback_secret:
        raise ServiceError(
            "callback_secret_missing", "this app has no callback secret to sign callbacks with"
        )


def _expected_phone(policy: Policy, phone_input: str | None) -> str | None:
    if phone_input is None:
        return None
    listed = testnumbers.normalise(phone_input)
    if listed is not None and listed in policy.test_phones:
        e164 = listed
    else:
        try:
            e164 = phone.parse(phone_input, policy.default_region)
            phone.check_type(e164, policy.allowed_types)
        except phone.InvalidPhone as exc:
            raise ServiceError(exc.reason, str(exc)) from None
    refused = policy.countries.refusal(e164)
    if refused:
        raise ServiceError("country_refused", refused)
    return e164


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        log.info("limit refused limit=%s retry_after=%s", refusal.limit, refusal.retry_after)
        raise RateLimited(refusal)


def _new_code(policy: Policy, fmt: codes.CodeFormat | None = None) -> str:
    while True:
        code = codes.generate(fmt or policy.code_format, secrets.randbelow)
        if codes.usable(code, policy.ignore_words):
            return code


def get_challenge(ctx: Context, challenge_id: str) -> Challenge:
    """Return a challenge by id, expiring it first if its time is up."""
    challenge = ctx.store.challenge(challenge_id)
    if challenge is None:
        raise NotFound("not_found", "no such challenge")
    return _settle_expiry(ctx, challenge)


def challenge_for_token(ctx: Context, token: str) -> Challenge:
    """Return the challenge a status token grants, expiring it first if its time is up."""
    if not token or len(token) > 128:
        raise NotFound("not_found", "no such challenge")
    challenge = ctx.store.challenge_by_token(ctx.keys.digests(TOKEN_PURPOSE, token))
    if challenge is None or _token_expired(ctx, challenge):
        raise NotFound("not_found", "no such challenge")
    return _settle_expiry(ctx, challenge)


def _token_expired(ctx: Context, challenge: Challenge) -> bool:
    """A token reads its challenge until it expires, then its final status for a grace time."""
    ended = min(challenge.ended_at or challenge.expires_at, challenge.expires_at)
    return ctx.clock.now() >= ended + timedelta(seconds=ctx.policy.status_grace)


def code_for_token(challenge: Challenge, token: str) -> str | None:
    """Return a pending challenge's code to the holder of its token (None once final)."""
    if challenge.status is not Status.PENDING:
        return None
    return unseal(token, challenge.code_sealed)


def renew_wait(ctx: Context, challenge: Challenge) -> int:
    """Return the seconds left before a challenge's code may be renewed (0: now)."""
    since = challenge.renewed_at or challenge.created_at
    left = ctx.policy.renew_cooldown - (ctx.clock.now() - since).total_seconds()
    return max(0, math.ceil(left))


def renew_code(ctx: Context, token: str) -> tuple[Challenge, str]:
    """Give a pending challenge a new code after the cooldown; keep its attempts and expiry.

    The new code has the format of the challenge's mode (long for discovery). The old code
    stops working at once. Raises Conflict when the challenge is final and
    TooSoon (429) during the cooldown.
    """
    challenge = challenge_for_token(ctx, token)
    if challenge.status.final:
        raise Conflict("already_settled", f"challenge is already {challenge.status.value}")
    wait = renew_wait(ctx, challenge)
    if wait:
        raise TooSoon("renew_too_soon", f"a new code can be asked for in {wait} s", wait)
    now = ctx.clock.now()
    fmt = ctx.policy.format_for(challenge.discovery)  # a renewal never shortens the code
    for _ in range(20):
        code = _new_code(ctx.policy, fmt)
        renewed = replace(
            challenge,
            code_hash=ctx.keys.digest(CODE_PURPOSE, f"{challenge.number}:{code}"),
            code_sealed=seal(token, code),
            renewals=challenge.renewals + 1,
            renewed_at=now,
        )
        with ctx.store.begin() as tx:
            if tx.renew(renewed, now):
                log.info("challenge code renewed id=%s", challenge.id)
                return renewed, code
        current = ctx.store.challenge(challenge.id)
        if current is None or current.status.final:
            raise Conflict("already_settled", "challenge is no longer pending")
    raise Unavailable("code_space_exhausted", "no free code on this number; try again later")


def cancel_challenge(ctx: Context, challenge_id: str) -> Challenge:
    """Cancel a pending challenge; a final one is left as it is (409)."""
    challenge = get_challenge(ctx, challenge_id)
    now = ctx.clock.now()
    with ctx.store.begin() as tx:
        ended = tx.end(challenge.id, Status.CANCELLED, now)
        if ended:
            outbox.enqueue(ctx, tx, challenge.id, now)
    if not ended:
        raise Conflict("already_settled", f"challenge is already {challenge.status.value}")
    publish(ctx, challenge.id, Status.CANCELLED)
    return rules.end(challenge, Status.CANCELLED, now)


def expire_due(ctx: Context, limit: int = 500) -> int:
    """Expire pending challenges whose time is up; return how many."""
    now = ctx.clock.now()
    count = 0
    for challenge_id in ctx.store.due_expiries(now, limit):
        with ctx.store.begin() as tx:
            ended = tx.end(challenge_id, Status.EXPIRED, now)
            if ended:
                outbox.enqueue(ctx, tx, challenge_id, now)
        if ended:
            count += 1
            publish(ctx, challenge_id, Status.EXPIRED)
    return count


def purge_old(ctx: Context, max_age: timedelta, batch_size: int = 1000) -> int:
    """Delete challenges and inbound messages older than `max_age`, batch by batch; return how many.

    Each batch is its own short transaction, so a large backlog never holds a lock for long.
    """
    before = ctx.clock.now() - max_age
    total = 0
    while True:
        deleted = ctx.store.purge(before, batch_size)
        total += deleted
        if deleted == 0:
            return total


def _settle_expiry(ctx: Context, challenge: Challenge) -> Challenge:
    now = ctx.clock.now()
    if challenge.status is not Status.PENDING or not challenge.expired_at(now):
        return challenge
    with ctx.store.begin() as tx:
        ended = tx.end(challenge.id, Status.EXPIRED, now)
        if ended:
            outbox.enqueue(ctx, tx, challenge.id, now)
    if ended:
        publish(ctx, challenge.id, Status.EXPIRED)
        return rules.end(challenge, Status.EXPIRED, now)
    return ctx.store.challenge(challenge.id) or challenge
