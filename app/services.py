"""Use cases: read, decide through the domain, write, commit, then publish.

Every collaborator (store, bus, clock, keys, policy) comes in through a `Context`; nothing
here knows Flask, SQL or Redis.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from app import outbox
from app.clock import Clock
from app.crypto import KeyRing, seal, unseal
from app.domain import budget, callbacks, codes, phone
from app.domain import challenges as rules
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.challenges import Challenge, InboundMessage, Outcome, Status, Verdict
from app.events.base import EventBus, StatusChanged
from app.limits.rules import Limits, Refusal
from app.ops.observer import NullObserver, Observer
from app.store.base import Store, Tx

log = logging.getLogger(__name__)

CODE_PURPOSE = "code"
TOKEN_PURPOSE = "token"  # noqa: S105 - a purpose label, not a secret
MAX_METADATA_BYTES = 2048


class ServiceError(Exception):
    """A request the service refuses; `code` is a stable word for the API."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Unavailable(ServiceError):
    status = 503


class RateLimited(ServiceError):
    """A limit refused the request; `retry_after` seconds until it may succeed."""

    status = 429

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.limit, refusal.message)
        self.retry_after = refusal.retry_after


class TooSoon(ServiceError):
    status = 429

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Policy:
    """What the settings say about challenges, read once at start-up."""

    code_format: codes.CodeFormat
    numbers: dict[str, str]
    ttl: int = 600
    min_ttl: int = 60
    max_ttl: int = 600
    max_attempts: int = 5
    default_region: str | None = None
    allowed_types: tuple[str, ...] = phone.DEFAULT_ALLOWED_TYPES
    operator_name: str = "reverse-otp"
    discovery_format: codes.CodeFormat | None = None
    status_grace: int = 300
    renew_cooldown: int = 30
    ignore_words: frozenset[str] = field(init=False)
    regions: dict[str, str | None] = field(init=False)

    def __post_init__(self) -> None:
        fmt = self.code_format
        # The operator's name is part of the text too: its words must never read as a code.
        fixed = codes.render(fmt, "{code}", name=self.operator_name)
        object.__setattr__(self, "ignore_words", codes.template_words(fixed, fmt.alphabet))
        object.__setattr__(self, "regions", {n: phone.region(n) for n in self.numbers})

    def format_for(self, discovery: bool) -> codes.CodeFormat:
        """Return the code format of a mode: long codes when any sender may verify."""
        return (self.discovery_format or self.code_format) if discovery else self.code_format

    def mask(self, text: str) -> str:
        """Return a text with every code candidate of every format masked (for storage)."""
        return codes.mask(text, self.formats, self.ignore_words)

    @property
    def formats(self) -> list[codes.CodeFormat]:
        """Every code format in use, for extraction."""
        found = [self.code_format, self.format_for(True)]
        return [f for i, f in enumerate(found) if f.length not in {g.length for g in found[:i]}]


@dataclass
class Context:
    """The collaborators of every use case."""

    store: Store
    bus: EventBus
    clock: Clock
    keys: KeyRing
    policy: Policy
    observer: Observer = field(default_factory=NullObserver)
    _turns: itertools.count[int] = field(default_factory=itertools.count)
    limits: Limits | None = None
    # The app of configured API keys and of challenges recorded without one.
    default_app: App = field(default_factory=lambda: App(DEFAULT_APP_ID, "reverse-otp"))

    def next_turn(self) -> int:
        return next(self._turns)


@dataclass(frozen=True)
class Created:
    """A new challenge with the secrets only its creator sees: the code and the token."""

    challenge: Challenge
    code: str
    token: str


def sms_text(ctx: Context, code: str, name: str | None = None) -> str:
    """Return the text the user sends for a code; {name} is the app's name when given."""
    return codes.render(ctx.policy.code_format, code, name=name or ctx.policy.operator_name)


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
) -> Created:
    """Create a pending challenge, in expected-phone mode when a phone is given.

    Raises RateLimited when the caller, the client address, the phone or the global cap on
    pending challenges says no. `app` (default: the default app) supplies the default ttl,
    the numbers it may use and the callback secret a per-challenge `callback_url` needs.
    """
    policy = ctx.policy
    app = app or ctx.default_app
    expected = _expected_phone(policy, phone_input)
    _check_callback(app, callback_url)
    try:
        lifetime = rules.clamp_ttl(ttl, app.ttl or policy.ttl, policy.min_ttl, policy.max_ttl)
    except ValueError as exc:
        raise ServiceError("invalid_ttl", str(exc)) from None
    if ctx.limits is not None:
        _refuse(ctx.limits.check_create(caller, client_ip, expected, ctx.clock.now(), app.id))
    numbers = [n for n in policy.numbers if not app.numbers or n in app.numbers]
    if not numbers:
        raise Unavailable("no_number", "none of this app's numbers is configured")
    region = phone.region(expected) if expected else None
    number = rules.choose_number(numbers, region, policy.regions, ctx.next_turn())
    now = ctx.clock.now()
    token = secrets.token_urlsafe(32)
    fmt = policy.format_for(expected is None)
    for _ in range(20):
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
        )
        with ctx.store.begin() as tx:
            if ctx.limits is not None:
                _refuse(ctx.limits.pending_full(tx.count_pending(now)))
            if tx.add_challenge(challenge):
                log.info("challenge created id=%s number=%s", challenge.id, phone.mask(number))
                ctx.observer.challenge_created()
                return Created(challenge, code, token)
    raise Unavailable("code_space_exhausted", "no free code on this number; try again later")


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
    try:
        e164 = phone.parse(phone_input, policy.default_region)
        phone.check_type(e164, policy.allowed_types)
    except phone.InvalidPhone as exc:
        raise ServiceError(exc.reason, str(exc)) from None
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
    _publish(ctx, challenge.id, Status.CANCELLED)
    return rules.end(challenge, Status.CANCELLED, now)


class _AlreadyStored(Exception):
    """Raised inside the transaction to roll back the work done for a redelivered message."""


def record_inbound(ctx: Context, message: InboundMessage) -> Verdict:
    """Store an inbound SMS and apply it to the challenge its code points at, exactly once.

    One transaction stores the message (unique on provider and message id), decides and
    changes the challenge, and records the outcome. A message that offers a code is stored
    first, before its sender's budget is charged, so a redelivery is recognised before it
    counts, even with counters that do not roll back (Redis). Other messages are stored last,
    with their outcome, in one statement. A redelivery changes nothing. Raises
    StoreUnavailable when nothing could be stored, so the provider retries.
    """
    now = ctx.clock.now()
    try:
        with ctx.store.begin() as tx:
            verdict, challenge = _decide(ctx, tx, message, now, stored_form(ctx.policy, message))
            if verdict.challenge_id and verdict.new_status:
                outbox.enqueue(ctx, tx, verdict.challenge_id, now)
    except _AlreadyStored:
        ctx.observer.inbound_recorded(message.provider, Outcome.DUPLICATE.value)
        return Verdict(Outcome.DUPLICATE)
    ctx.observer.inbound_recorded(message.provider, verdict.outcome.value)
    if challenge is not None and verdict.new_status is Status.VERIFIED:
        ctx.observer.verified_after((now - challenge.created_at).total_seconds())
    if log.isEnabledFor(logging.INFO):
        log.info(
            "inbound provider=%s outcome=%s challenge=%s sender=%s",
            message.provider,
            verdict.outcome.value,
            verdict.challenge_id,
            phone.mask(message.sender_e164),
        )
    if verdict.challenge_id and verdict.new_status:
        _publish(ctx, verdict.challenge_id, verdict.new_status)
    return verdict


def stored_form(policy: Policy, message: InboundMessage) -> InboundMessage:
    """Return a message as it is stored: every code candidate masked in its text and in every
    string of its raw payload, so no code a user sent (from any phone) is kept in clear."""
    return replace(
        message, text=policy.mask(message.text), raw=codes.mask_values(message.raw, policy.mask)
    )


def _decide(
    ctx: Context, tx: Tx, message: InboundMessage, now: datetime, stored: InboundMessage
) -> tuple[Verdict, Challenge | None]:
    """Store the message (as `stored`), decide on it and return the verdict and the challenge
    its code pointed at (if any); raise _AlreadyStored for a redelivery."""
    policy = ctx.policy
    owner = policy.numbers.get(message.to)
    candidates = candidates_in(policy, message.text) if owner == message.provider else []
    if not candidates:
        verdict = Verdict(_without_code(owner, message.provider))
        _store(tx, stored, now, verdict)
        return verdict, None
    inbound_id = _store(tx, stored, now, None)  # before the budget: a redelivery stops here
    verdict, challenge = _match(ctx, tx, message, candidates, now)
    tx.set_outcome(inbound_id, verdict.outcome, verdict.challenge_id)
    return verdict, challenge


def _without_code(owner: str | None, provider: str) -> Outcome:
    """The outcome of a message that offers no code to look up (in the order checked)."""
    if owner is None:
        return Outcome.UNKNOWN_NUMBER
    if owner != provider:
        return Outcome.WRONG_PROVIDER
    return Outcome.NO_CODE


def _store(tx: Tx, message: InboundMessage, now: datetime, verdict: Verdict | None) -> int:
    """Insert the message (with its outcome when known); raise _AlreadyStored if it is."""
    outcome, cid = (verdict.outcome, verdict.challenge_id) if verdict else (None, None)
    inbound_id = tx.add_inbound(message, now, outcome, cid)
    if inbound_id is None:
        raise _AlreadyStored
    return inbound_id


def _match(
    ctx: Context, tx: Tx, message: InboundMessage, candidates: list[str], now: datetime
) -> tuple[Verdict, Challenge | None]:
    """Charge the sender's budget, then apply the message's codes (budget.spends decides the
    refund)."""
    sender = message.sender_e164 or message.sender
    if ctx.limits is not None and ctx.limits.sender_attempt(sender, now, tx) is not None:
        return Verdict(Outcome.SENDER_BLOCKED), None
    hashes = [h for c in candidates for h in ctx.keys.digests(CODE_PURPOSE, f"{message.to}:{c}")]
    challenge = _verify_at_once(tx, message, hashes, now)
    if challenge is not None:
        verdict = Verdict(Outcome.MATCHED, challenge.id, Status.VERIFIED)
    else:
        challenge = tx.find_by_code(message.to, hashes)
        verdict = _apply(tx, rules.match(challenge, message, now), message, now)
    if ctx.limits is not None and not budget.spends(verdict.outcome, len(candidates)):
        ctx.limits.sender_success(sender, now, tx)
    return verdict, challenge


def _verify_at_once(
    tx: Tx, message: InboundMessage, hashes: list[str], now: datetime
) -> Challenge | None:
    """Verify in one statement when `match` would say MATCHED (return the challenge as it
    was); None for every other case. Of several codes in one message, the first that names a
    challenge this sender may verify wins; one message verifies at most one challenge.

    The conditional update holds exactly MATCHED's conditions (pending, unexpired, this
    number, the expected phone if any), so the common case costs one statement and anything
    else falls through to the full decision.
    """
    if message.sender_e164 is None:
        return None
    return tx.verify_by_code(message.to, hashes, message.sender_e164, now)


def candidates_in(policy: Policy, text: str) -> list[str]:
    """Return the codes a text offers, of every length in use (each format's own cap)."""
    words = codes.words(text, policy.code_format.alphabet, policy.ignore_words)
    found: list[str] = []
    for fmt in policy.formats:
        found += codes.candidates(words, fmt)
    return found


def _apply(tx: Tx, verdict: Verdict, message: InboundMessage, now: datetime) -> Verdict:
    cid = verdict.challenge_id
    if cid is None:
        return verdict
    if verdict.outcome is Outcome.MATCHED:
        assert message.sender_e164 is not None
        if tx.verify(cid, message.sender_e164, now):
            return verdict
        return Verdict(Outcome.ALREADY_SETTLED, cid)
    if verdict.outcome is Outcome.EXPIRED:
        ended = tx.end(cid, Status.EXPIRED, now)
        return Verdict(Outcome.EXPIRED, cid, Status.EXPIRED if ended else None)
    if verdict.outcome is Outcome.WRONG_SENDER:
        after = tx.count_attempt(cid, now)
        if after is None:
            return Verdict(Outcome.ALREADY_SETTLED, cid)
        return Verdict(Outcome.WRONG_SENDER, cid, after.status if after.status.final else None)
    return verdict


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
            _publish(ctx, challenge_id, Status.EXPIRED)
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
        _publish(ctx, challenge.id, Status.EXPIRED)
        return rules.end(challenge, Status.EXPIRED, now)
    return ctx.store.challenge(challenge.id) or challenge


def _publish(ctx: Context, challenge_id: str, status: Status) -> None:
    if status.final:
        ctx.observer.challenge_ended(status.value)
    try:
        ctx.bus.publish(StatusChanged(challenge_id, status.value))
    except Exception:
        # The change is committed; listeners fall back to reading the store.
        log.exception("event publish failed challenge=%s", challenge_id)


def api_key_hash(key: str) -> str:
    """Return the stored form of an API key (keys are long random strings: SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(ctx: Context, name: str) -> str:
    """Create an API key, store only its hash, and return it (it is shown once)."""
    key = "rotp_" + secrets.token_urlsafe(32)
    ctx.store.add_api_key(api_key_hash(key), name, ctx.clock.now())
    return key


def authenticate(ctx: Context, key: str, configured: list[str]) -> str | None:
    """Return the identity of a presented API key ("config:<n>" or "key:<hash prefix>"), or None.

    Configured keys are compared as SHA-256 digests in constant time; stored keys are looked
    up by digest, so no key is ever compared or kept in plaintext.
    """
    if not key or len(key) > 200:
        return None
    digest = api_key_hash(key)
    found: str | None = None
    for index, candidate in enumerate(configured):
        if secrets.compare_digest(api_key_hash(candidate), digest):
            found = f"config:{index}"
    if found is None and ctx.store.api_key_valid([digest]):
        found = f"key:{digest[:16]}"
    return found
