"""groups: one sentence on who the group is (``/readgroup config about``),
shown under the group's name at the top of the quarterly digest

Revision ID: 0005_group_about
Revises: 0001_initial
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_group_about"
down_revision = "0001_initial"
branch_labels = ("group_about",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("about")
