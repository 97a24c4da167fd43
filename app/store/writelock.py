"""One SQLite writer at a time, handed over at once instead of by SQLite's busy handler.

SQLite lets one transaction write at a time. A writer that finds the database locked sleeps
in SQLite's busy handler for 1, 2, 5, 10 ... up to 100 ms between tries, so under load most
of a webhook's time is spent asleep after the lock is already free. Queueing writers on a
thread lock (this process) and an flock on a file next to the database (other processes)
hands the lock over as soon as it is released. Waits use short `time.sleep` steps, which
gevent makes cooperative, so a waiting greenlet never stalls its worker. Processes that do
not take this lock (another tool, an older version) still meet SQLite's busy timeout.

In a process, writers are served in arrival order: a released lock goes to the writer that
waited longest, not to whichever thread or greenlet asks next. A plain lock (and gevent's,
which monkeypatching puts behind `threading.Lock`) lets a writer that has just released it,
or a fresh one, take it again ahead of the waiters, which can then wait for seconds.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from app.store.base import StoreUnavailable

STEP = 0.0005  # seconds between tries for another process's lock


class FifoLock:
    """A lock handed over to its waiters in arrival order (threads, or greenlets under gevent)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    @property
    def waiting(self) -> int:
        """How many are waiting for the lock."""
        return len(self._waiters)

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        try:
            if turn.wait(timeout):
                return True
        except BaseException:  # interrupted (a greenlet killed): leave the line, or pass on
            with self._mutex:
                if turn.is_set():
                    self._release_locked()
                else:
                    self._waiters.remove(turn)
            raise
        with self._mutex:
            if turn.is_set():  # handed over as the wait ended
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            self._release_locked()

    def _release_locked(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()  # held still: it passes to the longest waiter
        else:
            self._held = False

    def pass_on(self) -> bool:
        """Hand the lock to the longest waiter and return True; False (still held) if none."""
        with self._mutex:
            if not self._waiters:
                return False
            self._waiters.popleft().set()
            return True


class WriteLock:
    """A lock shared by every process that writes one SQLite file."""

    def __init__(self, database_path: str, timeout: float = 10.0) -> None:
        self.path = database_path + "-writer.lock"
        self.timeout = timeout
        self._thread_lock = FifoLock()
        self._fd = -1
        self._pid = -1

    @property
    def waiting(self) -> int:
        """How many writers of this process wait for the lock."""
        return self._thread_lock.waiting

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block; raise StoreUnavailable after `timeout` seconds."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        """Take the lock (this process's turn, then the file's); StoreUnavailable on timeout."""
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise StoreUnavailable("database is busy: no write lock within the timeout")
        try:
            # Taken again by a writer it was passed on to: flock on a file this process
            # already holds locked succeeds at once.
            self._acquire(self._file(), deadline)
        except BaseException:
            self._thread_lock.release()
            raise

    def pass_on(self) -> bool:
        """Hand the lock, the file's included, to the writer of this process that waited
        longest; return False (the lock still held) when none waits."""
        return self._thread_lock.pass_on()

    def release(self) -> None:
        """Let the lock go, to other processes too."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def _file(self) -> int:
        # A forked child shares its parent's open file, and with it any flock: reopen.
        if self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StoreUnavailable(f"cannot open the write lock: {exc.strerror}") from None
            self._pid = os.getpid()
        return self._fd

    @staticmethod
    def _acquire(fd: int, deadline: float) -> None:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreUnavailable("database is busy: no write lock in time") from None
                time.sleep(STEP)

    def close(self) -> None:
        if self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = -1, -1
