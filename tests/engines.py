"""Databases for tests that must run on both engines, whichever one the suite runs on.

PostgreSQL comes from REVERSE_OTP_TEST_DATABASE_URL, else REVERSE_OTP_TEST_POSTGRES_URL, else
the CI database. Without CI set, an unreachable server skips; in CI it fails (tests/backends.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.store import migrate
from app.store.sql import SqlStore
from app.store.tables import metadata
from tests.backends import missing

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """Return a reachable PostgreSQL URL, or skip (outside CI) when there is none."""
    url = os.environ.get("REVERSE_OTP_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = os.environ.get("REVERSE_OTP_TEST_POSTGRES_URL", DEFAULT_PG)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        missing("PostgreSQL unreachable", exc)
    finally:
        engine.dispose()
    return url


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """Create an empty database next to the test database; drop it afterwards."""
    base = make_url(postgres_url())
    name = f"{base.database}_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def empty_database(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database on `engine_name` ("sqlite" or "postgresql")."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / f'empty-{uuid.uuid4().hex[:6]}.db'}"
    else:
        with scratch_postgres() as url:
            yield url


def empty(engine: Engine) -> None:
    """Delete every row of a migrated PostgreSQL database and restart its sequences, keeping
    its schema. DELETE, children first: on tables this small it takes half the time of
    TRUNCATE, which makes new files for each table, and it runs before most tests."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(_RESTART_SEQUENCES)


_RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
    " FROM pg_sequences WHERE schemaname = current_schema()"
)


def store_on_both_engines(**options: Any) -> Callable[..., Iterator[SqlStore]]:
    """A `store` fixture run once per engine: a SqlStore (built with `options`) on a migrated,
    empty database, a new SQLite file or the test PostgreSQL; disposed after the test.

    In a test module: `store = store_on_both_engines(pool_size=8)`.
    """

    @pytest.fixture(params=["sqlite", "postgresql"])
    def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
        sqlite = f"sqlite:///{tmp_path / 'store.db'}"
        made = SqlStore(sqlite if request.param == "sqlite" else postgres_url(), **options)
        migrate.upgrade(made.writer)
        if request.param == "postgresql":
            empty(made.writer)
        yield made
        made.dispose()

    return store
