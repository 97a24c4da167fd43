"""The Redis pub/sub event bus, for several processes or hosts.

Publishing goes through a BlockingConnectionPool: redis-py's default pool raises
MaxConnectionsError past 100 connections, which loses events under a burst; the blocking pool
makes a publisher wait for a free connection instead. Each process holds ONE subscription (a
listener thread, a greenlet under gevent) on one channel and fans events out to its local
subscribers, never one Redis subscription per stream.

When Redis cannot be reached the bus degrades instead of stopping: publishing delivers to
this process's subscribers, and the database poller is switched on so streams still learn of
changes made by other processes. When the subscription is back, one last poll covers the gap
and the poller is switched off again. Both transitions are logged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import redis

from app.events.base import Handler, StatusChanged
from app.events.memory import MemoryBus
from app.events.poller import StatusPoller
from app.ops.health import Health

log = logging.getLogger(__name__)

RECONNECT_DELAY = 1.0


class RedisBus:
    """Publish to a Redis channel; one listener per process delivers to local subscribers."""

    def __init__(
        self,
        url: str,
        channel: str,
        local: MemoryBus,
        fallback: StatusPoller,
        max_connections: int = 50,
    ) -> None:
        self.channel = channel
        self.local = local
        self.fallback = fallback
        self._url = url
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=2,
            socket_timeout=2,
            socket_connect_timeout=1,
        )
        self._client = redis.Redis(connection_pool=pool)
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self.degraded = False
        self.ready = threading.Event()

    def health(self) -> Health:
        """Degraded while Redis is unreachable (statuses then travel by database polling)."""
        if self.degraded:
            return Health("degraded", "redis unreachable; database polling in use")
        return Health()

    def publish(self, event: StatusChanged) -> None:
        data = json.dumps({"id": event.challenge_id, "status": event.status})
        try:
            self._client.publish(self.channel, data)
        except redis.RedisError as exc:
            log.warning("redis publish failed (%s); delivering in this process only", exc)
            self.local.publish(event)

    def subscribe(self, challenge_id: str, handler: Handler) -> Callable[[], None]:
        self._start_listener()
        unsubscribe = self.local.subscribe(challenge_id, handler)
        self.fallback.wake()
        return unsubscribe

    def close(self) -> None:
        """Stop the listener and the poller (tests and shutdown)."""
        self._stop.set()
        self.fallback.stop()
        listener = self._listener
        if listener is not None:
            listener.join(timeout=5)
        self._client.close()

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._listen, name="redis-events", daemon=True
                )
                self._listener.start()

    def _listen(self) -> None:
        client = redis.Redis.from_url(self._url, socket_connect_timeout=1, socket_timeout=5)
        while not self._stop.is_set():
            pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self.channel)
                self._recovered()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._dispatch(message)
            except redis.RedisError as exc:
                self._lost(exc)
                self._stop.wait(RECONNECT_DELAY)
            except Exception:
                log.exception("redis listener error; resubscribing")
                self._stop.wait(RECONNECT_DELAY)
            finally:
                pubsub.close()
        client.close()

    def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            data = json.loads(message["data"])
            event = StatusChanged(str(data["id"]), str(data["status"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed event on %s", self.channel)
            return
        self.local.publish(event)

    def _lost(self, exc: Exception) -> None:
        self.ready.clear()
        if not self.degraded:
            self.degraded = True
            log.warning("redis unreachable (%s); falling back to database polling", exc)
            self.fallback.set_active(True)

    def _recovered(self) -> None:
        if self.degraded:
            self.degraded = False
            log.warning("redis reachable again; database polling off")
            try:
                self.fallback.poll_once()  # what was published while we were away
            except Exception:
                log.exception("catch-up poll failed")
            self.fallback.set_active(False)
        self.ready.set()
