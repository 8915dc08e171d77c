"""``INSERT … ON CONFLICT (…) DO NOTHING RETURNING id`` on either database:
one statement that adds a row unless one with the same unique key is there,
so a concurrent insert of the same row (a retry, another replica) is a no-op
rather than an error, a savepoint or a second row.

The statement is built once per table and database, on the table itself (a
Core insert, not the ORM's), and the row goes in as bound parameters. The
inbox write that a Slack acknowledgment waits on is one of these: built
afresh as an ORM insert with the row's values inlined, SQLAlchemy spent about
1 ms of Python per call working out its cache key and the ORM's column pairs,
several times the SQLite insert itself, and held the GIL meanwhile.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session


@cache
def _statement(dialect: str, table: sa.Table, unique: tuple[str, ...], returning: str) -> Any:
    # Each dialect's insert is imported by the first statement for it: a
    # process on SQLite never loads the PostgreSQL dialect (see storage.columns).
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    return stmt.on_conflict_do_nothing(index_elements=list(unique)).returning(table.c[returning])


def insert_once(
    session: Session, table: Any, *, unique: list[str], returning: Any, **values: Any
) -> Any | None:
    """Add the row unless the ``unique`` columns match one already stored;
    the ``returning`` column of the new row, or None when nothing was added.
    ``table``: a table model (or its ``sa.Table``); ``returning``: its column."""
    core: sa.Table = getattr(table, "__table__", table)
    stmt = _statement(session.get_bind().dialect.name, core, tuple(unique), returning.key)
    return session.execute(stmt, values).scalar()
