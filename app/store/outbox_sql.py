"""SQL for the callback outbox (mixed into SqlStore and SqlTx).

Claiming is one write transaction: pick due rows nobody holds, then lease them with a
conditional UPDATE. PostgreSQL reads the rows FOR UPDATE SKIP LOCKED, so concurrent workers
pass over each other's rows instead of waiting; SQLite runs one writer at a time (BEGIN
IMMEDIATE), so the conditional UPDATE alone settles it. A worker that dies mid-delivery
leaves its lease behind; the row is claimed again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select, update

from app.domain.callbacks import DeliveryState
from app.domain.challenges import Challenge
from app.store.base import Attempt, Delivery, NewCallback
from app.store.rows import to_delivery
from app.store.tables import callback_outbox as outbox
from app.store.tables import challenges

PENDING = DeliveryState.PENDING.value


class _HasConn(Protocol):
    conn: Connection


class _Store(Protocol):
    def begin(self) -> AbstractContextManager[Any]: ...

    def _read(self) -> AbstractContextManager[Connection]: ...


class OutboxSql:
    """Store methods for the delivery worker."""

    def claim_callbacks(
        self: _Store,
        now: datetime,
        lease_until: datetime,
        lease: str,
        limit: int,
        skip_apps: Collection[str] = (),
    ) -> list[Delivery]:
        """Lease up to `limit` due callbacks, none of the apps in `skip_apps`."""
        free = outbox.c.leased_until.is_(None) | (outbox.c.leased_until <= now)
        due = (
            select(outbox.c.id)
            .where(outbox.c.state == PENDING, outbox.c.next_attempt_at <= now, free)
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        )
        if skip_apps:
            due = due.where(outbox.c.app_id.not_in(sorted(skip_apps)))
        # Look before locking: idle polls then cost a read, not a write lock (SQLite).
        with self._read() as conn:
            if conn.execute(due.limit(1)).first() is None:
                return []
        with self.begin() as tx:
            ids = list(tx.conn.execute(due.with_for_update(skip_locked=True)).scalars())
            if not ids:
                return []
            claim = (
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.state == PENDING, free)
                .values(lease=lease, leased_until=lease_until)
                .returning(*outbox.c)
            )
            rows = tx.conn.execute(claim).all()
        return sorted((to_delivery(row) for row in rows), key=lambda d: d.id)

    def finish_callback(self: _Store, delivery: Delivery, now: datetime, outcome: Attempt) -> bool:
        values: dict[str, Any] = {
            "state": outcome.state,
            "attempts": outbox.c.attempts + 1,
            "last_status": outcome.status,
            "last_error": (outcome.error or "")[:200] or None,
            "lease": None,
            "leased_until": None,
        }
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        if outcome.state != PENDING:
            values["ended_at"] = now
        query = (
            update(outbox)
            .where(outbox.c.id == delivery.id, outbox.c.lease == delivery.lease)
            .values(**values)
        )
        with self.begin() as tx:
            return bool(tx.conn.execute(query).rowcount == 1)

    def release_callbacks(self: _Store, deliveries: list[Delivery]) -> None:
        """Give claimed rows back untried, so any worker may claim them at once."""
        with self.begin() as tx:
            for delivery in deliveries:
                tx.conn.execute(
                    update(outbox)
                    .where(outbox.c.id == delivery.id, outbox.c.lease == delivery.lease)
                    .values(lease=None, leased_until=None)
                )

    def list_callbacks(self: _Store, state: str | None, limit: int) -> list[dict[str, Any]]:
        query = select(*[c for c in outbox.c if c.name != "body"])
        if state is not None:
            query = query.where(outbox.c.state == state)
        with self._read() as conn:
            rows = conn.execute(query.order_by(outbox.c.id.desc()).limit(limit)).all()
        return [dict(row._mapping) for row in rows]

    def retry_callback(self: _Store, event_id: str, now: datetime) -> bool:
        """Send an ended callback again, with a fresh retry window from `now`."""
        query = (
            update(outbox)
            .where(outbox.c.event_id == event_id, outbox.c.state != PENDING)
            .values(
                state=PENDING,
                created_at=now,
                next_attempt_at=now,
                ended_at=None,
                lease=None,
                leased_until=None,
            )
        )
        with self.begin() as tx:
            return bool(tx.conn.execute(query).rowcount == 1)

    def prune_callbacks(self: _Store, before: datetime) -> int:
        """Delete delivered and abandoned callbacks that ended before `before`."""
        query = delete(outbox).where(outbox.c.state != PENDING, outbox.c.ended_at < before)
        with self.begin() as tx:
            return int(tx.conn.execute(query).rowcount)

    def outbox_rows(self: _Store, challenge_id: str | None = None) -> list[dict[str, Any]]:
        query = select(outbox).order_by(outbox.c.id)
        if challenge_id is not None:
            query = query.where(outbox.c.challenge_id == challenge_id)
        with self._read() as conn:
            return [dict(row._mapping) for row in conn.execute(query).all()]


class OutboxTx:
    """Transaction methods that record callbacks with the change they announce."""

    def challenge(self: _HasConn, challenge_id: str) -> Challenge | None:
        from app.store.rows import to_challenge

        row = self.conn.execute(select(challenges).where(challenges.c.id == challenge_id)).first()
        return None if row is None else to_challenge(row)

    def add_callback(self: _HasConn, event: NewCallback) -> None:
        self.conn.execute(
            insert(outbox).values(
                event_id=event.event_id,
                app_id=event.app_id,
                challenge_id=event.challenge_id,
                event_type=event.event_type,
                url=event.url,
                body=event.body,
                state=PENDING,
                attempts=0,
                created_at=event.created_at,
                next_attempt_at=event.created_at,
            )
        )
