"""Presses of ▲ racing each other, on one process and on two "replicas" (two
engines on one database): every press flips the vote exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from bot.chat.events import Actor, Place
from bot.groups.members import ensure_group, ensure_member
from bot.papers import proposals as svc
from storage.engine import make_engine, session_scope, upgrade
from storage.papers.tables import Vote

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PLACE = Place("slack", "T1", "C1")
USERS = [f"U{i:02d}" for i in range(20)]


@pytest.fixture
def replicas(database_url: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    a = make_engine(database_url)
    upgrade(a)
    b = make_engine(database_url)
    yield a, b
    a.dispose()
    b.dispose()


def _proposal(engine: sa.Engine) -> int:
    with session_scope(engine) as session:
        group = ensure_group(session=session, place=PLACE, now=T0)
        alice = ensure_member(
            session=session, actor=Actor("slack", "UALICE"), workspace="T1", now=T0
        )
        session.flush()
        result = svc.propose(
            session=session, group=group, member=alice, arxiv_id="1605.08386", why="", now=T0
        )
        assert result.proposal.id is not None
        # The proposer's own vote is not part of the race.
        svc.toggle_vote(session=session, proposal_id=result.proposal.id, member=alice, now=T0)
        for user in USERS:
            ensure_member(session=session, actor=Actor("slack", user), workspace="T1", now=T0)
        return result.proposal.id


def _press(engine: sa.Engine, proposal_id: int, user: str, start: threading.Barrier) -> None:
    start.wait()
    with session_scope(engine) as session:
        member = ensure_member(session=session, actor=Actor("slack", user), workspace="T1", now=T0)
        svc.toggle_vote(session=session, proposal_id=proposal_id, member=member, now=T0)


def _race(engines: tuple[sa.Engine, ...], proposal_id: int, presses: dict[str, int]) -> None:
    """Every user's presses at the same instant, spread over the engines."""
    jobs = [(u, n) for u, count in presses.items() for n in range(count)]
    start = threading.Barrier(len(jobs))
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [
            pool.submit(_press, engines[n % len(engines)], proposal_id, u, start) for u, n in jobs
        ]
        for f in futures:
            f.result()


def _votes(engine: sa.Engine, proposal_id: int) -> dict[int, int]:
    with Session(engine) as s:
        rows = s.exec(
            select(Vote.member_id, func.count())
            .where(Vote.proposal_id == proposal_id)
            .group_by(Vote.member_id)
        ).all()  # type: ignore[arg-type]
        return {int(m): int(c) for m, c in rows}


def test_even_presses_on_two_replicas_end_with_no_vote(
    replicas: tuple[sa.Engine, sa.Engine],
) -> None:
    proposal_id = _proposal(replicas[0])
    for _round in range(3):
        _race(replicas, proposal_id, {u: 2 + 2 * (i % 2) for i, u in enumerate(USERS)})
        assert _votes(replicas[0], proposal_id) == {}


def test_odd_presses_leave_exactly_one_vote_each(
    replicas: tuple[sa.Engine, sa.Engine],
) -> None:
    proposal_id = _proposal(replicas[0])
    _race(replicas, proposal_id, {u: 1 + 2 * (i % 2) for i, u in enumerate(USERS)})
    assert sorted(_votes(replicas[0], proposal_id).values()) == [1] * len(USERS)


def test_even_presses_on_one_process_end_with_no_vote(engine: sa.Engine) -> None:
    proposal_id = _proposal(engine)
    for _round in range(3):
        _race((engine,), proposal_id, dict.fromkeys(USERS, 2))
        assert _votes(engine, proposal_id) == {}
