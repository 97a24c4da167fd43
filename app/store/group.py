"""Group commit for SQLite: the writers waiting together share one transaction and one fsync.

SQLite writes one transaction at a time, and with `synchronous=FULL` every commit waits for
the disk (an fsync of the log, milliseconds here). Writers queue for the write lock in arrival
order. The first opens the transaction (BEGIN IMMEDIATE) and runs its block; if others are
waiting by then, it hands the open transaction to the next, which runs its block inside a
SAVEPOINT (a failure rolls back only its own work), and so on; the last commits, once, for
all. Every member leaves its `with` only after that commit, and if the commit fails every
member gets StoreUnavailable: a request is answered only once its write is on disk, never
for a write that was lost. A lone writer pays no SAVEPOINT: BEGIN IMMEDIATE, its statements,
COMMIT. If the first member fails, nobody has joined yet: it rolls the transaction back.

Under gevent the commit (and its fsync) runs in a thread of gevent's pool, where SQLite
releases the GIL, so the worker's other requests go on meanwhile and the writers arriving
during the commit form the next group.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DBAPIError, OperationalError

from app.store.base import StoreUnavailable
from app.store.writelock import WriteLock

MAX_MEMBERS = 64  # a group closes at this size; the writers still waiting form the next one


class Group:
    """One open transaction and the writers that have put their work in it."""

    def __init__(self, conn: Connection, transaction: RootTransaction) -> None:
        self.conn = conn
        self.transaction = transaction
        self.members = 1
        self.done = threading.Event()
        self.error: str | None = None  # why the commit failed, when it did


def _off_the_hub(work: Callable[[], None]) -> None:
    """Run `work` in gevent's thread pool when gevent patched threading, else right here."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        pending = gevent.get_hub().threadpool.spawn(work)
        try:
            pending.get()
        except BaseException:
            if not pending.ready():  # interrupted: the thread still uses the connection
                pending.wait()
            raise
    else:
        work()


class GroupCommit:
    """Write transactions on one SQLite file, committed in groups (see the module)."""

    def __init__(self, engine: Engine, lock: WriteLock, on_commit: Callable[[], None]) -> None:
        self.engine = engine
        self.lock = lock
        self.on_commit = on_commit
        self.commits = 0  # completed group commits, for tests and diagnostics
        self._open: Group | None = None  # the transaction being handed on, between members

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Run the block in a write transaction; return only once it is committed."""
        self.lock.acquire()
        group = self._open
        if group is None:
            with self._leading() as group:
                yield group.conn
        else:
            group.members += 1
            try:
                with self._joined(group):
                    yield group.conn
            finally:
                self._hand_on(group)
        group.done.wait()
        if group.error is not None:
            raise StoreUnavailable(group.error)

    @contextmanager
    def _leading(self) -> Iterator[Group]:
        try:
            conn = self.engine.connect()
            try:
                group = Group(conn, conn.begin())  # BEGIN IMMEDIATE (engines.py's hook)
            except BaseException:
                conn.invalidate()
                raise
        except BaseException as exc:
            self.lock.release()
            if isinstance(exc, OperationalError):
                raise StoreUnavailable(str(exc.orig)) from exc
            raise
        try:
            yield group
        except BaseException as exc:
            self._open = None  # nobody joined: the whole transaction is this writer's
            try:
                group.transaction.rollback()
            finally:
                group.conn.close()
                group.done.set()
                self.lock.release()
            if isinstance(exc, OperationalError):
                raise StoreUnavailable(str(exc.orig)) from exc
            raise
        self._hand_on(group)

    @contextmanager
    def _joined(self, group: Group) -> Iterator[None]:
        savepoint = group.conn.begin_nested()
        try:
            yield
        except BaseException as exc:
            try:
                savepoint.rollback()
            except DBAPIError as lost:  # SQLite dropped the whole transaction (disk I/O, full)
                group.error = f"the transaction was lost: {lost.orig}"
            if isinstance(exc, OperationalError):
                raise StoreUnavailable(str(exc.orig)) from exc
            raise
        try:
            savepoint.commit()  # RELEASE
        except DBAPIError as exc:
            group.error = f"the transaction was lost: {exc.orig}"

    def _hand_on(self, group: Group) -> None:
        """Pass the open transaction to the next waiting writer, or commit it for all."""
        if group.error is None and group.members < MAX_MEMBERS:
            self._open = group
            if self.lock.pass_on():
                return
        self._open = None
        try:
            if group.error is None:
                _off_the_hub(group.transaction.commit)
                self.commits += 1
                self.on_commit()
            else:
                group.transaction.rollback()
        except DBAPIError as exc:
            group.error = f"commit failed: {exc.orig}"
        except BaseException:  # interrupted: whether it is on disk is unknown, so it failed
            group.error = "commit interrupted"
            raise
        finally:
            if group.error is not None:
                # SQLite can keep a failed transaction open (a deferred constraint) and
                # SQLAlchemy does not always roll it back: closing the connection does.
                group.conn.invalidate()
            group.conn.close()
            group.done.set()
            self.lock.release()
