"""Which database errors are outages (worth waiting out) and which are not.

`Bot.db` runs a command's transaction again when the database went away: a
PostgreSQL restart or failover, a connection that dropped, a SQLite file that
another process holds locked. Those are ``OperationalError`` s, but so are
errors that no amount of waiting fixes, e.g. SQLite's "Expression tree is too
large" or PostgreSQL's "stack depth limit exceeded" for a query with too many
terms. Retrying those for a minute only makes the user wait for the same
error, so only connection-level failures (and lock contention) count here.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError

__all__ = ["is_outage"]

#: SQLSTATE classes and codes of a lost or refused connection, or a server
#: that is shutting down / starting up, or lock contention that clears.
_PG_OUTAGE_CLASSES = ("08",)  # connection exception
_PG_OUTAGE_CODES = frozenset(
    {
        "57P01",  # admin_shutdown ("terminating connection due to administrator command")
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now ("the database system is starting up")
        "53300",  # too_many_connections
        "40001",  # serialization_failure: the transaction can simply run again
        "40P01",  # deadlock_detected: likewise
        "55P03",  # lock_not_available
    }
)

#: SQLite's messages for a file it cannot use right now.
_SQLITE_OUTAGE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
)


def is_outage(exc: DBAPIError) -> bool:
    """True when ``exc`` means "the database is not reachable right now"."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        message = str(orig).lower()
        return any(m in message for m in _SQLITE_OUTAGE)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is None:
        # Every error a PostgreSQL server sends has a SQLSTATE; psycopg raises
        # one without it when no server answered at all: refused, reset, closed.
        return orig is not None
    return str(sqlstate).startswith(_PG_OUTAGE_CLASSES) or sqlstate in _PG_OUTAGE_CODES
