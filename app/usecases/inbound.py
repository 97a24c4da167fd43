"""Use case: receive what an adapter parsed, reassembling long SMS delivered in parts.

A part is stored (unique on provider and message id, so a retried part changes nothing) in
one transaction that locks its group and reads the group's parts back. When every part is
there, the whole message is recorded through `record_inbound` under an id derived
from the group, so it is matched exactly once however many deliveries see the group complete
(parts racing, out of order, or a retry after a failure between the two transactions). The
transaction that completes a group closes it, so a later long SMS that reuses the
concatenation reference starts a new group instead of being taken for a retry.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from app.domain import budget, codes, phone
from app.domain import challenges as rules
from app.domain.apps import DEFAULT_APP_ID
from app.domain.challenges import Challenge, InboundMessage, Outcome, Status, Verdict
from app.domain.parts import MessagePart, assemble, closed_key
from app.store.base import QuickMatch, Settled, Step, Tx
from app.usecases import callbacks as outbox
from app.usecases import context
from app.usecases.context import CODE_PURPOSE, Context, Policy, publish

log = logging.getLogger(__name__)


def receive(ctx: context.Context, item: InboundMessage | MessagePart) -> Verdict:
    """Record a whole message, or store a part and record the message once it is complete."""
    if isinstance(item, InboundMessage):
        return record_inbound(ctx, item)
    return record_part(ctx, item)


def record_part(ctx: context.Context, part: MessagePart) -> Verdict:
    """Store one part; record the assembled message when it completes the group."""
    with ctx.store.begin() as tx:
        key, stored = tx.add_part(part, ctx.clock.now())
        texts = {i: text for i, (_, text) in stored.items()}
        whole = assemble(part, texts, {i: m for i, (m, _) in stored.items()})
        if whole is not None and key != closed_key(whole):
            tx.close_group(part.message.provider, key, closed_key(whole))
    if whole is None:
        return Verdict(Outcome.PARTIAL)
    verdict = record_inbound(ctx, whole)
    _mask_parts(ctx, part.message.provider, closed_key(whole), texts, whole)
    return verdict


def _mask_parts(
    ctx: context.Context, provider: str, key: str, texts: dict[int, str], whole: InboundMessage
) -> None:
    """Keep the parts of a recorded long SMS with its codes masked, codes split across parts
    included (masking keeps lengths, so the masked whole text cuts back into the parts)."""
    masked, start, found = ctx.policy.mask(whole.text), 0, {}
    for index in sorted(texts):
        end = start + len(texts[index])
        if masked[start:end] != texts[index]:
            found[index] = masked[start:end]
        start = end
    if found:
        with ctx.store.begin() as tx:
            tx.set_part_texts(provider, key, found)


class _AlreadyStored(Exception):
    """Raised inside the transaction to roll back the work done for a redelivered message."""


def record_inbound(ctx: Context, message: InboundMessage) -> Verdict:
    """Store an inbound SMS and apply it to the challenge its code points at, exactly once.

    A message that verifies a challenge is settled in one step when the store can check every
    condition of the full decision at once (`Tx.settle_match`: one statement on PostgreSQL,
    three on SQLite). On PostgreSQL a message the step tested without settling it is stored
    and charged already: the transaction claims it and finishes the decision (as does a
    redelivery, should that transaction never commit). Otherwise the same transaction stores
    the message (unique on provider
    and message id), decides and changes the challenge, and records the outcome. A message
    that offers a code is stored first, before its sender's budget is charged, so a
    redelivery is recognised before it counts, even with counters that do not roll back
    (Redis). Other messages are stored last, with their outcome, in one statement. A
    redelivery changes nothing. Raises StoreUnavailable when nothing could be stored, so the
    provider retries.
    """
    now = ctx.clock.now()
    stored = stored_form(ctx.policy, message)
    routes = ctx.policy.routes.get(message.to)
    owner = None if routes is None else routes.get(message.channel, "")
    candidates = candidates_in(ctx.policy, message.text) if owner == message.provider else []
    hashes = [h for c in candidates for h in ctx.keys.digests(CODE_PURPOSE, f"{message.to}:{c}")]
    try:
        with ctx.store.begin() as tx:
            step = _settle_at_once(ctx, tx, message, stored, len(candidates), hashes, now)
            if isinstance(step, Settled):
                verdict = Verdict(Outcome.MATCHED, step.challenge_id, Status.VERIFIED)
                created_at: datetime | None = step.created_at
            else:
                if step is Step.DUPLICATE:
                    raise _AlreadyStored
                if step is Step.UNDECIDED:
                    verdict, challenge = _finish(ctx, tx, message, len(candidates), hashes, now)
                else:
                    verdict, challenge = _decide(
                        ctx, tx, message, owner, candidates, hashes, now, stored
                    )
                created_at = challenge.created_at if challenge else None
                if verdict.challenge_id and verdict.new_status:
                    changed = challenge if _after(challenge, verdict) else None
                    outbox.enqueue(ctx, tx, verdict.challenge_id, now, changed)
    except _AlreadyStored:
        ctx.observer.inbound_recorded(message.provider, Outcome.DUPLICATE.value)
        return Verdict(Outcome.DUPLICATE)
    _announce(ctx, message, verdict, created_at, now)
    return verdict


def _after(challenge: Challenge | None, verdict: Verdict) -> bool:
    """Whether `challenge` is already as the verdict's change left it (the statement that
    verified it returned it), so the outbox need not read it again."""
    return challenge is not None and challenge.status is verdict.new_status


def _announce(
    ctx: Context,
    message: InboundMessage,
    verdict: Verdict,
    created_at: datetime | None,
    now: datetime,
) -> None:
    """Count, log and publish a recorded message's outcome (after the commit); `created_at`
    is when the challenge its code pointed at was created."""
    ctx.observer.inbound_recorded(message.provider, verdict.outcome.value)
    if created_at is not None and verdict.new_status is Status.VERIFIED:
        ctx.observer.verified_after((now - created_at).total_seconds())
    if log.isEnabledFor(logging.INFO):
        log.info(
            "inbound provider=%s outcome=%s challenge=%s sender=%s",
            message.provider,
            verdict.outcome.value,
            verdict.challenge_id,
            phone.mask(message.sender_e164),
        )
    if verdict.challenge_id and verdict.new_status:
        publish(ctx, verdict.challenge_id, verdict.new_status)
    elif verdict.challenge_id and verdict.outcome is Outcome.WRONG_SENDER:
        # Still pending, one attempt more: the page tells its user to use the right phone.
        publish(ctx, verdict.challenge_id, Status.PENDING)


def _settle_at_once(
    ctx: Context,
    tx: Tx,
    message: InboundMessage,
    stored: InboundMessage,
    offered: int,
    hashes: list[str],
    now: datetime,
) -> Settled | Step:
    """Verify, store and charge a message in one step, first in the transaction, when it
    verifies a challenge (the store checks every other condition of the full decision);
    otherwise say what the step did (`Tx.settle_match`).

    Only for a sender the full decision would let verify at once: a phone number whose
    country is not refused and whose line type may discover, with its budget in the store.
    """
    sender, limits, policy = message.sender_e164, ctx.limits, ctx.policy.countries
    if not hashes or sender is None or policy.refusal(sender):
        return Step.DECLINED
    if policy.discovery_type_refused(sender) or (limits is not None and not limits.budget_in_store):
        return Step.DECLINED
    attempt = QuickMatch(
        message=stored,
        phone=sender,
        hashes=hashes,
        now=now,
        spends=budget.spends(Outcome.MATCHED, offered),
        budget=None if limits is None else limits.sender_budget(sender),
        default_app_id=DEFAULT_APP_ID,
        default_callback=ctx.default_app.callback_url is not None,
    )
    return tx.settle_match(attempt)


def stored_form(policy: Policy, message: InboundMessage) -> InboundMessage:
    """Return a message as it is stored: every code candidate masked in its text and in every
    string of its raw payload, so no code a user sent (from any phone) is kept in clear."""
    return replace(
        message, text=policy.mask(message.text), raw=codes.mask_values(message.raw, policy.mask)
    )


def _decide(
    ctx: Context,
    tx: Tx,
    message: InboundMessage,
    owner: str | None,
    candidates: list[str],
    hashes: list[str],
    now: datetime,
    stored: InboundMessage,
) -> tuple[Verdict, Challenge | None]:
    """Store the message (as `stored`), decide on it and return the verdict and the challenge
    its code pointed at (if any); raise _AlreadyStored for a redelivery."""
    if not candidates:
        verdict = Verdict(_without_code(owner, message.provider))
        _store(tx, stored, now, verdict)
        return verdict, None
    inbound_id = _store(tx, stored, now, None)  # before the budget: a redelivery stops here
    verdict, challenge = _match(ctx, tx, message, len(candidates), hashes, now)
    tx.set_outcome(inbound_id, verdict.outcome, verdict.challenge_id)
    return verdict, challenge


def _without_code(owner: str | None, provider: str) -> Outcome:
    """The outcome of a message that offers no code to look up (in the order checked); a
    channel the number does not receive counts as another provider's."""
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


def _finish(
    ctx: Context, tx: Tx, message: InboundMessage, offered: int, hashes: list[str], now: datetime
) -> tuple[Verdict, Challenge | None]:
    """Decide a message the one step stored and charged without settling it (or its
    redelivery, when that decision never committed): once, whoever claims it first."""
    inbound_id = tx.claim_undecided(message.provider, message.message_id)
    if inbound_id is None:
        raise _AlreadyStored
    verdict, challenge = _match(ctx, tx, message, offered, hashes, now, reserved=True)
    tx.set_outcome(inbound_id, verdict.outcome, verdict.challenge_id)
    return verdict, challenge


def _match(
    ctx: Context,
    tx: Tx,
    message: InboundMessage,
    offered: int,
    hashes: list[str],
    now: datetime,
    reserved: bool = False,
) -> tuple[Verdict, Challenge | None]:
    """Charge the sender's budget (unless `reserved`: the one step charged it), then apply
    the message's codes (`offered` codes, their `hashes`; budget.spends decides the
    refund)."""
    sender = message.sender_e164 or message.sender
    policy = ctx.policy.countries
    if message.sender_e164 is not None and policy.refusal(message.sender_e164):
        return Verdict(Outcome.COUNTRY_DENIED), None
    if (
        not reserved
        and ctx.limits is not None
        and ctx.limits.sender_attempt(sender, now, tx) is not None
    ):
        return Verdict(Outcome.SENDER_BLOCKED), None
    # A sender of a line type refused for discovery (premium rate...) takes the full decision.
    discovers = message.sender_e164 is None or not policy.discovery_type_refused(
        message.sender_e164
    )
    challenge = _verify_at_once(tx, message, hashes, now) if discovers else None
    if challenge is not None:
        verdict = Verdict(Outcome.MATCHED, challenge.id, Status.VERIFIED)
    else:
        challenge = tx.find_by_code(message.to, hashes)
        verdict = rules.match(challenge, message, now)
        if not discovers and verdict.matched and challenge is not None and challenge.discovery:
            verdict = Verdict(Outcome.SENDER_TYPE_REFUSED, challenge.id)
        verdict = _apply(tx, verdict, message, now)
    if ctx.limits is not None and not budget.spends(verdict.outcome, offered):
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
    return tx.verify_by_code(message.to, hashes, message.sender_e164, now, message.channel)


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
        if tx.verify(cid, message.sender_e164, now, message.channel):
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
