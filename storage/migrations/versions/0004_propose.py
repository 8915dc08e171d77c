"""propose: the reasons of members who propose a paper already proposed

Revision ID: 0004_propose
Revises: 0001_initial
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = "0004_propose"
down_revision = "0001_initial"
branch_labels = ("propose",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposal_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "member_id"),
    )
    with op.batch_alter_table("proposal_reasons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_reasons_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_reasons_proposal_id"))
    op.drop_table("proposal_reasons")
