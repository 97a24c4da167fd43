"""Codes are kept only as keyed hashes: a database dump reveals none of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.store.tables import metadata
from app.usecases import challenges
from tests.conftest import AUTH, runtime


def dump_rows(app) -> str:
    """Every row of every table, as text (what a logical dump holds)."""
    engine = runtime(app).ctx.store.reader  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in conn.execute(select(table))
        )


def test_a_dump_of_the_database_contains_no_code_or_token(client, app, settings):
    created = [client.post("/api/v1/challenges", json={}, headers=AUTH).json for _ in range(25)]
    dump = dump_rows(app)
    assert "ch_" in dump  # the dump does hold the challenges
    for challenge in created:
        assert challenge["code"] not in dump
        assert challenge["token"] not in dump


def test_the_sqlite_file_itself_holds_no_code(client, settings):
    created = [client.post("/api/v1/challenges", json={}, headers=AUTH).json for _ in range(25)]
    url = settings.database.url
    if not url.startswith("sqlite"):
        pytest.skip("a SQLite file check; the logical dump test covers PostgreSQL")
    path = url.removeprefix("sqlite:///")
    raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
    for challenge in created:
        assert challenge["code"].encode() not in raw


def test_the_token_holder_can_be_shown_the_code_again(client, ctx):
    created = client.post("/api/v1/challenges", json={}, headers=AUTH).json
    challenge = challenges.challenge_for_token(ctx, created["token"])
    assert challenges.code_for_token(challenge, created["token"]) == created["code"]
    assert challenges.code_for_token(challenge, created["token"] + "x") is None
