"""Quitting the console right after it started is silent: no ERROR line and
no traceback from the reminder scheduler shutting down (a pass handed to
APScheduler just before the stop used to be cancelled and logged as
``ERROR apscheduler… Job "ScheduleRunner.tick" raised an exception``)."""

from __future__ import annotations

from tests.adapters.console.test_console_cli import console
from tests.fakes.arxiv_server import FakeArxiv


def test_piped_help_on_a_fresh_database_quits_without_errors(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    for run in range(3):  # the first run creates the schema, the others start on it
        out = console(database_url, fake_arxiv.url, "/help\n")
        assert out.returncode == 0, out.stderr
        assert "/propose" in out.stdout
        for stream in (out.stdout, out.stderr):
            assert "ERROR" not in stream, f"run {run}: {stream}"
            assert "Traceback" not in stream, f"run {run}: {stream}"
