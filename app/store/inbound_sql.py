"""A verifying message settled in one step (`Tx.settle_match`) on SQLite.

The step writes only what the full decision (app/usecases/inbound.py) would write for a
message that verifies a challenge: the challenge verified, the message stored with outcome
`matched`, and the sender's failure counter as its reservation and refund leave it. When any
condition does not hold, nothing is written and the full decision runs as before.

SQLite: write transactions are serial (BEGIN IMMEDIATE and the write lock), so nothing runs
between our statements and a gate read in the statement is exact. One UPDATE verifies the
first challenge the message's codes name only if the message is not stored yet, the sender
is not cooling off, its budget allows one more failure and the change needs no callback; the
message is then stored and the counter charged 1 (several codes) or 0 (a reservation and its
refund, which still opens the window). Three statements in one transaction.

PostgreSQL: not settled in one step (None): concurrent messages of one sender must be tested
only under a charge they all see. A gate read in a snapshot would let them overspend, and a
reservation undone when the code misses would let the next message be tested against a budget
that does not count the miss (tests/security/test_budget_window.py). PostgreSQL messages take
the full decision, which reserves before it tests and keeps the charge in its transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    bindparam,
    exists,
    func,
    select,
)

from app.domain.challenges import InboundMessage, Outcome, inbound_method
from app.store.base import QuickMatch, Settled
from app.store.statements import ByArity, verify_first
from app.store.tables import UTCDateTime, apps, challenges, inbound_messages, limit_counters

c = challenges.c
lc = limit_counters.c


class _Tx(Protocol):
    conn: Connection

    def add_inbound(
        self,
        message: InboundMessage,
        received_at: datetime,
        outcome: Outcome | None = None,
        challenge_id: str | None = None,
    ) -> int | None: ...

    def hit_counter(
        self, key: str, window: int, now: datetime, amount: int
    ) -> tuple[int, datetime]: ...


class InboundTx:
    """Transaction method: settle a verifying message in one step (mixed into SqlTx)."""

    def settle_match(self: _Tx, attempt: QuickMatch) -> Settled | None:
        if self.conn.dialect.name != "sqlite":
            return None
        return _serially(self, attempt)


def _serially(tx: _Tx, attempt: QuickMatch) -> Settled | None:
    budget = attempt.budget
    statement = (_BUDGETED if budget else _FREE)(attempt.hashes, **_gate_params(attempt))
    row = tx.conn.execute(*statement).first()
    if row is None:
        return None
    tx.add_inbound(attempt.message, attempt.now, Outcome.MATCHED, row.id)
    if budget is not None:
        tx.hit_counter(budget.counter, budget.window, attempt.now, int(attempt.spends))
    return Settled(row.id, row.created_at)


def _gate_params(attempt: QuickMatch) -> dict[str, Any]:
    message, budget = attempt.message, attempt.budget
    params = {
        "b_number": message.to,
        "b_phone": attempt.phone,
        "now": attempt.now,
        "b_channel": message.channel,
        "b_method": inbound_method(message.channel).value,
        "b_provider": message.provider,
        "b_message_id": message.message_id,
        "b_default_app": attempt.default_app_id,
        "b_quiet_default": not attempt.default_callback,
    }
    if budget is not None:
        params |= {"b_block": budget.block, "b_counter": budget.counter, "b_limit": budget.limit}
    return params


def _gates(budgeted: bool) -> list[Any]:
    """What the full decision would also check before it verifies, as conditions."""
    now = bindparam("now", type_=UTCDateTime())
    stored = exists().where(
        inbound_messages.c.provider == bindparam("b_provider"),
        inbound_messages.c.message_id == bindparam("b_message_id"),
    )
    default = c.app_id.is_(None) | (c.app_id == bindparam("b_default_app"))
    app_calls_back = exists().where(apps.c.id == c.app_id, apps.c.callback_url.is_not(None))
    # No callback can be due (app/usecases/callbacks.py): the challenge has no URL of its own,
    # nor its app (a revoked app's URL counts too: the full decision then records nothing).
    quiet = c.callback_url.is_(None) & (
        (default & bindparam("b_quiet_default", type_=Boolean())) | (~default & ~app_calls_back)
    )
    gates = [~stored, quiet]
    if budgeted:
        blocked = exists().where(lc.key == bindparam("b_block"), lc.reset_at > now, lc.count > 0)
        spent = select(lc.count).where(lc.key == bindparam("b_counter"), lc.reset_at > now)
        room = func.coalesce(spent.scalar_subquery(), 0) < bindparam("b_limit", type_=Integer())
        gates += [~blocked, room]
    return gates


_RETURNED = (c.id, c.created_at)
_BUDGETED = ByArity(lambda hashes: verify_first(hashes, *_gates(True), returned=_RETURNED))
_FREE = ByArity(lambda hashes: verify_first(hashes, *_gates(False), returned=_RETURNED))
