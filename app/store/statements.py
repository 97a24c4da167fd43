"""The store's SQL statements, built once per store with bound parameters.

Building a SQLAlchemy statement and computing its cache key costs far more than running the
query it names (tens to hundreds of microseconds each). Built once, a statement keeps its
cache key and compiled form, so a request pays only for executing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.domain.challenges import Method, Status
from app.store.tables import (
    UTCDateTime,
    api_keys,
    callback_outbox,
    challenges,
    inbound_messages,
    limit_counters,
    message_part_groups,
    message_parts,
    outbound_sends,
    page_events,
)

PENDING = Status.PENDING.value
c = challenges.c


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


def _offered() -> Any:
    """True when the bound channel (`b_channel`, bare) is among the challenge's channels."""
    listed = literal(",") + c.channels + literal(",")
    return listed.contains(literal(",") + bindparam("b_channel") + literal(","))


def _pending(challenge_id: str = "cid") -> Any:
    return (c.id == bindparam(challenge_id), c.status == PENDING)


class ByArity:
    """A statement per number of hashes, built on first use.

    `IN (:h0, :h1)` with a fixed count compiles once; an "expanding" parameter would be
    re-rendered on every execution. Counts are small (candidate codes times server keys).
    """

    def __init__(self, build: Callable[[list[Any]], Any]) -> None:
        self._build = build
        self._made: dict[int, Any] = {}

    def __call__(self, hashes: list[str], **params: Any) -> tuple[Any, dict[str, Any]]:
        """Return the statement for these hashes and its parameters."""
        statement = self._made.get(len(hashes))
        if statement is None:
            statement = self._build([bindparam(f"h{i}") for i in range(len(hashes))])
            self._made[len(hashes)] = statement
        return statement, params | {f"h{i}": h for i, h in enumerate(hashes)}


# Bound names differ from column names: SQLAlchemy keeps those for the SET clause.


class Statements:
    """Every statement the store runs, for one dialect ("sqlite" or "postgresql")."""

    def __init__(self, dialect: str) -> None:
        upsert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
        self.upsert = upsert
        # False once a PostgreSQL database is found without reverse_otp_settle_match.
        self.settle_in_function = True
        self.add_challenge = (
            upsert(challenges)
            .on_conflict_do_nothing(
                index_elements=["number", "code_hash"], index_where=text("status = 'pending'")
            )
            .returning(c.id)
        )
        self.add_inbound = (
            upsert(inbound_messages)
            .on_conflict_do_nothing(index_elements=["provider", "message_id"])
            .returning(inbound_messages.c.id)
        )
        self.set_outcome = (
            update(inbound_messages)
            .where(inbound_messages.c.id == bindparam("inbound_id"))
            .values(outcome=bindparam("b_outcome"), challenge_id=bindparam("cid"))
        )
        self.find_by_code = ByArity(_find_first)
        self.verify = (
            update(challenges)
            .where(
                *_pending(),
                c.expires_at > _now(),
                c.phone.is_(None) | (c.phone == bindparam("b_phone")),
                _offered(),
            )
            .values(
                status=Status.VERIFIED.value,
                verified_phone=bindparam("b_phone"),
                verified_at=_now(),
                ended_at=_now(),
                method=bindparam("b_method"),
                channel=bindparam("b_channel"),
            )
        )
        # A code vouched for by another source than an inbound SMS (/check): the expected
        # phone is the verified one, so discovery challenges never qualify.
        self.verify_checked = (
            update(challenges)
            .where(*_pending(), c.expires_at > _now(), c.phone.is_not(None))
            .values(
                status=Status.VERIFIED.value,
                verified_phone=c.phone,
                verified_at=_now(),
                ended_at=_now(),
                method=bindparam("b_method"),
            )
            .returning(*c)
        )
        # A code emailed to the expected address: it proves the address, not a phone, so
        # no phone becomes verified (an expected phone stays unproved).
        self.verify_emailed = (
            update(challenges)
            .where(*_pending(), c.expires_at > _now(), c.email.is_not(None))
            .values(
                status=Status.VERIFIED.value,
                verified_at=_now(),
                ended_at=_now(),
                method=Method.EMAIL.value,
            )
            .returning(*c)
        )
        self.verify_by_code = ByArity(verify_first)
        reached = c.attempts + 1 >= c.max_attempts
        self.count_attempt = (
            update(challenges)
            .where(*_pending())
            .values(
                attempts=c.attempts + 1,
                status=case((reached, Status.FAILED.value), else_=c.status),
                failure_reason=case((reached, "too_many_attempts"), else_=None),
                ended_at=case((reached, _now()), else_=None),
            )
            .returning(*c)
        )
        self.end = (
            update(challenges)
            .where(*_pending())
            .values(status=bindparam("b_status"), ended_at=_now())
        )
        self.renew = (
            update(challenges)
            .where(*_pending())
            .values(
                code_hash=bindparam("b_code_hash"),
                code_sealed=bindparam("b_code_sealed"),
                renewals=c.renewals + 1,
                renewed_at=_now(),
            )
        )
        self.challenge = select(challenges).where(c.id == bindparam("cid"))
        self.challenge_by_token = ByArity(
            lambda hashes: select(challenges).where(c.token_hash.in_(hashes))
        )
        self.add_api_key = insert(api_keys)
        self.api_key_valid = ByArity(
            lambda hashes: select(api_keys.c.id).where(
                api_keys.c.key_hash.in_(hashes), api_keys.c.revoked_at.is_(None)
            )
        )
        self.due_expiries = (
            select(c.id)
            .where(c.status == PENDING, c.expires_at <= _now())
            .order_by(c.expires_at)
            .limit(bindparam("limit"))
        )
        self.purge = [
            _purge(inbound_messages, inbound_messages.c.received_at),
            _purge(challenges, c.created_at),
            _purge(message_parts, message_parts.c.received_at),
            _purge(message_part_groups, message_part_groups.c.created_at),
            # Only ended callbacks have ended_at; their bodies may hold a verified number.
            _purge(callback_outbox, callback_outbox.c.ended_at),
            _purge(limit_counters, limit_counters.c.reset_at),
            # Codes sent by the fallback: a code hash, a country and a prefix each.
            _purge(outbound_sends, outbound_sends.c.created_at),
            _purge(page_events, page_events.c.at),
        ]


def _by_hash(hashes: list[Any], *conditions: Any, columns: tuple[Any, ...] = (c.id,)) -> Any:
    """The rows each hash names, one equality lookup per hash, with the hash's rank in the
    list (`position`: the order of the message's codes).

    Every challenge shares one of a few numbers, so a lookup must use both columns of the
    (number, code_hash) index. `code_hash IN (...)` is not always one: PostgreSQL left it out
    of the index condition on a table whose statistics did not count its rows yet, and read
    every challenge of the number for each message. An equality per hash is always part of
    the index condition (tests/test_lookups.py counts the rows read)."""
    ranked = [
        select(*columns, literal_column(str(i)).label("position")).where(
            c.code_hash == h, *conditions
        )
        for i, h in enumerate(hashes)
    ]
    return (ranked[0] if len(ranked) == 1 else union_all(*ranked)).subquery("by_hash")


def _find_first(hashes: list[Any]) -> Any:
    """The challenge a message's codes name: a pending one first, then the first code's,
    then the newest."""
    found = _by_hash(hashes, c.number == bindparam("number"), columns=tuple(c))
    return (
        select(*(found.c[column.name] for column in c))
        .order_by(
            case((found.c.status == PENDING, 0), else_=1),
            found.c.position,
            found.c.created_at.desc(),
            found.c.id,
        )
        .limit(1)
    )


def verify_first(hashes: list[Any], *gates: Any, returned: tuple[Any, ...] = tuple(c)) -> Any:
    """Verify one challenge: the first hash in the list's order naming one the sender may verify.

    Hashes come in the order of the message's codes, so the first code wins, whatever the
    others name; those challenges are left as they were. The conditions are repeated outside
    the subquery: on PostgreSQL a row changed meanwhile is checked again against them. Extra
    `gates` apply to that first challenge only: when one fails, nothing is verified. The
    statement returns the `returned` columns of the verified challenge (all by default).
    """
    eligible = (
        c.number == bindparam("b_number"),
        c.status == PENDING,
        c.expires_at > _now(),
        c.phone.is_(None) | (c.phone == bindparam("b_phone")),
        _offered(),
    )
    named = _by_hash(hashes, *eligible)
    first = select(named.c.id).order_by(named.c.position).limit(1).scalar_subquery()
    # Checked again on the row found (on PostgreSQL, its latest version), as one expression:
    # as separate conditions, the number's or the pending-expiry index could be taken for this
    # lookup by key, and read every pending challenge.
    again = func.coalesce(and_(c.code_hash.in_(hashes), *eligible), False)
    return (
        update(challenges)
        .where(c.id == first, again, *gates)
        .values(
            status=Status.VERIFIED.value,
            verified_phone=bindparam("b_phone"),
            verified_at=_now(),
            ended_at=_now(),
            method=bindparam("b_method"),
            channel=bindparam("b_channel"),
        )
        .returning(*returned)
    )


def _purge(table: Any, column: Any) -> Any:
    """Delete the oldest `limit` rows older than `before` (by primary key, one or several)."""
    before = bindparam("before", type_=UTCDateTime())
    key = list(table.primary_key.columns)
    batch = select(*key).where(column < before).order_by(column).limit(bindparam("limit"))
    if len(key) == 1:
        return delete(table).where(key[0].in_(batch.scalar_subquery()))
    return delete(table).where(tuple_(*key).in_(batch))
