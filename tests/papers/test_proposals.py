"""Proposal, vote, queue, withdraw and history services on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.chat.events import Actor, Place
from bot.groups.members import ensure_group, ensure_member
from bot.infra.arxiv_client import PaperMeta
from bot.infra.arxiv_ref import parse_ref
from bot.papers import proposals as svc
from storage.engine import session_scope
from storage.papers.tables import Paper, Proposal, ProposalStatus, Vote

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PLACE = Place("slack", "T1", "C1")


def meta(arxiv_id: str, title: str, abstract: str = "An abstract.") -> PaperMeta:
    return PaperMeta(
        arxiv_id=arxiv_id,
        version=2,
        title=title,
        authors=("Ada Lovelace", "Alan Turing"),
        abstract=abstract,
        categories=("cs.LG",),
        primary_category="cs.LG",
        published=T0 - timedelta(days=30),
        updated=T0 - timedelta(days=3),
        comment="",
        journal_ref="",
        doi="",
        links=(f"https://arxiv.org/abs/{arxiv_id}v2",),
    )


def who(session: Session, user: str, place: Place = PLACE):  # type: ignore[no-untyped-def]
    group = ensure_group(session=session, place=place, now=T0)
    member = ensure_member(
        session=session,
        actor=Actor(place.platform, user, user.title()),
        workspace=place.workspace,
        now=T0,
    )
    session.flush()
    return group, member


def propose(
    engine: sa.Engine, user: str, ref: str, *, at: datetime = T0, place: Place = PLACE
) -> svc.ProposeResult:
    with session_scope(engine) as session:
        group, member = who(session, user, place)
        return svc.propose(
            session=session,
            group=group,
            member=member,
            arxiv_id=parse_ref(ref).base,
            why="",
            now=at,
        )


def test_dedupe_across_forms_and_users_counts_a_vote(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "https://arxiv.org/abs/1605.08386")
    assert not first.duplicate and first.votes == 1
    second = propose(
        engine, "bob", "https://arxiv.org/pdf/1605.08386v1.pdf", at=T0 + timedelta(hours=1)
    )
    assert second.duplicate and second.vote_added and second.votes == 2
    assert second.proposer.user_id == "alice"
    assert second.proposal.id == first.proposal.id
    third = propose(engine, "bob", "arXiv:1605.08386v2", at=T0 + timedelta(hours=2))
    assert third.duplicate and not third.vote_added and third.votes == 2
    with Session(engine) as s:
        assert len(s.exec(select(Proposal)).all()) == 1
        assert len(s.exec(select(Paper)).all()) == 1
        assert len(s.exec(select(Vote)).all()) == 2


def test_same_paper_in_another_group_is_a_new_proposal(engine: sa.Engine) -> None:
    propose(engine, "alice", "1605.08386")
    other = propose(engine, "alice", "1605.08386", place=Place("slack", "T1", "C2"))
    assert not other.duplicate


def test_database_refuses_a_second_active_proposal(engine: sa.Engine) -> None:
    """The partial unique index is what makes concurrent proposals safe."""
    first = propose(engine, "alice", "1605.08386")
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(
            Proposal(
                group_id=first.proposal.group_id,
                paper_id=first.paper.id,
                member_id=first.proposal.member_id,
                created_at=T0,
            )
        )
        session.flush()


def test_withdrawn_paper_can_be_proposed_again(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "1605.08386")
    with session_scope(engine) as session:
        p = session.get(Proposal, first.proposal.id)
        assert p is not None
        svc.withdraw(session=session, proposal=p, now=T0)
    again = propose(engine, "bob", "1605.08386")
    assert not again.duplicate and again.proposal.id != first.proposal.id


def test_presented_duplicate_says_so(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "1605.08386")
    with session_scope(engine) as session:
        p = session.get(Proposal, first.proposal.id)
        assert p is not None
        p.status = ProposalStatus.PRESENTED
        p.presented_at = T0 + timedelta(days=3)
    again = propose(engine, "carol", "1605.08386")
    assert again.duplicate and again.proposal.status == ProposalStatus.PRESENTED
    assert again.proposal.presented_at is not None


def test_queue_ranks_by_votes_then_age(engine: sa.Engine) -> None:
    propose(engine, "alice", "1605.08386", at=T0)
    propose(engine, "bob", "1707.08567", at=T0 + timedelta(hours=1))
    propose(engine, "carol", "2104.12255", at=T0 + timedelta(hours=2))
    propose(engine, "dave", "2104.12255", at=T0 + timedelta(hours=3))  # 2 votes
    with session_scope(engine) as session:
        group, _ = who(session, "alice")
        entries, total = svc.queue(session=session, group_id=group.id)
    assert total == 3
    assert [e.paper.arxiv_id for e in entries] == ["2104.12255", "1605.08386", "1707.08567"]
    assert [e.votes for e in entries] == [2, 1, 1]


def test_vote_toggles(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "1605.08386")
    with session_scope(engine) as session:
        _, bob = who(session, "bob")
        assert svc.toggle_vote(session=session, proposal_id=first.proposal.id, member=bob, now=T0)
    with session_scope(engine) as session:
        _, bob = who(session, "bob")
        e = svc.entry(session=session, proposal_id=first.proposal.id)
        assert e is not None and e.votes == 2
        assert not svc.toggle_vote(
            session=session, proposal_id=first.proposal.id, member=bob, now=T0
        )
    with session_scope(engine) as session:
        e = svc.entry(session=session, proposal_id=first.proposal.id)
        assert e is not None and e.votes == 1


def test_history_searches_title_abstract_and_authors(engine: sa.Engine) -> None:
    a = propose(engine, "alice", "1605.08386")
    b = propose(engine, "bob", "1707.08567")
    with session_scope(engine) as session:
        svc.apply_metadata(
            session=session,
            paper_id=a.paper.id,
            meta=meta("1605.08386", "Heat-bath random walks", "Markov bases 100%"),
            now=T0,
        )
        svc.apply_metadata(
            session=session,
            paper_id=b.paper.id,
            meta=meta("1707.08567", "Attention for graphs", "Transformers on graphs"),
            now=T0,
        )
    with session_scope(engine) as session:
        group, _ = who(session, "alice")
        found, n = svc.history(session=session, group_id=group.id, words=["markov"])
        assert n == 1 and found[0].paper.arxiv_id == "1605.08386"
        found, n = svc.history(session=session, group_id=group.id, words=["GRAPHS", "attention"])
        assert [e.paper.arxiv_id for e in found] == ["1707.08567"]
        found, n = svc.history(session=session, group_id=group.id, words=["turing"])
        assert n == 2
        found, n = svc.history(session=session, group_id=group.id, words=["100%"])
        assert n == 1  # % is matched literally, not as a wildcard
        found, n = svc.history(session=session, group_id=group.id, words=["nothing-like-this"])
        assert n == 0 and found == []


def test_forget_paper_removes_proposals_and_votes(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "2501.99999")
    propose(engine, "bob", "2501.99999")
    with session_scope(engine) as session:
        told = svc.forget_paper(session=session, paper_id=first.paper.id)
        assert {m.user_id for _, m in told} == {"alice"}
    with Session(engine) as s:
        assert s.exec(select(Proposal)).all() == []
        assert s.exec(select(Vote)).all() == []
        assert s.exec(select(Paper)).all() == []


def test_claim_card_is_taken_once(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "1605.08386")
    assert first.proposal.card_pending
    with session_scope(engine) as session:
        assert svc.claim_card(session=session, proposal_id=first.proposal.id, now=T0)
    with session_scope(engine) as session:
        assert not svc.claim_card(session=session, proposal_id=first.proposal.id, now=T0)


def test_refetch_backs_off_and_becomes_due(engine: sa.Engine) -> None:
    first = propose(engine, "alice", "1605.08386")
    with session_scope(engine) as session:
        t1 = svc.schedule_refetch(session=session, paper_id=first.paper.id, now=T0)
        t2 = svc.schedule_refetch(session=session, paper_id=first.paper.id, now=T0)
        t3 = svc.schedule_refetch(session=session, paper_id=first.paper.id, now=T0, first_delay=0.5)
    assert (t1 - T0, t2 - T0) == (timedelta(seconds=10), timedelta(seconds=20))
    assert t3 - T0 == timedelta(seconds=2)  # READGROUP_ARXIV_REFETCH_SECONDS, third try
    with session_scope(engine) as session:
        assert svc.due_pending_papers(session=session, now=T0) == []
        due = svc.due_pending_papers(session=session, now=T0 + timedelta(hours=1))
        assert [p.arxiv_id for p in due] == ["1605.08386"]


def test_a_page_of_queue_or_history_still_counts_every_match_and_each_entrys_votes(
    engine: sa.Engine,
) -> None:
    propose(engine, "alice", "1605.08386", at=T0)
    propose(engine, "bob", "1707.08567", at=T0 + timedelta(hours=1))
    propose(engine, "carol", "1707.08567", at=T0 + timedelta(hours=2))  # 2 votes
    propose(engine, "dave", "2104.12255", at=T0 + timedelta(hours=3))
    with session_scope(engine) as session:
        group, _ = who(session, "alice")
        entries, total = svc.queue(session=session, group_id=group.id, limit=1)
        assert total == 3 and [(e.paper.arxiv_id, e.votes) for e in entries] == [("1707.08567", 2)]
        entries, total = svc.history(session=session, group_id=group.id, words=[], limit=2)
        assert total == 3
        assert [(e.paper.arxiv_id, e.votes) for e in entries] == [
            ("2104.12255", 1),
            ("1707.08567", 2),
        ]
        assert svc.history(session=session, group_id=group.id, words=["zzz"], limit=2) == ([], 0)
