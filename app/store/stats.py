"""Reads for the operator dashboard: recent rows and the rows of a time window.

Read-only, on the reader engine. Aggregation happens in app/usecases/dashboard.py over plain rows,
the same way on SQLite and PostgreSQL; the window's rows are capped so a busy instance's
dashboard stays quick (the page says when the cap was reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from app.store.tables import challenges, inbound_messages, page_events


@dataclass(frozen=True)
class ChallengeRow:
    id: str
    number: str
    phone: str | None
    status: str
    created_at: datetime
    verified_at: datetime | None
    ended_at: datetime | None
    verified_phone: str | None
    attempts: int
    failure_reason: str | None
    method: str | None = None  # how it was verified: inbound_sms, test, ...
    app_id: str | None = None
    email: str | None = None  # expected address (shown masked)


@dataclass(frozen=True)
class InboundRow:
    provider: str
    sender: str
    recipient: str
    outcome: str
    challenge_id: str | None
    received_at: datetime


@dataclass(frozen=True)
class PageEventRow:
    challenge_id: str
    event: str
    at: datetime


CHALLENGE_COLUMNS = [getattr(challenges.c, name) for name in ChallengeRow.__dataclass_fields__]
INBOUND_COLUMNS = [getattr(inbound_messages.c, name) for name in InboundRow.__dataclass_fields__]
EVENT_COLUMNS = [getattr(page_events.c, name) for name in PageEventRow.__dataclass_fields__]


class SqlStats:
    """Dashboard reads on a SQL engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recent_challenges(self, limit: int) -> list[ChallengeRow]:
        query = select(*CHALLENGE_COLUMNS).order_by(challenges.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [ChallengeRow(**row._mapping) for row in conn.execute(query)]

    def recent_inbound(self, limit: int) -> list[InboundRow]:
        query = select(*INBOUND_COLUMNS).order_by(inbound_messages.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [InboundRow(**row._mapping) for row in conn.execute(query)]

    def challenges_since(self, since: datetime, cap: int) -> list[ChallengeRow]:
        query = (
            select(*CHALLENGE_COLUMNS)
            .where(challenges.c.created_at >= since)
            .order_by(challenges.c.created_at.desc())
            .limit(cap)
        )
        with self.engine.connect() as conn:
            return [ChallengeRow(**row._mapping) for row in conn.execute(query)]

    def inbound_since(self, since: datetime, cap: int) -> list[InboundRow]:
        query = (
            select(*INBOUND_COLUMNS)
            .where(inbound_messages.c.received_at >= since)
            .order_by(inbound_messages.c.received_at.desc())
            .limit(cap)
        )
        with self.engine.connect() as conn:
            return [InboundRow(**row._mapping) for row in conn.execute(query)]

    def page_events_since(self, since: datetime, cap: int) -> list[PageEventRow]:
        query = (
            select(*EVENT_COLUMNS)
            .where(page_events.c.at >= since)
            .order_by(page_events.c.at.desc())
            .limit(cap)
        )
        with self.engine.connect() as conn:
            return [PageEventRow(**row._mapping) for row in conn.execute(query)]

    def find_challenges(self, prefix: str, limit: int) -> list[ChallengeRow]:
        """Challenges whose id starts with `prefix` (LIKE wildcards in it are escaped)."""
        query = (
            select(*CHALLENGE_COLUMNS)
            .where(challenges.c.id.startswith(prefix, autoescape=True))
            .order_by(challenges.c.created_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [ChallengeRow(**row._mapping) for row in conn.execute(query)]

    def events_of(self, challenge_ids: list[str]) -> list[PageEventRow]:
        query = select(*EVENT_COLUMNS).where(page_events.c.challenge_id.in_(challenge_ids))
        with self.engine.connect() as conn:
            return [PageEventRow(**row._mapping) for row in conn.execute(query)]

    def inbound_of(self, challenge_ids: list[str]) -> list[InboundRow]:
        query = select(*INBOUND_COLUMNS).where(inbound_messages.c.challenge_id.in_(challenge_ids))
        with self.engine.connect() as conn:
            return [InboundRow(**row._mapping) for row in conn.execute(query)]
