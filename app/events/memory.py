"""The in-process event bus: subscribers in this process only."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

from app.events.base import Handler, StatusChanged
from app.ops.health import Health


class MemoryBus:
    """Fan events out to this process's subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def publish(self, event: StatusChanged) -> None:
        with self._lock:
            handlers = list(self._handlers.get(event.challenge_id, ()))
        for handler in handlers:
            handler(event)

    def subscribed(self) -> list[str]:
        """Return the challenges that have subscribers in this process."""
        with self._lock:
            return list(self._handlers)

    def health(self) -> Health:
        """Always ok: nothing outside this process is involved."""
        return Health()

    def subscribe(self, challenge_id: str, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers[challenge_id].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                handlers = self._handlers.get(challenge_id, [])
                if handler in handlers:
                    handlers.remove(handler)
                if not handlers:
                    self._handlers.pop(challenge_id, None)

        return unsubscribe
