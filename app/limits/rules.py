"""Abuse limits shared by every worker and host: counters behind a small port.

Counters live in the database (a `limit_counters` table with atomic upserts, the default) or
in Redis; either way every worker and instance sees the same counts. A counter's window
starts at its first hit and lasts the rate's period (a fixed window per key).

Limits fail closed: when the counters cannot be reached, `LimitsUnavailable` is raised and
the request is refused with 503 (a webhook is not stored, so the provider retries).

Keys never hold a phone number, address or API key in clear: each is keyed-hashed first.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.apps import DEFAULT_APP_ID
from app.domain.rates import Rate
from app.store.base import Chain, Hit, SenderBudget, StoreUnavailable, Tx


class LimitsUnavailable(StoreUnavailable):
    """The limit counters could not be read or written; refuse rather than guess."""


@dataclass(frozen=True)
class Count:
    """A counter's value in its current window, and when that window ends."""

    value: int
    reset_at: datetime


class Counters(Protocol):
    """Atomic counters with a window per key."""

    def hit(
        self, key: str, window: int, now: datetime, amount: int = 1, tx: Tx | None = None
    ) -> Count:
        """Add `amount` to the key's count (a new window if the last one ended); return it."""

    def peek(self, key: str, now: datetime, tx: Tx | None = None) -> Count | None:
        """Return the key's count in its current window, or None when there is none."""

    def hit_chain(self, hits: Sequence[Hit], now: datetime, tx: Tx | None = None) -> Chain:
        """Add one to each (key, window, limit) in order, stopping after the first one over
        its limit (those after it are not charged), atomically; return that one's index
        (None: none) and the counts of those charged. The keys are distinct."""

    def kept_in(self, store: object) -> bool:
        """Tell whether the counters are kept in `store`, whose statements may charge them."""


OFF = Rate(0, 1)


@dataclass(frozen=True)
class Rules:
    """Which limits apply, read once from the settings."""

    per_api_key: Rate
    per_ip: Rate
    per_phone: Rate
    max_pending: int
    sender_failures: Rate
    sender_cooloff: int
    # The ceiling on challenges naming one phone over every app (per_phone counts per app).
    per_phone_global: Rate = OFF


@dataclass(frozen=True)
class Check:
    """A counter a request is charged to, and what a refusal by it answers."""

    key: str
    window: int
    limit: int
    code: str  # the API error code
    name: str  # what is counted

    @property
    def hit(self) -> Hit:
        return (self.key, self.window, self.limit)


@dataclass(frozen=True)
class Refusal:
    """A limit that said no: its name (an API error code) and when to try again, seconds."""

    limit: str
    retry_after: int
    message: str


class Limits:
    """The abuse limits the use cases consult."""

    def __init__(self, counters: Counters, rules: Rules, hasher: Callable[[str], str]) -> None:
        self.counters = counters
        self.rules = rules
        self._hash = hasher

    def create_checks(
        self,
        caller: str | None,
        client_ip: str | None,
        phone: str | None,
        app_id: str = DEFAULT_APP_ID,
    ) -> list[Check]:
        """Return the counters a challenge creation is charged to, in the order they are.

        The caller, the client address, then the phone: per app (one app cannot lock a
        phone out for the others) and under a global ceiling. Both phone counters answer
        `rate_limited_phone`, so an app learns nothing of the others' use of a number.
        """
        per_app = None if phone is None else f"{app_id}:{phone}"
        # (error code, what is counted, counter kind, value, rate); the codes are API error
        # codes (docs/errors.md), written out so the catalogue's test finds them.
        checks = [
            ("rate_limited_api_key", "api key", "api_key", caller, self.rules.per_api_key),
            ("rate_limited_ip", "ip", "ip", address_group(client_ip), self.rules.per_ip),
            ("rate_limited_phone", "phone", "phone_app", per_app, self.rules.per_phone),
            ("rate_limited_phone", "phone", "phone", phone, self.rules.per_phone_global),
        ]
        return [
            Check(self._key(kind, value), rate.seconds, rate.count, code, name)
            for code, name, kind, value, rate in checks
            if value is not None and not rate.off
        ]

    def charge(self, checks: Sequence[Check], now: datetime) -> Refusal | None:
        """Charge the checks' counters in order, stopping at the first one over its limit,
        in one round trip; return that one's refusal.

        Counters kept in the store are charged by the creation's own statement instead
        (app/usecases/challenges.py).
        """
        if not checks:
            return None
        chain = self.counters.hit_chain([check.hit for check in checks], now)
        return self.refusal(checks, chain, now)

    def refusal(self, checks: Sequence[Check], chain: Chain, now: datetime) -> Refusal | None:
        """Return the refusal of the check a chain of their counters stopped at, if any."""
        if chain.refused is None:
            return None
        check = checks[chain.refused]
        _, reset_at = chain.counts[chain.refused]
        message = f"too many challenges for this {check.name}; try again later"
        return Refusal(check.code, _seconds(reset_at, now), message)

    def pending_full(self, pending: int) -> Refusal | None:
        """Refuse a new challenge when `pending` already reach the global cap."""
        if pending < self.rules.max_pending:
            return None
        return Refusal("too_many_pending", 30, "too many pending challenges; try again shortly")

    def sender_attempt(self, sender: str, now: datetime, tx: Tx | None = None) -> Refusal | None:
        """Reserve one failed attempt for a sender before matching; refuse in cool-off.

        The first message over the budget starts a cool-off of `sender_cooloff` seconds, or
        until the failure window ends if that is later; messages in it are refused.

        Reserving before matching keeps the budget exact under concurrency: of any number of
        simultaneous messages, at most the rate's count are matched. A message that turns out
        free (`app.domain.budget.spends`) gives its reservation back with `sender_success`.
        Call it only for a message not seen before: counters in Redis do not roll back with
        the transaction, so the caller stores the message first and stops on a redelivery.
        """
        rate = self.rules.sender_failures
        if rate.off:
            return None
        block_key = self._key("sender_block", sender)
        block = self.counters.peek(block_key, now, tx)
        if block is not None and block.value > 0:
            return self._cooloff(block, now)
        count = self.counters.hit(self._key("sender", sender), rate.seconds, now, tx=tx)
        if count.value <= rate.count:
            return None
        # The cool-off outlasts the failure window, so the sender comes back to a fresh budget.
        cooloff = max(self.rules.sender_cooloff, _seconds(count.reset_at, now))
        block = self.counters.hit(block_key, cooloff, now, tx=tx)
        return self._cooloff(block, now)

    def sender_success(self, sender: str, now: datetime, tx: Tx | None = None) -> None:
        """Give back the attempt reserved for a message that turned out free (it verified a
        pending challenge with the one code it offered)."""
        if not self.rules.sender_failures.off:
            key = self._key("sender", sender)
            self.counters.hit(key, self.rules.sender_failures.seconds, now, -1, tx)

    @property
    def budget_in_store(self) -> bool:
        """Whether the store can check the sender budget in its own statements: the budget is
        off, or its counters are the store's rows (not Redis)."""
        return self.rules.sender_failures.off or bool(getattr(self.counters, "in_store", False))

    def sender_budget(self, sender: str) -> SenderBudget | None:
        """Return a sender's budget as the store checks it (the keys and rate `sender_attempt`
        and `sender_success` use), or None when the budget is off."""
        rate = self.rules.sender_failures
        if rate.off:
            return None
        keys = self._key("sender", sender), self._key("sender_block", sender)
        return SenderBudget(*keys, window=rate.seconds, limit=rate.count)

    def sender_blocked(self, sender: str, now: datetime) -> bool:
        """Tell whether a sender is cooling off (for tests and tools)."""
        block = self.counters.peek(self._key("sender_block", sender), now)
        return block is not None and block.value > 0

    def check_beacon(self, client_ip: str | None, per_minute: int, now: datetime) -> Refusal | None:
        """Count one page event report from an address (or its /64); refuse over the rate."""
        group = address_group(client_ip) or "-"
        count = self.counters.hit(self._key("beacon", group), 60, now)
        if count.value <= per_minute:
            return None
        return Refusal("rate_limited_beacon", _seconds(count.reset_at, now), "too many page events")

    def _cooloff(self, block: Count, now: datetime) -> Refusal:
        return Refusal(
            "sender_blocked",
            _seconds(block.reset_at, now),
            "too many wrong codes from this sender; cooling off",
        )

    def _key(self, kind: str, value: str) -> str:
        return f"{kind}:{self._hash(value)[:32]}"


def address_group(ip: str | None) -> str | None:
    """Return what the per-IP limit counts for an address: itself, or its /64 for IPv6.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses would let
    one user rotate through 2^64 of them.
    """
    if not ip:
        return ip
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))
