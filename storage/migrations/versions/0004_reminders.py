"""reminders: count the expired leases of a delivery claim

A claim whose sender died is retried once after its lease runs out; this
column remembers that it was, so a second expiry marks it lost.

Revision ID: 0004_reminders
Revises: 0002_schedule
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reminders"
down_revision = "0002_schedule"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_expiries", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("lease_expiries")
