"""Two processes opening a new SQLite file at the same moment: switching it
to WAL must not fail one of them with "database is locked" (a CI run lost a
console this way; the busy timeout does not cover that pragma)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from storage.engine import _set_wal, make_engine


def _open(url: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        results.put("ok")
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(repr(exc))
    finally:
        engine.dispose()


def test_two_processes_opening_a_new_file_together_both_connect(tmp_path: Path) -> None:
    """About one round in four failed on the old code; 40 rounds make a pass
    by luck about one in 100,000."""
    ctx = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(40):
        url = f"sqlite:///{tmp_path / f'new{round_}.db'}"
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_open, args=(url, barrier, results)) for _ in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        outcomes = [results.get(timeout=5) for _ in procs]
        failures += [(round_, o) for o in outcomes if o != "ok"]
    assert failures == []


class _Cursor:
    def __init__(self, busy: int, message: str = "database is locked") -> None:
        self.busy, self.message, self.calls = busy, message, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= self.busy:
            raise sqlite3.OperationalError(self.message)


def test_the_wal_switch_is_retried_while_locked() -> None:
    cursor, naps = _Cursor(busy=3), []
    _set_wal(cursor, sleep=naps.append)
    assert cursor.calls == 4 and len(naps) == 3


def test_other_errors_are_not_retried() -> None:
    cursor = _Cursor(busy=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _set_wal(cursor, sleep=lambda _s: None)
    assert cursor.calls == 1


def test_the_retry_gives_up_after_the_busy_timeout() -> None:
    cursor, now = _Cursor(busy=10**6), [0.0]

    def sleep(seconds: float) -> None:
        now[0] += 5.0

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _set_wal(cursor, sleep=sleep, clock=lambda: now[0])
    assert cursor.calls == 7  # 0, 5, ..., 30 s
