"""Limit counters in Redis: SET NX EX opens a window, INCRBY counts, PTTL tells its end.

The three commands run in one MULTI/EXEC pipeline, so concurrent hits never lose a count and
a key can never be left without its expiry. Redis keeps time itself: windows follow the Redis
server's clock, not the application's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.limits.rules import Count, LimitsUnavailable
from app.store.base import Tx


class RedisCounters:
    """Counters under a key prefix in one Redis database."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisCounters:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix)

    def hit(
        self, key: str, window: int, now: datetime, amount: int = 1, tx: Tx | None = None
    ) -> Count:
        name = self.prefix + key
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(name, 0, ex=window, nx=True)
            pipe.incrby(name, amount)
            pipe.pttl(name)
            _, value, pttl = pipe.execute()
        except Exception as exc:  # redis raises many kinds; every one means "unknown"
            raise LimitsUnavailable(f"limit counters unavailable: {type(exc).__name__}") from exc
        return Count(int(value), now + timedelta(milliseconds=max(int(pttl), 0)))

    def peek(self, key: str, now: datetime, tx: Tx | None = None) -> Count | None:
        name = self.prefix + key
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.get(name)
            pipe.pttl(name)
            value, pttl = pipe.execute()
        except Exception as exc:
            raise LimitsUnavailable(f"limit counters unavailable: {type(exc).__name__}") from exc
        if value is None or int(pttl) <= 0:
            return None
        return Count(int(value), now + timedelta(milliseconds=int(pttl)))
