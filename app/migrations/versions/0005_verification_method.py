"""verification method

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # How a verified challenge was proved: inbound_sms, test (a [[test_numbers]] entry), ...
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("method")
