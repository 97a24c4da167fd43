"""SQLite group commit: the writers waiting together share one transaction and one commit;
each returns only after that commit; a failing member loses only its own work; a failed
commit fails every member."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import event, text

from app.store.base import StoreUnavailable
from app.store.sql import SqlStore
from tests.gevent_scripts import run_gevent_script


@pytest.fixture
def store(tmp_path):
    found = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    found.create_schema()
    with found.begin() as tx:
        tx.conn.execute(text("CREATE TABLE notes (who TEXT)"))
        tx.conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        tx.conn.execute(text("CREATE TABLE child (pid INTEGER REFERENCES parent (id))"))
    yield found
    found.dispose()


def notes(store: SqlStore) -> list[str]:
    """What is on disk, read by a connection of its own."""
    conn = sqlite3.connect(store.writer.url.database)
    try:
        return sorted(row[0] for row in conn.execute("SELECT who FROM notes"))
    finally:
        conn.close()


def wait_until(condition) -> None:
    for _ in range(10_000):
        if condition():
            return
        time.sleep(0.001)
    raise AssertionError("condition not met")


class Writers:
    """A first writer that holds its transaction open until the others queue behind it."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.commits = 0
        self.outcomes: dict[str, object] = {}
        self.commits_seen: dict[str, int] = {}
        event.listen(store.writer, "commit", self._count)

    def _count(self, _conn) -> None:
        self.commits += 1

    def write(self, who: str, fail: Exception | None = None, work=None) -> None:
        try:
            with self.store.begin() as tx:
                tx.conn.execute(text("INSERT INTO notes VALUES (:w)"), {"w": who})
                if work is not None:
                    work(tx)
                if fail is not None:
                    raise fail
            self.outcomes[who] = "ok"
            self.commits_seen[who] = self.commits  # as the `with` returned
        except Exception as exc:
            self.outcomes[who] = exc

    def run(self, first: dict, others: list[dict]) -> None:
        """`first` writes and, inside its block, waits for all `others` to queue."""
        lock = self.store._lock
        assert lock is not None
        threads = [threading.Thread(target=self.write, kwargs=o) for o in others]

        def hold(tx) -> None:
            for i, thread in enumerate(threads):
                thread.start()
                wait_until(lambda i=i: lock.waiting == i + 1)  # queued in this order
            if first.get("work"):
                first["work"](tx)

        self.write(first["who"], first.get("fail"), hold)
        for thread in threads:
            thread.join(30)


def test_writers_waiting_together_commit_once_and_return_after_the_commit(store):
    writers = Writers(store)
    writers.run({"who": "first"}, [{"who": f"w{i}"} for i in range(3)])
    assert writers.outcomes == dict.fromkeys(["first", "w0", "w1", "w2"], "ok")
    assert writers.commits == 1
    assert writers.commits_seen == dict.fromkeys(["first", "w0", "w1", "w2"], 1)
    assert notes(store) == ["first", "w0", "w1", "w2"]


def test_a_failing_member_rolls_back_only_its_own_work(store):
    writers = Writers(store)
    broken = ValueError("member fails")
    writers.run({"who": "first"}, [{"who": "w0"}, {"who": "w1", "fail": broken}, {"who": "w2"}])
    assert writers.outcomes["w1"] is broken  # its own exception, as it raised it
    assert {k: v for k, v in writers.outcomes.items() if k != "w1"} == {
        "first": "ok",
        "w0": "ok",
        "w2": "ok",
    }
    assert writers.commits == 1
    assert notes(store) == ["first", "w0", "w2"]


def test_a_failing_first_writer_rolls_back_alone_and_the_others_commit(store):
    writers = Writers(store)
    broken = ValueError("first fails")
    writers.run({"who": "first", "fail": broken}, [{"who": "w0"}, {"who": "w1"}])
    assert writers.outcomes == {"first": broken, "w0": "ok", "w1": "ok"}
    assert notes(store) == ["w0", "w1"]
    assert writers.commits == 1  # the two who waited, together


def test_a_failed_commit_fails_every_member_and_writes_nothing(store):
    def orphan(tx) -> None:  # only the commit finds it: a deferred foreign key
        tx.conn.execute(text("PRAGMA defer_foreign_keys=ON"))
        tx.conn.execute(text("INSERT INTO child VALUES (42)"))

    writers = Writers(store)
    writers.run({"who": "first", "work": orphan}, [{"who": "w0"}, {"who": "w1"}])
    assert set(writers.outcomes) == {"first", "w0", "w1"}
    assert all(isinstance(v, StoreUnavailable) for v in writers.outcomes.values())
    assert notes(store) == []
    with store.begin() as tx:  # the write lock and the database are free again
        tx.conn.execute(text("INSERT INTO notes VALUES ('after')"))
    assert notes(store) == ["after"]


def test_a_lone_writer_pays_no_savepoint(store):
    sent: list[str] = []
    event.listen(store.writer, "before_cursor_execute", lambda *a: sent.append(a[2]))
    with store.begin() as tx:
        tx.conn.execute(text("INSERT INTO notes VALUES ('alone')"))
    assert sent == ["BEGIN IMMEDIATE", "INSERT INTO notes VALUES ('alone')"]
    assert notes(store) == ["alone"]


GEVENT_SCRIPT = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
from sqlalchemy import event, text
from app.store.sql import SqlStore

real_sleep = monkey.get_original("time", "sleep")
store = SqlStore("sqlite:///" + sys.argv[1])
store.create_schema()
with store.begin() as tx:
    tx.conn.execute(text("CREATE TABLE notes (who TEXT)"))
commits, ticks, during = [], [], []

@event.listens_for(store.writer, "commit")
def slow_disk(conn):  # the commit's fsync, made slow: it blocks the thread that runs it
    start = len(ticks)
    real_sleep(0.3)
    during.append(len(ticks) - start)
    commits.append(1)

def write(who):
    with store.begin() as tx:
        tx.conn.execute(text("INSERT INTO notes VALUES (:w)"), {"w": who})

def ticker():
    for _ in range(400):
        ticks.append(1)
        gevent.sleep(0.001)

first = gevent.spawn(write, "first")
tick = gevent.spawn(ticker)
gevent.sleep(0.05)  # the first commit is in progress: these queue and form one group
others = [gevent.spawn(write, f"w{i}") for i in range(3)]
gevent.joinall([first, *others], raise_error=True)
tick.kill()
found = [r[0] for r in store.reader.connect().execute(text("SELECT who FROM notes"))]
print(len(commits), min(during), sorted(found))
"""


def test_under_gevent_a_commit_lets_the_worker_run_and_the_writers_queued_meanwhile_commit_together(
    tmp_path,
):
    printed = run_gevent_script(tmp_path, GEVENT_SCRIPT, timeout=120)
    commits, ticks_during_a_commit, found = printed.split(" ", 2)
    assert commits == "2"  # the first alone, then the three that queued during its commit
    assert int(ticks_during_a_commit) > 0  # other greenlets ran while the disk was awaited
    assert found.strip() == "['first', 'w0', 'w1', 'w2']"
