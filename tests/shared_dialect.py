"""One dialect per kind of database for every engine a test process makes.

SQLAlchemy caches a statement's compiled SQL per engine, keyed on the engine's
dialect object. A bot process makes one engine and compiles each statement
once; the suite makes an engine per test, so every test compiled each of its
statements again: about a quarter of the CPU of database-heavy test files
(tests/papers/test_history_search.py, tests/digest/test_digest_flow.py and
tests/schedule/test_reminders.py together: 14.6-15.1 s of user CPU, 10.8-11.4 s
with this). An engine made here keeps its own pool and URL but takes the
first engine's dialect of its driver and that engine's compiled cache.

What a dialect learns at its first connection (the server's version, its
default isolation level) is the same for every engine of one driver here:
one SQLite library, one PostgreSQL server. Its ``default_schema_name`` is the
first schema's; SQLAlchemy and Alembic look up unqualified names through the
search path, not that attribute, so nothing the tests run depends on it.
A dialect is shared only once it has learnt that at its own engine's first
connection. Engines made with extra arguments keep a dialect of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect, Engine

_SHARED: dict[str, tuple[Dialect, Any]] = {}


def sharing(make: Callable[..., Engine]) -> Callable[..., Engine]:
    """``make`` (storage.engine's engine maker), giving engines of a driver one dialect."""

    def make_sharing(url: str, **kwargs: Any) -> Engine:
        engine = make(url, **kwargs)
        if kwargs:
            return engine
        shared = _SHARED.get(engine.url.drivername)
        if shared is None or shared[0].server_version_info is None:
            # None yet, or one that never connected (a dialect learns its
            # server at an engine's first connection): this one is next.
            _SHARED[engine.url.drivername] = (engine.dialect, engine._compiled_cache)
        else:
            engine.dialect, engine._compiled_cache = shared
        return engine

    return make_sharing
