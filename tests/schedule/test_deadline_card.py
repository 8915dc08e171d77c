"""The pick deadline's paper gets its card and discussion thread at once, as a
``/present`` would; and ``/present`` of the paper a session already has says
so truthfully instead of "already scheduled for another session" or a second
card.

Each test fails on the code before: the deadline assigned the paper with no
card (the thread opened only with the channel reminder the day before), and
``/present`` of that paper posted a second card over the first thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import Bot
from bot.chat.replies import to_plain
from bot.infra.clock import ManualClock
from bot.schedule import catch_up
from storage.groups.tables import Group, Member
from storage.schedule.tables import Delivery, MeetingSession
from tests.schedule.conftest import Recorder, cmd, org, plain, run_until, seed_paper

#: The first Thursday 16:00 Berlin session after the conftest's START.
STARTS = datetime(2026, 1, 8, 15, 0, tzinfo=UTC)
DEADLINE = STARTS - timedelta(hours=48)
WHEN = "Thu 8 Jan 2026, 16:00 Europe/Berlin"


def _clock(bot: Bot) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


def _rec(bot: Bot) -> Recorder:
    assert isinstance(bot.messenger, Recorder)
    return bot.messenger


async def _first(bot: Bot) -> MeetingSession:
    def load(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    return await bot.db(load)


async def _group_with_a_queued_paper(bot: Bot) -> int:
    await org(bot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(bot, "/rotation add @alice @bob")

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        bob = session.exec(select(Member).where(Member.user_id == "bob")).one()
        return seed_paper(
            session=session,
            group=group,
            member=bob,
            arxiv_id="2601.00001",
            title="Top Voted Paper",
            now=bot.clock.now(),
        )

    return await bot.db(seed)


async def test_the_deadline_pick_posts_the_card_and_opens_the_thread_at_once(sbot: Bot) -> None:
    pid = await _group_with_a_queued_paper(sbot)
    await run_until(sbot, DEADLINE + timedelta(minutes=1))
    meeting = await _first(sbot)
    assert meeting.proposal_id == pid and meeting.paper_chosen_by == "deadline"
    # the card is out, with its thread, a day before the channel reminder
    cards = [r for _, r in _rec(sbot).posts if "Top Voted Paper" in to_plain(r)]
    assert len(cards) == 1
    card = to_plain(cards[0])
    assert f"@alice presents this on {WHEN} (the top-voted paper)." in card
    assert "Discuss it in this thread" in card
    [(_place, card_id, _name)] = _rec(sbot).threads
    assert meeting.thread_id == f"t-{card_id}"
    assert any("the top-voted one is yours" in to_plain(r) for _, r in _rec(sbot).directs)
    # the day-before reminder points at that thread instead of a second card
    await run_until(sbot, STARTS - timedelta(hours=23))
    reminder = to_plain(_rec(sbot).posts[-1][1])
    assert reminder.startswith("Reading group tomorrow")
    assert "The discussion is in the paper's thread." in reminder
    assert len(_rec(sbot).threads) == 1


async def test_present_of_the_deadline_paper_says_nothing_changes(sbot: Bot) -> None:
    await _group_with_a_queued_paper(sbot)
    await run_until(sbot, DEADLINE + timedelta(minutes=1))
    posts, threads = len(_rec(sbot).posts), len(_rec(sbot).threads)
    said = await cmd(sbot, "/present 2601.00001", user="alice")
    assert said[0].private
    assert plain(said) == (
        f"Top Voted Paper is already the paper for {WHEN}; nothing to change. "
        "Its discussion is in the paper's thread."
    )
    assert (len(_rec(sbot).posts), len(_rec(sbot).threads)) == (posts, threads)
    meeting = await _first(sbot)
    assert meeting.thread_id == f"t-{_rec(sbot).threads[0][1]}"
    assert meeting.paper_chosen_by == "deadline"
    # bob presents the next session: he is told whose session has the paper
    other = plain(await cmd(sbot, "/present 2601.00001", user="bob"))
    assert f"Top Voted Paper is already the paper for {WHEN} (@alice presents it)" in other
    assert "already scheduled for another session" not in other


async def test_present_of_the_paper_without_a_thread_yet_opens_it_once(sbot: Bot) -> None:
    pid = await _group_with_a_queued_paper(sbot)
    clock = _clock(sbot)
    clock.set(DEADLINE + timedelta(minutes=1))

    def pick(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        return catch_up.auto_pick(session=session, group_id=group.id, now=clock.now())

    # the deadline pass assigned the paper; its card has not gone out yet
    assert len(await sbot.db(pick)) == 1
    said = plain(await cmd(sbot, "/present 2601.00001", user="alice"))
    assert said == (
        f"Top Voted Paper is already the paper for {WHEN}; nothing to change. "
        "I posted its card in the channel with a thread for the discussion."
    )
    assert len(_rec(sbot).posts) == 1 and len(_rec(sbot).threads) == 1
    meeting = await _first(sbot)
    assert meeting.proposal_id == pid and meeting.thread_id == f"t-{_rec(sbot).threads[0][1]}"
    # the scheduled card finds the thread open and posts nothing
    await run_until(sbot, DEADLINE + timedelta(minutes=5))
    assert [to_plain(r) for _, r in _rec(sbot).posts].count(to_plain(_rec(sbot).posts[0][1])) == 1
    assert len(_rec(sbot).threads) == 1

    def status(*, session):  # type: ignore[no-untyped-def]
        key = f"session:{meeting.id}:card:{pid}"
        return session.exec(select(Delivery.status).where(Delivery.key == key)).one()

    assert await sbot.db(status) == "nothing"


async def test_a_late_pick_and_the_day_before_reminder_make_one_post(sbot: Bot) -> None:
    """The bot was down over the deadline and came back 20 h before the
    session: the channel reminder carries the card and opens the thread."""
    await _group_with_a_queued_paper(sbot)
    clock = _clock(sbot)
    await run_until(sbot, DEADLINE - timedelta(hours=1))
    before = len(_rec(sbot).posts)
    clock.set(STARTS - timedelta(hours=20))
    await run_until(sbot, STARTS - timedelta(hours=20))
    new = [to_plain(r) for _, r in _rec(sbot).posts[before:]]
    assert len(new) == 1 and new[0].startswith("Reading group in 20 hours")
    assert "Top Voted Paper" in new[0] and "Discuss the paper in this thread" in new[0]
    assert len(_rec(sbot).threads) == 1
    who = plain(await cmd(sbot, "/schedule", user="alice"))
    assert "@alice · Top Voted Paper" in who
