"""SQLAlchemy engines for a database URL, and SQLite's settings and transaction hooks.

On SQLite every write transaction starts with BEGIN IMMEDIATE: a deferred transaction that
reads then writes can fail with SQLITE_BUSY_SNAPSHOT in WAL mode, which the busy timeout does
not retry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from app.store.checkpoint import BACKSTOP_PAGES


def make_engines(url: str, pool_size: int = 10) -> tuple[Engine, Engine]:
    """Return (writer, reader) engines for a URL: on PostgreSQL one pool, the reader in
    autocommit; on SQLite two engines (the writer begins IMMEDIATE transactions)."""
    if not url.startswith("sqlite"):
        # No pre-ping: it would add a round trip to every request. A connection the server
        # dropped fails one request (a webhook answers 503 and the provider retries) and the
        # pool then replaces it; recycling keeps connections younger than common idle limits.
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=1800,
            pool_timeout=10,
            hide_parameters=True,  # SQL logs and errors never show codes' texts or numbers
        )
        # Reads run in autocommit: one round trip each, instead of BEGIN, the query and the
        # ROLLBACK that returns the connection to the pool. Under READ COMMITTED every
        # statement had its own snapshot anyway, so no read loses a consistency it had.
        return engine, engine.execution_options(isolation_level="AUTOCOMMIT")
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
    # A commit returns once its log is on disk (fsync); group.py shares that fsync among
    # the writers waiting together.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Checkpoints run in a thread of their own (checkpoint.py); a commit does one only
    # when the log has grown far past SQLite's default (the thread fell behind).
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
