"""A clean stop of the reminder scheduler is silent, whenever it comes.

APScheduler's asyncio executor cancels the jobs it is running when the
scheduler shuts down, and that shutdown only takes effect on a later turn of
the event loop. A stop that came just after a pass had been handed to the
executor (its task created, not yet started) did not see it, so the pass was
cancelled mid-way and logged as ``ERROR … Job "ScheduleRunner.tick" raised an
exception`` with a traceback: what a user saw when the console quit right
after starting (``printf '/help\\n' | readgroup console``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging

import pytest

import bot.schedule.scheduler as scheduler_mod
from bot.app import Bot
from bot.schedule.reminders import Pass


def _created_not_started(bot: Bot) -> bool:
    """Whether the executor holds a pass whose task has not run yet."""
    runner = bot.schedule_runner
    assert runner is not None
    executor = runner.scheduler._lookup_executor("default")
    # APScheduler's own executor keeps them in _pending_futures, ours in passes
    futures = getattr(executor, "passes", None) or getattr(executor, "_pending_futures", set())
    return any(
        isinstance(f, asyncio.Task)
        and not f.done()
        and inspect.getcoroutinestate(f.get_coro()) == inspect.CORO_CREATED  # type: ignore[arg-type]
        for f in futures
    )


async def _stop_just_after_the_first_pass_is_handed_over(bot: Bot) -> None:
    bot.start()  # the safety tick is due at once
    for _ in range(1000):
        if _created_not_started(bot):
            break
        await asyncio.sleep(0)
    else:
        raise AssertionError("the first pass was never handed to the executor")
    runner = bot.schedule_runner
    assert runner is not None
    await runner.finish()  # the console at the end of piped input
    await bot.aclose()
    await asyncio.sleep(0.05)  # let a deferred shutdown and its cancellations land


async def test_a_stop_right_after_start_logs_no_error(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await _stop_just_after_the_first_pass_is_handed_over(bot)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert "Traceback" not in caplog.text
    runner = bot.schedule_runner
    assert runner is not None and runner.runs >= 1  # what was due still ran


async def test_a_real_error_in_a_pass_is_still_logged_at_stop(
    bot: Bot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_bot: Bot) -> Pass:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(scheduler_mod, "run_pass", broken)
    await _stop_just_after_the_first_pass_is_handed_over(bot)
    failed = [r for r in caplog.records if "reminder run failed" in r.getMessage()]
    assert failed and failed[0].levelno == logging.ERROR
    assert "database on fire" in caplog.text


async def test_a_pass_cut_off_past_the_grace_is_a_warning_not_an_error(
    bot: Bot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def slow(_bot: Bot) -> Pass:
        started.set()
        await asyncio.sleep(30)
        return Pass([], None)

    monkeypatch.setattr(scheduler_mod, "run_pass", slow)
    bot.start()
    await asyncio.wait_for(started.wait(), 10)
    runner = bot.schedule_runner
    assert runner is not None
    await runner.stop(grace=0.1)
    await asyncio.sleep(0.05)
    assert "still running after 0 s at shutdown" in caplog.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
