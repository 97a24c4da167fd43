"""SQL for the codes sent to users (app/usecases/fallback.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.domain.sends import Send
from app.store.tables import outbound_sends

s = outbound_sends.c


class SqlSends:
    """Sends in the store's database."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def add(self, send: Send) -> bool:
        """Record a send; False when the challenge's turn `seq` is already taken."""
        names = [col.name for col in outbound_sends.columns if col.name != "updated_at"]
        row = {k: getattr(send, k) for k in names}
        try:
            with self.store.begin() as tx:
                tx.conn.execute(insert(outbound_sends).values(**row, updated_at=send.created_at))
        except IntegrityError:
            return False
        return True

    def for_challenge(self, challenge_id: str) -> list[Send]:
        """Return a challenge's sends, oldest first."""
        query = select(outbound_sends).where(s.challenge_id == challenge_id).order_by(s.seq)
        with self.store.reader.connect() as conn:
            return [_send(row) for row in conn.execute(query)]

    def set_result(
        self, send_id: str, sender: str, status: str, provider_id: str | None, detail: str | None,
        now: datetime,
    ) -> None:  # fmt: skip
        """Record what the sender said of a send (its id at the provider, or the failure)."""
        values = {"sender": sender, "status": status, "provider_id": provider_id,
                  "detail": detail, "updated_at": now}  # fmt: skip
        with self.store.begin() as tx:
            tx.conn.execute(update(outbound_sends).where(s.id == send_id).values(**values))

    def find(self, sender: str, provider_id: str) -> Send | None:
        """Return the send a receipt names."""
        query = select(outbound_sends).where(s.sender == sender, s.provider_id == provider_id)
        with self.store.reader.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        return None if row is None else _send(row)

    def set_status(self, send_id: str, old: str, new: str, detail: str, now: datetime) -> bool:
        """Move a send from `old` to `new` (False when another receipt moved it first)."""
        query = update(outbound_sends).where(s.id == send_id, s.status == old)
        with self.store.begin() as tx:
            done = tx.conn.execute(query.values(status=new, detail=detail[:200], updated_at=now))
            return bool(done.rowcount == 1)

    def counts(self, since: datetime) -> list[tuple[str, str, str, int]]:
        """Return (sender, country, status, count) of the sends since a time (dashboard)."""
        query = (
            select(s.sender, s.country, s.status, func.count())
            .where(s.created_at >= since)
            .group_by(s.sender, s.country, s.status)
            .order_by(s.sender, s.country, s.status)
        )
        with self.store.reader.connect() as conn:
            return [(r[0], r[1], r[2], int(r[3])) for r in conn.execute(query)]


def _send(row: Any) -> Send:
    m = row._mapping
    return Send(
        id=m["id"], challenge_id=m["challenge_id"], seq=m["seq"], sender=m["sender"],
        channel=m["channel"], country=m["country"], prefix=m["prefix"],
        code_hash=m["code_hash"], created_at=m["created_at"], status=m["status"],
        provider_id=m["provider_id"], detail=m["detail"],
    )  # fmt: skip
