"""A reminder survives its sender stopping: a clean stop lets the delivery
under way finish (bounded) or hands its claim back, and a claim left by a
killed process is retried once when its lease runs out, never lost and never
sent twice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import bot.schedule.reminders as reminders
from bot.app import Bot, build_bot
from bot.chat.events import Place
from bot.chat.replies import Reply, to_plain
from bot.infra.clock import ManualClock
from bot.schedule.claims import CLAIM_LEASE
from bot.schedule.reminders import Due, claim, run_due
from storage.schedule.tables import Delivery, MeetingSession
from tests.schedule.conftest import Recorder, cmd, org, run_until


@dataclass
class SlowRecorder(Recorder):
    """A messenger whose channel posts take ``delay`` seconds (None: forever)."""

    delay: float | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, place: Place, reply: Reply) -> str | None:
        self.entered.set()
        if self.delay is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(self.delay)
        return await super().post(place, reply)


async def _group_before_the_hour(bot: Bot) -> tuple[int, datetime]:
    """A group whose next session's 1-hour reminder is due now; all earlier
    messages already sent. Returns (session id, its start)."""
    assert "meets every" in await org(bot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await cmd(bot, "/rotation join", user="alice")

    def first(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    meeting = await bot.db(first)
    starts = meeting.starts_at.replace(tzinfo=UTC)
    await run_until(bot, starts - timedelta(hours=1, minutes=1))
    assert isinstance(bot.clock, ManualClock)
    bot.clock.set(starts - timedelta(hours=1))
    return meeting.id, starts


async def _status(bot: Bot, key: str) -> str:
    def load(*, session):  # type: ignore[no-untyped-def]
        row = session.exec(select(Delivery).where(Delivery.key == key)).first()
        return row.status if row else "-"

    return await bot.db(load)


def _restarted(bot: Bot, when: datetime) -> Bot:
    return build_bot(
        bot.settings,
        engine=bot.engine,
        arxiv=bot.arxiv,
        migrate=False,
        clock=ManualClock(when),
        messenger=Recorder(),
    )


async def _cancel_mid_send(bot: Bot, delay: float | None) -> None:
    rec = SlowRecorder(delay=delay)
    bot.messenger = rec
    task = asyncio.ensure_future(run_due(bot))
    await asyncio.wait_for(rec.entered.wait(), 5)  # claimed, and sending
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_stop_while_a_send_hangs_hands_the_claim_back_and_it_is_sent_next_run(
    sbot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminders, "STOP_GRACE_SECONDS", 0.2)
    sid, starts = await _group_before_the_hour(sbot)
    key = f"session:{sid}:channel-1h"
    await _cancel_mid_send(sbot, delay=None)
    assert await _status(sbot, key) == "retry"  # released, not left claimed
    after = _restarted(sbot, starts - timedelta(minutes=58))
    sent = [s.key for s in await run_due(after)]
    assert sent == [key]
    assert len(after.messenger.posts) == 1  # type: ignore[attr-defined]
    again = _restarted(sbot, starts - timedelta(minutes=50))
    assert await run_due(again) == [] and await _status(again, key) == "sent"


async def test_a_stop_while_a_send_is_under_way_lets_it_finish(sbot: Bot) -> None:
    sid, starts = await _group_before_the_hour(sbot)
    key = f"session:{sid}:channel-1h"
    await _cancel_mid_send(sbot, delay=0.2)
    assert await _status(sbot, key) == "sent"
    assert len(sbot.messenger.posts) == 1  # type: ignore[attr-defined]
    after = _restarted(sbot, starts - timedelta(minutes=58))
    assert await run_due(after) == []


async def test_closing_the_bot_mid_pass_finishes_the_delivery(sbot: Bot) -> None:
    """The console's input ending (or a server stopping) closes the bot while
    the scheduler is in the middle of a pass."""
    sid, _starts = await _group_before_the_hour(sbot)
    key = f"session:{sid}:channel-1h"
    rec = SlowRecorder(delay=0.3)
    sbot.messenger = rec
    sbot.start()
    runner = sbot.schedule_runner
    assert runner is not None
    await asyncio.wait_for(rec.entered.wait(), 5)
    await sbot.aclose()
    assert not runner.scheduler.running
    assert await _status(sbot, key) == "sent"
    assert len(rec.posts) == 1


async def test_a_claim_left_by_a_killed_process_is_retried_once_after_its_lease(
    sbot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    sid, starts = await _group_before_the_hour(sbot)
    key = f"session:{sid}:channel-1h"
    due = Due(key, "channel", sid, 1, starts - timedelta(hours=1), starts, 60)
    claimed_at = starts - timedelta(hours=1)
    assert await sbot.db(claim, due=due, now=claimed_at)  # ...and the process is killed
    # Within the lease a new process leaves it alone (the sender may be alive).
    early = _restarted(sbot, claimed_at + CLAIM_LEASE - timedelta(minutes=1))
    assert key not in [s.key for s in await run_due(early)]
    assert await _status(early, key) == "claimed"
    # After it, the reminder is retried, late, with the time really left.
    later = _restarted(sbot, claimed_at + CLAIM_LEASE + timedelta(minutes=1))
    with caplog.at_level(logging.WARNING, logger="bot.schedule.reminders"):
        sent = await run_due(later)
    assert [s.key for s in sent] == [key] and sent[0].late
    [(_place, reply)] = later.messenger.posts  # type: ignore[attr-defined]
    assert to_plain(reply).splitlines()[0] == "Reading group in 49 minutes"
    assert any(key in r.message and "retrying once" in r.message for r in caplog.records)
    assert await _status(later, key) == "sent"
    again = _restarted(sbot, starts - timedelta(minutes=5))
    assert key not in [s.key for s in await run_due(again)]
    assert again.messenger.posts == []  # type: ignore[attr-defined]


async def test_the_scheduler_wakes_up_when_a_lease_runs_out(sbot: Bot) -> None:
    from bot.schedule.reminders import next_wakeup

    sid, starts = await _group_before_the_hour(sbot)
    key = f"session:{sid}:channel-1h"
    due = Due(key, "channel", sid, 1, starts - timedelta(hours=1), starts, 60)
    now = starts - timedelta(hours=1)
    assert await sbot.db(claim, due=due, now=now)
    wake = await sbot.db(next_wakeup, now=now)
    assert wake is not None and wake <= now + CLAIM_LEASE + timedelta(seconds=1)


async def test_a_claim_cut_off_twice_is_marked_lost_and_logged(
    sbot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    sid, starts = await _group_before_the_hour(sbot)
    key = f"session:{sid}:channel-1h"
    due = Due(key, "channel", sid, 1, starts - timedelta(hours=1), starts, 60)
    t0 = starts - timedelta(hours=1)
    assert await sbot.db(claim, due=due, now=t0)  # killed once
    from bot.schedule.claims import expire_leases

    t1 = t0 + CLAIM_LEASE + timedelta(minutes=1)
    assert await sbot.db(expire_leases, now=t1) == ([key], [])
    assert await sbot.db(claim, due=due, now=t1)  # the retry, killed again
    later = _restarted(sbot, t1 + CLAIM_LEASE + timedelta(minutes=1))
    with caplog.at_level(logging.ERROR, logger="bot.schedule.reminders"):
        sent = await run_due(later)
    assert key not in [s.key for s in sent]
    assert await _status(later, key) == "lost"
    assert any(key in r.message and "not resending" in r.message for r in caplog.records)


@dataclass
class HangingThreads(Recorder):
    """Posts go through; opening a thread on them never returns."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        self.entered.set()
        await asyncio.Event().wait()
        return None


async def test_a_stop_after_the_card_is_posted_never_posts_it_again(
    sbot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.schedule import meetings as schedule
    from storage.groups.tables import Group, Member
    from storage.papers.tables import Proposal
    from tests.schedule.conftest import seed_paper

    monkeypatch.setattr(reminders, "STOP_GRACE_SECONDS", 0.2)
    assert "meets every" in await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await cmd(sbot, "/rotation join", user="alice")

    def pick(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        meeting = session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()
        pid = seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="2601.00009",
            title="Card",
            now=sbot.clock.now(),
        )
        schedule.assign_paper(
            session=session,
            meeting=meeting,
            proposal=session.get(Proposal, pid),
            by="presenter",
            now=sbot.clock.now(),
        )
        return meeting.id, meeting.starts_at.replace(tzinfo=UTC)

    sid, starts = await sbot.db(pick)
    await run_until(sbot, starts - timedelta(days=1, minutes=1))
    assert isinstance(sbot.clock, ManualClock)
    sbot.clock.set(starts - timedelta(days=1))
    rec = HangingThreads()
    sbot.messenger = rec
    task = asyncio.ensure_future(run_due(sbot))
    await asyncio.wait_for(rec.entered.wait(), 5)  # the card is posted
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    key = f"session:{sid}:channel-1d"
    assert await _status(sbot, key) == "sent" and len(rec.posts) == 1
    after = _restarted(sbot, starts - timedelta(hours=23))
    assert key not in [s.key for s in await run_due(after)]
    assert after.messenger.posts == []  # type: ignore[attr-defined]
