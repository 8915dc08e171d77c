"""Start-up without a usable database: one clear line on stderr (what failed,
DATABASE_URL with the password hidden, what to do), a non-zero exit, no
traceback; a server that refuses connections is retried a few times. Run as
the real ``readgroup`` process (a subprocess), as an operator would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from storage import connect
from storage.connect import DatabaseUnavailable, explain, open_database
from storage.engine import make_engine
from tests import forkserver
from tests.conftest import PG_URL, require_pg
from tests.ports import free_port


def _run(tmp_path: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": url,
        "DATABASE_CONNECT_ATTEMPTS": "3",
        "DATABASE_CONNECT_RETRY_SECONDS": "0.05",
        # serve slack needs these before it looks at the database; the API is
        # never reached because the database check comes first.
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        **env,
    }
    argv = [str(forkserver.READGROUP), *(args or ("db", "upgrade"))]
    return forkserver.run(argv, cwd=tmp_path, env=environ, timeout=60)


def _one_clear_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("readgroup: ")]
    assert len(lines) == 1, proc.stderr
    (line,) = lines
    assert "DATABASE_URL=" in line and "To fix: " in line
    # Besides the line itself, at most the one "retrying" notice.
    assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
    return line


def test_a_closed_port_is_retried_then_one_line(tmp_path: Path) -> None:
    url = f"postgresql://readgroup:s3cret@127.0.0.1:{free_port()}/test"
    proc = _run(tmp_path, url, "serve", "slack", "--http", "--port", "0")
    line = _one_clear_line(proc)
    assert "refused the connection 3 times" in line
    assert "s3cret" not in proc.stderr and "readgroup:***@127.0.0.1" in line
    assert "make sure the server is running" in line


def test_an_unknown_database_is_one_line_without_retry(tmp_path: Path) -> None:
    require_pg()
    url = str(sa.make_url(PG_URL).set(database="readgroup_no_such_db"))
    line = _one_clear_line(_run(tmp_path, url, "serve", "slack", "--http", "--port", "0"))
    assert "no such database" in line and "readgroup_no_such_db" in line
    assert "createdb" in line


def test_a_missing_folder_for_sqlite_is_refused_not_created(tmp_path: Path) -> None:
    line = _one_clear_line(_run(tmp_path, "sqlite:///data/sub/readgroup.db"))
    folder = tmp_path / "data" / "sub"
    assert f"the folder {folder} for the SQLite file does not exist" in line
    assert f"mkdir -p {folder}" in line
    assert not (tmp_path / "data").exists()


def test_a_read_only_sqlite_database_is_one_line(tmp_path: Path) -> None:
    assert _run(tmp_path, "sqlite:///rg.db").returncode == 0  # create it
    line = _one_clear_line(_run(tmp_path, "sqlite:///file:rg.db?mode=ro&uri=true"))
    assert "read-only" in line and "writable" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write read-only files")
def test_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = _one_clear_line(_run(tmp_path, "sqlite:///ro/rg.db"))
    finally:
        folder.chmod(0o755)
    assert "writ" in line


def test_the_console_says_the_same(tmp_path: Path) -> None:
    proc = forkserver.run(
        [str(forkserver.READGROUP), "console"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": "sqlite:///nope/rg.db"},
        timeout=60,
    )
    _one_clear_line(proc)


# ------------------------------------------------------------ in process
def test_a_server_that_is_starting_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused twice, then up: start-up goes on, after two short waits."""
    url = f"sqlite:///{tmp_path / 'rg.db'}"
    engine = make_engine(url)
    real_connect = engine.connect
    refusals = [OperationalError("SELECT 1", {}, Exception("Connection refused"))] * 2

    def connect_or_refuse() -> sa.Connection:
        if refusals:
            raise refusals.pop()
        return real_connect()

    monkeypatch.setattr(engine, "connect", connect_or_refuse)
    waits: list[float] = []
    open_database(engine, url=url, attempts=5, retry_seconds=0.5, sleep=waits.append)
    assert waits == [0.5, 0.5]
    assert "alembic_version" in sa.inspect(real_connect()).get_table_names()


def test_a_refusing_server_is_tried_only_as_often_as_configured(tmp_path: Path) -> None:
    url = f"postgresql://u@127.0.0.1:{free_port()}/db"
    waits: list[float] = []
    with pytest.raises(DatabaseUnavailable, match="refused the connection 4 times"):
        open_database(make_engine(url), url=url, attempts=4, retry_seconds=1, sleep=waits.append)
    assert waits == [1, 1, 1]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (
            "failed to resolve host 'nonexistent.invalid': [Errno -2] Name or service not known",
            "cannot find the database host",
        ),
        (
            'connection failed: FATAL:  password authentication failed for user "u"',
            "the database refused the credentials",
        ),
        ("unable to open database file", "cannot open or create the SQLite file"),
        ("attempt to write a readonly database", "the database is read-only"),
    ],
)
def test_each_failure_is_explained(tmp_path: Path, reason: str, expected: str) -> None:
    url = (
        f"sqlite:///{tmp_path / 'rg.db'}"
        if "database file" in reason or "readonly" in reason
        else "postgresql://u:pw@nonexistent.invalid/db"
    )
    line = explain(url, OperationalError("x", {}, Exception(reason)))
    assert line.startswith(expected) and "DATABASE_URL=" in line and "To fix: " in line
    assert ":pw@" not in line and "\n" not in line


def test_module_documents_its_choice_for_missing_folders() -> None:
    assert "refused, not created" in (connect.__doc__ or "")
