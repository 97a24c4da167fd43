"""The live status of one challenge as Server-Sent Events, and the long-poll wait.

Both are plain generators and functions over three collaborators, so they are tested without
a server or a sleep: a `Waiter` (the challenge's queue of bus events), `read` (the current
status, which expires the challenge when its time is up) and `now` (the clock).

Stream contract:
- a `retry:` hint first, then the current status as an event named after it (`pending`,
  `verified`, ...) whose `id` is the status, so a late subscriber is never stale; a client
  reconnecting with `Last-Event-ID` equal to the current status is not sent it again;
- the status again whenever what it shows changes without a new status (an SMS from
  another number than the expected one counts an attempt);
- a comment line every `heartbeat` seconds while nothing happens, so proxies keep the
  connection open;
- the stream ends after a final status; at the expiry time it reads the status again (which
  expires the challenge) and so sends `expired` even if nothing else happened.
No database connection is held while waiting: `read` opens and closes its own.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.events.base import EventBus, StatusChanged

PENDING = "pending"
# After the expiry time, how long to wait before reading again when the store still says
# pending (another process has not yet written the expiry, or clocks disagree slightly).
EXPIRY_RECHECK = 0.5


@dataclass(frozen=True)
class Snapshot:
    """A challenge's status as a stream shows it."""

    status: str
    expires_at: datetime
    data: dict[str, Any]

    @property
    def final(self) -> bool:
        return self.status != PENDING


class Waiter(Protocol):
    def wait(self, timeout: float) -> StatusChanged | None:
        """Return the next event, or None after `timeout` seconds."""


class Subscription:
    """One client's queue of a challenge's events; close it when the client leaves."""

    def __init__(self, bus: EventBus, challenge_id: str) -> None:
        self._queue: queue.SimpleQueue[StatusChanged] = queue.SimpleQueue()
        self._cancel = bus.subscribe(challenge_id, self._queue.put)

    def wait(self, timeout: float) -> StatusChanged | None:
        try:
            return self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def close(self) -> None:
        self._cancel()


def frame(snapshot: Snapshot) -> str:
    """Return one SSE event for a status."""
    data = json.dumps(snapshot.data, separators=(",", ":"))
    return f"id: {snapshot.status}\nevent: {snapshot.status}\ndata: {data}\n\n"


def events(
    waiter: Waiter,
    read: Callable[[], Snapshot],
    now: Callable[[], datetime],
    heartbeat: float,
    retry_ms: int,
    last_event_id: str | None = None,
) -> Iterator[str]:
    """Yield the SSE text of a challenge's live status until it is final."""
    snapshot = read()
    sent, shown = last_event_id, None
    yield f"retry: {retry_ms}\n\n"
    while True:
        if snapshot.status != sent or (shown is not None and snapshot.data != shown):
            yield frame(snapshot)
            sent = snapshot.status
        shown = snapshot.data
        if snapshot.final:
            return
        remaining = (snapshot.expires_at - now()).total_seconds()
        if remaining <= 0:
            snapshot = read()
            if not snapshot.final:
                waiter.wait(EXPIRY_RECHECK)
            continue
        event = waiter.wait(min(heartbeat, remaining))
        if event is not None:
            snapshot = read()
        elif remaining > heartbeat:
            yield ": keep-alive\n\n"


def wait_for_change(
    waiter: Waiter,
    read: Callable[[], Snapshot],
    now: Callable[[], datetime],
    seconds: float,
    monotonic: Callable[[], float] = time.monotonic,
) -> Snapshot:
    """Return the status once it is final, or after `seconds` of real time (long poll)."""
    snapshot = read()
    deadline = monotonic() + seconds
    while not snapshot.final:
        left = deadline - monotonic()
        if left <= 0:
            return snapshot
        until_expiry = (snapshot.expires_at - now()).total_seconds()
        if until_expiry <= 0:
            snapshot = read()
            if not snapshot.final:
                waiter.wait(min(EXPIRY_RECHECK, left))
            continue
        waiter.wait(min(left, until_expiry))
        snapshot = read()
    return snapshot
