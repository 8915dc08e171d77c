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

Every process upgrades the schema on start, so two starting together (two
consoles, replicas) must not both create the tables: the upgrade runs under a
lock, an advisory lock on PostgreSQL and a file lock beside an SQLite file; the
second process waits, then finds the schema current and does nothing.

Switching a new file to WAL is the one step the busy timeout does not cover:
both connections take a shared lock and then ask for the exclusive one, and
SQLite answers one of them "database is locked" at once (waiting could
deadlock). Two processes opening an empty folder together hit it about one
time in four, so that pragma is retried for up to the busy timeout.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.columns import add_postgresql_predicates
from storage.schema_version import is_current

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_SECONDS = 30.0
_WAL_RETRY_SECONDS = 0.02


def _set_wal(cur: Any, *, sleep: Any = time.sleep, clock: Any = time.monotonic) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection converts
    the same new file (see the module note)."""
    give_up = clock() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or clock() >= give_up:
                raise
            sleep(_WAL_RETRY_SECONDS)


def normalise_url(url: str) -> str:
    """Let users write ``postgresql://`` and get the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


#: Every engine this process made, so a process about to end can close their
#: connections (:func:`dispose_all`) without holding on to engines nobody uses.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def dispose_all() -> None:
    """Close the pooled connections of every engine made in this process
    (on SQLite the last close also checkpoints the write-ahead log)."""
    for engine in list(_ENGINES):
        engine.dispose()


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = _make_engine(url, **kwargs)
    _ENGINES.add(engine)
    return engine


def _make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
            **kwargs,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
            _set_wal(cur)
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
    add_postgresql_predicates()
    # libpq waits for ever on a host that drops packets; start-up must not.
    kwargs.setdefault("connect_args", {"connect_timeout": 10})
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return sa.create_engine(url, **kwargs)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (every branch head), one process
    at a time. A schema already current is found so without Alembic (see
    :mod:`storage.schema_version`)."""
    if is_current(engine):
        return
    from alembic import command

    with upgrade_lock(engine):
        command.upgrade(alembic_config(engine), "heads")


@contextmanager
def upgrade_lock(engine: Engine) -> Iterator[None]:
    """Held while one process upgrades this database; others wait for it."""
    if engine.dialect.name == "postgresql":
        with _pg_advisory_lock(engine):
            yield
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with _file_lock(Path(f"{engine.url.database}.lock")):
            yield
    else:  # an in-memory database belongs to one process
        yield


@contextmanager
def _pg_advisory_lock(engine: Engine) -> Iterator[None]:
    """A session-level advisory lock keyed on the schema being upgraded (so
    upgrades of different schemas in one database do not wait on each other),
    held on a connection of its own for the whole upgrade."""
    key = sa.text(
        "SELECT hashtextextended('readgroup schema upgrade: ' || coalesce(current_schema(), ''), 0)"
    )
    with engine.connect() as conn:
        lock_id = conn.execute(key).scalar_one()
        conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
                conn.commit()
            except sa.exc.DBAPIError:
                conn.invalidate()  # the server drops the lock with the session


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``<database>.lock``; the kernel releases it if
    the process dies, so a crashed start never blocks the next one. The file is
    left in place: removing it would let a waiter lock a file nobody else sees."""
    if sys.platform == "win32" or not path.parent.is_dir():
        yield  # no flock there; a missing folder is SQLite's to report
        return
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class WriterTurns:
    """Turns at one SQLite file's write lock among this process's threads.

    Every SQLite transaction here takes the write lock (``BEGIN IMMEDIATE``,
    above). Threads that find it taken are left to SQLite's busy handler,
    which sleeps 1, 2, 5, 10, 15, 20, 25 ms… between tries and serves
    nobody in order, so under a burst of background transactions (cards
    after an arXiv batch) one that a platform waits on (storing a request
    before its acknowledgment) could lose a dozen tries in a row. Here they
    queue on a condition instead, woken the moment the lock is free, and an
    ``urgent`` one goes before every other waiter. Other processes on the
    same file still meet SQLite's busy handler, as before. Re-entrant per
    thread (a nested scope cannot deadlock on its own turn).

    An urgent transaction can be :meth:`announce`-d before its thread picks
    it up: from then on no other turn starts. Between the event loop handing
    it to a thread and that thread running (a millisecond or more when the
    GIL is busy) a background transaction (a proposal's, some 10 ms under
    load) used to take the free lock, and the acknowledgment waited for all
    of it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0

    def announce(self) -> Announcement:
        """An urgent turn is on its way: other turns wait from now on. Pass
        it to :meth:`turn`; :meth:`Announcement.withdraw` it if the turn
        will not be taken after all (a no-op once the turn has begun)."""
        with self._cond:
            self._urgent_waiting += 1
        return Announcement(self)

    def _withdraw(self, announcement: Announcement) -> None:
        with self._cond:
            if announcement.pending:
                announcement.pending = False
                self._urgent_waiting -= 1
                self._cond.notify_all()

    @contextmanager
    def turn(
        self, *, urgent: bool = False, announced: Announcement | None = None
    ) -> Iterator[None]:
        """This thread's turn at the lock; ``announced`` (see
        :meth:`announce`) makes it urgent."""
        me = threading.get_ident()
        urgent = urgent or announced is not None
        with self._cond:
            if self._owner == me:
                self._depth += 1
                if announced is not None and announced.pending:
                    announced.pending = False
                    self._urgent_waiting -= 1
            else:
                if announced is not None and announced.pending:
                    announced.pending = False  # its count is this turn's now
                elif urgent:
                    self._urgent_waiting += 1
                try:
                    while self._owner is not None or (not urgent and self._urgent_waiting):
                        self._cond.wait()
                finally:
                    if urgent:
                        self._urgent_waiting -= 1
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._cond.notify_all()


class Announcement:
    """An urgent turn announced (:meth:`WriterTurns.announce`) and not begun."""

    def __init__(self, turns: WriterTurns) -> None:
        self._turns = turns
        #: Still counted among the urgent waiters on its behalf.
        self.pending = True

    def withdraw(self) -> None:
        self._turns._withdraw(self)


_turns: weakref.WeakKeyDictionary[Engine, WriterTurns] = weakref.WeakKeyDictionary()


def writer_turns(engine: Engine) -> WriterTurns | None:
    """The engine's :class:`WriterTurns` (SQLite), else None (PostgreSQL
    has row locks; its transactions need no turns)."""
    if engine.dialect.name != "sqlite":
        return None
    turns = _turns.get(engine)
    if turns is None:
        turns = _turns.setdefault(engine, WriterTurns())
    return turns


@contextmanager
def session_scope(
    engine: Engine, *, urgent: bool = False, announced: Announcement | None = None
) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error.
    ``urgent``: someone is waiting on it; ``announced``: so, and it was
    announced before (see :class:`WriterTurns`)."""
    turns = writer_turns(engine)
    with (
        turns.turn(urgent=urgent, announced=announced) if turns is not None else nullcontext(),
        Session(engine, expire_on_commit=False) as session,
    ):
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
