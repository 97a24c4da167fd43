"""A verifying message settled in one step, or left whole to the full decision: never half done.

On SQLite the step is the first three statements of the message's transaction; PostgreSQL takes
the full decision. Either the step verifies, stores and charges together, or it writes nothing,
so a failure after it declined can leave no message stored but undecided, nor a charge
without its message; the behaviour is the same on both engines.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from app import create_app
from app.clock import FakeClock
from app.config import load
from app.domain.challenges import InboundMessage, Outcome, Status
from app.runtime import EXTENSION
from app.store import migrate
from app.store.base import StoreUnavailable
from app.store.tables import callback_outbox, inbound_messages, limit_counters
from app.usecases import challenges, inbound
from app.usecases.context import Context
from tests.backends import REDIS_URL, require_redis
from tests.conftest import NUMBER, base_settings
from tests.engines import empty, postgres_url

USER = "+33612345678"
OTHER = "+33612345679"
SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]


def context_on(engine: str, tmp_path: Path, limits: dict[str, Any] | None = None) -> Context:
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'one-step.db'}"
    else:
        url = postgres_url()
        made = create_engine(url)
        migrate.upgrade(made)
        empty(made)
        made.dispose()
    return context_at(url, tmp_path, limits)


def context_at(url: str, tmp_path: Path, limits: dict[str, Any] | None = None) -> Context:
    raw = base_settings(tmp_path, numbers=SIM_ONLY, limits=limits or {})
    raw["database"] = {"url": url}
    app = create_app(load(overrides=raw, environ={}), clock=FakeClock())
    ctx: Context = app.extensions[EXTENSION].ctx
    ctx.store.create_schema()
    return ctx


@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    made = context_on(request.param, tmp_path)
    yield made
    made.store.dispose()


def sms(code: str, sender: str = USER, message_id: str = "m1") -> InboundMessage:
    return InboundMessage(
        provider="simulator",
        message_id=message_id,
        sender=sender,
        to=NUMBER,
        text=f"VERIFY {code}",
        sender_e164=sender,
        raw={"id": message_id},
    )


def stored(ctx: Context) -> list[tuple[str, str | None]]:
    query = select(inbound_messages.c.outcome, inbound_messages.c.challenge_id)
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        return [(row.outcome, row.challenge_id) for row in conn.execute(query)]


def sender_counts(ctx: Context) -> list[int]:
    query = select(limit_counters.c.count).where(limit_counters.c.key.like("sender:%"))
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(query).scalars())


def outbox_rows(ctx: Context) -> int:
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(callback_outbox)).scalar_one())


@contextmanager
def crash_before_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the full decision fail once it has written everything, before its commit (a
    crash or a lost connection)."""
    decide = inbound._decide

    def decide_then_fail(*args: Any) -> Any:
        decide(*args)
        raise StoreUnavailable("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(inbound, "_decide", decide_then_fail)
        yield


def test_a_verifying_message_is_settled_with_the_budget_the_full_decision_leaves(ctx):
    created = challenges.create_challenge(ctx, None, None, {})
    now = ctx.clock.now()

    verdict = inbound.record_inbound(ctx, sms(created.code))

    assert verdict == inbound.Verdict(Outcome.MATCHED, created.challenge.id, Status.VERIFIED)
    assert stored(ctx) == [("matched", created.challenge.id)]
    # Reserved, then given back: the window is open, nothing spent.
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(limit_counters.c.count, limit_counters.c.reset_at)).all()
    assert [tuple(r) for r in rows] == [(0, now + timedelta(hours=1))]
    assert inbound.record_inbound(ctx, sms(created.code)).outcome is Outcome.DUPLICATE
    assert sender_counts(ctx) == [0]


def test_a_failure_after_the_one_step_declined_leaves_nothing_half_done(ctx, monkeypatch):
    created = challenges.create_challenge(ctx, USER, None, {})
    wrong = sms(created.code, sender=OTHER)  # the one step declines: a wrong sender

    with crash_before_commit(monkeypatch), pytest.raises(StoreUnavailable):
        inbound.record_inbound(ctx, wrong)

    # Nothing stored, nothing charged, no attempt counted: the provider retries...
    assert (stored(ctx), sender_counts(ctx)) == ([], [])
    assert ctx.store.challenge(created.challenge.id).attempts == 0
    # ...and the retry is decided once, charged once.
    assert inbound.record_inbound(ctx, wrong).outcome is Outcome.WRONG_SENDER
    assert inbound.record_inbound(ctx, wrong).outcome is Outcome.DUPLICATE
    assert stored(ctx) == [("wrong_sender", created.challenge.id)]
    assert sender_counts(ctx) == [1]
    assert ctx.store.challenge(created.challenge.id).attempts == 1


def test_a_verification_that_calls_back_records_its_outbox_row(ctx):
    ctx.default_app = replace(ctx.default_app, callback_url="https://app.test/callbacks")
    created = challenges.create_challenge(ctx, None, None, {})

    verdict = inbound.record_inbound(ctx, sms(created.code))

    assert verdict.outcome is Outcome.MATCHED
    assert stored(ctx) == [("matched", created.challenge.id)]
    assert ctx.store.challenge(created.challenge.id).status is Status.VERIFIED
    assert outbox_rows(ctx) == 1
    assert sender_counts(ctx) == [0]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_budget_counted_in_redis_still_counts_every_verification(engine, tmp_path):
    require_redis()
    prefix = f"test:{secrets.token_hex(6)}:"
    limits = {"storage": "redis", "redis_url": REDIS_URL, "key_prefix": prefix}
    limits |= {"sender_failures": "1/hour"}
    ctx = context_on(engine, tmp_path, limits)
    try:
        first, second = (challenges.create_challenge(ctx, None, None, {}) for _ in range(2))
        two_codes = sms(f"{first.code} {second.code}")
        # Two codes: the verification spends the one failure the budget allows...
        assert inbound.record_inbound(ctx, two_codes).outcome is Outcome.MATCHED
        assert sender_counts(ctx) == []  # counted in Redis, not in the database
        # ...so the sender's next message starts a cool-off and verifies nothing.
        blocked = inbound.record_inbound(ctx, sms(second.code, message_id="m2"))
        assert blocked.outcome is Outcome.SENDER_BLOCKED
        assert ctx.store.challenge(second.challenge.id).status is Status.PENDING
    finally:
        ctx.store.dispose()
