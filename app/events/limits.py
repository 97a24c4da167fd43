"""Caps on the streams one process holds, per client address and per challenge.

Counts are per process (per gunicorn worker): with W workers an address may hold up to W
times the cap. That bounds what one client can pin without shared state on the hot path.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class StreamLimits:
    """Count open streams; refuse one past a cap (0 means no cap)."""

    def __init__(self, per_ip: int, per_challenge: int) -> None:
        self.per_ip = per_ip
        self.per_challenge = per_challenge
        self._lock = threading.Lock()
        self._ips: dict[str, int] = defaultdict(int)
        self._challenges: dict[str, int] = defaultdict(int)

    def acquire(self, ip: str, challenge_id: str) -> str | None:
        """Count a new stream; return None, or the cap ("ip" or "challenge") it would break."""
        with self._lock:
            if self.per_ip and self._ips[ip] >= self.per_ip:
                return "ip"
            if self.per_challenge and self._challenges[challenge_id] >= self.per_challenge:
                return "challenge"
            self._ips[ip] += 1
            self._challenges[challenge_id] += 1
            return None

    def release(self, ip: str, challenge_id: str) -> None:
        with self._lock:
            _decrement(self._ips, ip)
            _decrement(self._challenges, challenge_id)

    def open_streams(self) -> int:
        with self._lock:
            return sum(self._ips.values())


def _decrement(counts: dict[str, int], key: str) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]


class RateLimit:
    """At most `limit` hits per key in a sliding `window` of seconds (in-process)."""

    def __init__(
        self, limit: int, window: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count a hit and return True, or return False when the key is over its limit."""
        now = self._monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True
