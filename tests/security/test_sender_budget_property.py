"""Property: a sender gets at most the configured number of failing messages per window,
whatever the messages contain: codes of pending, ended, expired and unknown challenges,
malformed codes, several codes at once, time passing in between.

Runs the real service on the real store (SQLite, or PostgreSQL when
REVERSE_OTP_TEST_DATABASE_URL names one). The model below is the documented budget: a window
starts at a sender's first charged message and lasts the rate's period; a message that offers
a code is charged one failure unless it verified a pending challenge with the only code it
offered; the first message over the budget starts a cool-off of `sender_cooloff` seconds, or
until the window ends if that is later, in which every message that offers a code is refused.
"""

from __future__ import annotations

import itertools
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clock import FakeClock
from app.domain.challenges import InboundMessage, Outcome
from app.usecases import challenges, context, inbound
from tests import sms
from tests.conftest import NUMBER

BUDGET, WINDOW, COOLOFF = 3, 600, 900
OTHER = "+33612345678"
KINDS = ["pending", "pending_other", "ended", "earlier", "unknown", "malformed"]
MALFORMED = st.sampled_from(
    ["ABCDEU", "12345", "1234567", "ABCDEFGHJKMNPQ", "ÀÉÎ", "🙂", "--", "VERIFY", "U" * 13]
)
senders = itertools.count()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": [{"number": NUMBER, "provider": "simulator"}],
        "limits": {
            "sender_failures": f"{BUDGET}/{WINDOW}",
            "sender_cooloff": COOLOFF,
            "per_phone": "0/hour",
            "max_pending": 100_000,
        },
        "codes": {"max_attempts": 100},
    }


@dataclass
class Model:
    """The documented budget of one sender."""

    window_end: datetime | None = None
    window: int = 0
    count: int = 0
    block_end: datetime | None = None
    spent: dict[int, int] = field(default_factory=dict)

    def charge(self, now: datetime) -> bool:
        """Charge a message that offers a code; return True when it must be refused."""
        if self.block_end is not None and now < self.block_end:
            return True
        if self.window_end is None or now >= self.window_end:
            self.window_end, self.count = now + timedelta(seconds=WINDOW), 0
            self.window += 1
        self.count += 1
        if self.count <= BUDGET:
            return False
        left = math.ceil((self.window_end - now).total_seconds())
        self.block_end = now + timedelta(seconds=max(COOLOFF, left, 1))
        return True


def random_code(length: int) -> str:
    return sms.random_code(length)


def word(ctx: context.Context, kind: str, pool: list[str], data: st.DataObject) -> str:
    """A word of the given kind; challenges are created as needed and remembered in pool."""
    if kind == "unknown":
        return random_code(data.draw(st.sampled_from([6, 13])))
    if kind == "malformed":
        return data.draw(MALFORMED)
    if kind == "earlier" and pool:
        return data.draw(st.sampled_from(pool))
    phone = OTHER if kind == "pending_other" else None
    made = challenges.create_challenge(ctx, phone, None, {})
    pool.append(made.code)
    if kind == "ended":
        challenges.cancel_challenge(ctx, made.challenge.id)
    return made.code


def test_a_sender_gets_at_most_the_budget_of_failing_messages_per_window(ctx, clock):
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        check_one_sender(ctx, clock, data)

    run()


def check_one_sender(ctx: context.Context, clock: FakeClock, data: st.DataObject) -> None:
    sender = f"+1415555{next(senders) % 10_000:04d}"
    model, pool = Model(), []
    steps = data.draw(st.integers(1, 14), label="messages")
    for _ in range(steps):
        clock.advance(data.draw(st.sampled_from([0, 0, 0, 30, 300, 700]), label="advance"))
        kinds = data.draw(st.lists(st.sampled_from(KINDS), min_size=0, max_size=3), label="kinds")
        text = "VERIFY " + " ".join(word(ctx, k, pool, data) for k in kinds)
        message = InboundMessage("simulator", uuid.uuid4().hex, sender, NUMBER, text, sender)
        offered = inbound.candidates_in(ctx.policy, text)
        now = clock.now()
        result = inbound.record_inbound(ctx, message).outcome
        if not offered:
            assert result is Outcome.NO_CODE
            continue
        refused = model.charge(now)
        assert (result is Outcome.SENDER_BLOCKED) is refused, (kinds, result, model)
        if refused:
            continue
        if result is Outcome.MATCHED and len(offered) == 1:
            model.count -= 1  # a clean verification is free
        else:
            model.spent[model.window] = model.spent.get(model.window, 0) + 1
    assert all(spent <= BUDGET for spent in model.spent.values()), model.spent
