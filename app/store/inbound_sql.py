"""A verifying message settled in one step (`Tx.settle_match`), on both engines.

The step writes only what the full decision (app/usecases/inbound.py) would write for a
message that verifies a challenge: the challenge verified, the message stored with outcome
`matched`, and the sender's failure counter as its reservation and refund leave it.

SQLite: write transactions are serial (BEGIN IMMEDIATE and the write lock), so nothing runs
between our statements and a gate read in the statement is exact. One UPDATE verifies the
first challenge the message's codes name only if the message is not stored yet, the sender
is not cooling off, its budget allows one more failure and the change needs no callback; the
message is then stored and the counter charged 1 (several codes) or 0 (a reservation and its
refund, which still opens the window). Three statements in one transaction. When any
condition does not hold, nothing is written and the full decision runs next, in the same
transaction.

PostgreSQL: concurrent messages of one sender must be tested only under a reservation they all
see, so a snapshot gate would let them overspend. The function `reverse_otp_settle_match`
(migration 0011) runs in autocommit, one round trip: it stores the message, reserves (the
upsert locks the sender's counter row until the commit), verifies, refunds when the message
is free and records it as matched. Once a code has been tested, its reservation is never
taken back: a message that settles nothing stays stored as received, charged, and the full
decision finishes it in a transaction of its own that claims it (`claim_undecided`), which a
redelivery also does if that transaction never committed. A message the step could not test
(its sender cooling off, or without a failure left) is undone whole and decided in full, so
concurrent messages of one sender are always tested under a count holding every code tested
before them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Integer,
    String,
    bindparam,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import ProgrammingError

from app.domain.challenges import InboundMessage, Outcome, inbound_method
from app.store.base import QuickMatch, Settled, Step
from app.store.creation_sql import COUNT_CEILING
from app.store.statements import ByArity, Statements, verify_first
from app.store.tables import UTCDateTime, apps, challenges, inbound_messages, limit_counters

log = logging.getLogger(__name__)

c = challenges.c
lc = limit_counters.c


class _Tx(Protocol):
    conn: Connection
    sql: Statements

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
    """Transaction methods of the one-step verification (mixed into SqlTx)."""

    def settle_match(self: _Tx, attempt: QuickMatch) -> Settled | Step:
        if self.conn.dialect.name != "postgresql":
            return _serially(self, attempt)
        if not self.sql.settle_in_function:
            return Step.DECLINED
        try:
            return _in_function(self.conn, attempt)
        except ProgrammingError as exc:
            if "reverse_otp_settle_match" not in str(exc.orig):
                raise
            # Stamped at the head without running the migrations: decide as before it.
            log.error("the database lacks reverse_otp_settle_match: run the migrations")
            self.sql.settle_in_function = False
            return Step.DECLINED

    def claim_undecided(self: _Tx, provider: str, message_id: str) -> int | None:
        found = self.conn.execute(
            _CLAIM, {"b_provider": provider, "b_message_id": message_id}
        ).scalar()
        return None if found is None else int(found)


UNDECIDED = "received"  # a stored message's outcome until it is decided (SqlTx.add_inbound)
_CLAIM = (
    select(inbound_messages.c.id)
    .where(
        inbound_messages.c.provider == bindparam("b_provider"),
        inbound_messages.c.message_id == bindparam("b_message_id"),
        inbound_messages.c.outcome == UNDECIDED,
    )
    .with_for_update()
)


def _serially(tx: _Tx, attempt: QuickMatch) -> Settled | Step:
    budget = attempt.budget
    statement = (_BUDGETED if budget else _FREE)(attempt.hashes, **_gate_params(attempt))
    row = tx.conn.execute(*statement).first()
    if row is None:
        return Step.DECLINED
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
    # No callback is due (app/usecases/callbacks.py): none of the challenge's own, none of its
    # app's (a revoked app counts as calling back: the full decision then says no).
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


_CALL = (
    text(
        "SELECT * FROM reverse_otp_settle_match(:provider, :message_id, :sender, :recipient,"
        " :text, :raw, :now, :number, :hashes, :phone, :channel, :method, :counter, :block, :reset,"
        " :limit, :spends, :default_app, :default_callback)"
    )
    .bindparams(
        bindparam("raw", type_=JSON()),
        bindparam("now", type_=UTCDateTime()),
        bindparam("reset", type_=UTCDateTime()),
        bindparam("hashes", type_=ARRAY(String())),
        bindparam("limit", type_=Integer()),
    )
    .columns(state=String(), challenge_id=String(), created_at=UTCDateTime())
)


def _call_params(attempt: QuickMatch) -> dict[str, Any]:
    message, budget, now = attempt.message, attempt.budget, attempt.now
    reset = None if budget is None else now + timedelta(seconds=budget.window)
    return {
        "provider": message.provider,
        "message_id": message.message_id,
        "sender": message.sender[:64],
        "recipient": message.to[:64],
        "text": message.text,
        "raw": message.raw,
        "now": now,
        "number": message.to,
        "hashes": attempt.hashes,
        "phone": attempt.phone,
        "channel": message.channel,
        "method": inbound_method(message.channel).value,
        "counter": None if budget is None else budget.counter,
        "block": None if budget is None else budget.block,
        "reset": reset,
        "limit": None if budget is None else min(budget.limit, COUNT_CEILING),
        "spends": attempt.spends,
        "default_app": attempt.default_app_id,
        "default_callback": attempt.default_callback,
    }


def _in_function(conn: Connection, attempt: QuickMatch) -> Settled | Step:
    """Run the function in autocommit: psycopg has not begun the transaction on the server
    yet (it does so before the first statement), so the statement commits on its own and
    the transaction's later statements, if any, begin one as usual."""
    driver: Any = conn.connection.dbapi_connection
    if driver.info.transaction_status != 0:  # psycopg.pq.TransactionStatus.IDLE
        raise RuntimeError("settle_match must be the first step of a transaction")
    driver.autocommit = True
    try:
        row = conn.execute(_CALL, _call_params(attempt)).one()
    finally:
        if not driver.closed:
            driver.autocommit = False
    if row.state == "settled":
        return Settled(row.challenge_id, row.created_at)
    return Step(row.state)
