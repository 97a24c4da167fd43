"""A message's codes are looked up by equality, whatever PostgreSQL's statistics say.

Every challenge shares one of a few numbers, so a lookup that uses only the number's part of
the (number, code_hash) index reads every challenge of the number for each message, a guess
included: whoever can keep challenges pending could make every webhook slow. On a table whose
statistics did not count its rows yet (a new database, a burst after a quiet spell),
PostgreSQL left `code_hash IN (...)` / `= ANY (...)` out of the index condition and did just
that. These tests fill a never-analysed table with thousands of challenges on one number and
count, in the caller's own transaction, the rows of `challenges` each lookup reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from app.domain.apps import DEFAULT_APP_ID
from app.store import inbound_sql, migrate
from app.store.base import QuickMatch
from app.store.statements import Statements
from tests.conftest import NUMBER
from tests.engines import scratch_postgres
from tests.sms import inbound_sms

PER_STATUS = 2000  # pending challenges on one number, and as many ended ones
SENDER = "+33612345678"
MISSES = ["0" * 64, "1" * 64, "2" * 64]

# Rows of `challenges` read through its indexes and by scanning it, as this backend counts
# them until it reports them (PostgreSQL 15: pending counts span transactions, so take a
# difference).
ROWS_READ = text(
    "SELECT (SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) FROM pg_index"
    "        WHERE indrelid = 'challenges'::regclass) AS by_index,"
    " pg_stat_get_xact_tuples_returned('challenges'::regclass) AS by_scan"
)


def code_hash(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture(scope="module")
def crowded() -> Iterator[Engine]:
    """A migrated database, never analysed, with PER_STATUS pending and PER_STATUS verified
    challenges on NUMBER (challenge n has code hash code_hash(n))."""
    with scratch_postgres() as url:
        made = create_engine(url)
        migrate.upgrade(made)
        with made.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO challenges (id, number, code_hash, token_hash, code_sealed,"
                    " status, attempts, max_attempts, created_at, expires_at, renewals, metadata)"
                    " SELECT 'ch_' || g, :number, lpad(to_hex(g), 64, '0'), 'tok-' || g,"
                    " '\\x00'::bytea, CASE WHEN g <= :n THEN 'pending' ELSE 'verified' END,"
                    " 0, 5, now(), now() + interval '1 day', 0, '{}'"
                    " FROM generate_series(1, 2 * :n) AS g"
                ),
                {"number": NUMBER, "n": PER_STATUS},
            )
        yield made
        made.dispose()


def read_by(made: Engine, run: Any) -> tuple[Any, Any]:
    """Run `run(conn)` in a transaction that is rolled back; return its result and the rows
    of `challenges` it read."""
    with made.connect() as conn, conn.begin() as tx:
        before = conn.execute(ROWS_READ).one()
        found = run(conn)
        after = conn.execute(ROWS_READ).one()
        tx.rollback()
    assert after.by_scan == before.by_scan, "the challenges table was scanned"
    return found, int(after.by_index - before.by_index)


HASH_LISTS = [
    MISSES[:1],
    MISSES[:2],
    MISSES,
    [code_hash(7)],  # pending
    [MISSES[0], code_hash(PER_STATUS + 7)],  # verified
    [code_hash(PER_STATUS + 9), code_hash(9)],  # verified first, then pending
]


@pytest.mark.parametrize("hashes", HASH_LISTS)
def test_finding_a_message_s_challenge_reads_only_what_its_codes_name(crowded, hashes):
    sql = Statements("postgresql")

    def find(conn: Connection) -> str | None:
        row = conn.execute(*sql.find_by_code(hashes, number=NUMBER)).first()
        return None if row is None else str(row.id)

    found, read = read_by(crowded, find)

    named = [h for h in hashes if h not in MISSES]
    pending = [h for h in named if int(h, 16) <= PER_STATUS]
    expected = (pending or named or [None])[0]
    assert found == (None if expected is None else f"ch_{int(expected, 16)}")
    assert read <= len(hashes)


@pytest.mark.parametrize("hashes", HASH_LISTS)
def test_verifying_by_code_reads_only_what_its_codes_name(crowded, hashes):
    sql = Statements("postgresql")

    def verify(conn: Connection) -> str | None:
        statement = sql.verify_by_code(
            hashes,
            b_number=NUMBER,
            b_phone=SENDER,
            now=datetime.now(UTC),
            b_channel="sms",
            b_method="sms",
        )
        row = conn.execute(*statement).first()
        return None if row is None else str(row.id)

    found, read = read_by(crowded, verify)

    pending = [h for h in hashes if h not in MISSES and int(h, 16) <= PER_STATUS]
    assert found == (f"ch_{int(pending[0], 16)}" if pending else None)
    assert read <= len(hashes) + 1  # and the UPDATE's lookup by key


@pytest.mark.parametrize("hashes", HASH_LISTS)
def test_the_one_step_function_reads_only_what_its_codes_name(crowded, hashes):
    attempt = QuickMatch(
        message=inbound_sms("WRONG1", SENDER),
        phone=SENDER,
        hashes=hashes,
        now=datetime.now(UTC),
        spends=False,
        budget=None,
        default_app_id=DEFAULT_APP_ID,
        default_callback=False,
    )

    def settle(conn: Connection) -> Any:
        return conn.execute(inbound_sql._CALL, inbound_sql._call_params(attempt)).one()

    row, read = read_by(crowded, settle)

    pending = [h for h in hashes if h not in MISSES and int(h, 16) <= PER_STATUS]
    if pending:
        assert (row.state, row.challenge_id) == ("settled", f"ch_{int(pending[0], 16)}")
        assert read <= len(hashes) + 2  # the UPDATE's lookup by key, the message's foreign key
    else:
        assert row.state == "undecided"
        assert read <= len(hashes)
