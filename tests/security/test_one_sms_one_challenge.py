"""One SMS verifies at most one challenge: the first of its codes (in the order extraction
reads them) that names a challenge the sender may verify; the others stay as they were."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.domain.challenges import InboundMessage, Status
from app.store.tables import inbound_messages
from app.usecases import challenges, context, inbound
from tests.conftest import NUMBER
from tests.security.helpers import outcome, send_sms

PHONE = "+33612345678"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": [{"number": NUMBER, "provider": "simulator"}]}


def status(ctx: context.Context, created: challenges.Created) -> Status:
    return challenges.get_challenge(ctx, created.challenge.id).status


def stored_outcomes(ctx: context.Context) -> list[tuple[str, str | None]]:
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(inbound_messages.c.outcome, inbound_messages.c.challenge_id))
        return [(r.outcome, r.challenge_id) for r in rows]


@pytest.mark.parametrize("first", [0, 1])
def test_one_sms_with_two_pending_discovery_codes_verifies_only_the_first(client, ctx, first):
    made = [challenges.create_challenge(ctx, None, None, {}) for _ in range(2)]
    winner, other = made[first], made[1 - first]
    result = outcome(send_sms(client, PHONE, f"VERIFY {winner.code} {other.code}"))
    assert result == "matched"
    assert status(ctx, winner) is Status.VERIFIED
    assert status(ctx, other) is Status.PENDING
    untouched = challenges.get_challenge(ctx, other.challenge.id)
    assert (untouched.attempts, untouched.verified_phone) == (0, None)
    assert stored_outcomes(ctx) == [("matched", winner.challenge.id)]


def test_one_sms_with_two_expected_phone_codes_verifies_one(ctx):
    made = [challenges.create_challenge(ctx, PHONE, None, {}) for _ in range(2)]
    text = f"{made[1].code} {made[0].code}"
    verdict = inbound.record_inbound(
        ctx, InboundMessage("simulator", "m1", PHONE, NUMBER, text, PHONE)
    )
    assert verdict.matched and verdict.challenge_id == made[1].challenge.id
    assert [status(ctx, c) for c in made] == [Status.PENDING, Status.VERIFIED]


def test_the_other_code_of_a_verifying_sms_still_verifies_later(ctx):
    made = [challenges.create_challenge(ctx, None, None, {}) for _ in range(2)]
    both = f"{made[0].code} {made[1].code}"
    inbound.record_inbound(ctx, InboundMessage("simulator", "m1", PHONE, NUMBER, both, PHONE))
    alone = InboundMessage("simulator", "m2", PHONE, NUMBER, made[1].code, PHONE)
    assert inbound.record_inbound(ctx, alone).challenge_id == made[1].challenge.id
    assert [status(ctx, c) for c in made] == [Status.VERIFIED, Status.VERIFIED]
