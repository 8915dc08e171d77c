"""Processes starting together on an empty database: the schema upgrade is
serialised, so none crashes on tables another is creating (issue 13: two
consoles in an empty folder, or replicas on PostgreSQL)."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

import pytest
from alembic import command

from bench.upgrade_race import Outcome, run_pair, schema_problems
from storage.engine import alembic_config, make_engine, upgrade, upgrade_lock
from tests import forkserver


def test_an_upgrade_waits_while_another_holds_the_lock(database_url: str) -> None:
    holder, waiter = make_engine(database_url), make_engine(database_url)
    done = threading.Event()

    def second() -> None:
        upgrade(waiter)
        done.set()

    try:
        with upgrade_lock(holder):
            thread = threading.Thread(target=second, daemon=True)
            thread.start()
            assert not done.wait(0.5), "the second upgrade did not wait for the lock"
            command.upgrade(alembic_config(holder), "heads")  # the holder's own upgrade
        thread.join(60)
        assert done.is_set()
        assert schema_problems(database_url) == []
    finally:
        holder.dispose()
        waiter.dispose()


def _forked(argv: list[str], env: dict[str, str], cwd: str, go: str) -> Any:
    """A ``readgroup`` child of the fork server: everything imported already,
    it runs the CLI once the start file exists."""
    return forkserver.Popen(
        [str(forkserver.READGROUP), *argv],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_file=None if go == "-" else go,
    )


def _pair(database_url: str, how: str) -> Outcome:
    if forkserver.enabled():
        return run_pair(database_url, how=how, start=_forked, settle=0.3)
    return run_pair(database_url, how=how)


@pytest.mark.slow(seconds=1.5)
@pytest.mark.parametrize("run", range(3))
def test_two_processes_upgrading_an_empty_database_at_once_both_succeed(
    database_url: str, run: int
) -> None:
    """Both processes import everything, then start their upgrade on the same
    signal; on the old code about half such runs crashed one of them."""
    outcome = _pair(database_url, "db")
    assert outcome.crashed == 0, outcome.errors
    assert outcome.schema == []


@pytest.mark.slow(seconds=1.5)
def test_two_consoles_started_together_in_an_empty_folder_both_answer(database_url: str) -> None:
    outcome = _pair(database_url, "console")
    assert outcome.crashed == 0, outcome.errors
    assert outcome.schema == []
