"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, the
fake arXiv, and a bot wired to them.

PostgreSQL: the tests use READGROUP_TEST_PG_URL (default: the local server,
database ``test``) with a fresh schema per test. Without a server they are
skipped with a message, except in CI (``CI=true``) where that is a failure.

The ``engine`` fixture gives a database at the newest revision without running
Alembic for every test: each pytest process (each xdist worker) migrates once,
a SQLite file that is then copied, and a PostgreSQL schema whose DDL (the
statements the migrations sent) is replayed as one script into the test's own
schema. The migration tests, and every test that starts a real process on an
empty database, still run the real migrations.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
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


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``serial`` restart services the others use: in a parallel
    run they fail at once rather than break the tests beside them."""
    workers = getattr(item.config, "workerinput", {}).get("workercount", 1)
    if workers > 1 and item.get_closest_marker("serial"):
        pytest.fail(
            "this test must run alone: deselect it with -m 'not serial' when running with "
            "-n, and run it afterwards without -n (`make test` does both)",
            pytrace=False,
        )


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


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
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


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped after."""
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches the database runs on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'readgroup.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


_SCHEMA_IN_URL = re.compile(r"search_path%3Dt_[0-9a-f]{16}$")
_pg_template: str | None = None
_sqlite_template: Path | None = None


def _pg_template_sql() -> str:
    """The statements the migrations send to bring an empty schema to the newest
    revision, as one script; recorded once per process from a real upgrade of a
    schema of its own. They name no schema (the search_path places them), so
    the script builds the same schema wherever it runs."""
    global _pg_template
    if _pg_template is None:
        sent: list[str] = []

        def record(_c: object, _cur: object, statement: str, params: object, *_a: object) -> None:
            # The catalog reads and the upgrade lock change nothing.
            if statement.lstrip().upper().startswith("SELECT"):
                return
            assert not params, f"a migration statement with parameters: {statement}"
            sent.append(statement.strip())

        with fresh_pg_schema() as url:
            eng = make_engine(url)
            sa.event.listen(eng, "before_cursor_execute", record)
            upgrade(eng)
            eng.dispose()
        assert any("alembic_version" in s for s in sent), sent
        _pg_template = ";\n".join(sent) + ";\n"
    return _pg_template


def _sqlite_template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per process, copied for each test."""
    global _sqlite_template
    if _sqlite_template is None or not _sqlite_template.exists():
        path = tmp_path_factory.mktemp("template") / "readgroup.db"
        eng = make_engine(f"sqlite:///{path}")
        upgrade(eng)
        eng.dispose()  # the last connection checkpoints and removes the -wal file
        _sqlite_template = path
    return _sqlite_template


def migrated_engine(url: str, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """An engine on the (empty) database at ``url`` brought to the newest
    revision, from the template when there is one."""
    eng = make_engine(url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        template = _sqlite_template_file(tmp_path_factory)
        shutil.copyfile(template, url.removeprefix("sqlite:///"))
        return eng
    if url.startswith(PG_URL) and _SCHEMA_IN_URL.search(url):
        with eng.begin() as conn:
            conn.exec_driver_sql(_pg_template_sql())
        return eng
    upgrade(eng)
    return eng


@pytest.fixture
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    eng = migrated_engine(database_url, tmp_path_factory)
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
