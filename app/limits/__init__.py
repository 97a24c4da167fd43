"""Abuse limits: the rules, the counter port and its SQL and Redis counters."""

from typing import Any

from app.config import schema
from app.crypto import KeyRing
from app.limits.rules import Limits, Rules
from app.store.sql import SqlStore


def build(settings: schema.Settings, store: SqlStore, keys: KeyRing) -> Limits:
    """Return the abuse limits, counting in the database or in Redis as configured."""
    from app.domain.rates import parse

    s = settings.limits
    counters: Any
    if s.storage == "redis":
        from app.limits.redis_counters import RedisCounters

        counters = RedisCounters.from_url(s.redis_url, s.key_prefix)
    else:
        from app.limits.sql_counters import SqlCounters

        counters = SqlCounters(store)
    rules = Rules(
        per_api_key=parse(s.per_api_key),
        per_ip=parse(s.per_ip),
        per_phone=parse(s.per_phone),
        per_phone_global=s.phone_ceiling,
        max_pending=s.max_pending,
        sender_failures=parse(s.sender_failures),
        sender_cooloff=s.sender_cooloff,
    )
    return Limits(counters, rules, lambda value: keys.digest("limit", value))
