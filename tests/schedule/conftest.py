"""Fixtures of the schedule tests: a bot on a clock the test moves, a
messenger that records what it is asked to send, and helpers that drive the
reminder loop the way the scheduler does (wake at the next due time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Reply, to_plain
from bot.infra.clock import ManualClock
from bot.papers import proposals as proposals_svc
from bot.schedule.reminders import Sent, run_due, run_pass
from storage.groups.tables import Group, Member
from storage.papers.tables import PaperStatus

#: A Monday morning, well before the first Thursday meeting.
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PLACE = Place("console", "local", "general")


@dataclass
class Recorder:
    """A Messenger that records every message; ``fail`` makes the next N
    sends raise DeliveryError (the platform refusing)."""

    posts: list[tuple[Place, Reply]] = field(default_factory=list)
    directs: list[tuple[str, Reply]] = field(default_factory=list)
    threads: list[tuple[Place, str, str]] = field(default_factory=list)
    fail: int = 0
    _n: int = 0

    def _next(self) -> str:
        if self.fail > 0:
            self.fail -= 1
            raise DeliveryError("platform said no (test)")
        self._n += 1
        return f"m{self._n}"

    async def post(self, place: Place, reply: Reply) -> str | None:
        mid = self._next()
        self.posts.append((place, reply))
        return mid

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        mid = self._next()
        self.directs.append((user_id, reply))
        return mid

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        self.threads.append((place, message_id, name))
        return f"t-{message_id}"


@pytest.fixture
async def sbot(bot: Bot) -> Bot:
    bot.clock = ManualClock(START)
    bot.messenger = Recorder()
    return bot


def actor(user: str, admin: bool = False) -> Actor:
    return Actor("console", user, user.title(), is_admin=admin)


async def cmd(bot: Bot, text: str, user: str = "alice", admin: bool = False) -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")
    return await bot.handle(Command(name, rest, actor(user, admin), PLACE), _no_followup)


async def org(bot: Bot, text: str) -> str:
    """Run a command as the organizer; the plain text of the answer."""
    return plain(await cmd(bot, text, user="olga", admin=True))


async def _no_followup(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


def plain(replies: list[Reply]) -> str:
    return "\n".join(to_plain(r) for r in replies)


async def run_until(bot: Bot, end: datetime) -> list[tuple[datetime, Sent]]:
    """Move the clock from wake-up to wake-up (as the scheduler would) until
    ``end``, running what is due at each; returns (time, sent) pairs."""
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    out: list[tuple[datetime, Sent]] = []
    while True:
        done = await run_pass(bot)
        out += [(clock.now(), s) for s in done.sent]
        wake = done.wakeup
        if wake is None or wake > end:
            clock.set(end)
            out += [(clock.now(), s) for s in await run_due(bot)]
            return out
        clock.set(wake)


def seed_paper(
    *, session: Session, group: Group, member: Member, arxiv_id: str, title: str, now: datetime
) -> int:
    """A proposal of a paper whose metadata is already known (no arXiv call)."""
    paper = proposals_svc.get_or_create_paper(session=session, arxiv_id=arxiv_id, now=now)
    paper.title, paper.status, paper.authors = title, PaperStatus.READY, ["A. Author"]
    session.add(paper)
    result = proposals_svc.propose(
        session=session, group=group, member=member, arxiv_id=arxiv_id, why="", now=now
    )
    result.proposal.card_pending = False
    session.add(result.proposal)
    session.flush()
    assert result.proposal.id is not None
    return result.proposal.id
