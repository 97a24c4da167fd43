"""The store's SQL statements, built once per store with bound parameters.

Building a SQLAlchemy statement and computing its cache key costs far more than running the
query it names (tens to hundreds of microseconds each). Built once, a statement keeps its
cache key and compiled form, so a request pays only for executing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    bindparam,
    case,
    delete,
    insert,
    literal,
    select,
    text,
    tuple_,
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
        self.find_by_code = ByArity(
            lambda hashes: (
                select(challenges)
                .where(
                    c.number == bindparam("number"),
                    c.code_hash.in_(hashes),
                )
                .order_by(
                    case((c.status == PENDING, 0), else_=1),
                    _position(hashes),
                    c.created_at.desc(),
                    c.id,
                )
                .limit(1)
            )
        )
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


def _position(hashes: list[Any]) -> Any:
    """The rank of a row's code hash in the list: the order of the message's codes."""
    return case(*((c.code_hash == h, i) for i, h in enumerate(hashes)), else_=len(hashes))


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
        c.code_hash.in_(hashes),
        c.status == PENDING,
        c.expires_at > _now(),
        c.phone.is_(None) | (c.phone == bindparam("b_phone")),
        _offered(),
    )
    first = select(c.id).where(*eligible).order_by(_position(hashes)).limit(1).scalar_subquery()
    return (
        update(challenges)
        .where(c.id == first, *eligible, *gates)
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
