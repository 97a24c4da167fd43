"""SQL for the events the hosted page reports (mixed into SqlStore)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from app.store.tables import page_events


class _Store(Protocol):
    def begin(self) -> AbstractContextManager[Any]: ...


class PageEventsSql:
    """Store methods for page events."""

    def record_page_event(
        self: _Store, challenge_id: str, app_id: str | None, name: str, now: datetime
    ) -> bool:
        """Record an event once per challenge; False when it was already recorded."""
        row = {"challenge_id": challenge_id, "event": name, "app_id": app_id, "at": now}
        try:
            with self.begin() as tx:
                tx.conn.execute(insert(page_events).values(**row))
        except IntegrityError:  # the primary key: this challenge already reported it
            return False
        return True
