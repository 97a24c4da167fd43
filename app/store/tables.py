"""Table definitions (SQLAlchemy Core), shared by the store and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

challenges = Table(
    "challenges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("number", String(20), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("code_sealed", LargeBinary, nullable=False),
    Column("phone", String(20)),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("verified_phone", String(20)),
    Column("verified_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("failure_reason", String(40)),
    Column("renewals", Integer, nullable=False, default=0),
    Column("renewed_at", UTCDateTime),
    Column("metadata", JSON, nullable=False),
    # The app that created the challenge (NULL: the default app) and its own callback URL.
    Column("app_id", String(40)),
    Column("callback_url", Text),
    # How a verified challenge was proved: inbound_sms, test (a [[test_numbers]] entry), ...
    Column("method", String(20)),
    # The channels offered ("sms", "sms,whatsapp") and the one that verified the challenge.
    Column("channels", String(40), nullable=False, server_default="sms"),
    Column("channel", String(12)),
    # The language asked for at creation, and where the hosted page leads when done.
    Column("locale", String(35)),
    Column("return_url", Text),
    # The expected email address, where the fallback may send a code (NULL: none).
    Column("email", String(254)),
    Index("ix_challenges_number_code", "number", "code_hash"),
    # A code is unique among the pending challenges of one virtual number.
    Index(
        "ux_challenges_pending_code",
        "number",
        "code_hash",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_challenges_status_expires", "status", "expires_at"),
    Index("ix_challenges_created", "created_at"),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(40), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("sender", String(64), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("challenge_id", String(40)),
    Column("received_at", UTCDateTime, nullable=False),
    Column("raw", JSON, nullable=False),
    UniqueConstraint("provider", "message_id", name="ux_inbound_provider_message"),
    Index("ix_inbound_received", "received_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    # The app the key acts for; NULL: the default app.
    Column("app_id", String(40)),
)

# Integrators. Configuration-file keys belong to the built-in app "default", kept in
# settings, not here.
apps = Table(
    "apps",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("callback_url", Text),
    # Needed in clear to sign callbacks (HMAC is symmetric); shown to the integrator once.
    Column("callback_secret", String(120)),
    Column("full_phone", Boolean, nullable=False, default=False),
    Column("numbers", JSON, nullable=False),
    Column("ttl", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("old_callback_secret", String(120)),
    Column("old_secret_until", UTCDateTime),
    # Origins its challenges' return_url may lead to (JSON list; NULL: none).
    Column("return_origins", JSON),
)

# The durable outbox of callbacks: a row is written in the transaction that changes the
# challenge's status, and a worker delivers it (at least once) afterwards.
callback_outbox = Table(
    "callback_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("app_id", String(40), nullable=False),
    Column("challenge_id", String(40), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease", String(32)),
    Column("leased_until", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", String(200)),
    Column("ended_at", UTCDateTime),
    Index("ix_callback_outbox_due", "state", "next_attempt_at"),
    Index("ix_callback_outbox_challenge", "challenge_id"),
)

# Abuse-limit counters (app/limits/): one row per key, a window ending at reset_at.
# Keys are keyed hashes, never a phone number or address in clear.
limit_counters = Table(
    "limit_counters",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("reset_at", UTCDateTime, nullable=False),
    Index("ix_limit_counters_reset", "reset_at"),
)

# Parts of long SMS that providers deliver one by one (Vonage SMS API), kept until every part
# is in. A group row per long SMS is the lock concurrent parts take before looking for the
# others, so on PostgreSQL the last part to commit always sees them all.
message_part_groups = Table(
    "message_part_groups",
    metadata,
    Column("provider", String(40), primary_key=True),
    Column("group_key", String(200), primary_key=True),
    Column("total", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_message_part_groups_created", "created_at"),
)

message_parts = Table(
    "message_parts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(40), nullable=False),
    Column("group_key", String(200), nullable=False),
    Column("part", Integer, nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("provider", "message_id", name="ux_message_parts_provider_message"),
    UniqueConstraint("provider", "group_key", "part", name="ux_message_parts_group_part"),
)

# Codes sent to the user (the fallback, app/usecases/fallback.py): one row per send. `seq`
# numbers a challenge's sends; its uniqueness makes concurrent sends of one challenge take
# turns. The code is kept only as a keyed hash. Country and prefix are kept for the
# dashboard and the breaker; the number itself is the challenge's.
outbound_sends = Table(
    "outbound_sends",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("challenge_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("sender", String(40), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("country", String(4), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("provider_id", String(200)),
    Column("status", String(12), nullable=False),
    Column("detail", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("challenge_id", "seq", name="ux_outbound_sends_turn"),
    Index("ix_outbound_sends_provider", "sender", "provider_id"),
    Index("ix_outbound_sends_created", "created_at"),
)

# What the hosted page reported (app/domain/funnel.py): one row per challenge and event, so
# an event counts once however often the page sends it. No address, no user agent.
page_events = Table(
    "page_events",
    metadata,
    Column("challenge_id", String(40), primary_key=True),
    Column("event", String(20), primary_key=True),
    Column("app_id", String(40)),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_page_events_at", "at"),
)
