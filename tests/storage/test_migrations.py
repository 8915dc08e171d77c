"""The Alembic migrations build exactly the schema the table classes describe,
and the engine settings hold on each database."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.all_tables  # noqa: F401
from storage.engine import make_engine, normalise_url, upgrade


def test_migrations_match_the_tables(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
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
