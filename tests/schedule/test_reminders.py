"""Reminders from the database: on time in local time across DST changes,
sent late once after a restart (or skipped once the session started),
retried when the platform refuses, and the pick deadline."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.app import Bot, build_bot
from bot.chat.replies import Buttons, to_plain
from bot.infra.clock import ManualClock
from bot.schedule.reminders import run_due
from storage.groups.tables import Group, Member
from storage.papers.tables import Proposal, ProposalStatus
from storage.schedule.tables import Delivery, MeetingSession
from tests.schedule.conftest import Recorder, cmd, org, plain, run_until, seed_paper


async def setup_group(bot: Bot, meeting: str = "Thu 16:00 Europe/Berlin") -> None:
    assert "meets every" in await org(bot, f'/readgroup config meeting "{meeting}"')
    await cmd(bot, "/rotation join", user="alice")
    await cmd(bot, "/rotation join", user="bob")


@pytest.mark.parametrize(
    ("tz", "start", "end"),
    [
        ("Europe/Berlin", datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2026, 10, 12, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 2, 23, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC)),
    ],
)
async def test_one_hour_reminder_is_at_15_local_on_both_sides_of_dst(
    sbot: Bot, tz: str, start: datetime, end: datetime
) -> None:
    assert isinstance(sbot.clock, ManualClock)
    sbot.clock.set(start)
    await setup_group(sbot, f"Thu 16:00 {tz}")
    sent = await run_until(sbot, end)
    one_hour = [(at, s) for at, s in sent if s.key.endswith(":channel-1h")]
    day_before = [(at, s) for at, s in sent if s.key.endswith(":channel-1d")]
    assert len(one_hour) == 3 and len(day_before) == 3
    offsets = set()
    for at, s in one_hour:
        local = at.astimezone(ZoneInfo(tz))
        assert (local.weekday(), local.time()) == (3, time(15, 0)), (s.key, local)
        assert not s.late
        offsets.add(local.utcoffset())
    assert len(offsets) == 2  # the three weeks straddle a change
    for at, _s in day_before:
        local = at.astimezone(ZoneInfo(tz))
        assert (local.weekday(), local.time()) == (2, time(16, 0))


async def _first_session(bot: Bot) -> MeetingSession:
    def load(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    meeting = await bot.db(load)
    assert meeting is not None
    return meeting


def _restarted(bot: Bot, when: datetime) -> Bot:
    """A new process on the same database: fresh clock, fresh messenger."""
    again = build_bot(
        bot.settings,
        engine=bot.engine,
        arxiv=bot.arxiv,
        migrate=False,
        clock=ManualClock(when),
        messenger=Recorder(),
    )
    return again


async def test_restart_between_due_and_session_sends_it_once_late(sbot: Bot) -> None:
    await setup_group(sbot)
    first = await _first_session(sbot)  # Thu 2026-01-08 16:00 Berlin = 15:00 UTC
    starts = first.starts_at.replace(tzinfo=UTC)
    # Up to just before the 1-hour reminder, then the bot is down for 40 minutes.
    await run_until(sbot, starts - timedelta(hours=1, minutes=5))
    assert not any(k.endswith("channel-1h") for k in await _keys(sbot))
    after = _restarted(sbot, starts - timedelta(minutes=25))
    sent = await run_due(after)
    late = [s for s in sent if s.key.endswith("channel-1h")]
    assert len(late) == 1 and late[0].late
    assert len(after.messenger.posts) == 1  # type: ignore[attr-defined]
    # Another restart (or a second run) sends nothing more.
    again = _restarted(sbot, starts - timedelta(minutes=20))
    assert [s for s in await run_due(again) if "channel" in s.key] == []
    assert again.messenger.posts == []  # type: ignore[attr-defined]


async def test_reminder_missed_until_the_session_started_is_skipped_and_logged(
    sbot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await setup_group(sbot)
    first = await _first_session(sbot)
    starts = first.starts_at.replace(tzinfo=UTC)
    await run_until(sbot, starts - timedelta(hours=2))
    after = _restarted(sbot, starts + timedelta(minutes=10))  # down across the 1-hour mark
    with caplog.at_level(logging.WARNING, logger="bot.schedule.reminders"):
        sent = await run_due(after)
    assert not [s for s in sent if s.key.endswith("channel-1h")]
    assert after.messenger.posts == []  # type: ignore[attr-defined]
    assert any("skipped" in r.message and "channel-1h" in r.message for r in caplog.records)
    statuses = await _statuses(after)
    assert statuses[f"session:{first.id}:channel-1h"] == "skipped"
    # Later runs neither send nor log it again.
    caplog.clear()
    after.clock.set(starts + timedelta(minutes=20))  # type: ignore[attr-defined]
    await run_due(after)
    assert not any("channel-1h" in r.message for r in caplog.records)


async def test_refused_delivery_is_retried_and_sent_exactly_once(sbot: Bot) -> None:
    await setup_group(sbot)
    first = await _first_session(sbot)
    starts = first.starts_at.replace(tzinfo=UTC)
    await run_until(sbot, starts - timedelta(hours=1, minutes=1))
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    before = len(rec.posts)
    rec.fail = 2
    sent = await run_until(sbot, starts - timedelta(minutes=1))
    assert [s.key for _, s in sent].count(f"session:{first.id}:channel-1h") == 1
    assert len(rec.posts) == before + 1
    assert (await _statuses(sbot))[f"session:{first.id}:channel-1h"] == "sent"


async def test_channel_reminder_opens_the_thread_and_the_nudge_offers_three_papers(
    sbot: Bot,
) -> None:
    await setup_group(sbot)

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        member = session.exec(select(Member).where(Member.user_id == "alice")).one()
        return [
            seed_paper(
                session=session,
                group=group,
                member=member,
                arxiv_id=f"2601.0000{i}",
                title=f"Paper {i}",
                now=sbot.clock.now(),
            )
            for i in range(1, 5)
        ]

    ids = await sbot.db(seed)
    first = await _first_session(sbot)
    starts = first.starts_at.replace(tzinfo=UTC)
    # Configured on Monday for Thursday: the 3-days-before nudge is due already.
    sent = await run_until(sbot, starts - timedelta(days=2, hours=1))
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    nudge = [s for _, s in sent if ":nudge:" in s.key]
    assert len(nudge) == 1 and len(rec.directs) == 1
    user, reply = rec.directs[0]
    assert user == "alice"  # first in the roster, nobody presented yet
    buttons = [b for blk in reply.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    assert [b.action for b in buttons] == ["present_pick"] * 3
    assert [int(b.value) for b in buttons] == ids[:3]
    # Alice presses the second button in her direct messages.
    from bot.chat.events import Action, Place
    from tests.schedule.conftest import actor

    dm = Place("console", "local", "D-alice", direct=True)
    replies = await sbot.handle(
        Action("present_pick", buttons[1].value, actor("alice"), dm), _ignore
    )
    assert replies and replies[0].replace and "Paper 2" in to_plain(replies[0])
    assert len(rec.threads) == 1  # the card went to the channel with a thread on it
    await run_until(sbot, starts)
    reminders = [r for p, r in rec.posts if p.channel == "general"]
    assert any("Paper 2" in to_plain(r) and "alice" in to_plain(r) for r in reminders)
    thread_id = (await _first_session(sbot)).thread_id
    assert thread_id == f"t-{rec.threads[0][1]}"
    # After the session: the paper is presented, the prompt goes into the thread.
    await run_until(sbot, starts + timedelta(hours=2))
    prompt = [p for p, r in rec.posts if "take away" in to_plain(r)]
    assert prompt and prompt[0].thread == thread_id

    def status(*, session):  # type: ignore[no-untyped-def]
        p = session.get(Proposal, ids[1])
        return p.status, p.presented_at

    st, presented_at = await sbot.db(status)
    assert st == ProposalStatus.PRESENTED and presented_at.replace(tzinfo=UTC) == starts


async def test_pick_deadline_assigns_the_top_voted_paper_and_tells_the_presenter(
    sbot: Bot,
) -> None:
    await setup_group(sbot)

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        bob = session.exec(select(Member).where(Member.user_id == "bob")).one()
        low = seed_paper(
            session=session,
            group=group,
            member=bob,
            arxiv_id="2601.00001",
            title="Low",
            now=sbot.clock.now(),
        )
        return low

    await sbot.db(seed)
    await cmd(sbot, "/propose 1605.08386", user="carol")  # served by the fake arXiv
    await cmd(sbot, "/propose 1605.08386", user="dave")  # a second vote
    first = await _first_session(sbot)
    starts = first.starts_at.replace(tzinfo=UTC)
    await run_until(sbot, starts - timedelta(hours=47))
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    told = [to_plain(r) for u, r in rec.directs if u == "alice" and "deadline" in to_plain(r)]
    assert len(told) == 1 and "Heat-bath" in told[0]
    meeting = await _first_session(sbot)
    assert meeting.proposal_id is not None and meeting.paper_chosen_by == "deadline"


async def _ignore(reply) -> None:  # type: ignore[no-untyped-def]
    return None


async def _keys(bot: Bot) -> list[str]:
    return list((await _statuses(bot)).keys())


async def _statuses(bot: Bot) -> dict[str, str]:
    def load(*, session):  # type: ignore[no-untyped-def]
        return {d.key: d.status for d in session.exec(select(Delivery)).all()}

    return await bot.db(load)


async def test_a_replica_whose_clock_is_behind_keeps_sessions_past_its_horizon(
    sbot: Bot,
) -> None:
    await setup_group(sbot)
    clock = sbot.clock
    assert isinstance(clock, ManualClock)

    def count(*, session):  # type: ignore[no-untyped-def]
        return len(session.exec(select(MeetingSession)).all())

    clock.advance(timedelta(days=4))  # one more week enters the horizon
    await run_due(sbot)
    made = await sbot.db(count)
    behind = _restarted(sbot, clock.now() - timedelta(days=4))
    await run_due(behind)
    assert await sbot.db(count) == made
    # Changing the rule does drop the sessions it no longer produces.
    await org(sbot, '/readgroup config meeting "Fri 10:00 Europe/Berlin"')

    def weekdays(*, session):  # type: ignore[no-untyped-def]
        rows = session.exec(select(MeetingSession).where(MeetingSession.status == "scheduled"))
        return {
            r.starts_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin")).weekday()
            for r in rows
        }

    assert await sbot.db(weekdays) == {4}


async def test_a_presenter_who_inherits_a_picked_paper_is_told_how_to_change_it(
    sbot: Bot,
) -> None:
    await setup_group(sbot)
    first = await _first_session(sbot)
    assert "Heat-bath" in plain(await cmd(sbot, "/present 1605.08386", user="alice"))
    day = first.starts_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    await cmd(sbot, f"/away {day} {day}", user="alice")
    starts = first.starts_at.replace(tzinfo=UTC)
    await run_until(sbot, starts - timedelta(days=2, hours=1))
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    [(user, reply)] = rec.directs
    text = to_plain(reply)
    assert user == "bob" and "Your paper: Heat-bath" in text and "/present" in text
