"""Limit counters in Redis: SET NX EX opens a window, INCRBY counts, PTTL tells its end.

The three commands run in one MULTI/EXEC pipeline, so concurrent hits never lose a count and
a key can never be left without its expiry. A chain of counters runs as one Lua script, one
round trip, atomic like the pipeline: it stops after the first counter over its limit. Redis
keeps time itself: windows follow the Redis server's clock, not the application's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from app.limits.rules import Count, LimitsUnavailable
from app.store.base import Chain, Hit, Tx

# KEYS: the counters, in order; ARGV: window (seconds) and limit of each, in turn. Returns
# count and milliseconds left of each counter charged, up to the first one over its limit.
# A key left without an expiry (never written so) is given its window again.
CHAIN = """
local out = {}
for i, key in ipairs(KEYS) do
  local window, limit = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('SET', key, 0, 'EX', window, 'NX')
  local count = redis.call('INCRBY', key, 1)
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('EXPIRE', key, window)
    left = window * 1000
  end
  out[#out + 1] = count
  out[#out + 1] = left
  if count > limit then break end
end
return out
"""


class RedisCounters:
    """Counters under a key prefix in one Redis database."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._chain = client.register_script(CHAIN)

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

    def hit_chain(self, hits: Sequence[Hit], now: datetime, tx: Tx | None = None) -> Chain:
        names = [self.prefix + key for key, _, _ in hits]
        limits = [n for _, window, limit in hits for n in (window, limit)]
        try:
            flat = self._chain(keys=names, args=limits)
        except Exception as exc:  # as in hit: every failure means "unknown", so refuse
            raise LimitsUnavailable(f"limit counters unavailable: {type(exc).__name__}") from exc
        counts = [
            (int(flat[i]), now + timedelta(milliseconds=int(flat[i + 1])))
            for i in range(0, len(flat), 2)
        ]
        last = len(counts) - 1
        refused = last if counts and counts[last][0] > hits[last][2] else None
        return Chain(refused, counts)

    def kept_in(self, store: object) -> bool:
        return False

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
