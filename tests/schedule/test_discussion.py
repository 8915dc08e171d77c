"""Thread messages and bulb takeaways from neutral ThreadMessage/Reaction
events, /takeaways, and the digest's view of a week (sessions_between)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Actor, Place, Reaction, ThreadMessage
from bot.chat.markup import parse
from bot.schedule.week_sessions import sessions_between
from storage.groups.tables import Group
from storage.schedule.tables import DiscussionMessage, MeetingSession
from tests.schedule.conftest import Recorder, cmd, org, plain, run_until, seed_paper


async def _session_with_thread(bot: Bot) -> MeetingSession:
    await org(bot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(bot, "/rotation add @alice @bob")

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        from storage.groups.tables import Member

        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="2601.00001",
            title="Thread Paper",
            now=bot.clock.now(),
        )

    await bot.db(seed)
    await cmd(bot, "/present 2601.00001", user="alice")  # posts the card, opens the thread

    def load(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    meeting = await bot.db(load)
    assert meeting.thread_id
    return meeting


def said(user: str, text: str, thread: str, message: str, at: datetime) -> ThreadMessage:
    # A Discord-style place: the thread is its own channel; only thread matters.
    place = Place("console", "local", f"thread-channel-{thread}", thread=thread, message=message)
    return ThreadMessage(text, Actor("console", user, user.title()), place, sent_at=at)


def bulb(user: str, message: str, added: bool = True, emoji: str = "💡") -> Reaction:
    place = Place("console", "local", "general", thread=None, message=message)
    return Reaction(emoji, added, Actor("console", user, user.title()), place)


async def test_thread_messages_are_kept_and_a_bulb_marks_a_takeaway(sbot: Bot) -> None:
    meeting = await _session_with_thread(sbot)
    thread = meeting.thread_id
    assert thread is not None
    at = meeting.starts_at.replace(tzinfo=UTC) + timedelta(minutes=5)
    events = [
        said("bob", "Attention is all you need, apparently", thread, "x1", at),
        said("carol", "The ablation in §4 <!channel> is the key", thread, "x2", at),
        said("carol", "The ablation in §4 <!channel> is the key", thread, "x2", at),  # redelivered
        said("dave", "unrelated chatter", "another-thread", "x3", at),
    ]
    for ev in events:
        assert await sbot.handle(ev, _ignore) == []
    await sbot.handle(bulb("alice", "x2"), _ignore)
    await sbot.handle(bulb("bob", "x1", emoji="💡"), _ignore)
    await sbot.handle(bulb("bob", "x1", added=False, emoji="💡"), _ignore)  # taken back
    await sbot.handle(bulb("bob", "x1", emoji="👍"), _ignore)  # not a bulb
    # Platform names are the adapters' to translate: the core sees the character.
    await sbot.handle(bulb("bob", "x1", emoji="bulb"), _ignore)

    def load(*, session):  # type: ignore[no-untyped-def]
        return [
            (m.message_id, m.author_user_id, m.takeaway)
            for m in session.exec(select(DiscussionMessage).order_by(DiscussionMessage.id)).all()
        ]  # type: ignore[arg-type]

    assert await sbot.db(load) == [("x1", "bob", False), ("x2", "carol", True)]
    sbot.clock.set(at + timedelta(hours=2))  # type: ignore[attr-defined]
    shown = await cmd(sbot, "/takeaways", user="erin")
    text = plain(shown)
    assert "The ablation in §4" in text and "Attention is all" not in text
    assert "1 of 2 thread messages" in text
    # Untrusted thread text stays text: only the author's mention is markup.
    body = shown[0].blocks[1].markup  # type: ignore[union-attr]
    spans = parse(body)
    assert [sp.text for sp in spans if sp.kind == "mention"] == ["carol"]
    assert not [sp for sp in spans if sp.kind == "link"]
    dated = plain(await cmd(sbot, f"/takeaways {meeting.starts_at:%Y-%m-%d}", user="erin"))
    assert "The ablation in §4" in dated
    assert "no session on" in plain(await cmd(sbot, "/takeaways 2026-01-09")).lower()


async def test_digest_sees_the_weeks_sessions_with_takeaways(sbot: Bot) -> None:
    meeting = await _session_with_thread(sbot)
    starts = meeting.starts_at.replace(tzinfo=UTC)
    assert meeting.thread_id is not None
    await sbot.handle(said("bob", "first", meeting.thread_id, "y1", starts), _ignore)
    await sbot.handle(said("bob", "keeper", meeting.thread_id, "y2", starts), _ignore)
    await sbot.handle(bulb("carol", "y2"), _ignore)
    await run_until(sbot, starts + timedelta(hours=3))

    def load(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        return sessions_between(
            session=session,
            group_id=group.id,
            start=starts - timedelta(days=3),
            end=starts + timedelta(days=3),
        )

    infos = await sbot.db(load)
    assert len(infos) == 1
    info = infos[0]
    assert info.starts_at == starts and info.presenter_name == "Alice"
    assert info.proposal_id == meeting.proposal_id and info.paper_id is not None
    assert info.takeaways == ("keeper",) and info.discussion == ("first",)
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    # The takeaways prompt went into the session's thread.
    assert any(p.thread == meeting.thread_id for p, _ in rec.posts)


async def _ignore(reply) -> None:  # type: ignore[no-untyped-def]
    return None
