"""``INSERT … ON CONFLICT (…) DO NOTHING RETURNING id`` on either database:
one statement that adds a row unless one with the same unique key is there,
so a concurrent insert of the same row (a retry, another replica) is a no-op
rather than an error, a savepoint or a second row."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session


def insert_once(
    session: Session, table: Any, *, unique: list[str], returning: Any, **values: Any
) -> Any | None:
    """Add the row unless the ``unique`` columns match one already stored;
    the ``returning`` column of the new row, or None when nothing was added."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(returning)
    )
    return session.execute(stmt).scalar()
