"""Limit counters in the database: one atomic upsert per hit, on SQLite and PostgreSQL.

`INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING` adds to the count, or starts a new
window when the stored one has ended, in one statement: concurrent hits never lose a count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, case, select

from app.store.tables import UTCDateTime, limit_counters

c = limit_counters.c


def hit(
    conn: Connection, insert_fn: Any, key: str, window: int, now: datetime, amount: int
) -> tuple[int, datetime]:
    """Add `amount` to a counter in one statement; return (count, reset_at)."""
    params = {
        "b_key": key,
        "b_amount": amount,
        "b_now": now,
        "b_reset": now + timedelta(seconds=window),
    }
    row = conn.execute(_hit_statement(insert_fn), params).one()
    return int(row[0]), row[1]


def peek(conn: Connection, key: str, now: datetime) -> tuple[int, datetime] | None:
    """Return (count, reset_at) of a counter whose window is still open."""
    row = conn.execute(_PEEK, {"b_key": key, "b_now": now}).first()
    return None if row is None else (int(row[0]), row[1])


# Statements are built once (per dialect's insert): building one per hit costs more than
# running it. Bound names differ from column names, which SQLAlchemy keeps for VALUES.
_HITS: dict[Any, Any] = {}
_PEEK = select(c.count, c.reset_at).where(
    c.key == bindparam("b_key"), c.reset_at > bindparam("b_now", type_=UTCDateTime())
)


def _hit_statement(insert_fn: Any) -> Any:
    found = _HITS.get(insert_fn)
    if found is None:
        now = bindparam("b_now", type_=UTCDateTime())
        reset = bindparam("b_reset", type_=UTCDateTime())
        amount = bindparam("b_amount", type_=Integer())
        ended = c.reset_at <= now
        found = (
            insert_fn(limit_counters)
            .values(key=bindparam("b_key"), count=amount, reset_at=reset)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "count": case((ended, amount), else_=c.count + amount),
                    "reset_at": case((ended, reset), else_=c.reset_at),
                },
            )
            .returning(c.count, c.reset_at)
        )
        _HITS[insert_fn] = found
    return found
