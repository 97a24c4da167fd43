"""Count what a request costs the database: statements, transactions, commits, round trips.

Listens to a store's engines (SQLAlchemy events, plus the driver's own transaction state)
for the span of a `with` block:

- a statement is every SQL text sent (`BEGIN IMMEDIATE` on SQLite counts as a begin);
- on PostgreSQL, psycopg sends a `BEGIN` of its own before the first statement of a
  transaction when the connection is not in autocommit, and a `ROLLBACK` when a connection
  goes back to the pool inside a transaction: each is a round trip;
- a commit is an explicit COMMIT of a transaction that was open, or a writing statement run
  in autocommit (which the server commits on its own).

On PostgreSQL the round trips are statements + begins + explicit commits + rollbacks (an
autocommit statement's commit travels with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|WITH)|\breverse_otp_\w+\(", re.IGNORECASE)


@dataclass
class Trips:
    """What the database was asked for."""

    statements: list[str] = field(default_factory=list)
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0
    implicit_commits: int = 0  # of the commits, those made by autocommit statements

    @property
    def round_trips(self) -> int:
        explicit = self.commits - self.implicit_commits
        return len(self.statements) + self.begins + explicit + self.rollbacks

    def __str__(self) -> str:
        listing = "\n".join(f"  {s.split(chr(10))[0][:110]}" for s in self.statements)
        return (
            f"{len(self.statements)} statements, {self.begins} begins, {self.commits} commits,"
            f" {self.rollbacks} rollbacks:\n{listing}"
        )


def _in_transaction(dbapi: Any) -> bool:
    if hasattr(dbapi, "info"):  # psycopg
        return bool(dbapi.info.transaction_status != 0)  # 0: IDLE
    return bool(dbapi.in_transaction)


def _autocommit(dbapi: Any) -> bool:
    if hasattr(dbapi, "info"):
        return bool(dbapi.autocommit)
    return False  # SQLite: transactions are begun by hand (BEGIN IMMEDIATE) or not at all


@contextmanager
def counted(*engines: Engine) -> Iterator[Trips]:
    """Count the statements, begins, commits and rollbacks sent through these engines."""
    trips = Trips()

    def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if statement.lstrip().upper().startswith("BEGIN"):
            trips.begins += 1
            return
        if hasattr(dbapi, "info") and not dbapi.autocommit and not _in_transaction(dbapi):
            trips.begins += 1  # psycopg opens the transaction with a BEGIN of its own
        if _autocommit(dbapi) and WRITES.search(statement):
            trips.commits += 1
            trips.implicit_commits += 1
        trips.statements.append(statement)

    def commit(conn: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if not _autocommit(dbapi) and _in_transaction(dbapi):
            trips.commits += 1

    def rollback(conn: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if not _autocommit(dbapi) and _in_transaction(dbapi):
            trips.rollbacks += 1

    def reset(dbapi: Any, _record: Any, _state: Any) -> None:
        if not _autocommit(dbapi) and _in_transaction(dbapi):
            trips.rollbacks += 1

    # An engine with other execution options shares its parent's pool and its listeners.
    roots = [getattr(e, "_proxied", e) for e in engines]
    unique = list({id(e): e for e in roots}.values())
    hooks = [("before_cursor_execute", before), ("commit", commit), ("rollback", rollback)]
    pools = [engine.pool for engine in unique]
    for engine in unique:
        for name, fn in hooks:
            event.listen(engine, name, fn)
    for pool in pools:
        event.listen(pool, "reset", reset)
    try:
        yield trips
    finally:
        for engine in unique:
            for name, fn in hooks:
                event.remove(engine, name, fn)
        for pool in pools:
            if event.contains(pool, "reset", reset):
                event.remove(pool, "reset", reset)
