"""The installed ``readgroup`` script ends the process with ``os._exit``
once the command has returned (tearing the interpreter down took 0.12 s of
the console's 0.65 s). Nothing may be lost on the way out: everything the
command wrote reaches the pipe, the exit status is the command's, the SQLite
write-ahead log is checkpointed (the connections are closed first), and a
thread still working keeps the usual exit, which waits for it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import adapters.cli as cli
from storage.engine import make_engine
from tests.adapters.console.test_console_cli import console


def test_a_piped_console_session_reaches_the_pipe_whole_and_closes_the_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "rg.db"
    lines = "".join("/help\n/queue\n/schedule\n" for _ in range(20))
    out = console(f"sqlite:///{db}", "http://127.0.0.1:9", lines, "--user", "alice")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("/propose") >= 20, out.stdout[-2000:]  # every /help answered
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the write-ahead log was not checkpointed"
    with sqlite3.connect(db) as conn:  # the file is whole and readable on its own
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_bad_setting_keeps_its_exit_status(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A setting that does not parse: the CLI's status 2, said on stderr.
    monkeypatch.setenv("READGROUP_LLM_CONCURRENCY", "lots")
    out = console(f"sqlite:///{tmp_path / 'rg.db'}", "http://127.0.0.1:9", "")
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "READGROUP_LLM_CONCURRENCY" in out.stderr


def test_run_closes_the_engines_and_exits_quickly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rg.db'}")
    with engine.connect():
        pass
    assert engine.pool.checkedin() == 1
    exits: list[int] = []

    class Exited(Exception):
        pass

    def fake_exit(code: int) -> None:
        exits.append(code)
        raise Exited

    monkeypatch.setattr(cli, "main", lambda: 7)
    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    with pytest.raises(Exited):
        cli.run()
    assert exits == [7]
    assert engine.pool.checkedin() == 0, "the pooled connection was left open"


def test_run_waits_for_a_thread_still_working(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, args=(30,))
    worker.start()
    monkeypatch.setattr(cli, "main", lambda: 0)
    monkeypatch.setattr(cli.os, "_exit", lambda code: pytest.fail("os._exit with a thread working"))
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run()
        assert exited.value.code == 0
    finally:
        stop.set()
        worker.join(5)
