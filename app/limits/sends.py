"""The pumping guards' counters: caps, daily budget and breakers, through the counter port.

The decision rules are in app/domain/pumping.py; here they meet the shared counters (SQL or
Redis, app/limits), so caps hold across every worker and instance.

A send reserves one unit of every cap *before* the message leaves: of any number of
concurrent requests, at most a cap's count get through. A request that a later cap refuses
gives back what it reserved, so counts equal sends. Counter keys are keyed hashes, never a
number in clear.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.config.schema import Fallback
from app.domain import phone, pumping, rates
from app.domain.pumping import Destination, GuardRules, Refused
from app.limits.rules import Counters

REASONS = (
    "country_not_allowed", "line_type_refused", "invalid_phone", "invalid_email", "breaker_open"
)  # fmt: skip


@dataclass(frozen=True)
class Reservation:
    """A send the guards let through: where it goes and what it was charged to."""

    dest: Destination
    keys: tuple[tuple[str, int], ...]


class SendGuard:
    """Screen, cap and break outbound code sends."""

    def __init__(
        self,
        counters: Counters,
        rules: GuardRules,
        hasher: Callable[[str], str],
        observe: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.counters = counters
        self.rules = rules
        self._hash = hasher
        self._observe = observe

    def reserve(self, e164: str, now: datetime) -> Reservation:
        """Charge a send to `e164` to every cap, or raise Refused (counting the refusal).

        On success the send also counts toward its breakers' sent totals.
        """
        try:
            dest = pumping.screen(e164, self.rules)
            self._check_breakers(dest, now)
            reservation = self._charge(dest, now)
        except Refused as refused:
            self._observe(refused.reason)
            self.counters.hit(f"fb_refused:{refused.reason}", 86400, now)
            raise
        for _, key in pumping.breaker_groups(dest):
            self.counters.hit(self._key("sent", key), self.rules.breaker_window, now)
        return reservation

    def reserve_email(self, address: str, now: datetime) -> Reservation:
        """Charge a send to an email address to its caps (per address, per domain, the daily
        budget), or raise Refused (counting the refusal). No country list, line type or
        breaker applies to email."""
        try:
            reservation = self._charge(pumping.email_destination(address), now)
        except Refused as refused:
            self._observe(refused.reason)
            self.counters.hit(f"fb_refused:{refused.reason}", 86400, now)
            raise
        return reservation

    def release(self, reservation: Reservation, now: datetime) -> None:
        """Give back a reservation whose message was never accepted by any sender."""
        for key, window in reservation.keys:
            self.counters.hit(key, window, now, -1)
        for _, group in pumping.breaker_groups(reservation.dest):
            self.counters.hit(self._key("sent", group), self.rules.breaker_window, now, -1)

    def verified(self, e164: str, now: datetime) -> None:
        """Count a code sent to `e164` that verified its challenge (the breaker's numerator)."""
        try:
            dest = pumping.destination(e164, self.rules.prefix_digits)
        except Refused:
            return
        for _, key in pumping.breaker_groups(dest):
            self.counters.hit(self._key("verified", key), self.rules.breaker_window, now)

    def breaker_state(self, e164: str, now: datetime) -> dict[str, bool]:
        """Tell, for tools and tests, which of a number's breakers are open."""
        dest = pumping.destination(e164, self.rules.prefix_digits)
        return {name: self._open(key, now) for name, key in pumping.breaker_groups(dest)}

    def refusals(self, now: datetime) -> dict[str, int]:
        """Return each guard's refusals in its current day window (dashboard lines)."""
        found = {}
        for reason in REASONS + tuple(f"cap_{c.name}" for c in self._cap_names()):
            count = self.counters.peek(f"fb_refused:{reason}", now)
            found[reason] = 0 if count is None else count.value
        return found

    def _cap_names(self) -> list[pumping.Cap]:
        return pumping.all_caps(self.rules)

    def _check_breakers(self, dest: Destination, now: datetime) -> None:
        rules = self.rules
        for name, key in pumping.breaker_groups(dest):
            if self._open(key, now):
                raise Refused("breaker_open", f"sending to this {name} is paused")
            sent = self._value(self._key("sent", key), now)
            verified = self._value(self._key("verified", key), now)
            if pumping.tripped(sent, verified, rules):
                self.counters.hit(self._key("breaker", key), rules.breaker_cooloff, now)
                raise Refused("breaker_open", f"sending to this {name} is paused")

    def _open(self, key: str, now: datetime) -> bool:
        return self._value(self._key("breaker", key), now) > 0

    def _charge(self, dest: Destination, now: datetime) -> Reservation:
        charged: list[tuple[str, int]] = []
        for cap in pumping.caps(dest, self.rules):
            key = self._key("cap", cap.key)
            count = self.counters.hit(key, cap.rate.seconds, now)
            charged.append((key, cap.rate.seconds))
            if count.value > cap.rate.count:
                for done, window in charged:
                    self.counters.hit(done, window, now, -1)
                wait = max(1, math.ceil((count.reset_at - now).total_seconds()))
                raise Refused(f"cap_{cap.name}", f"sending limit reached; try in {wait} s")
        return Reservation(dest, tuple(charged))

    def _value(self, key: str, now: datetime) -> int:
        count = self.counters.peek(key, now)
        return 0 if count is None else count.value

    def _key(self, kind: str, value: str) -> str:
        return f"fb_{kind}:{self._hash(value)[:32]}"


def rules_for(settings: Fallback) -> GuardRules:
    """Return the guards' rules from the `[fallback]` settings."""
    return GuardRules(
        allowed_countries=frozenset(settings.allowed_countries),
        prefix_digits=settings.prefix_digits,
        per_phone=tuple(rates.parse(r) for r in settings.per_phone),
        per_prefix=tuple(rates.parse(r) for r in settings.per_prefix),
        per_country=tuple(rates.parse(r) for r in settings.per_country),
        per_domain=tuple(rates.parse(r) for r in settings.per_domain),
        daily_budget=settings.daily_budget,
        breaker_window=settings.breaker_window,
        breaker_min_sent=settings.breaker_min_sent,
        breaker_ratio=settings.breaker_ratio,
        breaker_cooloff=settings.breaker_cooloff,
        sendable_types=frozenset(phone.NUMBER_TYPES[name] for name in settings.line_types),
    )
