"""A challenge's creation under its limits, on SQLite, PostgreSQL and with counters in Redis.

The counters (API key, client address, phone per app, phone over every app) are charged in
order and the charge stops at the first one over its limit: the ones after it are not
charged. In the database they are charged by the creation's own statement(s)
(app/store/creation_sql.py), in Redis by one script; these tests hold every form to the same
answers, exactly, under concurrency too.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine

from app import create_app
from app.clock import FakeClock
from app.config import load
from app.runtime import EXTENSION
from app.store import migrate
from app.usecases import challenges, context
from tests.backends import REDIS_URL, require_redis
from tests.conftest import NUMBER, base_settings
from tests.engines import empty, postgres_url
from tests.roundtrips import counted

IP = "198.51.100.7"
PHONE = "+33612345678"
BACKENDS = ["sqlite", "postgresql", "redis"]


def build(kind: str, tmp_path: Path, **limits: Any) -> Flask:
    """The app on a backend: its database, and its counters there or in Redis."""
    url = f"sqlite:///{tmp_path / f'{secrets.token_hex(4)}.db'}"
    if kind == "postgresql":
        url = postgres_url()
        engine = create_engine(url)
        migrate.upgrade(engine)
        empty(engine)
        engine.dispose()
    if kind == "redis":
        require_redis()
        limits |= {"storage": "redis", "redis_url": REDIS_URL}
        limits["key_prefix"] = f"test:{secrets.token_hex(6)}:"
    raw = base_settings(tmp_path, numbers=[{"number": NUMBER, "provider": "simulator"}])
    raw["database"] = {"url": url}
    raw["limits"] = limits
    app = create_app(load(overrides=raw, environ={}), clock=FakeClock())
    app.extensions[EXTENSION].ctx.store.create_schema()
    return app


@pytest.fixture
def made(tmp_path: Path) -> Iterator[list[Flask]]:
    apps: list[Flask] = []
    yield apps
    for app in apps:
        app.extensions[EXTENSION].ctx.store.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, made: list[Flask]) -> Any:
    def make(**limits: Any) -> context.Context:
        app = build(request.param, tmp_path, **limits)
        made.append(app)
        return app.extensions[EXTENSION].ctx

    return make


def create(ctx: context.Context, caller: str, ip: str | None = IP, phone: str | None = PHONE):
    return challenges.create_challenge(ctx, phone, None, {}, caller=caller, client_ip=ip)


def counts(ctx: context.Context, caller: str, ip: str = IP, phone: str = PHONE) -> list[int]:
    """The API key's, the address's, the phone's (per app) and the phone's global counts."""
    assert ctx.limits is not None
    now = ctx.clock.now()
    found = []
    for check in ctx.limits.create_checks(caller, ip, phone):
        count = ctx.limits.counters.peek(check.key, now)
        found.append(0 if count is None else count.value)
    return found


def refused(ctx: context.Context, caller: str, ip: str | None = IP) -> context.RateLimited:
    with pytest.raises(context.RateLimited) as caught:
        create(ctx, caller, ip)
    return caught.value


LIMITS = {"per_api_key": "2/hour", "per_ip": "3/hour", "per_phone": "10/hour"}


def test_the_charge_stops_at_the_first_counter_over_its_limit(backend):
    ctx = backend(**LIMITS)
    create(ctx, "key:a")
    create(ctx, "key:a")  # the last one the key may create still charges every counter
    assert counts(ctx, "key:a") == [2, 2, 2, 2]
    over = refused(ctx, "key:a")
    assert (over.code, over.retry_after) == ("rate_limited_api_key", 3600)
    assert counts(ctx, "key:a") == [3, 2, 2, 2]  # the address and the phone are not charged
    create(ctx, "key:b")
    over = refused(ctx, "key:b")
    assert over.code == "rate_limited_ip"
    assert counts(ctx, "key:b") == [2, 4, 3, 3]  # the phone's counters are not charged


def test_a_chain_of_counters_charges_in_order_up_to_the_first_refusal(backend):
    ctx = backend()
    assert ctx.limits is not None
    counters, now = ctx.limits.counters, ctx.clock.now()
    hits = [("chain:a", 60, 5), ("chain:b", 60, 1), ("chain:c", 120, 5)]
    first = counters.hit_chain(hits, now)
    assert first.refused is None
    assert [count for count, _ in first.counts] == [1, 1, 1]
    windows = [(reset - now).total_seconds() for _, reset in first.counts]
    assert windows == pytest.approx([60, 60, 120], abs=2)  # Redis counts on its own clock
    second = counters.hit_chain(hits, now)
    assert second.refused == 1
    assert [count for count, _ in second.counts] == [2, 2]
    assert counters.peek("chain:c", now).value == 1


def test_a_chain_restarts_the_windows_that_ended(tmp_path, made):
    for kind in ("sqlite", "postgresql"):
        app = build(kind, tmp_path)
        made.append(app)
        limits = app.extensions[EXTENSION].ctx.limits
        now = app.extensions[EXTENSION].ctx.clock.now()
        hits = [("chain:a", 60, 5), ("chain:b", 60, 5), ("chain:c", 120, 5)]
        limits.counters.hit_chain(hits, now)
        later = now + timedelta(seconds=60)  # a and b start new windows, c goes on
        chain = limits.counters.hit_chain(hits, later)
        assert chain.counts == [
            (1, later + timedelta(seconds=60)),
            (1, later + timedelta(seconds=60)),
            (2, now + timedelta(seconds=120)),
        ]


def test_concurrent_creations_at_a_limit_grant_exactly_that_many(backend):
    ctx = backend(per_api_key="10/hour", per_ip="1000/hour", per_phone="1000/hour")
    barrier = threading.Barrier(50)

    def one(_: int) -> str:
        barrier.wait()
        try:
            create(ctx, "key:busy")
        except context.RateLimited as exc:
            return exc.code
        return "created"

    with ThreadPoolExecutor(50) as pool:
        results = Counter(pool.map(one, range(50)))
    assert results == {"created": 10, "rate_limited_api_key": 40}
    assert counts(ctx, "key:busy") == [50, 10, 10, 10]


def test_a_code_collision_is_retried_without_charging_the_counters_again(backend, monkeypatch):
    ctx = backend(**LIMITS)
    taken = challenges._new_code(ctx.policy)
    codes = iter([taken, taken, challenges._new_code(ctx.policy)])
    monkeypatch.setattr(challenges, "_new_code", lambda *_: next(codes))
    first = create(ctx, "key:a", phone=None)
    second = create(ctx, "key:a", phone=None)  # its first code is the first one's: retried
    assert first.code == taken and second.code != taken
    assert counts(ctx, "key:a")[:2] == [2, 2]


def test_the_pending_cap_refuses_after_the_counters(backend):
    ctx = backend(per_api_key="3/hour", per_ip="100/hour", per_phone="100/hour", max_pending=2)
    made = [create(ctx, "key:a", phone=None) for _ in range(2)]
    over = refused(ctx, "key:a")
    assert (over.code, over.retry_after) == ("too_many_pending", 30)
    assert counts(ctx, "key:a")[:2] == [3, 3]  # charged, as a creation the cap refused is
    assert refused(ctx, "key:a").code == "rate_limited_api_key"  # the counters answer first
    challenges.cancel_challenge(ctx, made[0].challenge.id)
    create(ctx, "key:b", phone=None)


def test_with_redis_counters_a_creation_is_one_script_and_one_statement(tmp_path, made):
    app = build("redis", tmp_path, per_api_key="10/hour", per_ip="10/hour", per_phone="10/hour")
    made.append(app)
    ctx = app.extensions[EXTENSION].ctx
    create(ctx, "key:a")  # loads the script into Redis
    client, sent = ctx.limits.counters.client, []
    send = client.execute_command
    client.execute_command = lambda *args, **kwargs: sent.append(args[0]) or send(*args, **kwargs)
    with counted(ctx.store.writer, ctx.store.reader) as trips:
        create(ctx, "key:a")
    assert sent == ["EVALSHA"]  # the four counters, one round trip
    assert len(trips.statements) == 1 and trips.commits == 1, str(trips)
    assert counts(ctx, "key:a") == [2, 2, 2, 2]


def test_rates_beyond_a_32_bit_count_still_create(backend):
    # per_phone 1e9/hour makes the global phone ceiling 4e9, past a 32-bit integer.
    huge = "1000000000/hour"
    ctx = backend(per_api_key=huge, per_ip=huge, per_phone=huge)
    made = create(ctx, "key-huge")
    assert made.challenge.status.value == "pending"
    assert counts(ctx, "key-huge") == [1, 1, 1, 1]
