"""digest: what the grounding check dropped from a draft's newest run (for the
organizer's cost line), and a cache of the model's answers to the period
prompts (intro, monthly "Why →"), keyed like the tl;dr cache

Revision ID: 0006_grounding_cache
Revises: 0004_drafts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_grounding_cache"
down_revision = "0004_drafts"
branch_labels = None
depends_on = None

_DROPS = ("quotes_dropped", "sentences_dropped")


def upgrade() -> None:
    with op.batch_alter_table("digest_drafts", schema=None) as batch_op:
        for name in _DROPS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "llm_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cache_key"),
    )


def downgrade() -> None:
    op.drop_table("llm_answers")
    with op.batch_alter_table("digest_drafts", schema=None) as batch_op:
        for name in _DROPS:
            batch_op.drop_column(name)
