"""A challenge's creation under its limits: the counters it is charged to, then its INSERT.

The counters form a chain, (key, window, limit) each, charged in order and stopping after the
first one over its limit: the ones after it are not charged.

- PostgreSQL runs the whole creation as one statement in autocommit: data-modifying CTEs, each
  counter's upsert conditional on the previous one's returned count being within its limit,
  then the challenge's INSERT conditional on the last one and on the pending cap. Every creation
  of one API key or one address updates the same counter rows; their row locks are held only
  for that statement and its commit, never across round trips to Python.
- SQLite runs one transaction (BEGIN IMMEDIATE: writes are serial) of two statements: one
  upsert of every counter up to the first one that will be over its limit, decided on the
  counts before the statement, then the capped INSERT.

The pending cap is a condition of the INSERT; only when no row comes back (the cap, or a code
already pending on the number) is the pending count read, to tell which.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from app.domain.challenges import Challenge, Status
from app.store.base import Chain, Creation, Hit, StoreUnavailable
from app.store.rows import from_challenge
from app.store.tables import UTCDateTime, challenges, limit_counters

c = limit_counters.c

NO_CHAIN = Chain(None, [])
# Counts are 32-bit columns: a limit above any count they can hold is the same limit, and a
# larger parameter would not fit the statement's integer type (a rate of 4,000,000,000/hour).
COUNT_CEILING = 2**31 - 1


def chain_params(hits: Sequence[Hit], now: datetime) -> dict[str, Any]:
    """Return a chain statement's parameters."""
    params: dict[str, Any] = {"b_now": now}
    for i, (key, window, limit) in enumerate(hits):
        params[f"b_key{i}"] = key
        params[f"b_reset{i}"] = now + timedelta(seconds=window)
        params[f"b_limit{i}"] = min(limit, COUNT_CEILING)
    return params


def chain_of(hits: Sequence[Hit], counts: list[tuple[int, datetime]]) -> Chain:
    """Return the chain for the counts of the counters charged, in the hits' order."""
    for i, (count, _reset) in enumerate(counts):
        if count > hits[i][2]:
            return Chain(i, counts[: i + 1])
    return Chain(None, counts)


class _Store(Protocol):
    writer: Engine
    sql: Any

    @property
    def autocommit(self) -> Engine: ...

    def begin(self) -> AbstractContextManager[Any]: ...


class _HasConn(Protocol):
    conn: Connection
    sql: Any


class CreationSql:
    """The store's creation of a challenge under its limits."""

    writer: Engine

    @cached_property
    def autocommit(self) -> Engine:
        """The writer's pool in autocommit: a one-statement write commits with its statement."""
        return self.writer.execution_options(isolation_level="AUTOCOMMIT")

    def create_challenge(
        self: _Store,
        challenge: Challenge,
        now: datetime,
        max_pending: int | None = None,
        hits: Sequence[Hit] = (),
    ) -> Creation:
        """Charge the counters in `hits`, then add the challenge if none refused and fewer
        than `max_pending` (None: no cap) are pending; in one transaction."""
        if self.writer.dialect.name != "postgresql":
            with self.begin() as tx:
                made: Creation = tx.create_in_tx(challenge, now, max_pending, hits)
                return made
        try:
            with self.autocommit.connect() as conn:
                return _create_on_postgres(conn, self.sql, challenge, now, max_pending, hits)
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from exc


class CreationTx:
    """Charging counters and adding challenges inside one write transaction."""

    def hit_chain(self: _HasConn, hits: Sequence[Hit], now: datetime) -> Chain:
        """Charge the counters in order, stopping after the first one over its limit."""
        if not hits:
            return NO_CHAIN
        dialect = self.conn.dialect.name
        statement = _statement(dialect, len(hits), None)
        result = self.conn.execute(statement, chain_params(hits, now))
        if dialect == "postgresql":
            return chain_of(hits, _counts(result.one(), len(hits)))
        found = {row[0]: (int(row[1]), row[2]) for row in result}
        counts = [found[key] for key, _, _ in hits if key in found]
        return chain_of(hits, counts)

    def create_in_tx(
        self: _HasConn,
        challenge: Challenge,
        now: datetime,
        max_pending: int | None,
        hits: Sequence[Hit],
    ) -> Creation:
        """Charge the counters, then add the challenge under the cap if none refused."""
        chain = CreationTx.hit_chain(self, hits, now)
        if chain.refused is not None:
            return Creation(chain, False)
        if max_pending is None:
            added = self.conn.execute(self.sql.add_challenge, from_challenge(challenge)).scalar()
            return Creation(chain, added is not None)
        statement = _statement(self.conn.dialect.name, 0, True)
        added = self.conn.execute(statement, _values(challenge, now, max_pending)).scalar()
        if added is not None:
            return Creation(chain, True)
        return Creation(chain, False, _pending(self.conn, now))


def _create_on_postgres(
    conn: Connection,
    sql: Any,
    challenge: Challenge,
    now: datetime,
    max_pending: int | None,
    hits: Sequence[Hit],
) -> Creation:
    capped = max_pending is not None
    if hits:
        params = chain_params(hits, now) | _values(challenge, now, max_pending)
        row = conn.execute(_statement("postgresql", len(hits), capped), params).one()
        chain, added = chain_of(hits, _counts(row, len(hits))), row[-1] is not None
    elif capped:
        chain = NO_CHAIN
        statement = _statement("postgresql", 0, True)
        added = conn.execute(statement, _values(challenge, now, max_pending)).scalar() is not None
    else:
        chain = NO_CHAIN
        added = conn.execute(sql.add_challenge, from_challenge(challenge)).scalar() is not None
    if added or chain.refused is not None or not capped:
        return Creation(chain, added)
    return Creation(chain, False, _pending(conn, now))


def _values(challenge: Challenge, now: datetime, max_pending: int | None) -> dict[str, Any]:
    values = {f"v_{name}": value for name, value in from_challenge(challenge).items()}
    values |= {
        "b_now": now,
        "b_max": None if max_pending is None else min(max_pending, COUNT_CEILING),
    }
    return values


def _counts(row: Any, n: int) -> list[tuple[int, datetime]]:
    """The (count, reset_at) pairs of a PostgreSQL chain's row, up to the first not charged."""
    counts = []
    for i in range(n):
        if row[2 * i] is None:
            break
        counts.append((int(row[2 * i]), row[2 * i + 1]))
    return counts


def _pending(conn: Connection, now: datetime) -> int:
    return int(conn.execute(_PENDING, {"b_now": now}).scalar_one())


# Statements are built once per dialect and shape (how many counters, capped or not):
# building one costs more than running it (app/store/statements.py).
_MADE: dict[tuple[str, int, bool | None], Any] = {}
_NOW = bindparam("b_now", type_=UTCDateTime())
_PENDING = select(func.count()).where(
    challenges.c.status == Status.PENDING.value, challenges.c.expires_at > _NOW
)


def _statement(dialect: str, n: int, capped: bool | None) -> Any:
    """The statement for `n` counters and, unless `capped` is None, the challenge's INSERT
    (under the pending cap when `capped`)."""
    key = (dialect, n, capped)
    found = _MADE.get(key)
    if found is None:
        if dialect == "postgresql":
            found = _postgres(n, capped)
        elif capped is None:
            found = _sqlite_chain(n)
        else:
            found = _insert(sqlite_insert, None, capped, typed=False)
        _MADE[key] = found
    return found


def _limit(i: int) -> Any:
    return bindparam(f"b_limit{i}", type_=Integer())


def _upsert(insert_fn: Any, rows: Any) -> Any:
    """Upsert counter rows (key, count 1, reset_at): add one, or restart an ended window."""
    statement = insert_fn(limit_counters).from_select(["key", "count", "reset_at"], rows)
    ended = c.reset_at <= _NOW
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "count": case((ended, 1), else_=c.count + 1),
            "reset_at": case((ended, statement.excluded.reset_at), else_=c.reset_at),
        },
    )


def _row(i: int, typed: bool) -> Any:
    key: Any = bindparam(f"b_key{i}", type_=String())
    reset: Any = bindparam(f"b_reset{i}", type_=UTCDateTime())
    if typed:
        key, reset = cast(key, String()), cast(reset, UTCDateTime())
    return select(key.label("key"), literal_column("1").label("count"), reset.label("reset_at"))


def _insert(insert_fn: Any, last: Any, capped: bool, typed: bool) -> Any:
    """The challenge's INSERT ... SELECT: after the chain's `last` counter (if any) within its
    limit, and under the pending cap if `capped`; nothing on a code pending on the number."""
    values = []
    for column in challenges.c:
        value = bindparam(f"v_{column.name}", type_=column.type)
        # PostgreSQL types a bare parameter in a SELECT list as text, NULL included.
        values.append(cast(value, column.type) if typed else value)
    rows = select(*values)
    if last is not None:
        cte, i = last
        rows = rows.select_from(cte).where(cte.c.count <= _limit(i))
    if capped:
        rows = rows.where(_PENDING.scalar_subquery() < bindparam("b_max", type_=Integer()))
    else:
        rows = rows.where(true())  # SQLite: an INSERT ... SELECT before ON CONFLICT needs one
    return (
        insert_fn(challenges)
        .from_select([col.name for col in challenges.c], rows)
        .on_conflict_do_nothing(
            index_elements=["number", "code_hash"], index_where=text("status = 'pending'")
        )
        .returning(challenges.c.id)
    )


def _postgres(n: int, capped: bool | None) -> Any:
    """One statement: a CTE per counter, each conditional on the one before, then the INSERT."""
    if n == 0 and capped is not None:
        return _insert(pg_insert, None, capped, typed=True)
    ctes: list[Any] = []
    for i in range(n):
        rows = _row(i, typed=True)
        if ctes:
            rows = rows.select_from(ctes[-1]).where(ctes[-1].c.count <= _limit(i - 1))
        ctes.append(_upsert(pg_insert, rows).returning(c.count, c.reset_at).cte(f"hit{i}"))
    columns = []
    for cte in ctes:
        columns += [select(cte.c.count).scalar_subquery(), select(cte.c.reset_at).scalar_subquery()]
    if capped is not None:
        added = _insert(pg_insert, (ctes[-1], n - 1), capped, typed=True).cte("added")
        columns.append(select(added.c.id).scalar_subquery())
    return select(*columns)


def _sqlite_chain(n: int) -> Any:
    """One upsert of the counters up to the first one that will be over its limit.

    Counter i is charged when every one before it is within its limit after its own charge:
    its count in the current window before the statement (0 when none) is below its limit.
    SQLite computes an INSERT's SELECT that reads the target table in full before writing a
    row, and its writes are serial, so the counts read are those before the statement.
    """
    before = [
        func.coalesce(
            select(c.count)
            .where(c.key == bindparam(f"b_key{j}", type_=String()), c.reset_at > _NOW)
            .scalar_subquery(),
            0,
        )
        for j in range(n - 1)
    ]
    arms = [
        _row(i, typed=False).where(true(), *(before[j] < _limit(j) for j in range(i)))
        for i in range(n)
    ]
    rows = union_all(*arms).subquery() if n > 1 else arms[0].subquery()
    statement = _upsert(sqlite_insert, select(rows).where(true()))
    return statement.returning(c.key, c.count, c.reset_at)
