"""A request handled again after a crash does not do its change twice, and a
card whose poster died is posted once by the next pass (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.replies import Reply
from bot.infra import inbox
from bot.infra.clock import ManualClock
from bot.papers import proposals as svc
from bot.papers.fetch import retry_once
from storage.papers.tables import Proposal, Vote

PLACE = Place("console", "local", "general")
TITLE = "Heat-bath random walks with Markov bases"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _no_followup(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


def _actor(name: str) -> Actor:
    return Actor("console", name, name.title())


async def _accepted(bot: Bot, key: str) -> int:
    row = await bot.db(
        inbox.accept,
        key=key,
        source="test",
        kind="x",
        payload={},
        now=bot.clock.now(),
        lease=bot.lease,
    )
    return row.id


async def _count(bot: Bot, table: type) -> int:
    def count(*, session):  # type: ignore[no-untyped-def]
        return session.exec(select(func.count()).select_from(table)).one()

    return int(await bot.db(count))


class Recorder:
    def __init__(self) -> None:
        self.posts: list[tuple[Place, Reply]] = []

    async def post(self, place: Place, reply: Reply) -> str | None:
        self.posts.append((place, reply))
        return str(len(self.posts))

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        return None

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        return message_id


async def test_a_proposal_handled_again_is_not_proposed_twice(bot: Bot) -> None:
    request = await _accepted(bot, "propose-1")
    cmd = Command("propose", "1605.08386 why not", _actor("alice"), PLACE)
    first = await bot.handle(cmd, _no_followup, request_id=request)
    assert first and first[0].tag.startswith("card:")
    # The process died before the answer was confirmed; the next one runs it again.
    again = await bot.handle(cmd, _no_followup, request_id=request)
    texts = " ".join(str(r.blocks) for r in again)
    assert "already" not in texts  # not "already proposed by Alice…", not a second vote
    assert await _count(bot, Proposal) == 1 and await _count(bot, Vote) == 1


async def test_a_press_handled_again_is_counted_once(bot: Bot) -> None:
    (card,) = await bot.handle(
        Command("propose", "1605.08386", _actor("alice"), PLACE), _no_followup
    )
    proposal_id = card.tag.removeprefix("card:")
    press = Action("upvote", proposal_id, _actor("bob"), PLACE)
    request = await _accepted(bot, "press-1")
    for _run in range(3):  # handled, then handled again twice after crashes
        updated, *_ = await bot.handle(press, _no_followup, request_id=request)
        assert "Upvote (2)" in str(updated.blocks)
    assert await _count(bot, Vote) == 2
    # A different press of the same user is a new request: it takes the vote back.
    undone, *_ = await bot.handle(press, _no_followup, request_id=await _accepted(bot, "press-2"))
    assert "Upvote (1)" in str(undone.blocks)


async def test_a_card_whose_poster_died_is_posted_once_after_its_lease(bot: Bot) -> None:
    clock = ManualClock(T0)
    bot.clock = clock
    recorder = Recorder()
    bot.messenger = recorder
    request = await _accepted(bot, "propose-2")
    # The handler returned the card and the process died before delivering it.
    [card] = await bot.handle(
        Command("propose", "1605.08386", _actor("alice"), PLACE), _no_followup, request_id=request
    )
    await retry_once(bot)
    assert recorder.posts == []  # the lease still holds: the poster may be alive
    clock.advance(bot.lease + timedelta(seconds=1))
    await asyncio.gather(retry_once(bot), retry_once(bot))  # two passes (two replicas)
    await retry_once(bot)
    assert len(recorder.posts) == 1
    place, reply = recorder.posts[0]
    assert place == Place("console", "local", "general")
    assert reply.tag == card.tag and TITLE in str(reply.blocks)
    assert "Here is the paper Alice proposed." in str(reply.blocks)


async def test_a_card_never_taken_is_posted_once_the_handler_had_its_time(bot: Bot) -> None:
    clock = ManualClock(T0)
    bot.clock = clock
    recorder = Recorder()
    bot.messenger = recorder
    # Saved, arXiv answered, and the process died before the handler took the card.
    result = await bot.db(_save_ready, now=T0)
    await retry_once(bot)
    assert recorder.posts == []  # its handler may still be at it
    clock.advance(bot.lease + timedelta(seconds=1))
    await retry_once(bot)
    await retry_once(bot)
    assert [r.tag for _p, r in recorder.posts] == [f"card:{result}"]


def _save_ready(*, session, now):  # type: ignore[no-untyped-def]
    from bot.groups.members import ensure_group, ensure_member
    from storage.papers.tables import PaperStatus

    group = ensure_group(session=session, place=PLACE, now=now)
    member = ensure_member(session=session, actor=_actor("carol"), workspace="local", now=now)
    paper = svc.get_or_create_paper(session=session, arxiv_id="1605.08386", now=now)
    paper.status, paper.title = PaperStatus.READY, TITLE
    session.add(paper)
    session.flush()
    result = svc.propose(
        session=session, group=group, member=member, arxiv_id="1605.08386", why="", now=now
    )
    return result.proposal.id
