"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, the
fake arXiv, and a bot wired to them.

PostgreSQL: the tests use READGROUP_TEST_PG_URL (default: the local server,
database ``test``) with a fresh schema per test. Without a server they are
skipped with a message, except in CI (``CI=true``) where that is a failure.

The ``engine`` fixture gives a database at the newest revision without running
Alembic for every test: each pytest process (each xdist worker) migrates once,
a SQLite file that is then copied, and a PostgreSQL schema whose DDL (the
statements the migrations sent) is replayed as one script. PostgreSQL schemas
made that way are lent to one test at a time: after the test its rows are
deleted and its sequences restarted, once a look at the catalog shows the test
changed no table, trigger or function (else the schema is dropped). Test
connections commit without waiting for the WAL flush. The migration tests,
and every test that starts a real process on an empty database, still run the
real migrations on a fresh empty schema.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import storage.engine
from bot.app import Bot, build_bot
from bot.chat.messenger import NullMessenger
from bot.infra.arxiv_client import ArxivClient
from bot.infra.settings import Settings
from storage.engine import make_engine, upgrade
from tests.shared_dialect import sharing

# Engines of one driver share a dialect, so compiled statements carry over
# from test to test (see tests/shared_dialect.py).
storage.engine._make_engine = sharing(storage.engine._make_engine)

PG_URL = os.environ.get(
    "READGROUP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_pg_ok: bool | None = None


def _slow_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("slow")
    return float(marker.kwargs.get("seconds", 5.0)) if marker else 0.0


def _mostly_waits(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("slow")
    return bool(marker and marker.kwargs.get("waits", False))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first, and shared out among the parallel workers.

    Begun early, they overlap the rest of the run instead of being the last
    ones still running. pytest-xdist's ``worksteal`` first hands each worker
    one contiguous share of this list (later, an idle worker takes half of
    the longest queue), so all the slow tests at the head of the list went
    to one worker, which then ran 112 s of them one after another while the
    others had finished. Each worker's share now starts with its part of the
    slow tests, parted by their ``slow(seconds=...)`` (longest first, each to
    the least loaded worker). The ones marked ``waits=True`` (they mostly
    wait on real processes and leases) go to the first half of the workers
    and the others to the second half: begun together on every worker, the
    waiting ones had left the two cores 23-43 % idle for the first 20 s.
    Every worker sorts the same way, as xdist requires: the order depends
    only on the collection and the worker count.
    """
    slow = sorted((item for item in items if _slow_seconds(item)), key=_slow_seconds, reverse=True)
    rest = [item for item in items if not _slow_seconds(item)]
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1:
        items[:] = slow + rest
        return
    lanes: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    half = max(1, workers // 2)
    for item in slow:
        choice = range(half) if _mostly_waits(item) else range(half, workers)
        lane = min(choice, key=lambda i: loads[i])
        lanes[lane].append(item)
        loads[lane] += _slow_seconds(item)
    ordered: list[pytest.Item] = []
    left = len(items)
    others = iter(rest)
    for i, lane in enumerate(lanes):
        share = left // (workers - i)  # worksteal's first share for the i-th worker
        left -= share
        ordered.extend(lane)
        ordered.extend(item for _, item in zip(range(share - len(lane)), others, strict=False))
    ordered.extend(others)
    items[:] = ordered


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


def _schema_url(schema: str) -> str:
    """The test URL on ``schema``. Commits there do not wait for the WAL to
    reach the disk (``synchronous_commit=off``): a test never crashes the
    server, and each still sees every committed row."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csynchronous_commit%3Doff%20-csearch_path%3D{schema}"


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped after."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine()
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        _drop_schema(schema)


_admin: sa.Engine | None = None


def _admin_engine() -> sa.Engine:
    global _admin
    if _admin is None:
        _admin = sa.create_engine(PG_URL, pool_pre_ping=True)
    return _admin


def _drop_schema(schema: str) -> None:
    with _admin_engine().begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


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
    elif "engine" in request.fixturenames:
        # The test works on a migrated schema: lend it one of this process's.
        with migrated_pg_schema() as url:
            yield url
    else:
        yield request.getfixturevalue("pg_schema_url")


_SCHEMA_IN_URL = re.compile(r"search_path%3D(t_[0-9a-f]{16})$")
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


# PostgreSQL schemas at the newest revision, lent one to a test at a time.
# Making one costs ~60 ms of DDL and dropping it ~15 ms; emptying one costs
# ~3 ms. A returned schema is checked against the template's catalog first,
# so a test that changed the schema (a migration, a dropped trigger) or left
# it in an unknown state gets it dropped instead of passed on.
_pg_idle: list[str] = []
_pg_lent: set[str] = set()
_pg_made: dict[str, _Made] = {}

# Any DDL on a schema's tables, triggers or functions rewrites their catalog
# rows, which gives them a new xmin: the list of (oid, xmin) is the schema's
# shape, cheap to read.
_CATALOG_SQL = """
select coalesce((select string_agg(c.oid::text || ':' || c.xmin::text, ',' order by c.oid)
                 from pg_class c where c.relnamespace = cast(:s as regnamespace)), '')
    || '|' || coalesce((select string_agg(t.oid::text || ':' || t.xmin::text, ',' order by t.oid)
                        from pg_trigger t join pg_class c on c.oid = t.tgrelid
                        where c.relnamespace = cast(:s as regnamespace)), '')
    || '|' || coalesce((select string_agg(p.oid::text || ':' || p.xmin::text, ',' order by p.oid)
                        from pg_proc p where p.pronamespace = cast(:s as regnamespace)), '')
"""


def _catalog(conn: sa.Connection, schema: str) -> str:
    shape = conn.execute(sa.text(_CATALOG_SQL), {"s": schema}).scalar_one()
    version = conn.execute(sa.text(f'select version_num from "{schema}".alembic_version'))
    return f"{shape}|{version.scalars().all()}"


def _empty_schema(schema: str) -> bool:
    """Delete every row a test left in ``schema`` and restart its sequences;
    False when the schema is no longer as it was made."""
    made = _pg_made[schema]
    try:
        with _admin_engine().begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            if _catalog(conn, schema) != made.catalog:
                return False
            # Replica mode skips the foreign-key and bookkeeping triggers:
            # every row goes, so there is nothing for them to keep.
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.exec_driver_sql(made.emptying)
        return True
    except sa.exc.DBAPIError:
        return False


@dataclass(frozen=True)
class _Made:
    catalog: str  # the shape it was made with
    emptying: str  # the statements that delete its rows and restart its sequences


def _new_migrated_schema() -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    script = _pg_template_sql()
    with _admin_engine().begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'SET LOCAL search_path TO "{schema}"'))
        conn.exec_driver_sql(script)
        tables = conn.execute(
            sa.text(
                "select tablename from pg_tables"
                " where schemaname = :s and tablename <> 'alembic_version'"
            ),
            {"s": schema},
        ).scalars()
        deletes = "".join(f'DELETE FROM "{schema}"."{t}";' for t in tables)
        sequences = conn.execute(
            sa.text("select sequencename from pg_sequences where schemaname = :s"), {"s": schema}
        ).scalars()
        # setval, not ALTER SEQUENCE … RESTART: that gives the sequence a new
        # file, so a new catalog row, and the schema would look changed.
        restarts = "".join(f'SELECT setval(\'"{schema}"."{q}"\', 1, false);' for q in sequences)
        catalog = _catalog(conn, schema)
    _pg_made[schema] = _Made(catalog=catalog, emptying=deletes + restarts)
    return schema


@contextmanager
def migrated_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL on a schema at the newest revision with no rows, made
    from the template or lent from this process's idle ones."""
    require_pg()
    schema = _pg_idle.pop() if _pg_idle else _new_migrated_schema()
    _pg_lent.add(schema)
    try:
        yield _schema_url(schema)
    finally:
        _pg_lent.discard(schema)
        if _empty_schema(schema):
            _pg_idle.append(schema)
        else:
            del _pg_made[schema]
            _forget_engine(schema)
            _drop_schema(schema)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for schema in list(_pg_engines):
        _forget_engine(schema)
    while _pg_idle:
        _drop_schema(_pg_idle.pop())


#: The catalogs a schema's creation and drop leave dead rows in.
_CATALOGS = (
    "pg_attribute",
    "pg_class",
    "pg_type",
    "pg_depend",
    "pg_index",
    "pg_constraint",
    "pg_trigger",
    "pg_proc",
    "pg_namespace",
    "pg_attrdef",
    "pg_sequence",
    "pg_description",
    "pg_statistic",
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once collected, the modules, classes and test items stay alive to the
    end: moved out of the collector's sight (``gc.freeze``), and with the
    first generation collected every 20,000 new objects instead of 2,000, a
    worker spends about 40 % less time in garbage collection (1.5 s to
    0.9 s of a 45 s share, measured with ``gc.callbacks``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Vacuum the test database's catalogs once a run (in the main process,
    before any worker starts). Every schema a test makes and drops leaves
    dead catalog rows; where autovacuum is off (as on the development machine)
    or its statistics were lost (a test restarts the server), nothing removes
    them, and run after run every new connection and DDL statement got
    slower: after a day of runs, 956,000 dead rows in ``pg_attribute``,
    the database at 421 MB, and a suite run 5 s slower (131 s, 127 s after a
    VACUUM). A server the tests may not vacuum (not a superuser) is left as
    it is."""
    if hasattr(session.config, "workerinput") or not pg_available():
        return
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM " + ", ".join(f"pg_catalog.{c}" for c in _CATALOGS))
    except sa.exc.DBAPIError:
        pass
    finally:
        engine.dispose()


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


# One engine per lent schema, kept from test to test: each test on a schema
# used to open new connections, and a new PostgreSQL backend costs ~7 ms of
# server CPU to start and to load the catalog of the schema's tables.
_pg_engines: dict[str, sa.Engine] = {}


def _kept_engine(schema: str, url: str) -> sa.Engine:
    if schema not in _pg_engines:
        _pg_engines[schema] = make_engine(url)
    return _pg_engines[schema]


def _forget_engine(schema: str) -> None:
    eng = _pg_engines.pop(schema, None)
    if eng is not None:
        eng.dispose()


def migrated_engine(url: str, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """An engine on the (empty) database at ``url`` brought to the newest
    revision, from the template when there is one."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        template = _sqlite_template_file(tmp_path_factory)
        shutil.copyfile(template, url.removeprefix("sqlite:///"))
        return make_engine(url)
    if url.startswith(PG_URL) and (found := _SCHEMA_IN_URL.search(url)):
        if found.group(1) in _pg_lent:
            return _kept_engine(found.group(1), url)  # migrated, and emptied since its last test
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.exec_driver_sql(_pg_template_sql())
        return eng
    eng = make_engine(url)
    upgrade(eng)
    return eng


@pytest.fixture
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    eng = migrated_engine(database_url, tmp_path_factory)
    yield eng
    if eng not in _pg_engines.values():
        eng.dispose()  # a kept one stays open for its schema's next test


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
