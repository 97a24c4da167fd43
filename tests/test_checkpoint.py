"""SQLite WAL checkpoints run in a thread of their own, not inside a request's commit."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import text

from app.store.checkpoint import Checkpointer
from app.store.sql import SqlStore

ROW = "x" * 3000  # most of a page per row: the log grows by a page or more per commit


def store_on(tmp_path, every: int) -> SqlStore:
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.create_schema()
    with store.begin() as tx:
        tx.conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    assert store._checkpointer is not None
    store._checkpointer.every = every
    return store


def write(store: SqlStore, commits: int) -> None:
    for _ in range(commits):
        with store.begin() as tx:
            tx.conn.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": ROW})


def test_commits_do_not_checkpoint_past_sqlites_default(tmp_path):
    store = store_on(tmp_path, every=10**9)  # the thread never called
    write(store, 1500)  # past SQLite's default of 1000 pages, where a commit would checkpoint
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    frames = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    conn.close()
    store.dispose()
    # A commit that had checkpointed would have started the log again from its beginning.
    assert frames[1] >= 1500


def test_the_thread_copies_the_log_back_after_enough_commits(tmp_path):
    store = store_on(tmp_path, every=50)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    done = threading.Event()
    original = checkpointer.run_once

    def observed() -> tuple[int, int, int]:
        found = original()
        done.set()
        return found

    checkpointer.run_once = observed  # type: ignore[method-assign]
    write(store, 49)
    assert checkpointer.checkpoints == 0
    write(store, 1)  # the 50th commit wakes the thread
    assert done.wait(30)
    busy, frames, copied = original()
    store.dispose()
    assert busy == 0 and copied == frames  # everything in the log is in the database file


def test_a_checkpoint_in_progress_does_not_block_writers(tmp_path):
    store = store_on(tmp_path, every=10**9)
    write(store, 200)
    reader = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM filler").fetchone()  # holds a snapshot
    assert Checkpointer(str(tmp_path / "db.sqlite")).run_once()[0] == 0  # PASSIVE: no wait
    write(store, 5)  # writers go on while the snapshot is held
    reader.execute("COMMIT")
    reader.close()
    store.dispose()
