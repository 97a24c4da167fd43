"""outbound sends: codes sent to the user by the fallback

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_sends",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("challenge_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("country", sa.String(length=4), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("challenge_id", "seq", name="ux_outbound_sends_turn"),
    )
    op.create_index("ix_outbound_sends_provider", "outbound_sends", ["sender", "provider_id"])
    op.create_index("ix_outbound_sends_created", "outbound_sends", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_sends_created", table_name="outbound_sends")
    op.drop_index("ix_outbound_sends_provider", table_name="outbound_sends")
    op.drop_table("outbound_sends")
