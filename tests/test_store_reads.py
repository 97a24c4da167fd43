"""Reads run in autocommit on PostgreSQL; writes still run in real transactions.

The reader and the writer share one pool there, so a connection that served a read must come
back to a write transaction out of autocommit: otherwise a transaction that fails half-way
would leave its first statements committed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.challenges import Challenge
from tests.engines import store_on_both_engines

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

store = store_on_both_engines(pool_size=2)


def challenge(n: int) -> Challenge:
    return Challenge(
        id=f"ch_reads_{n}",
        number="+15017122661",
        code_hash=f"code-{n}",
        token_hash=f"token-{n}",
        code_sealed=b"sealed",
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=5),
        max_attempts=5,
    )


class Boom(Exception):
    pass


def test_a_write_after_reads_on_the_same_connections_still_rolls_back(store):
    with store.begin() as tx:
        assert tx.add_challenge(challenge(1))
    for _ in range(30):  # every pooled connection serves reads in autocommit
        assert store.challenge("ch_reads_1") is not None
    for _ in range(3):
        with pytest.raises(Boom), store.begin() as tx:
            assert tx.add_challenge(challenge(2))
            raise Boom
        assert store.challenge("ch_reads_2") is None


def test_reads_see_what_was_committed_at_once(store):
    assert store.challenge("ch_reads_3") is None
    with store.begin() as tx:
        assert tx.add_challenge(challenge(3))
    assert store.challenge("ch_reads_3") is not None
