"""The same request on two replicas at once: a lost uniqueness race is success.

Two bots (two engines, one database) handle the same ``/rotation join`` at the
same instant. A barrier holds both transactions right after they looked for
the roster slot, so both see "not there yet" and both insert: the loser of the
race must answer "already in", not "something went wrong", and there is one
slot. The same holds for leaving, and for a vote pressed twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Bot, build_bot
from bot.chat.events import Action, Actor, Command, Event, Place
from bot.chat.replies import Reply, to_plain
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.infra.settings import Settings
from bot.papers import proposals as proposals_svc
from bot.schedule import rotation
from storage.engine import make_engine
from storage.groups.tables import Group, Member
from storage.papers.tables import Vote
from storage.schedule.tables import RotationMember
from tests.schedule.conftest import PLACE, START, seed_paper

ANN = Actor("console", "ann", "Ann")


async def _ignore(reply: Reply) -> None:
    """Follow-ups do not matter here."""


@pytest.fixture
def replicas(database_url: str, engine: Any) -> Iterator[tuple[Bot, Bot]]:
    """Two bots on one database, as two processes would be."""
    settings = Settings(DATABASE_URL=database_url, _env_file=None)  # type: ignore[call-arg]
    bots = [
        build_bot(
            settings,
            engine=make_engine(database_url),
            clock=ManualClock(START),
            arxiv=ArxivClient(api_url="http://127.0.0.1:9/"),
            migrate=False,
        )
        for _ in range(2)
    ]
    yield bots[0], bots[1]
    for b in bots:
        b.engine.dispose()


def hold_first_two(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, *, on: Bot) -> None:
    """The first two calls of ``module.name`` wait for each other after it
    returns: both transactions have read before either writes.

    On SQLite (``on``'s database) that interleaving cannot happen:
    storage.engine begins every transaction with BEGIN IMMEDIATE, so the
    second waits for the first to commit. Nothing is held there (a barrier
    would only time out after 3 s and let the first go on alone); the test
    still checks that the serialised pair answers right."""
    if on.engine.dialect.name == "sqlite":
        return
    original: Callable[..., Any] = getattr(module, name)
    barrier = threading.Barrier(2, timeout=3)
    calls = 0
    lock = threading.Lock()

    def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = original(*args, **kwargs)
        with lock:
            calls += 1
            wait = calls <= 2
        if wait:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return result

    monkeypatch.setattr(module, name, held)


async def both(a: Bot, b: Bot, event: Event) -> list[str]:
    ra, rb = await asyncio.gather(a.handle(event, _ignore), b.handle(event, _ignore))
    return ["\n".join(to_plain(r) for r in replies) for replies in (ra, rb)]


def _slots(*, session: Any) -> list[RotationMember]:
    return list(session.exec(select(RotationMember)).all())


async def test_the_same_join_on_two_replicas_succeeds_on_both(
    replicas: tuple[Bot, Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = replicas
    await a.handle(Command("queue", "", ANN, PLACE), _ignore)  # group and member exist
    hold_first_two(monkeypatch, rotation, "_slot", on=a)
    answers = await both(a, b, Command("rotation", "join", ANN, PLACE))
    assert not any("went wrong" in t for t in answers), answers
    assert sorted("joined the presenter rotation" in t for t in answers) == [False, True]
    assert any("already in the rotation" in t for t in answers), answers
    slots = await a.db(_slots)
    assert len(slots) == 1 and slots[0].active


async def test_the_same_rejoin_and_leave_on_two_replicas_happen_once(
    replicas: tuple[Bot, Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = replicas
    await a.handle(Command("rotation", "join", ANN, PLACE), _ignore)
    await a.handle(Command("rotation", "leave", ANN, PLACE), _ignore)
    hold_first_two(monkeypatch, rotation, "_slot", on=a)
    answers = await both(a, b, Command("rotation", "join", ANN, PLACE))
    assert not any("went wrong" in t for t in answers), answers
    assert sorted("joined the presenter rotation" in t for t in answers) == [False, True]
    hold_first_two(monkeypatch, rotation, "_slot", on=a)
    answers = await both(a, b, Command("rotation", "leave", ANN, PLACE))
    assert not any("went wrong" in t for t in answers), answers
    assert sorted("left the rotation" in t for t in answers) == [False, True]
    slots = await a.db(_slots)
    assert len(slots) == 1 and not slots[0].active


async def test_a_vote_pressed_twice_at_once_on_two_replicas_never_fails(
    replicas: tuple[Bot, Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = replicas
    await a.handle(Command("queue", "", ANN, PLACE), _ignore)
    bob = Actor("console", "bob", "Bob")
    await a.handle(Command("queue", "", bob, PLACE), _ignore)

    def seed(*, session: Any) -> int:
        group = session.exec(select(Group)).one()
        ann = session.exec(select(Member).where(Member.user_id == "ann")).one()
        return seed_paper(
            session=session, group=group, member=ann, arxiv_id="2601.00001", title="P", now=START
        )

    pid = await a.db(seed)
    press = Action("upvote", str(pid), bob, PLACE)
    await a.handle(press, _ignore)  # bob votes; now both replicas take it back at once
    hold_first_two(monkeypatch, proposals_svc, "entry", on=a)  # both read the card first
    answers = await both(a, b, press)
    assert not any("went wrong" in t for t in answers), answers

    def bobs_votes(*, session: Any) -> int:
        bob_id = session.exec(select(Member.id).where(Member.user_id == "bob")).one()
        return len(session.exec(select(Vote).where(Vote.member_id == bob_id)).all())

    assert await a.db(bobs_votes) <= 1


async def test_first_use_joins_on_two_replicas_never_fail(replicas: tuple[Bot, Bot]) -> None:
    """No barrier: a new user in a new channel, the same join on both replicas
    at once, five times over (group, member and slot all created in the race)."""
    a, b = replicas
    for n in range(5):
        place = Place("console", "local", f"new-{n}")
        who = Actor("console", f"user{n}", f"User {n}")
        answers = await both(a, b, Command("rotation", "join", who, place))
        assert not any("went wrong" in t for t in answers), answers
        assert sum("joined the presenter rotation" in t for t in answers) == 1, answers
    slots = await a.db(_slots)
    assert len(slots) == 5


async def test_two_edits_saved_at_once_on_two_replicas_both_become_revisions(
    replicas: tuple[Bot, Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.digest import weekly as dg
    from storage.digest.tables import DigestRevision
    from tests.digest.conftest import WEEK, at

    a, b = replicas
    for bot in (a, b):
        bot.clock = ManualClock(at(WEEK))
    olga = Actor("console", "olga", "Olga", is_admin=True)
    await a.handle(Command("queue", "", ANN, PLACE), _ignore)

    def seed(*, session: Any) -> None:
        group = session.exec(select(Group)).one()
        ann = session.exec(select(Member).where(Member.user_id == "ann")).one()
        seed_paper(
            session=session, group=group, member=ann, arxiv_id="2611.00001", title="P", now=at(WEEK)
        )

    await a.db(seed)
    [reply] = await a.handle(Command("digest", WEEK.label, olga, PLACE), _ignore)
    draft = next(
        btn.value
        for blk in reply.blocks
        for btn in getattr(blk, "buttons", ())
        if btn.action == dg.APPROVE
    )
    hold_first_two(monkeypatch, dg, "load_view", on=a)  # both read revision 1, then both save
    saves = [
        Action(
            dg.EDIT_SAVE, draft, olga, PLACE, fields=(("title", f"T{n}"), ("body1", f"Body {n}."))
        )
        for n in (1, 2)
    ]
    ra, rb = await asyncio.gather(a.handle(saves[0], _ignore), b.handle(saves[1], _ignore))
    answers = [to_plain(r[0]) for r in (ra, rb)]
    assert not any("went wrong" in t for t in answers), answers

    def numbers(*, session: Any) -> list[int]:
        return sorted(r.number for r in session.exec(select(DigestRevision)).all())

    assert await a.db(numbers) == [1, 2, 3]
