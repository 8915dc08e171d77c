"""search: full-text search of papers for /history (FTS5 on SQLite, a tsvector
with a GIN index on PostgreSQL), and each proposal's vote count kept by
triggers so /queue reads its page from an index; both filled from the rows
already stored

Revision ID: 0006_search
Revises: 0001_initial
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.papers import search

revision = "0006_search"
down_revision = "0001_initial"
branch_labels = ("search",)
depends_on = None

_PG_VOTES_FUNCTION = """
CREATE FUNCTION proposals_count_votes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE proposals SET votes = votes + 1 WHERE id = NEW.proposal_id;
    ELSE
        UPDATE proposals SET votes = votes - 1 WHERE id = OLD.proposal_id;
    END IF;
    RETURN NULL;
END
$$
"""
_PG_VOTES_TRIGGER = (
    "CREATE TRIGGER votes_count AFTER INSERT OR DELETE ON votes "
    "FOR EACH ROW EXECUTE FUNCTION proposals_count_votes()"
)
_SQLITE_VOTES_TRIGGERS = (
    """
CREATE TRIGGER votes_count_insert AFTER INSERT ON votes BEGIN
    UPDATE proposals SET votes = votes + 1 WHERE id = new.proposal_id;
END
""",
    """
CREATE TRIGGER votes_count_delete AFTER DELETE ON votes BEGIN
    UPDATE proposals SET votes = votes - 1 WHERE id = old.proposal_id;
END
""",
)
_BACKFILL_VOTES = (
    "UPDATE proposals SET votes = "
    "(SELECT count(*) FROM votes WHERE votes.proposal_id = proposals.id)"
)


def _run(sql: str) -> None:
    # Sent as written: the statements hold colons ('[:alnum:]') that sa.text
    # would read as bind parameters.
    op.get_bind().exec_driver_sql(sql)


def upgrade() -> None:
    # A plain ADD COLUMN (no batch: on SQLite a rebuilt table loses its triggers).
    op.add_column(
        "proposals", sa.Column("votes", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_index(
        "ix_proposals_queue",
        "proposals",
        ["group_id", "status", sa.desc(sa.column("votes")), "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_proposals_history",
        "proposals",
        ["group_id", "status", "presented_at", "created_at", "id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        _run(search.PG_ADD_COLUMN)  # computed for every stored paper now
        _run(search.PG_CREATE_INDEX)
        _run(_PG_VOTES_FUNCTION)
        _run(_PG_VOTES_TRIGGER)
    else:
        _run(search.sqlite_table(prefixes=None))
        for trigger in (*search.SQLITE_TRIGGERS, *_SQLITE_VOTES_TRIGGERS):
            _run(trigger)
        _run(search.SQLITE_REBUILD)
    _run(_BACKFILL_VOTES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER votes_count ON votes")
        _run("DROP FUNCTION proposals_count_votes()")
        _run(f"DROP INDEX {search.PG_INDEX}")
        _run(f"ALTER TABLE papers DROP COLUMN {search.PG_COLUMN}")
    else:
        for name in (
            "votes_count_insert",
            "votes_count_delete",
            "papers_search_insert",
            "papers_search_delete",
            "papers_search_update",
        ):
            _run(f"DROP TRIGGER {name}")
        _run(f"DROP TABLE {search.FTS_TABLE}")
    op.drop_index("ix_proposals_history", table_name="proposals")
    op.drop_index("ix_proposals_queue", table_name="proposals")
    # Not batch: rebuilding proposals on SQLite would trip the votes' foreign key.
    _run("ALTER TABLE proposals DROP COLUMN votes")
