"""search prefixes: SQLite's FTS5 table made again with prefix indexes of 7 to
10 letters too (0007_search_index made 2 to 6), so a typed word of that
length is read from a list of its own instead of every list of the words it
starts being read whole and merged; filled from the papers already stored.
Nothing changes on PostgreSQL.

Revision ID: 0009_search_prefixes
Revises: 0008_proposal_counts
Create Date: 2026-12-02
"""

from alembic import op

from storage.papers import search

revision = "0009_search_prefixes"
down_revision = "0008_proposal_counts"
branch_labels = None
depends_on = None

#: The prefix indexes 0007_search_index made, and those this revision makes
#: (written out: a migration must not change when the code's constant does).
_BEFORE = "2 3 4 5 6"
_AFTER = "2 3 4 5 6 7 8 9 10"


def _run(sql: str) -> None:
    # Sent as written (see 0006_search: ':' in the statements is not a bind).
    op.get_bind().exec_driver_sql(sql)


def _sqlite_table(prefixes: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for sql in search.sqlite_remake(prefixes):
        _run(sql)


def upgrade() -> None:
    _sqlite_table(_AFTER)


def downgrade() -> None:
    _sqlite_table(_BEFORE)
