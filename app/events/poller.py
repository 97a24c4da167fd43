"""Delivery across processes without a broker: one database poller per process.

Each process keeps its own subscribers (a MemoryBus). A single background thread (a greenlet
under gevent workers) reads, at a short interval, the statuses of the challenges that have
subscribers in this process, and publishes locally those that are no longer pending. It runs
only while there are local subscribers, holds a database connection only for the length of
one query, and never one poller per stream: 10,000 open streams cost one query per 500
challenges per interval. Subscribers tolerate duplicates (a stream sends a status once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.events.base import Handler, StatusChanged
from app.events.memory import MemoryBus
from app.ops.health import Health

log = logging.getLogger(__name__)

ReadFinal = Callable[[list[str]], dict[str, str]]


class StatusPoller:
    """Publish locally the final statuses other processes wrote to the database."""

    def __init__(
        self, local: MemoryBus, read_final: ReadFinal, interval: float, active: bool = True
    ) -> None:
        self.local = local
        self.interval = interval
        self._read_final = read_final
        self._active = active
        self._published: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def active(self) -> bool:
        return self._active

    def set_active(self, active: bool) -> None:
        """Turn polling on (for example while Redis is unreachable) or off."""
        self._active = active
        if active:
            self.wake()

    def wake(self) -> None:
        """Start the polling thread if there is work and it is not running."""
        with self._lock:
            if not self._active or self.interval <= 0 or self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="status-poller", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def poll_once(self) -> int:
        """Read the watched challenges once; publish each newly final status; return how many."""
        watched = self.local.subscribed()
        if not watched:
            self._published.clear()
            return 0
        final = self._read_final(watched)
        fresh = {cid: status for cid, status in final.items() if cid not in self._published}
        self._published.intersection_update(watched)
        self._published.update(fresh)
        for cid, status in fresh.items():
            self.local.publish(StatusChanged(cid, status))
        return len(fresh)

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.interval):
            if not self._active or not self.local.subscribed():
                break
            try:
                self.poll_once()
                failing = False
            except Exception:
                if not failing:  # once per outage, not every interval
                    log.exception("status poll failed; retrying")
                failing = True
        with self._lock:
            self._thread = None
        if self._active and self.local.subscribed() and not self._stop.is_set():
            self.wake()  # a subscriber arrived while the thread was leaving


class PollingBus:
    """In-process fan-out, plus a database poller that brings other processes' changes."""

    def __init__(self, local: MemoryBus, poller: StatusPoller) -> None:
        self.local = local
        self.poller = poller

    def health(self) -> Health:
        """Ok: the database it polls is checked on its own by readiness."""
        return Health()

    def publish(self, event: StatusChanged) -> None:
        self.local.publish(event)

    def subscribe(self, challenge_id: str, handler: Handler) -> Callable[[], None]:
        unsubscribe = self.local.subscribe(challenge_id, handler)
        self.poller.wake()
        return unsubscribe

    def close(self) -> None:
        self.poller.stop()
