"""The database itself enforces the store's invariants, on SQLite and on PostgreSQL.

Threads race the same operation through separate connections; exactly one may win. Raw
inserts that skip the store's own statements are refused by constraints, not by Python.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.domain.challenges import Challenge, InboundMessage, Status
from app.store.rows import from_challenge
from app.store.sql import SqlStore
from app.store.tables import challenges, inbound_messages
from tests.engines import store_on_both_engines

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NUMBER = "+15017122661"
SENDER = "+14155552671"
RACERS = 8


store = store_on_both_engines(pool_size=RACERS)


def challenge(n: int = 0, code_hash: str = "code-hash", **changes: Any) -> Challenge:
    values: dict[str, Any] = {
        "id": f"ch_{n}",
        "number": NUMBER,
        "code_hash": code_hash,
        "token_hash": f"token-{n}",
        "code_sealed": b"sealed-code-bytes",
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
    }
    return Challenge(**(values | changes))


def message(message_id: str = "SM1") -> InboundMessage:
    return InboundMessage(
        provider="simulator",
        message_id=message_id,
        sender=SENDER,
        to=NUMBER,
        text="VERIFY ABC123",
        sender_e164=SENDER,
        raw={"id": message_id},
    )


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` on RACERS threads released together; return the results in order."""
    start = threading.Barrier(RACERS)
    results: list[Any] = [None] * RACERS
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return results


def add(store: SqlStore, item: Challenge) -> bool:
    with store.begin() as tx:
        return tx.add_challenge(item)


def test_only_one_racing_verification_wins(store):
    add(store, challenge())

    def verify(i: int) -> bool:
        with store.begin() as tx:
            return tx.verify("ch_0", f"+1415555{2000 + i}", NOW)

    assert sorted(race(verify)) == [False] * (RACERS - 1) + [True]
    stored = store.challenge("ch_0")
    assert stored is not None and stored.status is Status.VERIFIED


def test_only_one_of_racing_challenges_gets_a_pending_code(store):
    wins = race(lambda i: add(store, challenge(i)))

    assert wins.count(True) == 1
    with store.reader.connect() as conn:
        assert conn.execute(select(challenges.c.id)).scalars().all() == [f"ch_{wins.index(True)}"]


def test_an_inbound_message_is_stored_once_whatever_the_redeliveries(store):
    def deliver(_i: int) -> int | None:
        with store.begin() as tx:
            return tx.add_inbound(message(), NOW)

    stored = [r for r in race(deliver) if r is not None]

    assert len(stored) == 1
    with store.reader.connect() as conn:
        assert conn.execute(select(inbound_messages.c.id)).scalars().all() == stored


def test_racing_expiry_and_verification_settle_a_challenge_once(store):
    add(store, challenge())

    def settle(i: int) -> bool:
        with store.begin() as tx:
            if i % 2:
                return tx.end("ch_0", Status.EXPIRED, NOW)
            return tx.verify("ch_0", SENDER, NOW)

    assert race(settle).count(True) == 1


def test_racing_failed_attempts_are_all_counted_and_fail_once(store):
    add(store, challenge(max_attempts=RACERS))

    def attempt(_i: int) -> Status | None:
        with store.begin() as tx:
            after = tx.count_attempt("ch_0", NOW)
        return None if after is None else after.status

    statuses = race(attempt)

    assert statuses.count(Status.FAILED) == 1
    stored = store.challenge("ch_0")
    assert stored is not None and stored.attempts == RACERS and stored.status is Status.FAILED


def test_database_refuses_a_second_pending_code_on_a_number(store):
    add(store, challenge(0))
    with pytest.raises(IntegrityError), store.writer.begin() as conn:
        conn.execute(insert(challenges).values(**from_challenge(challenge(1))))


def test_a_code_may_return_once_its_challenge_is_settled(store):
    add(store, challenge(0, status=Status.VERIFIED))
    add(store, challenge(1, status=Status.EXPIRED))
    assert add(store, challenge(2))


def test_the_same_code_may_be_pending_on_another_number(store):
    add(store, challenge(0))
    assert add(store, challenge(1, number="+14155550100"))


def test_database_refuses_a_second_copy_of_an_inbound_message(store):
    with store.begin() as tx:
        tx.add_inbound(message(), NOW)
    row = {
        "provider": "simulator",
        "message_id": "SM1",
        "sender": SENDER,
        "recipient": NUMBER,
        "text": "again",
        "outcome": "received",
        "received_at": NOW,
        "raw": {},
    }
    with pytest.raises(IntegrityError), store.writer.begin() as conn:
        conn.execute(insert(inbound_messages).values(**row))
