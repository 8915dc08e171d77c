"""Engine, sessions and schema upgrades.

SQLite (the default) gets WAL mode and a busy timeout so the scheduler, the
background arXiv retries and command handlers can share one file, and real
transactions: pysqlite's own transaction handling (BEGIN only before the first
write, and none around SAVEPOINT) left each ``begin_nested()`` block committed
on its own, so a command that failed half-way kept its first half. Following
SQLAlchemy's recipe ("Serializable isolation / Savepoints / Transactional DDL"
in its pysqlite notes) the driver is put in autocommit and SQLAlchemy emits
the BEGIN itself; ``BEGIN IMMEDIATE`` takes the write lock up front, so two
transactions queue on the busy timeout instead of one failing with "database
is locked" when it upgrades from reading to writing. PostgreSQL
is used as is; pooled connections are checked before use so a restarted server
costs a reconnect, not a failed command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import Session

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Let users write ``postgresql://`` and get the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # The driver must not open (or commit) transactions by itself...
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: sa.Connection) -> None:
            # ...SQLAlchemy does, so SAVEPOINTs nest inside one transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # libpq waits for ever on a host that drops packets; start-up must not.
    kwargs.setdefault("connect_args", {"connect_timeout": 10})
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return sa.create_engine(url, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (every branch head)."""
    command.upgrade(alembic_config(engine), "heads")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
