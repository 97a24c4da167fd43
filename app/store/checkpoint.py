"""SQLite WAL checkpoints in a thread of their own, not inside a request's commit.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with its
fsyncs) inside the commit that takes the log past `wal_autocheckpoint` pages: every thousand
pages or so one request's commit takes tens of milliseconds, and under gevent, where SQLite
calls do not yield, every other request of the worker waits with it. Request connections
checkpoint only as a backstop (a log of BACKSTOP_PAGES, if this thread fell behind or
died); a real thread (not a greenlet: SQLite releases the GIL while it works) checkpoints
every EVERY commits, PASSIVE, so it never waits for or blocks a writer or a reader. The
thread starts when commits call for it and ends after IDLE seconds without any.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import sqlite3
import sys
import threading
from typing import Any

EVERY = 100  # commits between checkpoints
BACKSTOP_PAGES = 20_000  # about 80 MB of log before a commit checkpoints by itself
IDLE = 30.0  # seconds without commits before the thread ends


def _real_threading() -> tuple[Any, Any]:
    """Return (start_new_thread, Event) of real threads, even under gevent's patches."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        start = monkey.get_original("_thread", "start_new_thread")
        event = monkey.get_original("threading", "Event")
        return start, event
    return _thread.start_new_thread, threading.Event


class Checkpointer:
    """Checkpoints one SQLite database's log from a background thread."""

    def __init__(self, path: str, every: int = EVERY, idle: float = IDLE) -> None:
        self.path = path
        self.every = every
        self.idle = idle
        self.checkpoints = 0  # completed, for tests and diagnostics
        self._commits = 0
        self._pid = -1
        self._running = False
        self._mutex = threading.Lock()
        self._start, event = _real_threading()
        self._wake = event()
        self._stopped = False

    def committed(self) -> None:
        """Count a commit; every `every` commits, wake the thread (starting it if needed)."""
        self._commits += 1
        if self._commits < self.every or self._stopped:
            return
        self._commits = 0
        self._wake.set()
        if not self._running or self._pid != os.getpid():  # a forked child has no thread
            self._pid, self._running = os.getpid(), True
            self._start(self._loop, ())

    def run_once(self) -> tuple[int, int, int]:
        """Checkpoint now, PASSIVE; return SQLite's (busy, log frames, frames checkpointed)."""
        conn = sqlite3.connect(self.path, timeout=0, check_same_thread=False)
        try:
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
        self.checkpoints += 1
        return int(row[0]), int(row[1]), int(row[2])

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _loop(self) -> None:
        try:
            while self._wake.wait(self.idle) and not self._stopped:
                self._wake.clear()
                # A failure is tried again after the next commits; the backstop bounds the log.
                with contextlib.suppress(sqlite3.Error):
                    self.run_once()
        finally:
            self._running = False
