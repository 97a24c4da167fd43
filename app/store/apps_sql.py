"""SQL for apps and their API keys (mixed into SqlStore and SqlTx)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from app.domain.apps import DEFAULT_APP_ID, App
from app.store.rows import from_app, to_app
from app.store.tables import api_keys, apps


class _HasConn(Protocol):
    conn: Connection


class _Store(Protocol):
    def begin(self) -> AbstractContextManager[Any]: ...

    def _read(self) -> AbstractContextManager[Connection]: ...


class AppsSql:
    """Store methods for apps and keys."""

    def add_app(self: _Store, app: App) -> None:
        with self.begin() as tx:
            tx.conn.execute(insert(apps).values(**from_app(app)))

    def app(self: _Store, app_id: str) -> App | None:
        with self._read() as conn:
            row = conn.execute(select(apps).where(apps.c.id == app_id)).first()
        return None if row is None else to_app(row)

    def list_apps(self: _Store) -> list[App]:
        with self._read() as conn:
            rows = conn.execute(select(apps).order_by(apps.c.created_at, apps.c.id)).all()
        return [to_app(row) for row in rows]

    def revoke_app(self: _Store, app_id: str, now: datetime) -> bool:
        with self.begin() as tx:
            query = update(apps).where(apps.c.id == app_id, apps.c.revoked_at.is_(None))
            done = tx.conn.execute(query.values(revoked_at=now)).rowcount == 1
            _revoke_keys(tx.conn, app_id, now)
        return bool(done)

    def add_app_key(self: _Store, key_hash: str, name: str, app_id: str, now: datetime) -> None:
        values = {"key_hash": key_hash, "name": name, "created_at": now, "app_id": app_id}
        with self.begin() as tx:
            tx.conn.execute(insert(api_keys).values(**values))

    def set_callback_secret(
        self: _Store, app_id: str, secret: str, old: str | None, old_until: datetime
    ) -> None:
        query = update(apps).where(apps.c.id == app_id)
        values = {"callback_secret": secret, "old_callback_secret": old}
        with self.begin() as tx:
            tx.conn.execute(query.values(**values, old_secret_until=old_until))

    def revoke_app_keys(self: _Store, app_id: str, now: datetime) -> int:
        with self.begin() as tx:
            return _revoke_keys(tx.conn, app_id, now)

    def key_counts(self: _Store) -> dict[str, int]:
        owner = func.coalesce(api_keys.c.app_id, DEFAULT_APP_ID)
        query = select(owner, func.count()).where(api_keys.c.revoked_at.is_(None)).group_by(owner)
        with self._read() as conn:
            return {str(app_id): int(n) for app_id, n in conn.execute(query).all()}

    def api_key_app(self: _Store, key_hash: str) -> str | None:
        query = select(api_keys.c.app_id).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row[0] or DEFAULT_APP_ID)


class AppsTx:
    """Transaction methods for apps."""

    def app(self: _HasConn, app_id: str) -> App | None:
        row = self.conn.execute(select(apps).where(apps.c.id == app_id)).first()
        return None if row is None else to_app(row)


def _revoke_keys(conn: Connection, app_id: str, now: datetime) -> int:
    query = update(api_keys).where(api_keys.c.app_id == app_id, api_keys.c.revoked_at.is_(None))
    return int(conn.execute(query.values(revoked_at=now)).rowcount)
