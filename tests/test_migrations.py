"""Migrations take an empty database to the tables the code defines, on both engines."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from app.cli import main
from app.store import migrate
from app.store.sql import SqlStore
from app.store.tables import metadata
from tests.engines import empty_database

ENGINES = ["sqlite", "postgresql"]


def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, *args: str) -> str:
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("REVERSE_OTP_") and "TEST" not in name:
            monkeypatch.delenv(name)
    monkeypatch.setenv("REVERSE_OTP_DATABASE__URL", url)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def schema(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {
            name: (
                sorted(c["name"] for c in found.get_columns(name)),
                sorted(i["name"] or "" for i in found.get_indexes(name)),
            )
            for name in found.get_table_names()
        }
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_db_upgrade_takes_an_empty_database_to_the_current_schema_once(
    engine_name, tmp_path, monkeypatch
):
    with empty_database(engine_name, tmp_path) as url:
        first = run_cli(monkeypatch, tmp_path, url, "db", "upgrade")
        after_first = schema(url)
        second = run_cli(monkeypatch, tmp_path, url, "db", "upgrade")

        assert f"from empty to {migrate.head()}" in first
        assert f"already at {migrate.head()}" in second
        assert schema(url) == after_first
        assert set(after_first) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_migrations_agree_with_the_tables(engine_name, tmp_path):
    with empty_database(engine_name, tmp_path) as url:
        engine = create_engine(url)
        try:
            migrate.upgrade(engine)
            assert migrate.differences(engine) == []
        finally:
            engine.dispose()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_agreement_check_notices_a_table_the_migrations_lack(engine_name, tmp_path):
    with empty_database(engine_name, tmp_path) as url:
        engine = create_engine(url)
        try:
            migrate.upgrade(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_inbound_received"))
            kinds = [d[0] for d in migrate.differences(engine)]
            assert kinds == ["add_index"]
        finally:
            engine.dispose()


def test_init_db_is_an_alias_of_db_upgrade(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'alias.db'}"
    output = run_cli(monkeypatch, tmp_path, url, "init-db")
    assert f"from empty to {migrate.head()}" in output
    assert "database matches the tables" in run_cli(monkeypatch, tmp_path, url, "db", "check")


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_database_made_before_migrations_is_adopted(engine_name, tmp_path):
    with empty_database(engine_name, tmp_path) as url:
        engine = create_engine(url)
        try:
            metadata.create_all(engine)
            before, after = migrate.upgrade(engine)
            assert (before, after) == (None, migrate.head())
            assert migrate.differences(engine) == []
        finally:
            engine.dispose()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_processes_starting_together_upgrade_one_at_a_time(engine_name, tmp_path):
    with empty_database(engine_name, tmp_path) as url:
        stores = [SqlStore(url, pool_size=1) for _ in range(3)]
        start = threading.Barrier(len(stores))
        errors: list[BaseException] = []

        def upgrade(store):
            start.wait()
            try:
                store.create_schema()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=upgrade, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert errors == []
            assert migrate.current(stores[0].writer) == migrate.head()
            assert migrate.differences(stores[0].writer) == []
        finally:
            for store in stores:
                store.dispose()


def test_auto_create_runs_the_migrations(app):
    from tests.conftest import runtime

    store = runtime(app).ctx.store
    assert migrate.current(store.writer) == migrate.head()  # type: ignore[attr-defined]


def test_a_database_made_at_the_first_revision_without_a_version_is_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, migrate.BASELINE)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))

        assert migrate.upgrade(engine) == (None, migrate.head())
        assert migrate.differences(engine) == []
    finally:
        engine.dispose()
