"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, the
fake arXiv, and a bot wired to them.

PostgreSQL: the tests use READGROUP_TEST_PG_URL (default: the local server,
database ``test``) with a fresh schema per test. Without a server they are
skipped with a message, except in CI (``CI=true``) where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.app import Bot, build_bot
from bot.chat.messenger import NullMessenger
from bot.infra.arxiv_client import ArxivClient
from bot.infra.settings import Settings
from storage.engine import make_engine, upgrade

PG_URL = os.environ.get(
    "READGROUP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_pg_ok: bool | None = None


def pg_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def require_pg() -> None:
    if pg_available():
        return
    message = (
        f"PostgreSQL is not reachable at {PG_URL}. Start a server (or set "
        "READGROUP_TEST_PG_URL to one) to run the PostgreSQL half of the suite."
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped after."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(PG_URL, pool_pre_ping=True)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches the database runs on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'readgroup.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def fake_arxiv() -> Iterator[object]:
    from tests.fakes.arxiv_server import FakeArxiv

    with FakeArxiv() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, fake_arxiv: object) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        ARXIV_API_URL=fake_arxiv.url,  # type: ignore[attr-defined]
        READGROUP_ORGANIZERS="",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def bot(settings: Settings, engine: sa.Engine, fake_arxiv: object) -> AsyncIterator[Bot]:
    """A bot on a fresh database and the fake arXiv (fast request spacing)."""
    client = ArxivClient(api_url=settings.arxiv_api_url, min_interval=0.05, backoff=0.05)
    b = build_bot(settings, engine=engine, arxiv=client, messenger=NullMessenger(), migrate=False)
    yield b
    await b.aclose()
