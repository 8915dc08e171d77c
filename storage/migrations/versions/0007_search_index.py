"""search index: /history's matches found without reading every matching
paper. SQLite: the FTS5 table made again with prefix indexes (a typed prefix of
2 to 6 letters is one list, not a merge of every word it starts). PostgreSQL:
each proposal carries its paper's search vector, with a GIN index, kept by
triggers (the group's matches come from a narrow table); the papers' own GIN
index goes. Both filled from the rows already stored.

Revision ID: 0007_search_index
Revises: 0006_search
Create Date: 2026-12-02
"""

from alembic import op

from storage.papers import search

revision = "0007_search_index"
down_revision = "0006_search"
branch_labels = None
depends_on = None



def _run(sql: str) -> None:
    # Sent as written (see 0006_search: ':' in the statements is not a bind).
    op.get_bind().exec_driver_sql(sql)


def _sqlite_table(prefixes: str | None) -> None:
    for sql in search.sqlite_remake(prefixes):
        _run(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in search.PG_PROPOSALS:
            _run(sql)
    else:
        _sqlite_table("2 3 4 5 6")  # 0009_search_prefixes adds longer ones


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in search.PG_PROPOSALS_DROP:
            _run(sql)
    else:
        _sqlite_table(None)
