"""Opening the database at start-up, or saying in one line why not.

Every command that needs the database (``serve``, ``console``, ``db
upgrade``, ``export``) opens it through :func:`open_database`: connect, bring
the schema up to date, and check that it can be written. What can go wrong
is turned into :class:`DatabaseUnavailable`, whose message names what failed,
the setting (``DATABASE_URL``, password hidden) and what to check; the CLI
prints it instead of a traceback.

A server that refuses connections may be starting (a container beside ours),
so that alone is retried a few times, briefly (``DATABASE_CONNECT_ATTEMPTS``,
``DATABASE_CONNECT_RETRY_SECONDS``). An unknown host, an unknown database,
bad credentials or a read-only file will not fix themselves: no retry.

A SQLite file whose folder does not exist is refused, not created: a missing
folder is usually a volume that is not mounted or a typo, and a database
created there would quietly lose its data at the next restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from storage.engine import normalise_url, upgrade

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 5
DEFAULT_RETRY_SECONDS = 2.0


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


def shown_url(url: str) -> str:
    """The URL with any password hidden (safe for logs and the terminal)."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (None for memory or URI forms)."""
    parsed = make_url(url)
    db = parsed.database or ""
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    for prefix in ("connection failed: ",):
        text = text.removeprefix(prefix)
    return text


def _is_refused(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "connection refused" in text or "the database system is starting up" in text


def explain(url: str, exc: BaseException, *, attempts: int = 1) -> str:
    """One line: what failed, the setting, what to do."""
    where = f"DATABASE_URL={shown_url(url)}"
    reason = _reason(exc)
    low = reason.lower()
    path = _sqlite_path(url) if url.startswith("sqlite") else None
    if "readonly" in low or "read-only" in low or "read only" in low:
        what = f"the database is read-only ({reason})"
        check = "make the file and its folder writable by this user, or use another DATABASE_URL"
    elif path is not None and not path.parent.exists():
        folder = path.parent.absolute()
        what = f"the folder {folder} for the SQLite file does not exist"
        check = f"create it (mkdir -p {folder}) or fix DATABASE_URL"
    elif path is not None and "unable to open" in low:
        what = f"cannot open or create the SQLite file {path} ({reason})"
        check = f"make sure this user can write to {path.parent} and to the file"
    elif "does not exist" in low and "database" in low:
        what = f"the server has no such database ({reason})"
        check = "create it (e.g. createdb) or fix the database name in DATABASE_URL"
    elif "resolve host" in low or "translate host name" in low or "name or service" in low:
        what = f"cannot find the database host ({reason})"
        check = "correct the host name in DATABASE_URL, or this machine's DNS"
    elif _is_refused(exc):
        tries = f" {attempts} times" if attempts > 1 else ""
        what = f"the database server refused the connection{tries} ({reason})"
        check = "make sure the server is running and listens on the host and port in DATABASE_URL"
    elif "password" in low or "authentication" in low or "role" in low:
        what = f"the database refused the credentials ({reason})"
        check = "correct the user or password in DATABASE_URL"
    else:
        what = f"cannot use the database ({reason})"
        check = "make sure DATABASE_URL is right and the database is reachable from here"
    return f"{what}; {where}. To fix: {check}."


def _check_writable(engine: Engine) -> None:
    """Fail now, not at the first command, when the database is read-only."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # A write that is rolled back: SQLite's DDL is transactional, and
            # storage.engine has SQLAlchemy emit the BEGIN (IMMEDIATE: it takes
            # the write lock, so a read-only file fails here).
            trans = conn.begin()
            try:
                conn.exec_driver_sql("CREATE TABLE _readgroup_write_check (x INTEGER)")
            finally:
                trans.rollback()
        elif (
            engine.dialect.name == "postgresql"
            and conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        ):
            raise DatabaseUnavailable("read-only transaction (a standby server?)")


def open_database(
    engine: Engine,
    *,
    url: str,
    attempts: int = DEFAULT_ATTEMPTS,
    retry_seconds: float = DEFAULT_RETRY_SECONDS,
    migrate: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Connect (retrying a refused connection), upgrade the schema and check
    that the database can be written; raise :class:`DatabaseUnavailable`."""
    path = _sqlite_path(normalise_url(url)) if url.startswith("sqlite") else None
    if path is not None and not path.parent.exists():
        raise DatabaseUnavailable(explain(url, OSError("no such folder")))
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            break
        except DBAPIError as exc:
            if not _is_refused(exc) or attempt == attempts:
                raise DatabaseUnavailable(explain(url, exc, attempts=attempt)) from None
            # One line while waiting for a server that is starting, not one per try.
            log.log(
                logging.WARNING if attempt == 1 else logging.INFO,
                "the database at %s refused the connection; trying again every %.1f s, "
                "%d more time%s",
                shown_url(url),
                retry_seconds,
                attempts - attempt,
                "" if attempts - attempt == 1 else "s",
            )
            sleep(retry_seconds)
    try:
        if migrate:
            upgrade(engine)
        _check_writable(engine)
    except DatabaseUnavailable as exc:
        raise DatabaseUnavailable(explain(url, exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(explain(url, exc)) from None
