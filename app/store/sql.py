"""The SQL store: SQLite or PostgreSQL through SQLAlchemy Core; the only module that writes SQL.

State changes are single conditional statements (`UPDATE ... WHERE status = 'pending'`), so
two concurrent deliveries can never both win, whatever the engine. On SQLite every write
transaction starts with BEGIN IMMEDIATE: a deferred transaction that reads then writes can
fail with SQLITE_BUSY_SNAPSHOT in WAL mode, which the busy timeout does not retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.challenges import Challenge, InboundMessage, Outcome, Status
from app.domain.parts import MessagePart
from app.store import counters
from app.store.apps_sql import AppsSql, AppsTx
from app.store.base import StoreUnavailable
from app.store.outbox_sql import OutboxSql, OutboxTx
from app.store.tables import (
    api_keys,
    challenges,
    inbound_messages,
    message_part_groups,
    message_parts,
)

PENDING = Status.PENDING.value


def make_engines(url: str, pool_size: int = 10) -> tuple[Engine, Engine]:
    """Return (writer, reader) engines for a URL; they are one engine except on SQLite."""
    if not url.startswith("sqlite"):
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            hide_parameters=True,  # SQL logs and errors never show codes' texts or numbers
        )
        return engine, engine
    args = {"check_same_thread": False, "timeout": 10}
    writer = create_engine(url, connect_args=args, hide_parameters=True)
    reader = create_engine(url, connect_args=args, hide_parameters=True)
    for engine in (writer, reader):
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(writer, "connect", _sqlite_manual_transactions)
    event.listen(writer, "begin", _sqlite_begin_immediate)
    return writer, reader


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class SqlStore(AppsSql, OutboxSql):
    """Store on a SQLAlchemy URL."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.writer, self.reader = make_engines(url, pool_size)
        self._insert = pg_insert if self.writer.dialect.name == "postgresql" else sqlite_insert

    def create_schema(self) -> None:
        """Bring the database to the current schema by running the migrations."""
        from app.store import migrate  # Alembic loads only when a schema change is asked for

        migrate.upgrade(self.writer)

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()

    @contextmanager
    def begin(self) -> Iterator[SqlTx]:
        try:
            with self.writer.begin() as conn:
                yield SqlTx(conn, self._insert)
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from exc

    def challenge(self, challenge_id: str) -> Challenge | None:
        return self._one(select(challenges).where(challenges.c.id == challenge_id))

    def challenge_by_token(self, token_hashes: list[str]) -> Challenge | None:
        return self._one(select(challenges).where(challenges.c.token_hash.in_(token_hashes)))

    def add_api_key(self, key_hash: str, name: str, now: datetime) -> None:
        with self.begin() as tx:
            tx.conn.execute(insert(api_keys).values(key_hash=key_hash, name=name, created_at=now))

    def api_key_valid(self, key_hashes: list[str]) -> bool:
        query = select(api_keys.c.id).where(
            api_keys.c.key_hash.in_(key_hashes), api_keys.c.revoked_at.is_(None)
        )
        with self._read() as conn:
            return conn.execute(query).first() is not None

    def due_expiries(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(challenges.c.id)
            .where(challenges.c.status == PENDING, challenges.c.expires_at <= now)
            .order_by(challenges.c.expires_at)
            .limit(limit)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

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
        """Delete one batch of challenges and of inbound messages older than `before`."""
        deleted = 0
        for table, column in (
            (inbound_messages, inbound_messages.c.received_at),
            (challenges, challenges.c.created_at),
        ):
            batch = select(table.c.id).where(column < before).order_by(column).limit(limit)
            with self.begin() as tx:
                deleted += tx.conn.execute(delete(table).where(table.c.id.in_(batch))).rowcount
        return deleted

    def ping(self) -> None:
        with self._read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def _one(self, query: Any) -> Challenge | None:
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else to_challenge(row)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.reader.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from exc


class SqlTx(AppsTx, OutboxTx):
    """One write transaction on a connection."""

    def __init__(self, conn: Connection, insert_fn: Any) -> None:
        self.conn = conn
        self._insert = insert_fn

    def add_challenge(self, challenge: Challenge) -> bool:
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(challenges).values(**from_challenge(challenge)))
        except IntegrityError:
            return False
        return True

    def add_inbound(self, message: InboundMessage, received_at: datetime) -> int | None:
        values = {
            "provider": message.provider,
            "message_id": message.message_id,
            "sender": message.sender[:64],
            "recipient": message.to[:64],
            "text": message.text,
            "outcome": "received",
            "received_at": received_at,
            "raw": message.raw,
        }
        query = (
            self._insert(inbound_messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["provider", "message_id"])
            .returning(inbound_messages.c.id)
        )
        inbound_id = self.conn.execute(query).scalar()
        return None if inbound_id is None else int(inbound_id)

    def set_outcome(self, inbound_id: int, outcome: Outcome, challenge_id: str | None) -> None:
        self.conn.execute(
            update(inbound_messages)
            .where(inbound_messages.c.id == inbound_id)
            .values(outcome=outcome.value, challenge_id=challenge_id)
        )

    def find_by_code(self, number: str, code_hashes: list[str]) -> Challenge | None:
        query = (
            select(challenges)
            .where(challenges.c.number == number, challenges.c.code_hash.in_(code_hashes))
            .order_by(
                case((challenges.c.status == PENDING, 0), else_=1),
                challenges.c.created_at.desc(),
            )
            .limit(1)
        )
        row = self.conn.execute(query).first()
        return None if row is None else to_challenge(row)

    def verify(self, challenge_id: str, phone: str, now: datetime) -> bool:
        query = (
            update(challenges)
            .where(
                challenges.c.id == challenge_id,
                challenges.c.status == PENDING,
                challenges.c.expires_at > now,
                (challenges.c.phone.is_(None)) | (challenges.c.phone == phone),
            )
            .values(
                status=Status.VERIFIED.value, verified_phone=phone, verified_at=now, ended_at=now
            )
        )
        return self.conn.execute(query).rowcount == 1

    def count_attempt(self, challenge_id: str, now: datetime) -> Challenge | None:
        reached = challenges.c.attempts + 1 >= challenges.c.max_attempts
        query = (
            update(challenges)
            .where(challenges.c.id == challenge_id, challenges.c.status == PENDING)
            .values(
                attempts=challenges.c.attempts + 1,
                status=case((reached, Status.FAILED.value), else_=challenges.c.status),
                failure_reason=case((reached, "too_many_attempts"), else_=None),
                ended_at=case((reached, now), else_=None),
            )
            .returning(*challenges.c)
        )
        row = self.conn.execute(query).first()
        return None if row is None else to_challenge(row)

    def end(self, challenge_id: str, status: Status, now: datetime) -> bool:
        query = (
            update(challenges)
            .where(challenges.c.id == challenge_id, challenges.c.status == PENDING)
            .values(status=status.value, ended_at=now)
        )
        return self.conn.execute(query).rowcount == 1

    def count_pending(self, now: datetime) -> int:
        query = select(func.count()).where(
            challenges.c.status == PENDING, challenges.c.expires_at > now
        )
        return int(self.conn.execute(query).scalar_one())

    def hit_counter(
        self, key: str, window: int, now: datetime, amount: int
    ) -> tuple[int, datetime]:
        return counters.hit(self.conn, self._insert, key, window, now, amount)

    def peek_counter(self, key: str, now: datetime) -> tuple[int, datetime] | None:
        return counters.peek(self.conn, key, now)

    def renew(self, challenge: Challenge, now: datetime) -> bool:
        query = (
            update(challenges)
            .where(challenges.c.id == challenge.id, challenges.c.status == PENDING)
            .values(
                code_hash=challenge.code_hash,
                code_sealed=challenge.code_sealed,
                renewals=challenges.c.renewals + 1,
                renewed_at=now,
            )
        )
        try:
            with self.conn.begin_nested():
                return self.conn.execute(query).rowcount == 1
        except IntegrityError:
            return False

    def add_part(self, part: MessagePart, received_at: datetime) -> dict[int, tuple[str, str]]:
        provider, key = part.message.provider, part.group[:200]
        self.conn.execute(
            self._insert(message_part_groups)
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
            self._insert(message_parts)
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
        rows = self.conn.execute(
            select(message_parts.c.part, message_parts.c.message_id, message_parts.c.text).where(
                message_parts.c.provider == provider, message_parts.c.group_key == key
            )
        )
        return {int(r.part): (r.message_id, r.text) for r in rows}


def from_challenge(challenge: Challenge) -> dict[str, Any]:
    """Return a challenge as a table row."""
    return {
        "id": challenge.id,
        "number": challenge.number,
        "code_hash": challenge.code_hash,
        "token_hash": challenge.token_hash,
        "code_sealed": challenge.code_sealed,
        "phone": challenge.phone,
        "status": challenge.status.value,
        "attempts": challenge.attempts,
        "max_attempts": challenge.max_attempts,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "verified_phone": challenge.verified_phone,
        "verified_at": challenge.verified_at,
        "ended_at": challenge.ended_at,
        "failure_reason": challenge.failure_reason,
        "renewals": challenge.renewals,
        "renewed_at": challenge.renewed_at,
        "metadata": challenge.metadata,
        "app_id": challenge.app_id,
        "callback_url": challenge.callback_url,
    }


def to_challenge(row: Row[Any]) -> Challenge:
    """Return a table row as a challenge."""
    m = row._mapping
    return Challenge(
        id=m["id"],
        number=m["number"],
        code_hash=m["code_hash"],
        token_hash=m["token_hash"],
        code_sealed=bytes(m["code_sealed"]),
        phone=m["phone"],
        status=Status(m["status"]),
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        verified_phone=m["verified_phone"],
        verified_at=m["verified_at"],
        ended_at=m["ended_at"],
        failure_reason=m["failure_reason"],
        renewals=m["renewals"],
        renewed_at=m["renewed_at"],
        metadata=m["metadata"] or {},
        app_id=m["app_id"],
        callback_url=m["callback_url"],
    )
