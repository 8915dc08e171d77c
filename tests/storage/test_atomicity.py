"""One ``session_scope`` is one transaction on both databases: a command that
fails half-way keeps nothing, savepoints included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from bot.chat.events import Actor, Place
from bot.groups.members import ensure_group, ensure_member
from bot.papers import proposals as svc
from storage.engine import session_scope
from storage.groups.tables import Group, Member
from storage.papers.tables import Paper, Proposal, Vote

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PLACE = Place("slack", "T1", "C1")


class Boom(Exception):
    pass


def _counts(engine: sa.Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            t.__name__: s.exec(select(func.count()).select_from(t)).one()
            for t in (Group, Member, Paper, Proposal, Vote)
        }


def test_an_error_after_propose_keeps_nothing(engine: sa.Engine) -> None:
    # ensure_group, ensure_member, the paper, the proposal and the vote each
    # run in a savepoint; none of them may survive the outer rollback.
    with pytest.raises(Boom), session_scope(engine) as session:
        group = ensure_group(session=session, place=PLACE, now=T0)
        member = ensure_member(
            session=session, actor=Actor("slack", "UALICE", "alice"), workspace="T1", now=T0
        )
        session.flush()
        svc.propose(
            session=session, group=group, member=member, arxiv_id="1605.08386", why="", now=T0
        )
        raise Boom
    assert _counts(engine) == dict.fromkeys(("Group", "Member", "Paper", "Proposal", "Vote"), 0)


def test_a_rolled_back_savepoint_undoes_only_itself(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        group = ensure_group(session=session, place=PLACE, now=T0)
        session.flush()
        with pytest.raises(Boom), session.begin_nested():
            session.add(Member(platform="slack", workspace="T1", user_id="U1", created_at=T0))
            session.flush()
            raise Boom
        assert group.id is not None
    assert _counts(engine)["Group"] == 1 and _counts(engine)["Member"] == 0
