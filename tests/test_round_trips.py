"""What the hot paths cost the database, counted on both engines (tests/roundtrips.py).

The aims of issue 12 (docs/benchmarks.md): a webhook that verifies a challenge costs
PostgreSQL one round trip and one commit, and SQLite one transaction of at most three
statements; a status read is one statement with no BEGIN or ROLLBACK around it; a creation
is one transaction of at most two statements.

Every aim is met; a change that makes a request cost more fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.clock import FakeClock
from app.config import load
from app.runtime import EXTENSION
from app.store import migrate
from app.store.tables import metadata
from tests import sms
from tests.conftest import AUTH, NUMBER, base_settings
from tests.engines import postgres_url
from tests.roundtrips import WRITES, Trips, counted

PHONE = "+33612345678"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The app on one engine, with the default limits (the sender budget on) and one number."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trips.db'}"
    else:
        url = postgres_url()
        from sqlalchemy import create_engine

        engine = create_engine(url)
        migrate.upgrade(engine)
        with engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
    raw = base_settings(tmp_path, numbers=[{"number": NUMBER, "provider": "simulator"}])
    raw["database"] = {"url": url}
    app = create_app(load(overrides=raw, environ={}), clock=FakeClock())
    app.extensions[EXTENSION].ctx.store.create_schema()
    yield app
    app.extensions[EXTENSION].ctx.store.dispose()


def store_of(app: Flask) -> Any:
    return app.extensions[EXTENSION].ctx.store


def counting(app: Flask) -> Any:
    store = store_of(app)
    return counted(store.writer, store.reader)


def postgres(app: Flask) -> bool:
    return bool(store_of(app).writer.dialect.name == "postgresql")


def within_webhook_aim(app: Flask, trips: Trips) -> bool:
    if postgres(app):
        return trips.round_trips == 1 and trips.commits == 1
    return len(trips.statements) <= 3 and trips.begins == 1 and trips.commits == 1


def test_a_verifying_webhook_costs_one_round_trip_or_one_short_transaction(engine_app):
    client = engine_app.test_client()
    created = sms.create_on_simulator(client, phone=PHONE)
    with counting(engine_app) as trips:
        answer = sms.text_in(client, created["body"], sender=PHONE)
    assert answer.json == {"outcomes": ["matched"]}
    assert within_webhook_aim(engine_app, trips), str(trips)


def test_a_discovery_verification_with_two_codes_stays_within_the_aim(engine_app):
    client = engine_app.test_client()
    created = sms.create_on_simulator(client)
    other = sms.create_on_simulator(client)
    with counting(engine_app) as trips:
        answer = sms.text_in(client, f"{created['body']} {other['code']}", sender=PHONE)
    assert answer.json == {"outcomes": ["matched"]}
    assert within_webhook_aim(engine_app, trips), str(trips)
    status = client.get(f"/api/v1/challenges/{other['id']}", headers=AUTH).json["status"]
    assert status == "pending"  # the first code wins, the other challenge is untouched


def test_a_status_read_sends_no_begin_or_rollback(engine_app):
    client = engine_app.test_client()
    created = sms.create_on_simulator(client, phone=PHONE)
    with counting(engine_app) as trips:
        answer = client.get(f"/api/v1/status/{created['token']}")
    assert answer.json["status"] == "pending"
    assert (len(trips.statements), trips.begins, trips.rollbacks, trips.commits) == (1, 0, 0, 0)


def test_a_creation_is_one_transaction_of_at_most_two_statements(engine_app):
    """The creation's writes (its limit counters and the challenge) are one transaction of at
    most two statements. Reads before it are not part of it: the API key's credential
    throttle reads its counter first (a SELECT, one round trip in autocommit on PostgreSQL)."""
    client = engine_app.test_client()
    with counting(engine_app) as trips:
        answer = client.post("/api/v1/challenges", json={"phone": PHONE}, headers=AUTH)
    assert answer.status_code == 201
    writes = [s for s in trips.statements if WRITES.search(s)]
    reads = [s for s in trips.statements if not WRITES.search(s) and "BEGIN" not in s]
    assert trips.commits == 1 and trips.begins <= 1 and len(writes) <= 2, str(trips)
    assert all(s.lstrip().upper().startswith("SELECT") for s in reads), str(trips)
