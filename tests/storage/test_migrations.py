"""The Alembic migrations build exactly the schema the table classes describe,
and the engine settings hold on each database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.all_tables  # noqa: F401
from storage.engine import make_engine, normalise_url, upgrade
from storage.papers.search import include_object
from tests.conftest import fresh_pg_schema, migrated_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """Here the migrations themselves run (elsewhere a migrated copy is cloned)."""
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


_PG_SCHEMA = """
select 'column', table_name || '.' || column_name,
       concat_ws(' ', data_type, character_maximum_length, is_nullable, column_default)
  from information_schema.columns where table_schema = current_schema()
union all
select 'index', indexname, replace(indexdef, current_schema() || '.', '')
  from pg_indexes where schemaname = current_schema()
union all
select 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
  from pg_constraint where connamespace = current_schema()::regnamespace
union all
select 'sequence', sequence_name, concat_ws(' ', data_type, start_value, increment)
  from information_schema.sequences where sequence_schema = current_schema()
order by 1, 2
"""


def _schema(engine: sa.Engine) -> list[tuple[str, ...]]:
    """Every table, column, index, constraint and sequence, and the revision."""
    with engine.connect() as conn:
        revision = conn.execute(sa.text("select version_num from alembic_version"))
        rows = [("revision", v) for v in sorted(revision.scalars())]
        if engine.dialect.name == "sqlite":
            found = conn.execute(sa.text("select type, name, sql from sqlite_master order by name"))
        else:
            found = conn.execute(sa.text(_PG_SCHEMA))
        return rows + [tuple(map(str, row)) for row in found]


def test_the_migrated_copy_other_tests_get_is_the_migrated_schema(
    engine: sa.Engine, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The ``engine`` fixture of the other tests clones a template instead of
    migrating; the clone must be exactly what the migrations build."""
    with contextlib.ExitStack() as stack:
        if engine.dialect.name == "sqlite":
            url = f"sqlite:///{tmp_path / 'clone.db'}"
        else:
            url = stack.enter_context(fresh_pg_schema())
        clone = migrated_engine(url, tmp_path_factory)
        stack.callback(clone.dispose)
        assert _schema(clone) == _schema(engine)


def test_migrations_match_the_tables(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"tables and migrations differ; add a migration: {diff}"


def test_upgrade_is_idempotent(engine: sa.Engine) -> None:
    upgrade(engine)  # a second start must not fail or change anything
    with engine.connect() as conn:
        heads = conn.execute(sa.text("select version_num from alembic_version")).scalars().all()
    assert heads and all(heads)


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with eng.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA busy_timeout")).scalar() == 30000
    eng.dispose()


def test_postgres_urls_get_the_psycopg3_driver() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_tables_partial_indexes_have_their_predicate_on_each_database(
    engine: sa.Engine,
) -> None:
    """A partial unique index gets its PostgreSQL predicate when the process
    makes a PostgreSQL engine (storage.columns); its DDL names the predicate
    on both databases, as the migrations' index does."""
    partial = {
        "uq_proposals_group_paper_active": "status != 'withdrawn'",
        "uq_digest_drafts_group_week_published": "status IN ('publishing', 'published')",
    }
    found = {
        index.name: str(sa.schema.CreateIndex(index).compile(dialect=engine.dialect))
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if index.name in partial
    }
    assert found.keys() == partial.keys()
    for name, ddl in found.items():
        assert ddl.endswith(f"WHERE {partial[name]}"), ddl
