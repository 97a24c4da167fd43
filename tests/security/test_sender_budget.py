"""What a message costs the sender's failure budget, outcome by outcome.

The rule (app/domain/budget.py): a message spends nothing when it offers no code, goes to a
number we do not serve or through the wrong provider, is a redelivery, or comes from a sender
already cooling off; it spends nothing either when it verified a pending challenge with the
only code it offered. Every other message that offers a code spends one failure.

Each case sends one message of its kind with a budget of one failure, then a guess from the
same sender: the guess is refused exactly when the first message spent the budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.clock import FakeClock
from app.domain.challenges import InboundMessage, Outcome
from app.usecases import challenges, context, inbound
from tests.conftest import NUMBER, TWILIO_NUMBER
from tests.sms import random_code

SENDER = "+14155550199"
OTHER = "+33612345678"
PREMIUM = "+449012345678"  # a UK premium-rate number


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": [
            {"number": NUMBER, "provider": "simulator"},
            {"number": TWILIO_NUMBER, "provider": "twilio"},
        ],
        "limits": {"sender_failures": "1/hour", "per_phone": "0/hour"},
    }


def guess() -> str:
    return random_code(13)


def sms(text: str, sender: str = SENDER, to: str = NUMBER, provider: str = "simulator") -> Any:
    e164 = sender if sender.startswith("+") else None
    return InboundMessage(provider, uuid.uuid4().hex, sender, to, text, e164)


def discovery(ctx: context.Context) -> challenges.Created:
    return challenges.create_challenge(ctx, None, None, {})


def on_simulator(ctx: context.Context, phone: str | None = None) -> challenges.Created:
    """A challenge on the simulator's number (numbers take turns)."""
    while True:
        made = challenges.create_challenge(ctx, phone, None, {})
        if made.challenge.number == NUMBER:
            return made


Build = Callable[[context.Context, FakeClock], InboundMessage]


def matched_alone(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("VERIFY " + on_simulator(ctx).code)


def matched_with_a_guess(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms(f"VERIFY {on_simulator(ctx).code} {guess()}")


def unknown_code(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("VERIFY " + guess())


def expired(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    made = on_simulator(ctx)
    clock.advance(ctx.policy.ttl + 1)
    return sms("VERIFY " + made.code)


def settled_by_another(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    made = on_simulator(ctx)
    inbound.record_inbound(ctx, sms(made.code, sender=OTHER))
    return sms(f"VERIFY {made.code}")


def settled_by_cancel(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    made = on_simulator(ctx)
    challenges.cancel_challenge(ctx, made.challenge.id)
    return sms(f"VERIFY {made.code}")


def ended_code_and_guess(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    made = on_simulator(ctx)
    challenges.cancel_challenge(ctx, made.challenge.id)
    return sms(f"VERIFY {guess()} {made.code}")


def wrong_sender(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("VERIFY " + on_simulator(ctx, OTHER).code)


def invalid_sender(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("VERIFY " + on_simulator(ctx).code, sender="ACME")


def premium_rate_discovery(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    while (made := discovery(ctx)).challenge.number != NUMBER:
        pass
    return sms("VERIFY " + made.code, sender=PREMIUM)


def no_code(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("hello there")


def unknown_number(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("VERIFY " + guess(), to="+15005550006")


def wrong_provider(ctx: context.Context, clock: FakeClock) -> InboundMessage:
    return sms("VERIFY " + guess(), provider="twilio")


CASES: list[tuple[Build, Outcome, bool]] = [
    (matched_alone, Outcome.MATCHED, False),
    (matched_with_a_guess, Outcome.MATCHED, True),
    (unknown_code, Outcome.UNKNOWN_CODE, True),
    (expired, Outcome.EXPIRED, True),
    (settled_by_another, Outcome.ALREADY_SETTLED, True),
    (settled_by_cancel, Outcome.ALREADY_SETTLED, True),
    (ended_code_and_guess, Outcome.ALREADY_SETTLED, True),
    (wrong_sender, Outcome.WRONG_SENDER, True),
    (invalid_sender, Outcome.INVALID_SENDER, True),
    (premium_rate_discovery, Outcome.SENDER_TYPE_REFUSED, True),
    (no_code, Outcome.NO_CODE, False),
    (unknown_number, Outcome.UNKNOWN_NUMBER, False),
    (wrong_provider, Outcome.WRONG_PROVIDER, False),
]


@pytest.mark.parametrize(
    ("build", "expected", "spends"), CASES, ids=[f"{c[0].__name__}" for c in CASES]
)
def test_each_outcome_spends_the_budget_as_documented(ctx, clock, build, expected, spends):
    message = build(ctx, clock)
    assert inbound.record_inbound(ctx, message).outcome is expected
    probe = inbound.record_inbound(ctx, sms("VERIFY " + guess(), sender=message.sender))
    assert probe.outcome is (Outcome.SENDER_BLOCKED if spends else Outcome.UNKNOWN_CODE)


def test_a_redelivered_message_spends_nothing_more(ctx):
    first = unknown_code(ctx, FakeClock())
    assert inbound.record_inbound(ctx, first).outcome is Outcome.UNKNOWN_CODE
    assert inbound.record_inbound(ctx, first).outcome is Outcome.DUPLICATE
    # One failure spent: the next guess is the one over budget.
    assert inbound.record_inbound(ctx, unknown_code(ctx, FakeClock())).outcome is (
        Outcome.SENDER_BLOCKED
    )


def test_a_blocked_sender_cannot_verify_even_its_own_code(ctx, clock):
    inbound.record_inbound(ctx, unknown_code(ctx, clock))
    inbound.record_inbound(ctx, unknown_code(ctx, clock))  # over budget: cool-off starts
    made = on_simulator(ctx)
    assert inbound.record_inbound(ctx, sms(made.code)).outcome is Outcome.SENDER_BLOCKED
    assert challenges.get_challenge(ctx, made.challenge.id).verified_phone is None
