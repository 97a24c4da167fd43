"""The SQLite write lock serves writers in arrival order, with threads and with gevent.

A plain lock (and gevent's, behind a monkeypatched `threading.Lock`) lets the writer that
has just released it, or a fresh one, take it again ahead of those waiting: under a steady
stream of writers a waiting one can wait for seconds.
"""

from __future__ import annotations

import threading
import time

from app.store.writelock import WriteLock
from tests.gevent_scripts import run_gevent_script


def wait_until(condition) -> None:
    for _ in range(5000):
        if condition():
            return
        time.sleep(0.001)
    raise AssertionError("condition not met")


def test_threads_get_the_lock_in_arrival_order_not_the_one_asking_again(tmp_path):
    lock = WriteLock(str(tmp_path / "db.sqlite"))
    order: list[str] = []

    def writer(name: str) -> None:
        with lock.held():
            order.append(name)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    with lock.held():
        for i, thread in enumerate(threads):
            thread.start()
            wait_until(lambda i=i: lock.waiting == i + 1)  # queued in this order
    for _ in range(3):  # the releasing thread asks again at once, every time
        with lock.held():
            order.append("again")
    for thread in threads:
        thread.join()
    lock.close()
    assert order == ["w0", "w1", "w2", "again", "again", "again"]


def test_a_lock_wait_that_times_out_leaves_the_line(tmp_path):
    lock = WriteLock(str(tmp_path / "db.sqlite"), timeout=0.05)
    outcome: list[str] = []

    def writer() -> None:
        try:
            with lock.held():
                outcome.append("got it")
        except Exception as exc:
            outcome.append(type(exc).__name__)

    with lock.held():
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join()
    assert outcome == ["StoreUnavailable"]
    assert lock.waiting == 0
    with lock.held():  # the lock is free again, not handed to the writer that left
        pass
    lock.close()


GEVENT_SCRIPT = """
from gevent import monkey; monkey.patch_all()
import sys, gevent
from app.store.writelock import WriteLock

lock = WriteLock(sys.argv[1])
order, ticks = [], []

def waiter(name):
    with lock.held():
        order.append(name)

def hog():
    for i in range(5):
        with lock.held():
            if i == 0:
                gevent.sleep(0.05)  # holding the lock while the others arrive and queue
                ticks_while_held = len(ticks)
                assert ticks_while_held > 0, "other greenlets stalled during the wait"
            order.append("hog")

def ticker():
    for _ in range(20):
        ticks.append(1)
        gevent.sleep(0.001)

greenlets = [gevent.spawn(hog), gevent.spawn(ticker)]
greenlets += [gevent.spawn(waiter, f"w{i}") for i in range(3)]
gevent.joinall(greenlets, raise_error=True)
print(",".join(order))
"""


def test_greenlets_get_the_lock_in_arrival_order_and_others_run_meanwhile(tmp_path):
    printed = run_gevent_script(tmp_path, GEVENT_SCRIPT)
    assert printed.split() == ["hog,w0,w1,w2,hog,hog,hog,hog"]


KILLED_SCRIPT = """
from gevent import monkey; monkey.patch_all()
import sys, gevent
from app.store.writelock import WriteLock

lock = WriteLock(sys.argv[1], timeout=5)
order = []

def writer(name):
    with lock.held():
        order.append(name)

lock.acquire()
doomed = gevent.spawn(writer, "doomed")
after = gevent.spawn(writer, "after")
gevent.sleep(0.01)  # both wait, in this order
doomed.kill()
lock.release()
after.join()
print(",".join(order), lock.waiting)
"""


def test_a_writer_killed_while_waiting_does_not_hold_up_the_ones_behind_it(tmp_path):
    printed = run_gevent_script(tmp_path, KILLED_SCRIPT)
    assert printed.split() == ["after", "0"]
