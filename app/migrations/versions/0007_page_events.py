"""page events of the conversion funnel

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_events",
        sa.Column("challenge_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("challenge_id", "event"),
    )
    with op.batch_alter_table("page_events", schema=None) as batch_op:
        batch_op.create_index("ix_page_events_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page_events", schema=None) as batch_op:
        batch_op.drop_index("ix_page_events_at")
    op.drop_table("page_events")
