"""record_inbound on the store: one short transaction, the message stored last with its outcome."""

from __future__ import annotations

from app.domain.challenges import InboundMessage, Outcome, Status
from app.usecases import challenges, inbound
from tests.sms import inbound_sms, stored_outcomes

USER = "+14155552671"
OTHER = "+14155552672"


def sms(code: str, sender: str = USER, message_id: str = "m1") -> InboundMessage:
    return inbound_sms(code, sender, message_id)


def test_matching_message_verifies_and_is_stored_with_its_outcome(ctx):
    created = challenges.create_challenge(ctx, None, None, {})

    verdict = inbound.record_inbound(ctx, sms(created.code))

    assert verdict.outcome is Outcome.MATCHED
    assert ctx.store.challenge(created.challenge.id).verified_phone == USER
    assert stored_outcomes(ctx) == [("matched", created.challenge.id)]


def test_redelivered_message_changes_nothing(ctx):
    created = challenges.create_challenge(ctx, OTHER, None, {})
    inbound.record_inbound(ctx, sms(created.code))

    again = inbound.record_inbound(ctx, sms(created.code))

    assert again.outcome is Outcome.DUPLICATE
    assert ctx.store.challenge(created.challenge.id).attempts == 1
    assert stored_outcomes(ctx) == [("wrong_sender", created.challenge.id)]


def test_message_from_the_expected_phone_verifies(ctx):
    created = challenges.create_challenge(ctx, USER, None, {})

    assert inbound.record_inbound(ctx, sms(created.code)).outcome is Outcome.MATCHED


def test_code_of_an_expired_challenge_expires_it(ctx, clock):
    created = challenges.create_challenge(ctx, None, 60, {})
    clock.advance(61)

    verdict = inbound.record_inbound(ctx, sms(created.code))

    assert verdict.outcome is Outcome.EXPIRED
    assert ctx.store.challenge(created.challenge.id).status is Status.EXPIRED


def test_second_sender_finds_the_challenge_settled(ctx):
    created = challenges.create_challenge(ctx, None, None, {})
    inbound.record_inbound(ctx, sms(created.code))

    verdict = inbound.record_inbound(ctx, sms(created.code, OTHER, "m2"))

    assert verdict.outcome is Outcome.ALREADY_SETTLED
    assert ctx.store.challenge(created.challenge.id).verified_phone == USER


def test_unknown_code_is_stored_without_a_challenge(ctx):
    assert inbound.record_inbound(ctx, sms("ZZZZZZ")).outcome is Outcome.UNKNOWN_CODE
    assert stored_outcomes(ctx) == [("unknown_code", None)]
