"""The SQL store: SQLite or PostgreSQL through SQLAlchemy Core (statements in statements.py).

State changes are single conditional statements (`UPDATE ... WHERE status = 'pending'`), so
two concurrent deliveries can never both win, whatever the engine. On SQLite every write
transaction starts with BEGIN IMMEDIATE: a deferred transaction that reads then writes can
fail with SQLITE_BUSY_SNAPSHOT in WAL mode, which the busy timeout does not retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.challenges import Challenge, InboundMessage, Method, Outcome, Status, inbound_method
from app.domain.parts import MessagePart
from app.store import counters
from app.store.apps_sql import AppsSql, AppsTx
from app.store.base import StoreUnavailable
from app.store.checkpoint import Checkpointer
from app.store.creation_sql import CreationSql, CreationTx
from app.store.engines import make_engines as make_engines  # also imported from here
from app.store.group import GroupCommit
from app.store.inbound_sql import InboundTx
from app.store.outbox_sql import OutboxSql, OutboxTx
from app.store.page_events_sql import PageEventsSql
from app.store.rows import from_challenge, to_challenge
from app.store.statements import Statements
from app.store.tables import challenges, message_part_groups, message_parts
from app.store.writelock import WriteLock

PENDING = Status.PENDING.value


class SqlStore(AppsSql, OutboxSql, PageEventsSql, CreationSql):
    """Store on a SQLAlchemy URL."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.writer, self.reader = make_engines(url, pool_size)
        self.sql = Statements(self.writer.dialect.name)
        database = self.writer.url.database if self.writer.dialect.name == "sqlite" else None
        on_file = bool(database) and database != ":memory:"
        self._lock = WriteLock(database) if on_file and database else None
        self._checkpointer = Checkpointer(database) if on_file and database else None
        self._group = (
            GroupCommit(self.writer, self._lock, self._checkpointer.committed)
            if self._lock and self._checkpointer
            else None
        )

    def create_schema(self) -> None:
        """Bring the database to the current schema by running the migrations."""
        from app.store import migrate  # Alembic loads only when a schema change is asked for

        with self._lock.held() if self._lock else nullcontext():
            migrate.upgrade(self.writer)

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()
        if self._lock is not None:
            self._lock.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    @contextmanager
    def begin(self) -> Iterator[SqlTx]:
        """A write transaction; the block's work is committed when the `with` returns.

        On a SQLite file the writers waiting together commit together (group.py)."""
        if self._group is not None:
            with self._group.begin() as conn:
                yield SqlTx(conn, self.sql)
            return
        try:
            with self.writer.begin() as conn:
                yield SqlTx(conn, self.sql)
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from exc

    def challenge(self, challenge_id: str) -> Challenge | None:
        return self._one(self.sql.challenge, {"cid": challenge_id})

    def challenge_by_token(self, token_hashes: list[str]) -> Challenge | None:
        return self._one(*self.sql.challenge_by_token(token_hashes))

    def add_api_key(self, key_hash: str, name: str, now: datetime) -> None:
        with self.begin() as tx:
            tx.conn.execute(
                self.sql.add_api_key, {"key_hash": key_hash, "name": name, "created_at": now}
            )

    def api_key_valid(self, key_hashes: list[str]) -> bool:
        with self._read() as conn:
            return conn.execute(*self.sql.api_key_valid(key_hashes)).first() is not None

    def due_expiries(self, now: datetime, limit: int) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(self.sql.due_expiries, {"now": now, "limit": limit}).scalars())

    def final_statuses(self, challenge_ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._read() as conn:
            for start in range(0, len(challenge_ids), 500):
                query = select(challenges.c.id, challenges.c.status).where(
                    challenges.c.id.in_(challenge_ids[start : start + 500]),
                    challenges.c.status != PENDING,
                )
                found.update({row.id: row.status for row in conn.execute(query)})
        return found

    def purge(self, before: datetime, limit: int) -> int:
        """Delete one batch of inbound messages and one of challenges older than `before`."""
        deleted = 0
        for statement in self.sql.purge:
            with self.begin() as tx:
                deleted += tx.conn.execute(statement, {"before": before, "limit": limit}).rowcount
        return deleted

    def ping(self) -> None:
        with self._read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def _one(self, query: Any, params: dict[str, Any]) -> Challenge | None:
        with self._read() as conn:
            row = conn.execute(query, params).first()
        return None if row is None else to_challenge(row)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.reader.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from exc


class SqlTx(AppsTx, OutboxTx, CreationTx, InboundTx):
    """One write transaction on a connection."""

    def __init__(self, conn: Connection, sql: Statements) -> None:
        self.conn = conn
        self.sql = sql

    def add_challenge(self, challenge: Challenge) -> bool:
        inserted = self.conn.execute(self.sql.add_challenge, from_challenge(challenge)).scalar()
        return inserted is not None

    def add_inbound(
        self,
        message: InboundMessage,
        received_at: datetime,
        outcome: Outcome | None = None,
        challenge_id: str | None = None,
    ) -> int | None:
        values = {
            "provider": message.provider,
            "message_id": message.message_id,
            "sender": message.sender[:64],
            "recipient": message.to[:64],
            "text": message.text,
            "outcome": "received" if outcome is None else outcome.value,
            "challenge_id": challenge_id,
            "received_at": received_at,
            "raw": message.raw,
        }
        inbound_id = self.conn.execute(self.sql.add_inbound, values).scalar()
        return None if inbound_id is None else int(inbound_id)

    def set_outcome(self, inbound_id: int, outcome: Outcome, challenge_id: str | None) -> None:
        params = {"inbound_id": inbound_id, "b_outcome": outcome.value, "cid": challenge_id}
        self.conn.execute(self.sql.set_outcome, params)

    def find_by_code(self, number: str, code_hashes: list[str]) -> Challenge | None:
        row = self.conn.execute(*self.sql.find_by_code(code_hashes, number=number)).first()
        return None if row is None else to_challenge(row)

    def verify_by_code(
        self, number: str, code_hashes: list[str], phone: str, now: datetime, channel: str = "sms"
    ) -> Challenge | None:
        statement = self.sql.verify_by_code(
            code_hashes,
            b_number=number,
            b_phone=phone,
            now=now,
            b_channel=channel,
            b_method=inbound_method(channel).value,
        )
        row = self.conn.execute(*statement).first()
        return None if row is None else to_challenge(row)

    def verify(self, challenge_id: str, phone: str, now: datetime, channel: str = "sms") -> bool:
        params = {
            "cid": challenge_id,
            "b_phone": phone,
            "now": now,
            "b_channel": channel,
            "b_method": inbound_method(channel).value,
        }
        return self.conn.execute(self.sql.verify, params).rowcount == 1

    def verify_checked(self, challenge_id: str, method: str, now: datetime) -> Challenge | None:
        if method == Method.EMAIL.value:
            params: dict[str, Any] = {"cid": challenge_id, "now": now}
            row = self.conn.execute(self.sql.verify_emailed, params).first()
            return None if row is None else to_challenge(row)
        params = {"cid": challenge_id, "b_method": method, "now": now}
        row = self.conn.execute(self.sql.verify_checked, params).first()
        return None if row is None else to_challenge(row)

    def count_attempt(self, challenge_id: str, now: datetime) -> Challenge | None:
        params = {"cid": challenge_id, "now": now}
        row = self.conn.execute(self.sql.count_attempt, params).first()
        return None if row is None else to_challenge(row)

    def end(self, challenge_id: str, status: Status, now: datetime) -> bool:
        params = {"cid": challenge_id, "b_status": status.value, "now": now}
        return self.conn.execute(self.sql.end, params).rowcount == 1

    def hit_counter(
        self, key: str, window: int, now: datetime, amount: int
    ) -> tuple[int, datetime]:
        return counters.hit(self.conn, self.sql.upsert, key, window, now, amount)

    def peek_counter(self, key: str, now: datetime) -> tuple[int, datetime] | None:
        return counters.peek(self.conn, key, now)

    def renew(self, challenge: Challenge, now: datetime) -> bool:
        params = {
            "cid": challenge.id,
            "b_code_hash": challenge.code_hash,
            "b_code_sealed": challenge.code_sealed,
            "now": now,
        }
        try:
            with self.conn.begin_nested():
                return self.conn.execute(self.sql.renew, params).rowcount == 1
        except IntegrityError:
            return False

    def add_part(
        self, part: MessagePart, received_at: datetime
    ) -> tuple[str, dict[int, tuple[str, str]]]:
        provider = part.message.provider
        stored = self.conn.execute(
            select(message_parts.c.group_key).where(
                message_parts.c.provider == provider,
                message_parts.c.message_id == part.message.message_id,
            )
        ).scalar()
        if stored is not None:  # a retry: read the group it belongs to, open or closed
            return stored, self._parts(provider, stored)
        key = part.group[:200]
        self.conn.execute(
            self.sql.upsert(message_part_groups)
            .values(provider=provider, group_key=key, total=part.total, created_at=received_at)
            .on_conflict_do_nothing(index_elements=["provider", "group_key"])
        )
        # Serialises the parts of one group (a no-op on SQLite, whose writes are serial).
        self.conn.execute(
            select(message_part_groups.c.total)
            .where(
                message_part_groups.c.provider == provider, message_part_groups.c.group_key == key
            )
            .with_for_update()
        )
        self.conn.execute(
            self.sql.upsert(message_parts)
            .values(
                provider=provider,
                group_key=key,
                part=part.index,
                message_id=part.message.message_id,
                text=part.message.text,
                received_at=received_at,
            )
            .on_conflict_do_nothing()
        )
        return key, self._parts(provider, key)

    def close_group(self, provider: str, key: str, closed_key: str) -> None:
        for table in (message_part_groups, message_parts):
            self.conn.execute(
                update(table)
                .where(table.c.provider == provider, table.c.group_key == key)
                .values(group_key=closed_key)
            )

    def set_part_texts(self, provider: str, key: str, texts: dict[int, str]) -> None:
        for index, text in texts.items():
            self.conn.execute(
                update(message_parts)
                .where(
                    message_parts.c.provider == provider,
                    message_parts.c.group_key == key,
                    message_parts.c.part == index,
                )
                .values(text=text)
            )

    def _parts(self, provider: str, key: str) -> dict[int, tuple[str, str]]:
        rows = self.conn.execute(
            select(message_parts.c.part, message_parts.c.message_id, message_parts.c.text).where(
                message_parts.c.provider == provider, message_parts.c.group_key == key
            )
        )
        return {int(r.part): (r.message_id, r.text) for r in rows}
