"""The PostgreSQL schemas the test fixtures lend (tests/conftest.py): the
next test gets one with no rows and its sequences restarted, and a schema a
test changed is dropped instead of lent again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from storage.groups.tables import Group
from tests import conftest


def _schema(url: str) -> str:
    found = conftest._SCHEMA_IN_URL.search(url)
    assert found is not None
    return found.group(1)


def _add_group(url: str, channel: str) -> int:
    eng = sa.create_engine(url)
    try:
        with Session(eng) as session:
            group = Group(
                platform="console", workspace="w", channel=channel, created_at=datetime.now(UTC)
            )
            session.add(group)
            session.commit()
            assert group.id is not None
            return group.id
    finally:
        eng.dispose()


def test_a_returned_schema_is_lent_again_empty_with_its_sequences_restarted() -> None:
    with conftest.migrated_pg_schema() as url:
        first = _schema(url)
        assert _add_group(url, "a") == 1
        assert _add_group(url, "b") == 2
    with conftest.migrated_pg_schema() as url:
        assert _schema(url) == first
        eng = sa.create_engine(url)
        with eng.connect() as conn:
            assert conn.execute(sa.text("select count(*) from groups")).scalar_one() == 0
        eng.dispose()
        assert _add_group(url, "c") == 1


def test_a_schema_a_test_changed_is_dropped_not_lent_again() -> None:
    with conftest.migrated_pg_schema() as url:
        changed = _schema(url)
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            conn.execute(sa.text("alter table groups add column extra integer"))
        eng.dispose()
    assert changed not in conftest._pg_idle
    admin = conftest._admin_engine()
    with admin.connect() as conn:
        left = conn.execute(
            sa.text("select count(*) from pg_namespace where nspname = :s"), {"s": changed}
        ).scalar_one()
    assert left == 0
    with conftest.migrated_pg_schema() as url:
        assert _schema(url) != changed
