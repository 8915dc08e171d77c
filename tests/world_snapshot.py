"""A world built once per process and copied for each test that starts from it.

Some tests (the permission and cross-group checks) each begin with the same
world: groups with members, a rotation, papers, sessions and a digest draft,
made through the bot's own commands. Building it again for every test was
most of their CPU. :meth:`WorldSnapshots.world` builds a world the first time
a process asks for it (per name and database kind) on that test's own
database, saves it, and gives each later test a copy on its own database: on
SQLite the file (an online backup, so the write-ahead log comes with it), on
PostgreSQL every table's rows, inserted into the test's empty lent schema
with triggers off (the counters the triggers keep are rows copied too),
with each sequence where it stood. Every test still starts from an untouched
world of its own, with the same ids.

Only the database, the clock and the messenger are copied. Anything else the
build leaves in memory must be in the value it returns (deep-copied for each
test; the caller puts it back where it belongs), and a build that leaves
background work running could not be copied, so it fails.
"""

from __future__ import annotations

import copy
import re
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from bot.app import Bot
from tests.conftest import _admin_engine, fresh_pg_schema

T = TypeVar("T")
_SEARCH_PATH = re.compile(r"search_path=(t_[0-9a-f]{16})")

# Every stored column but the generated ones (papers' search vector), which
# PostgreSQL computes again from the copied columns.
_COLUMNS_SQL = """
select c.relname, string_agg(quote_ident(a.attname), ', ' order by a.attnum)
from pg_class c join pg_attribute a on a.attrelid = c.oid
where c.relnamespace = cast(:s as regnamespace) and c.relkind = 'r'
  and c.relname <> 'alembic_version'
  and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
group by c.relname
"""


@dataclass(frozen=True)
class _Saved:
    value: Any
    clock: Any
    messenger: Any
    #: SQLite: the saved file. PostgreSQL: the statements that fill a lent
    #: schema, with ``{schema}`` for its name.
    sqlite_file: Path | None = None
    pg_fill: str = ""


class WorldSnapshots:
    """This process's saved worlds, by (name, database kind)."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self._folder = folder
        self._stack = stack  # holds the PostgreSQL schemas the rows are kept in
        self._saved: dict[tuple[str, str], _Saved] = {}

    async def world(self, name: str, bot: Bot, build: Callable[[], Awaitable[T]]) -> T:
        """``build()``'s value, having built the world on ``bot``'s (empty,
        migrated) database, or a copy of both made the first time."""
        key = (name, bot.engine.dialect.name)
        saved = self._saved.get(key)
        if saved is None:
            value = await build()
            _check_quiet(bot)
            self._saved[key] = self._save(name, bot, copy.deepcopy(value))
            return value
        if saved.sqlite_file is not None:
            _restore_sqlite(saved.sqlite_file, bot)
        else:
            _restore_pg(saved.pg_fill, bot)
        bot.clock = copy.deepcopy(saved.clock)
        bot.messenger = copy.deepcopy(saved.messenger)
        return copy.deepcopy(saved.value)

    def _save(self, name: str, bot: Bot, value: object) -> _Saved:
        memory: dict[str, Any] = {
            "value": value,
            "clock": copy.deepcopy(bot.clock),
            "messenger": copy.deepcopy(bot.messenger),
        }
        if bot.engine.dialect.name == "sqlite":
            path = self._folder / f"{name}.db"
            source = sqlite3.connect(_sqlite_path(bot))
            target = sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            return _Saved(sqlite_file=path, **memory)
        holder = _schema_of(self._stack.enter_context(fresh_pg_schema()))
        return _Saved(pg_fill=_keep_pg_rows(_schema_of(bot.engine.url), holder), **memory)


def _check_quiet(bot: Bot) -> None:
    """A copied world has no background work or work in flight: the built
    one must have none either, or the copies would not be the same world."""
    running = [t.get_name() for t in bot.tasks if not t.done()]
    assert not running, f"the world's build left background tasks running: {running}"
    inflight = bot.inflight
    busy = [k for k, held in {**inflight._tasks, **inflight._marks}.items() if held]
    assert not busy and not inflight._batches, f"the world's build left work in flight: {busy}"


def _sqlite_path(bot: Bot) -> str:
    path = bot.engine.url.database
    assert path, bot.engine.url
    return path


def _restore_sqlite(saved: Path, bot: Bot) -> None:
    path = Path(_sqlite_path(bot))
    bot.engine.dispose()  # no connection may hold the file being replaced
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(saved, path)


def _schema_of(url: sa.URL | str) -> str:
    """The schema a test URL's search_path names (see tests.conftest)."""
    options = sa.make_url(url).query.get("options", "")
    found = _SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options))
    assert found, f"not a test schema's URL: {url!r}"
    return found.group(1)


def _keep_pg_rows(source: str, holder: str) -> str:
    """Copy ``source``'s rows into tables of ``holder``; the statements that
    fill an empty schema with them."""
    fill = ["SET LOCAL session_replication_role = replica;"]  # no trigger fires
    with _admin_engine().begin() as conn:
        columns = conn.execute(sa.text(_COLUMNS_SQL), {"s": source}).all()
        for table, cols in columns:
            conn.exec_driver_sql(
                f'CREATE TABLE "{holder}"."{table}" AS SELECT {cols} FROM "{source}"."{table}"'
            )
            if conn.exec_driver_sql(f'SELECT 1 FROM "{holder}"."{table}" LIMIT 1').first():
                fill.append(
                    f'INSERT INTO "{{schema}}"."{table}" ({cols}) '
                    f'SELECT {cols} FROM "{holder}"."{table}";'
                )
        sequences = conn.execute(
            sa.text("select sequencename from pg_sequences where schemaname = :s"), {"s": source}
        ).scalars()
        for seq in list(sequences):
            last, called = conn.exec_driver_sql(
                f'SELECT last_value, is_called FROM "{source}"."{seq}"'
            ).one()
            fill.append(f'SELECT setval(\'"{{schema}}"."{seq}"\', {last}, {called});')
    return "\n".join(fill)


def _restore_pg(fill: str, bot: Bot) -> None:
    with _admin_engine().begin() as conn:
        conn.exec_driver_sql(fill.replace("{schema}", _schema_of(bot.engine.url)))
