"""locale and return_url of challenges, return origins of apps

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column("return_url", sa.Text(), nullable=True))
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_origins", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("return_origins")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("return_url")
        batch_op.drop_column("locale")
