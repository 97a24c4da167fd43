"""Pumping guards: countries, line types, caps, daily budget and the conversion breaker."""

from __future__ import annotations

import hashlib
import os
import random
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from app.domain import pumping
from app.domain.pumping import GuardRules, Refused
from app.domain.rates import Rate
from app.limits.sends import SendGuard
from tests.fallback.counters import MemoryCounters

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FR_MOBILE = "+33612000001"


def rules(**overrides: object) -> GuardRules:
    base: dict[str, object] = {"allowed_countries": frozenset({"FR", "DE"})}
    return GuardRules(**(base | overrides))  # type: ignore[arg-type]


def guard(counters: object = None, **overrides: object) -> SendGuard:
    return SendGuard(counters or MemoryCounters(), rules(**overrides), lambda v: "h" + v)  # type: ignore[arg-type]


def number(i: int) -> str:
    """The i-th French mobile of prefix +33612 (0 <= i < 1,000,000)."""
    return f"+33612{i:06d}"


# Pure rules ---------------------------------------------------------------------------


def test_destination_groups_a_number_by_country_and_prefix():
    dest = pumping.destination("+33 6 12 00 00 01", 3)
    assert (dest.e164, dest.country, dest.prefix) == (FR_MOBILE, "FR", "+33612")
    assert pumping.destination("+4915112345678", 2).prefix == "+4915"


@pytest.mark.parametrize("raw", ["", "+1", "not a number", "+33 0", "+441632960000"])
def test_refuses_unreadable_numbers(raw):
    with pytest.raises(Refused) as refused:
        pumping.screen(raw, rules())
    assert refused.value.reason == "invalid_phone"


def test_a_country_not_listed_gets_nothing():
    with pytest.raises(Refused) as refused:
        pumping.screen("+14155550123", rules())
    assert refused.value.reason == "country_not_allowed"


def test_no_country_is_allowed_until_listed():
    with pytest.raises(Refused, match="country"):
        pumping.screen(FR_MOBILE, GuardRules())


@pytest.mark.parametrize("raw", ["+33899123456", "+33810123456"])  # premium-rate, shared-cost
def test_refuses_premium_and_shared_cost_numbers(raw):
    with pytest.raises(Refused) as refused:
        pumping.screen(raw, rules())
    assert refused.value.reason == "line_type_refused"


def test_never_sends_to_premium_shared_cost_or_unknown_types_even_when_configured():
    everything = frozenset(range(-1, 12))
    r = rules(sendable_types=everything)
    assert pumping.sendable(PhoneNumberType.MOBILE, r)
    for kind in (
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UNKNOWN,
    ):
        assert not pumping.sendable(kind, r)


def test_fixed_lines_are_not_sent_to_by_default():
    with pytest.raises(Refused, match="kind of number"):
        pumping.screen("+33140000000", rules())


def test_caps_name_every_counter_in_order():
    names = [c.name for c in pumping.caps(pumping.destination(FR_MOBILE, 3), rules())]
    assert names == [
        "phone_hour", "phone_day", "prefix_hour", "prefix_day",
        "country_hour", "country_day", "daily_budget",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "verified", "open_"),
    [(19, 0, False), (20, 3, True), (20, 4, False), (100, 19, True), (100, 20, False)],
)
def test_breaker_trips_under_the_ratio_once_enough_were_sent(sent, verified, open_):
    assert pumping.tripped(sent, verified, rules()) is open_


def test_resend_waits_double():
    assert [pumping.resend_wait(n) for n in range(5)] == [0, 30, 60, 120, 240]


# Guards over counters --------------------------------------------------------------------


def test_per_phone_cap_refuses_the_fourth_send_in_an_hour_and_gives_it_back():
    counters = MemoryCounters()
    g = guard(counters)
    for _ in range(3):
        g.reserve(FR_MOBILE, START)
    before = dict(counters.values)
    with pytest.raises(Refused) as refused:
        g.reserve(FR_MOBILE, START)
    assert refused.value.reason == "cap_phone_hour"
    # The refused request reserved nothing; only the guard's refusal count moved.
    assert counters.values.pop("fb_refused:cap_phone_hour")[0] == 1
    assert counters.values == before
    g.reserve(FR_MOBILE, START + timedelta(hours=1, seconds=1))


def test_released_send_frees_its_caps():
    g = guard(per_phone=(Rate(1, 3600),))
    reservation = g.reserve(FR_MOBILE, START)
    g.release(reservation, START)
    g.reserve(FR_MOBILE, START)


def test_counter_keys_hold_no_number_in_clear():
    counters = MemoryCounters()
    g = SendGuard(counters, rules(), lambda v: hashlib.sha256(v.encode()).hexdigest())
    g.reserve(FR_MOBILE, START)
    assert not any("612" in key or "FR" in key for key in counters.values)


def simulate(
    g: SendGuard, requests: list[tuple[float, str]], verify_rate: float, rng: random.Random
):
    """Send each request at its time; verify a share of the sent ones. Return the sends."""
    sent: list[tuple[datetime, str]] = []
    refusals: Counter[str] = Counter()
    for offset, phone in requests:
        now = START + timedelta(seconds=offset)
        try:
            g.reserve(phone, now)
        except Refused as refused:
            refusals[refused.reason] += 1
            continue
        sent.append((now, phone))
        if rng.random() < verify_rate:
            g.verified(phone, now)
    return sent, refusals


def most_in_any_window(times: list[datetime], seconds: int) -> int:
    """The largest number of events inside any fixed window aligned on its first event."""
    # The counters' windows start at a first hit, so any span of `seconds` holds at most
    # two windows' worth; the cap bound below is for one window from each first hit.
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= timedelta(seconds=seconds):
            start += 1
        best = max(best, end - start + 1)
    return best


def check_caps(sent: list[tuple[datetime, str]], r: GuardRules) -> None:
    by_phone: dict[str, list[datetime]] = {}
    for when, phone in sent:
        by_phone.setdefault(phone, []).append(when)
    times = [when for when, _ in sent]
    per_day_prefix = max(x.count for x in r.per_prefix if x.seconds == 86400)
    per_hour_prefix = max(x.count for x in r.per_prefix if x.seconds == 3600)
    # Over one day of requests the day caps bound the total outright.
    assert len(sent) <= min(per_day_prefix, r.daily_budget)
    # Fixed windows: any hour-long span overlaps at most two windows.
    assert most_in_any_window(times, 3600) <= 2 * per_hour_prefix
    for phone_times in by_phone.values():
        assert len(phone_times) <= max(x.count for x in r.per_phone if x.seconds == 86400)


def test_ten_thousand_requests_over_500_numbers_of_one_prefix_stay_under_the_caps():
    rng = random.Random(17)
    r = rules(breaker_min_sent=10**9)  # caps only; the breaker has its own test
    requests = sorted((rng.uniform(0, 86_000), number(rng.randrange(500))) for _ in range(10_000))
    sent, refusals = simulate(SendGuard(MemoryCounters(), r, str), requests, 1.0, rng)
    check_caps(sent, r)
    assert 0 < len(sent) <= 100  # per_prefix day cap
    assert refusals["cap_prefix_hour"] > 0 and sum(refusals.values()) == 10_000 - len(sent)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    phone_hour=st.integers(1, 5),
    prefix_hour=st.integers(1, 40),
    prefix_day=st.integers(1, 200),
    budget=st.integers(1, 300),
)
def test_any_spread_of_requests_sends_no_more_than_the_caps(
    seed, phone_hour, prefix_hour, prefix_day, budget
):
    rng = random.Random(seed)
    r = rules(
        per_phone=(Rate(phone_hour, 3600), Rate(phone_hour * 2, 86400)),
        per_prefix=(Rate(prefix_hour, 3600), Rate(prefix_day, 86400)),
        daily_budget=budget,
        breaker_min_sent=10**9,
    )
    requests = sorted((rng.uniform(0, 86_000), number(rng.randrange(500))) for _ in range(2_000))
    sent, _ = simulate(SendGuard(MemoryCounters(), r, str), requests, 1.0, rng)
    check_caps(sent, r)
    for _, phone in sent:
        assert phone.startswith("+33612")


def test_breaker_trips_within_its_window_when_codes_are_not_verified():
    rng = random.Random(5)
    g = guard(breaker_window=3600, breaker_min_sent=20, breaker_ratio=0.2)
    # Pumping: codes to many numbers of one prefix, almost none verified, within 20 minutes.
    requests = [(i * 1.2, number(i)) for i in range(1000)]
    sent, refusals = simulate(g, requests, 0.02, rng)
    assert refusals["breaker_open"] > 0
    first_refused_after = len(sent)
    assert first_refused_after <= 21  # the 21st send finds 20 sent and too few verified
    assert g.breaker_state(number(0), START + timedelta(minutes=30))["prefix"]
    # Another prefix of the same country is not paused unless the country trips too.
    g.reserve("+4915112345678", START + timedelta(minutes=30))


def test_breaker_stays_closed_while_codes_are_verified():
    rng = random.Random(6)
    g = guard(per_prefix=(Rate(10_000, 3600),), per_country=(Rate(10_000, 3600),))
    requests = [(i * 1.0, number(i)) for i in range(500)]
    sent, refusals = simulate(g, requests, 0.9, rng)
    assert refusals["breaker_open"] == 0
    assert len(sent) == 500


def test_breaker_closes_after_its_cooloff():
    g = guard(breaker_min_sent=2, breaker_cooloff=600, breaker_window=600)
    g.reserve(number(1), START)
    g.reserve(number(2), START)
    with pytest.raises(Refused, match="paused"):
        g.reserve(number(3), START)
    g.reserve(number(4), START + timedelta(seconds=601))


def test_a_country_not_allowed_gets_nothing_among_ten_thousand_requests():
    rng = random.Random(3)
    counters = MemoryCounters()
    g = guard(counters)
    requests = [
        (rng.uniform(0, 86_000), f"+1415555{rng.randrange(10_000):04d}") for _ in range(10_000)
    ]
    sent, refusals = simulate(g, sorted(requests), 1.0, rng)
    assert sent == [] and refusals == Counter(country_not_allowed=10_000)
    assert list(counters.values) == ["fb_refused:country_not_allowed"]  # no cap was charged
    assert g.refusals(START)["country_not_allowed"] == 10_000


def test_every_refusal_is_observed():
    seen: list[str] = []
    g = SendGuard(MemoryCounters(), rules(per_phone=(Rate(1, 3600),)), str, seen.append)
    g.reserve(FR_MOBILE, START)
    for raw in (FR_MOBILE, "+14155550123", "+33899123456"):
        with pytest.raises(Refused):
            g.reserve(raw, START)
    assert seen == ["cap_phone_hour", "country_not_allowed", "line_type_refused"]


# The same guards over the shared counters: caps hold across instances ------------------


REDIS_URL = os.environ.get("REVERSE_OTP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def shared_counters(kind: str, tmp_path):
    if kind == "postgresql":
        from app.limits.sql_counters import SqlCounters
        from app.store.sql import SqlStore
        from tests.engines import postgres_url

        store = SqlStore(postgres_url())
        store.create_schema()
        return SqlCounters(store), SqlCounters(SqlStore(postgres_url()))
    if kind == "redis":
        from app.limits.redis_counters import RedisCounters

        counters = RedisCounters.from_url(REDIS_URL, f"test:fb:{secrets.token_hex(6)}:")
        try:
            counters.client.ping()
        except Exception:
            if os.environ.get("CI"):
                raise
            pytest.skip("Redis unreachable")
        return counters, counters
    from app.limits.sql_counters import SqlCounters
    from app.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path}/c.db")
    store.create_schema()
    return SqlCounters(store), SqlCounters(store)


@pytest.mark.parametrize("kind", ["sql", "postgresql", "redis"])
def test_two_instances_share_the_caps(kind, tmp_path):
    one, two = shared_counters(kind, tmp_path)
    r = rules(per_prefix=(Rate(7, 3600),), breaker_min_sent=10**9)
    run = secrets.token_hex(6)  # keys of this run only (a shared database keeps old ones)

    def hasher(value: str) -> str:
        return hashlib.sha256((run + value).encode()).hexdigest()

    a, b = SendGuard(one, r, hasher), SendGuard(two, r, hasher)
    sent = 0
    try:
        for i in range(40):
            try:
                (a if i % 2 else b).reserve(number(i), START)
                sent += 1
            except Refused:
                pass
    finally:
        for counters in {id(one): one, id(two): two}.values():
            store = getattr(counters, "store", None)
            if store is not None:
                store.dispose()
    assert sent == 7
