"""challenge channels

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channels", sa.String(length=40), server_default="sms", nullable=False)
        )
        batch_op.add_column(sa.Column("channel", sa.String(length=12), nullable=True))
    # Every challenge verified by a message before channels existed was verified by SMS.
    op.execute(
        "UPDATE challenges SET channel = 'sms' WHERE status = 'verified'"
        " AND (method IS NULL OR method = 'inbound_sms')"
    )


def downgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("channel")
        batch_op.drop_column("channels")
