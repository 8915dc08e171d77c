"""Reminders whose time has passed when their session comes into being: one
per audience, worded with the time really left; presenters named only once
the rotation gives one; and the pick deadline keeps trying until the start.

Each test here fails on the code before the catch-up rule (two channel
reminders at once, "nobody yet", a pick deadline spent on an empty queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import Bot
from bot.chat.replies import to_plain
from bot.infra.clock import ManualClock
from bot.schedule.reminders import run_due
from storage.groups.tables import Group, Member
from storage.schedule.tables import Delivery, MeetingSession
from tests.schedule.conftest import Recorder, cmd, org, run_until, seed_paper

SET_AT = datetime(2026, 12, 1, 18, 6, tzinfo=UTC)  # a Tuesday, 19 minutes before 18:25


def _clock(bot: Bot) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


def _rec(bot: Bot) -> Recorder:
    assert isinstance(bot.messenger, Recorder)
    return bot.messenger


async def _statuses(bot: Bot) -> dict[str, str]:
    def load(*, session):  # type: ignore[no-untyped-def]
        return {d.key: d.status for d in session.exec(select(Delivery)).all()}

    return await bot.db(load)


async def _sessions(bot: Bot) -> list[MeetingSession]:
    def load(*, session):  # type: ignore[no-untyped-def]
        return list(
            session.exec(
                select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
            ).all()
        )

    return await bot.db(load)


async def test_meeting_set_19_minutes_ahead_posts_one_reminder_saying_19_minutes(
    sbot: Bot,
) -> None:
    _clock(sbot).set(SET_AT)
    await cmd(sbot, "/rotation join", user="alice")
    await cmd(sbot, "/rotation join", user="bob")
    assert "meets every" in await org(sbot, '/readgroup config meeting "Tue 18:25 UTC"')
    sent = await run_due(sbot)
    channel = [s for s in sent if s.kind == "channel"]
    assert [s.key for s in channel] == ["session:1:channel-1h"]
    posts = _rec(sbot).posts
    assert len(posts) == 1
    header = to_plain(posts[0][1]).splitlines()[0]
    assert header == "Reading group in 19 minutes"
    assert posts[0][1].fallback_text == "Reading group in 19 minutes"
    # The day-before one is recorded as skipped, never sent later.
    assert (await _statuses(sbot))["session:1:channel-1d"] == "skipped"
    # One message to the presenter, not a nudge and a deadline notice together.
    assert [u for u, _ in _rec(sbot).directs] == ["alice"]
    _clock(sbot).set(SET_AT + timedelta(minutes=5))
    assert [s for s in await run_due(sbot) if s.kind != "takeaways"] == []


async def test_a_reminder_never_says_nobody_yet_once_the_rotation_has_people(
    sbot: Bot,
) -> None:
    # The organizer sets the meeting before anyone has joined the rotation
    # (as in the README's first week); the scheduler runs at once.
    _clock(sbot).set(SET_AT)
    assert "meets every" in await org(sbot, '/readgroup config meeting "Tue 18:25 UTC"')
    await run_due(sbot)
    assert _rec(sbot).posts == []  # held: the session has no presenter yet
    _clock(sbot).set(SET_AT + timedelta(minutes=1))
    await cmd(sbot, "/rotation join", user="alice")
    sent = await run_due(sbot)  # the pass the join's change triggers
    assert [s.key for s in sent if s.kind == "channel"] == ["session:1:channel-1h"]
    [(_place, reply)] = _rec(sbot).posts
    text = to_plain(reply)
    assert "nobody yet" not in text and "Presenter: @alice" in text
    assert text.splitlines()[0] == "Reading group in 18 minutes"
    # Alice is told she presents (the deadline notice: the nudge is superseded).
    [(user, dm)] = _rec(sbot).directs
    assert user == "alice" and "You present on Tue 1 Dec 2026, 18:25 UTC" in to_plain(dm)


async def test_with_nobody_in_the_rotation_the_reminder_waits_then_says_how_to_volunteer(
    sbot: Bot,
) -> None:
    _clock(sbot).set(SET_AT)
    assert "meets every" in await org(sbot, '/readgroup config meeting "Tue 18:25 UTC"')
    sent = await run_until(sbot, datetime(2026, 12, 1, 18, 24, tzinfo=UTC))
    assert [(at.strftime("%H:%M"), s.key) for at, s in sent] == [("18:15", "session:1:channel-1h")]
    [(_place, reply)] = _rec(sbot).posts
    text = to_plain(reply)
    assert text.splitlines()[0] == "Reading group in 10 minutes"
    assert "nobody yet: join with /rotation join to present" in text


async def test_an_empty_queue_at_the_deadline_is_retried_until_a_proposal_is_assigned(
    sbot: Bot,
) -> None:
    _clock(sbot).set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # Monday, a week ahead
    await cmd(sbot, "/rotation join", user="alice")
    assert "meets every" in await org(sbot, '/readgroup config meeting "Thu 18:25 UTC"')
    first = (await _sessions(sbot))[0]
    starts = first.starts_at.replace(tzinfo=UTC)
    deadline = starts - timedelta(hours=48)
    await run_until(sbot, deadline + timedelta(hours=1))
    told = [to_plain(r) for u, r in _rec(sbot).directs if "no paper is chosen yet" in to_plain(r)]
    assert len(told) == 1 and "first paper proposed is assigned to you" in told[0]
    # A proposal arrives after the deadline; the next pass assigns it.

    def propose(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        return seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="2612.00002",
            title="Late But Welcome",
            now=_clock(sbot).now(),
        )

    pid = await sbot.db(propose)
    _clock(sbot).advance(timedelta(minutes=5))
    sent = await run_due(sbot)
    # the presenter is told, and the paper's card opens the thread at once
    assert [s.key for s in sent] == [
        f"session:{first.id}:assigned:{pid}",
        f"session:{first.id}:card:{pid}",
    ]
    meeting = (await _sessions(sbot))[0]
    assert meeting.proposal_id == pid and meeting.paper_chosen_by == "deadline"
    assert meeting.thread_id is not None
    user, reply = _rec(sbot).directs[-1]
    assert user == "alice"
    assert "No paper was picked by the deadline" in to_plain(reply)
    assert "Late But Welcome" in to_plain(reply)
    # The channel reminders now show the paper; nothing is told twice.
    sent = await run_until(sbot, starts)
    assert all("assigned" not in s.key and "deadline" not in s.key for _, s in sent)
    assert any("Late But Welcome" in to_plain(r) for _, r in _rec(sbot).posts)


async def test_a_pick_told_by_the_old_combined_deadline_message_is_not_told_again(
    sbot: Bot,
) -> None:
    """Upgrading: the bot used to assign and tell in the one deadline message."""
    from bot.schedule import meetings as schedule
    from storage.papers.tables import Proposal

    _clock(sbot).set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await cmd(sbot, "/rotation join", user="alice")
    assert "meets every" in await org(sbot, '/readgroup config meeting "Thu 18:25 UTC"')
    first = (await _sessions(sbot))[0]
    deadline = first.starts_at.replace(tzinfo=UTC) - timedelta(hours=48)

    def old_deadline_pass(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        pid = seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="2612.00003",
            title="Old",
            now=deadline,
        )
        meeting = session.get(MeetingSession, first.id)
        proposal = session.get(Proposal, pid)
        schedule.assign_paper(
            session=session, meeting=meeting, proposal=proposal, by="deadline", now=deadline
        )
        session.add(
            Delivery(
                key=f"session:{first.id}:deadline",
                session_id=first.id,
                status="sent",
                claimed_at=deadline,
                sent_at=deadline,
                attempts=1,
            )
        )

    await sbot.db(old_deadline_pass)
    _clock(sbot).set(deadline + timedelta(minutes=30))
    sent = await run_due(sbot)
    assert not [s for s in sent if s.kind in ("assigned", "deadline")]
