"""digest: llm calls, paper summaries, digest drafts and revisions

Revision ID: 0003_digest
Revises: 0001_initial
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0003_digest"
down_revision = "0001_initial"
branch_labels = ("digest",)
depends_on = None

_PUBLISHED = "status IN ('publishing', 'published')"


def upgrade() -> None:
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("prompt_hash", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_llm_calls_run_id"), ["run_id"], unique=False)

    op.create_table(
        "paper_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cache_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("paper_version", sa.Integer(), nullable=True),
        sa.Column("prompt_hash", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("takeaways_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("tldr", sa.Text(), nullable=False),
        sa.Column("key_insights", sa.JSON(), nullable=False),
        sa.Column("why_it_matters", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cache_key"),
    )
    with op.batch_alter_table("paper_summaries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_summaries_paper_id"), ["paper_id"], unique=False
        )

    op.create_table(
        "digest_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("week", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("llm_calls", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("summaries_reused", sa.Integer(), nullable=False),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "published_channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column(
            "published_message", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("digest_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_drafts_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            "uq_digest_drafts_group_week_published",
            ["group_id", "week"],
            unique=True,
            sqlite_where=sa.text(_PUBLISHED),
            postgresql_where=sa.text(_PUBLISHED),
        )

    op.create_table(
        "digest_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["digest_drafts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_id", "number"),
    )
    with op.batch_alter_table("digest_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_revisions_draft_id"), ["draft_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_revisions_draft_id"))
    op.drop_table("digest_revisions")
    with op.batch_alter_table("digest_drafts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_digest_drafts_group_week_published",
            sqlite_where=sa.text(_PUBLISHED),
            postgresql_where=sa.text(_PUBLISHED),
        )
        batch_op.drop_index(batch_op.f("ix_digest_drafts_group_id"))
    op.drop_table("digest_drafts")
    with op.batch_alter_table("paper_summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_summaries_paper_id"))
    op.drop_table("paper_summaries")
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_llm_calls_run_id"))
    op.drop_table("llm_calls")
