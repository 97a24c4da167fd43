"""An in-memory double of the limit counter port (app/limits/rules.Counters)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.limits.rules import Count


class MemoryCounters:
    """Fixed-window counters in a dict, with the port's semantics (window from first hit)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[int, datetime]] = {}

    def hit(
        self, key: str, window: int, now: datetime, amount: int = 1, tx: object = None
    ) -> Count:
        value, reset = self.values.get(key, (0, now))
        if reset <= now:
            value, reset = 0, now + timedelta(seconds=window)
        self.values[key] = (value + amount, reset)
        return Count(value + amount, reset)

    def peek(self, key: str, now: datetime, tx: object = None) -> Count | None:
        found = self.values.get(key)
        if found is None or found[1] <= now:
            return None
        return Count(*found)
