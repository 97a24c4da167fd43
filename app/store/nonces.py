"""Nonces remembered in the database, shared by every process and instance.

Each nonce is a limit counter (the `limit_counters` table, one atomic upsert on SQLite and
PostgreSQL): its first use opens a window of the nonce's validity, a second use within it
counts 2 and is refused. The retention purge deletes counters whose window has ended.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from app.limits.sql_counters import SqlCounters
from app.store.base import StoreUnavailable


class SqlNonces:
    """Nonce memory in the app's database; connected to the store once it is built."""

    def __init__(self) -> None:
        self.counters: SqlCounters | None = None

    def connect(self, store: Any) -> None:
        self.counters = SqlCounters(store)

    def first_use(self, key: str, window: int, now: datetime) -> bool:
        """Remember `key` for `window` seconds; False when it was already seen in that time."""
        if self.counters is None:
            raise StoreUnavailable("nonce memory is not connected")
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.counters.hit("nonce:" + digest, max(window, 1), now).value == 1
