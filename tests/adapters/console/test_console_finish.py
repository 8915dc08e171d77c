"""The end of piped input must not cut a reminder run short: a run cancelled
between claiming a delivery and sending it loses that message for good (the
next start finds the claim and, by the exactly-once rule, does not resend)."""

from __future__ import annotations

import asyncio

import pytest

import bot.schedule.scheduler as scheduler_mod
from adapters.console.app import _finish_pending
from bot.app import Bot
from bot.schedule.reminders import Pass


async def test_the_console_lets_a_reminder_run_in_progress_finish(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, runs = asyncio.Event(), {"begun": 0, "done": 0}

    async def slow_pass(b: Bot) -> Pass:
        runs["begun"] += 1
        started.set()
        await asyncio.sleep(0.3)  # a claim taken, the message being sent
        runs["done"] += 1
        return Pass([], None)

    monkeypatch.setattr(scheduler_mod, "run_pass", slow_pass)
    bot.start()  # the safety tick runs at once
    await asyncio.wait_for(started.wait(), 10)
    await _finish_pending(bot, 5)
    await bot.aclose()
    # The run in progress ended, then what was due ran once more.
    assert runs == {"begun": 2, "done": 2}
