"""One SQLite writer at a time, handed over at once instead of by SQLite's busy handler.

SQLite lets one transaction write at a time. A writer that finds the database locked sleeps
in SQLite's busy handler for 1, 2, 5, 10 ... up to 100 ms between tries, so under load most
of a webhook's time is spent asleep after the lock is already free. Queueing writers on a
thread lock (this process) and an flock on a file next to the database (other processes)
hands the lock over as soon as it is released. Waits use short `time.sleep` steps, which
gevent makes cooperative, so a waiting greenlet never stalls its worker. Processes that do
not take this lock (another tool, an older version) still meet SQLite's busy timeout.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.store.base import StoreUnavailable

STEP = 0.0005  # seconds between tries for another process's lock


class WriteLock:
    """A lock shared by every process that writes one SQLite file."""

    def __init__(self, database_path: str, timeout: float = 10.0) -> None:
        self.path = database_path + "-writer.lock"
        self.timeout = timeout
        self._thread_lock = threading.Lock()
        self._fd = -1
        self._pid = -1

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block; raise StoreUnavailable after `timeout` seconds."""
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise StoreUnavailable("database is busy: no write lock within the timeout")
        try:
            fd = self._file()
            self._acquire(fd, deadline)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
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
