"""A verifying message settled in one step, or left whole to the full decision: never half done.

On PostgreSQL the step is one autocommit statement (reverse_otp_settle_match); on SQLite one
short transaction. Either it commits the verification, the stored message and the charge
together, or it writes nothing, so a failure after it declined can leave no message stored
but undecided, nor a charge without its message.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
from app.store.tables import callback_outbox, limit_counters, metadata
from app.usecases import challenges, inbound
from app.usecases.context import Context
from tests.backends import REDIS_URL, require_redis
from tests.conftest import NUMBER, base_settings
from tests.engines import empty, postgres_url, scratch_postgres
from tests.sms import inbound_sms, stored_outcomes

USER = "+33612345678"
OTHER = "+33612345679"


def sms(code: str, sender: str = USER, message_id: str = "m1") -> InboundMessage:
    return inbound_sms(code, sender, message_id)


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


def sender_counts(ctx: Context) -> list[int]:
    query = select(limit_counters.c.count).where(limit_counters.c.key.like("sender:%"))
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(query).scalars())


def outbox_rows(ctx: Context) -> int:
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(callback_outbox)).scalar_one())


@contextmanager
def crash_before_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the decision after the one step (the full one, or the finishing of a message the
    step stored undecided) fail once it has written everything, before its commit (a crash
    or a lost connection)."""

    def failing(decide: Any) -> Any:
        def decide_then_fail(*args: Any) -> Any:
            decide(*args)
            raise StoreUnavailable("connection lost")

        return decide_then_fail

    with monkeypatch.context() as patch:
        patch.setattr(inbound, "_decide", failing(inbound._decide))
        patch.setattr(inbound, "_finish", failing(inbound._finish))
        yield


def test_a_verifying_message_is_settled_with_the_budget_the_full_decision_leaves(ctx):
    created = challenges.create_challenge(ctx, None, None, {})
    now = ctx.clock.now()

    verdict = inbound.record_inbound(ctx, sms(created.code))

    assert verdict == inbound.Verdict(Outcome.MATCHED, created.challenge.id, Status.VERIFIED)
    assert stored_outcomes(ctx) == [("matched", created.challenge.id)]
    # Reserved, then given back: the window is open, nothing spent.
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(limit_counters.c.count, limit_counters.c.reset_at)).all()
    assert [tuple(r) for r in rows] == [(0, now + timedelta(hours=1))]
    assert inbound.record_inbound(ctx, sms(created.code)).outcome is Outcome.DUPLICATE
    assert sender_counts(ctx) == [0]


def test_a_failure_after_the_one_step_leaves_nothing_half_decided(ctx, monkeypatch):
    created = challenges.create_challenge(ctx, USER, None, {})
    wrong = sms(created.code, sender=OTHER)  # the one step does not settle it: a wrong sender
    postgres = ctx.store.writer.dialect.name == "postgresql"  # type: ignore[attr-defined]

    with crash_before_commit(monkeypatch), pytest.raises(StoreUnavailable):
        inbound.record_inbound(ctx, wrong)

    # No attempt counted on the challenge, and the provider retries. On PostgreSQL the one
    # step committed the message as received with its sender's charge (its code was tested);
    # on SQLite, where the step is part of the transaction, nothing is left.
    assert ctx.store.challenge(created.challenge.id).attempts == 0
    if postgres:
        assert (stored_outcomes(ctx), sender_counts(ctx)) == ([("received", None)], [1])
    else:
        assert (stored_outcomes(ctx), sender_counts(ctx)) == ([], [])
    # The retry is decided once, and charged once in all.
    assert inbound.record_inbound(ctx, wrong).outcome is Outcome.WRONG_SENDER
    assert inbound.record_inbound(ctx, wrong).outcome is Outcome.DUPLICATE
    assert stored_outcomes(ctx) == [("wrong_sender", created.challenge.id)]
    assert sender_counts(ctx) == [1]
    assert ctx.store.challenge(created.challenge.id).attempts == 1


def test_concurrent_redeliveries_of_an_undecided_message_finish_it_once(ctx, monkeypatch):
    created = challenges.create_challenge(ctx, USER, None, {})
    wrong = sms(created.code, sender=OTHER)
    with crash_before_commit(monkeypatch), pytest.raises(StoreUnavailable):
        inbound.record_inbound(ctx, wrong)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: inbound.record_inbound(ctx, wrong).outcome, range(8)))

    assert sorted(outcomes) == sorted([Outcome.WRONG_SENDER] + [Outcome.DUPLICATE] * 7)
    assert stored_outcomes(ctx) == [("wrong_sender", created.challenge.id)]
    assert sender_counts(ctx) == [1]
    assert ctx.store.challenge(created.challenge.id).attempts == 1


def test_a_verification_that_calls_back_records_its_outbox_row(ctx):
    ctx.default_app = replace(ctx.default_app, callback_url="https://app.test/callbacks")
    created = challenges.create_challenge(ctx, None, None, {})

    verdict = inbound.record_inbound(ctx, sms(created.code))

    assert verdict.outcome is Outcome.MATCHED
    assert stored_outcomes(ctx) == [("matched", created.challenge.id)]
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


def test_a_database_stamped_without_the_function_still_verifies(tmp_path, caplog):
    with scratch_postgres() as url:
        made = create_engine(url)
        metadata.create_all(made)  # tables as the code has them: stamped at the head
        made.dispose()
        ctx = context_at(url, tmp_path)
        try:
            first, second = (challenges.create_challenge(ctx, None, None, {}) for _ in range(2))
            for n, created in enumerate((first, second)):
                message = sms(created.code, message_id=f"m{n}")
                assert inbound.record_inbound(ctx, message).outcome is Outcome.MATCHED
            assert stored_outcomes(ctx) == [
                ("matched", first.challenge.id),
                ("matched", second.challenge.id),
            ]
            assert "lacks reverse_otp_settle_match" in caplog.text
        finally:
            ctx.store.dispose()
