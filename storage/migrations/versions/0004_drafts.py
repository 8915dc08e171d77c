"""drafts: a publishing lease on digest drafts and the posted parts of a post

Revision ID: 0004_drafts
Revises: 0003_digest
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0004_drafts"
down_revision = "0003_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publishing_revision", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "publishing_token", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("publishing_until", sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "digest_post_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("of", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["digest_drafts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id", "number"),
    )
    with op.batch_alter_table("digest_post_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_post_parts_draft_id"), ["draft_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_post_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_post_parts_draft_id"))
    op.drop_table("digest_post_parts")
    with op.batch_alter_table("digest_drafts", schema=None) as batch_op:
        batch_op.drop_column("publishing_until")
        batch_op.drop_column("publishing_token")
        batch_op.drop_column("publishing_revision")
