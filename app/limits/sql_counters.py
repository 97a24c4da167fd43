"""Limit counters in the database, through the store's transactions and its
one-statement upserts (app/store/counters.py, app/store/creation_sql.py for chains).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import OperationalError

from app.limits.rules import Count, LimitsUnavailable
from app.store.base import Chain, Hit, StoreUnavailable, Tx
from app.store.counters import c, peek
from app.store.tables import limit_counters


class SqlCounters:
    """Counters in the store's database; inside a transaction when one is given."""

    in_store = True  # the store may check them in its own statements (Tx.settle_match)

    def __init__(self, store: Any) -> None:
        self.store = store

    def hit(
        self, key: str, window: int, now: datetime, amount: int = 1, tx: Tx | None = None
    ) -> Count:
        if tx is not None:
            return Count(*tx.hit_counter(key, window, now, amount))
        try:
            with self.store.begin() as own:
                return Count(*own.hit_counter(key, window, now, amount))
        except StoreUnavailable as exc:
            raise LimitsUnavailable(f"limit counters unavailable: {exc}") from exc

    def hit_chain(self, hits: Sequence[Hit], now: datetime, tx: Tx | None = None) -> Chain:
        if tx is not None:
            return tx.hit_chain(hits, now)
        try:
            with self.store.begin() as own:
                chain: Chain = own.hit_chain(hits, now)
                return chain
        except StoreUnavailable as exc:
            raise LimitsUnavailable(f"limit counters unavailable: {exc}") from exc

    def kept_in(self, store: object) -> bool:
        return store is self.store

    def peek(self, key: str, now: datetime, tx: Tx | None = None) -> Count | None:
        if tx is not None:
            found = tx.peek_counter(key, now)
        else:
            try:
                with self.store.reader.connect() as conn:
                    found = peek(conn, key, now)
            except OperationalError as exc:
                raise LimitsUnavailable(f"limit counters unavailable: {exc.orig}") from exc
        return None if found is None else Count(*found)

    def purge(self, now: datetime) -> int:
        """Delete counters whose window has ended; return how many."""
        with self.store.writer.begin() as conn:
            return int(conn.execute(delete(limit_counters).where(c.reset_at <= now)).rowcount)
