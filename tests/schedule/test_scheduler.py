"""The APScheduler wiring: starting the bot arms a wake-up from the database
and the wake-up runs what is due; a change wakes it at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.infra.clock import ManualClock
from storage.schedule.tables import MeetingSession
from tests.schedule.conftest import Recorder, cmd, org


async def _wait_for(predicate, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the scheduler did not run in time")


async def test_started_bot_fires_due_reminders_and_rearms(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await cmd(sbot, "/rotation join", user="alice")

    def first(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    meeting = await sbot.db(first)
    clock = sbot.clock
    assert isinstance(clock, ManualClock)
    starts = meeting.starts_at.replace(tzinfo=clock.now().tzinfo)
    clock.set(starts - timedelta(days=3, minutes=-1))  # the nudge is a minute overdue
    sbot.start()
    runner = sbot.schedule_runner
    assert runner is not None and runner.scheduler.running
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    await _wait_for(lambda: len(rec.directs) == 1 and runner.runs >= 1)
    wake = runner.scheduler.get_job("wake")
    assert wake is not None  # armed for the next due time, from the database:
    # the pick deadline, 48 h before the start, i.e. 23 h 59 min from now.
    left = wake.next_run_time - datetime.now(UTC)
    assert timedelta(hours=23, minutes=58) < left < timedelta(hours=24)
    # Jump the clock past the day-before reminder and say something changed.
    clock.set(starts - timedelta(hours=23))
    await cmd(sbot, "/rotation join", user="bob")  # a change wakes the runner
    await _wait_for(
        # the day-before reminder, an hour late: worded with the time really left
        lambda: runner.runs >= 2 and any("in 23 hours" in r.fallback for _, r in rec.posts)
    )
    assert runner.runs >= 2
    await sbot.aclose()
    assert not runner.scheduler.running


async def test_a_failing_run_is_logged_and_the_safety_tick_stays(
    sbot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    sbot.start()
    runner = sbot.schedule_runner
    assert runner is not None
    await _wait_for(lambda: runner.runs >= 1)

    async def broken(_bot: Bot) -> list[object]:
        raise RuntimeError("database on fire")

    import bot.schedule.scheduler as scheduler_module

    original = scheduler_module.run_pass
    scheduler_module.run_pass = broken  # type: ignore[assignment]
    try:
        await runner.tick()
    finally:
        scheduler_module.run_pass = original
    assert "reminder run failed" in caplog.text
    assert runner.scheduler.get_job("safety") is not None
    await sbot.aclose()


async def test_a_pass_with_nothing_due_reads_what_is_pending_once(
    sbot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wake-up that finds nothing due (after a command, at a session's end)
    arms the next one from its own first read of what is pending: reading it
    again, in a second transaction, covered every group of the bot a second
    time at each such pass."""
    from bot.schedule import reminders
    from bot.schedule.scheduler import ScheduleRunner

    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await cmd(sbot, "/rotation join", user="alice")
    reads: list[datetime] = []
    real = reminders.pending

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        reads.append(kwargs["now"])
        return real(**kwargs)

    monkeypatch.setattr(reminders, "pending", counted)
    runner = ScheduleRunner(sbot)
    armed: list[datetime | None] = []
    monkeypatch.setattr(runner, "_arm", armed.append)
    await runner.tick()  # Monday 09:00: the first nudge is days away
    assert runner.last_sent == [] and len(reads) == 1
    expected = await sbot.db(reminders.next_wakeup, now=sbot.clock.now())
    assert armed == [expected] and expected is not None and expected > sbot.clock.now()
    # A pass that sends something reads again after it, for what is left.
    clock = sbot.clock
    assert isinstance(clock, ManualClock)
    clock.set(expected)
    reads.clear()
    await runner.tick()
    assert len(runner.last_sent) == 1 and len(reads) == 2
    assert armed[-1] == await sbot.db(reminders.next_wakeup, now=clock.now())
