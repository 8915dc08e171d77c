"""/present of an id arXiv does not have: refused, the session left as it
was, and nothing keeps asking arXiv for it (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import Bot
from bot.chat.replies import to_plain
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.papers.fetch import retry_once
from storage.groups.tables import Group, Member
from storage.papers.tables import Paper, Proposal
from storage.schedule.tables import MeetingSession
from tests.fakes.arxiv_server import FakeArxiv
from tests.schedule.conftest import Recorder, cmd, org, plain, seed_paper

MISSING = "2501.99999"  # well-formed; the fake arXiv has no such paper


async def _first(bot: Bot) -> MeetingSession:
    def load(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    return await bot.db(load)


async def _count(bot: Bot, table: type) -> int:
    def count(*, session):  # type: ignore[no-untyped-def]
        return len(session.exec(select(table)).all())

    return await bot.db(count)


async def _setup(bot: Bot) -> int:
    await org(bot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(bot, "/rotation add @alice @bob")

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        return seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="2601.00001",
            title="Queued Paper",
            now=bot.clock.now(),
        )

    return await bot.db(seed)


async def test_present_of_a_paper_arxiv_does_not_have_is_refused_and_changes_nothing(
    sbot: Bot, fake_arxiv: FakeArxiv
) -> None:
    proposal_id = await _setup(sbot)
    await cmd(sbot, "/present 2601.00001", user="alice")
    before = await _first(sbot)
    assert before.proposal_id == proposal_id
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    posts = len(rec.posts)

    [reply] = await cmd(sbot, f"/present {MISSING}", user="alice")
    said = to_plain(reply)
    assert reply.private and f"arXiv has no paper {MISSING}" in said
    assert "didn't change any session" in said and "is the paper for" not in said
    after = await _first(sbot)
    assert (after.proposal_id, after.paper_chosen_by) == (proposal_id, before.paper_chosen_by)
    assert len(rec.posts) == posts  # no card for a paper that does not exist
    assert await _count(sbot, Proposal) == 1 and await _count(sbot, Paper) == 1
    asked = len(fake_arxiv.requests)
    clock = sbot.clock
    assert isinstance(clock, ManualClock)
    for _ in range(3):
        clock.advance(timedelta(minutes=20))
        await retry_once(sbot)
    assert len(fake_arxiv.requests) == asked  # nothing left to ask for
    assert "Queued Paper" in plain(await cmd(sbot, "/schedule"))


async def test_a_session_paper_chosen_while_arxiv_was_down_is_released_when_it_does_not_exist(
    sbot: Bot, fake_arxiv: FakeArxiv
) -> None:
    await _setup(sbot)
    sbot.arxiv = ArxivClient(api_url=fake_arxiv.url, min_interval=0.05, backoff=0.05, attempts=2)
    fake_arxiv.fail(503)  # until reset: /present goes ahead with the bare id
    await cmd(sbot, f"/present {MISSING}", user="alice")
    await sbot.drain(5)
    chosen = await _first(sbot)
    assert chosen.proposal_id is not None
    fake_arxiv.reset()
    clock = sbot.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=20))
    await retry_once(sbot)  # arXiv now answers: no such paper
    released = await _first(sbot)
    assert released.proposal_id is None and released.id == chosen.id
    assert await _count(sbot, Paper) == 1  # only the seeded one is left
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    told = [to_plain(r) for user, r in rec.directs if user == "alice"]
    assert any(MISSING in t and "pick another with /present" in t for t in told), told
    asked = len(fake_arxiv.requests)
    for _ in range(3):
        clock.advance(timedelta(minutes=20))
        await retry_once(sbot)
    assert len(fake_arxiv.requests) == asked
