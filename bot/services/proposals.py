"""Proposals, votes, the queue, withdrawal and history.

Plain functions over a session, keyword-only, so tests call them without any
adapter. Each runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.arxiv_client import PaperMeta
from storage.tables import (
    ACTIVE_STATUSES,
    Group,
    Member,
    Paper,
    PaperStatus,
    Proposal,
    ProposalStatus,
    Vote,
)


@dataclass(frozen=True)
class ProposeResult:
    proposal: Proposal
    paper: Paper
    proposer: Member
    duplicate: bool
    #: For a duplicate: whether this call added the newcomer's vote.
    vote_added: bool
    votes: int


@dataclass(frozen=True)
class Entry:
    """A proposal with what a listing shows about it."""

    proposal: Proposal
    paper: Paper
    proposer: Member
    votes: int


def _votes(session: Session, proposal_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id)
    ).one()


def _add_vote(session: Session, proposal_id: int, member_id: int, now: datetime) -> bool:
    """Add a vote unless the member already voted; True if one was added."""
    exists = session.exec(
        select(Vote.id).where(Vote.proposal_id == proposal_id, Vote.member_id == member_id)
    ).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Vote(proposal_id=proposal_id, member_id=member_id, created_at=now))
    except IntegrityError:
        return False
    return True


def get_or_create_paper(*, session: Session, arxiv_id: str, now: datetime) -> Paper:
    paper = session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).first()
    if paper is not None:
        return paper
    try:
        with session.begin_nested():
            paper = Paper(arxiv_id=arxiv_id, created_at=now, next_fetch_at=now)
            session.add(paper)
    except IntegrityError:
        paper = session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).one()
    return paper


def active_proposal(*, session: Session, group_id: int, paper_id: int) -> Proposal | None:
    return session.exec(
        select(Proposal).where(
            Proposal.group_id == group_id,
            Proposal.paper_id == paper_id,
            col(Proposal.status).in_(ACTIVE_STATUSES),
        )
    ).first()


def propose(
    *,
    session: Session,
    group: Group,
    member: Member,
    arxiv_id: str,
    why: str,
    now: datetime,
) -> ProposeResult:
    """Save a proposal (before any network call), or count a duplicate as a vote.

    The paper row may still be pending: its metadata is fetched afterwards.
    """
    assert group.id is not None and member.id is not None
    paper = get_or_create_paper(session=session, arxiv_id=arxiv_id, now=now)
    assert paper.id is not None
    for _attempt in range(2):
        existing = active_proposal(session=session, group_id=group.id, paper_id=paper.id)
        if existing is not None:
            assert existing.id is not None
            added = _add_vote(session, existing.id, member.id, now)
            proposer = session.get(Member, existing.member_id)
            assert proposer is not None
            return ProposeResult(
                existing, paper, proposer, True, added, _votes(session, existing.id)
            )
        try:
            with session.begin_nested():
                proposal = Proposal(
                    group_id=group.id,
                    paper_id=paper.id,
                    member_id=member.id,
                    why=why.strip(),
                    status=ProposalStatus.OPEN,
                    created_at=now,
                    status_changed_at=now,
                    card_pending=paper.status != PaperStatus.READY,
                )
                session.add(proposal)
                session.flush()
        except IntegrityError:
            continue  # proposed by someone else at the same instant: now a duplicate
        assert proposal.id is not None
        _add_vote(session, proposal.id, member.id, now)
        return ProposeResult(proposal, paper, member, False, False, 1)
    raise RuntimeError("proposal neither inserted nor found")  # pragma: no cover


def apply_metadata(*, session: Session, paper_id: int, meta: PaperMeta, now: datetime) -> Paper:
    """Fill a paper in from arXiv (or refresh it with a newer version)."""
    paper = session.get(Paper, paper_id)
    assert paper is not None
    paper.version = meta.version
    paper.title = meta.title
    paper.authors = list(meta.authors)
    paper.abstract = meta.abstract
    paper.categories = list(meta.categories)
    paper.primary_category = meta.primary_category
    paper.published = meta.published
    paper.updated = meta.updated
    paper.comment = meta.comment
    paper.journal_ref = meta.journal_ref
    paper.doi = meta.doi
    paper.links = list(meta.links)
    paper.status = PaperStatus.READY
    paper.fetched_at = now
    paper.next_fetch_at = None
    session.add(paper)
    return paper


def forget_paper(*, session: Session, paper_id: int) -> list[tuple[Proposal, Member]]:
    """arXiv does not have this id: drop the paper and its proposals (nothing to
    keep), returning who proposed it so they can be told."""
    proposals = session.exec(select(Proposal).where(Proposal.paper_id == paper_id)).all()
    told: list[tuple[Proposal, Member]] = []
    for p in proposals:
        member = session.get(Member, p.member_id)
        if member is not None:
            told.append((p, member))
        session.execute(sa.delete(Vote).where(col(Vote.proposal_id) == p.id))
        session.delete(p)
    session.flush()
    paper = session.get(Paper, paper_id)
    if paper is not None:
        session.delete(paper)
    return told


def schedule_refetch(*, session: Session, paper_id: int, now: datetime) -> datetime:
    """arXiv is down: try again later, backing off up to 15 minutes."""
    paper = session.get(Paper, paper_id)
    assert paper is not None
    paper.fetch_attempts += 1
    delay = min(15 * 60, 10 * 2 ** min(paper.fetch_attempts - 1, 7))
    paper.next_fetch_at = now + timedelta(seconds=delay)
    session.add(paper)
    assert paper.next_fetch_at is not None
    return paper.next_fetch_at


def due_pending_papers(*, session: Session, now: datetime, limit: int = 100) -> list[Paper]:
    return list(
        session.exec(
            select(Paper)
            .where(
                Paper.status == PaperStatus.PENDING,
                sa.or_(col(Paper.next_fetch_at).is_(None), col(Paper.next_fetch_at) <= now),
            )
            .order_by(col(Paper.next_fetch_at))
            .limit(limit)
        ).all()
    )


def next_pending_time(*, session: Session) -> datetime | None:
    return session.exec(
        select(func.min(Paper.next_fetch_at)).where(Paper.status == PaperStatus.PENDING)
    ).one()


def entry(*, session: Session, proposal_id: int) -> Entry | None:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        return None
    paper = session.get(Paper, proposal.paper_id)
    proposer = session.get(Member, proposal.member_id)
    assert paper is not None and proposer is not None
    assert proposal.id is not None
    return Entry(proposal, paper, proposer, _votes(session, proposal.id))


def toggle_vote(*, session: Session, proposal_id: int, member: Member, now: datetime) -> bool:
    """Vote, or take the vote back. Returns whether the member now votes for it."""
    assert member.id is not None
    # A DELETE by key, not by a loaded row: two presses at once on two replicas
    # both take the vote back without one failing on the other's delete.
    removed = session.execute(
        sa.delete(Vote).where(
            col(Vote.proposal_id) == proposal_id, col(Vote.member_id) == member.id
        )
    )
    if removed.rowcount:  # type: ignore[attr-defined]
        return False
    return _add_vote(session, proposal_id, member.id, now)


def _vote_counts(group_id: int):  # type: ignore[no-untyped-def]
    """Votes per proposal, counted only within one group so the cost follows
    the group's size, not the whole table's."""
    return (
        select(Vote.proposal_id, func.count().label("votes"))
        .join(Proposal, col(Proposal.id) == Vote.proposal_id)
        .where(Proposal.group_id == group_id)
        .group_by(col(Vote.proposal_id))
        .subquery()
    )


def queue(*, session: Session, group_id: int, limit: int = 10) -> tuple[list[Entry], int]:
    """Open proposals ranked by votes, then age (older first). Also the total."""
    votes = _vote_counts(group_id)
    vote_count = func.coalesce(votes.c.votes, 0)
    base = (
        select(  # type: ignore[call-overload]
            Proposal, Paper, Member, vote_count, func.count().over().label("total")
        )
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .join(Member, col(Member.id) == Proposal.member_id)
        .outerjoin(votes, votes.c.proposal_id == Proposal.id)
        .where(Proposal.group_id == group_id, Proposal.status == ProposalStatus.OPEN)
    )
    rows = session.exec(
        base.order_by(vote_count.desc(), col(Proposal.created_at), col(Proposal.id)).limit(limit)
    ).all()
    total = int(rows[0][4]) if rows else 0  # the window count sees every open proposal
    return [Entry(p, pa, m, int(v)) for p, pa, m, v, _t in rows], total


def find_in_group(*, session: Session, group_id: int, arxiv_id: str) -> Entry | None:
    """The group's active proposal of a paper, if any."""
    paper = session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).first()
    if paper is None or paper.id is None:
        return None
    proposal = active_proposal(session=session, group_id=group_id, paper_id=paper.id)
    if proposal is None or proposal.id is None:
        return None
    return entry(session=session, proposal_id=proposal.id)


def withdraw(*, session: Session, proposal: Proposal, now: datetime) -> None:
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.status_changed_at = now
    proposal.card_pending = False
    session.add(proposal)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def history(
    *, session: Session, group_id: int, words: list[str], limit: int = 10
) -> tuple[list[Entry], int]:
    """The group's papers (presented first, newest first) whose title, authors or
    abstract contain every word (case-insensitive)."""
    # Votes do not order the history, so they are counted for the page only
    # (a second, small query) rather than aggregated for the whole group.
    query = (
        select(  # type: ignore[call-overload]
            Proposal, Paper, Member, func.count().over().label("total")
        )
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .join(Member, col(Member.id) == Proposal.member_id)
        .where(Proposal.group_id == group_id, Proposal.status != ProposalStatus.WITHDRAWN)
    )
    for word in words:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            sa.or_(
                func.lower(Paper.title).like(pattern, escape="\\"),
                func.lower(Paper.abstract).like(pattern, escape="\\"),
                func.lower(sa.cast(Paper.authors, sa.Text)).like(pattern, escape="\\"),
                func.lower(Paper.arxiv_id).like(pattern, escape="\\"),
            )
        )
    presented_first = sa.case((col(Proposal.status) == ProposalStatus.PRESENTED, 0), else_=1)
    rows = session.exec(
        query.order_by(
            presented_first,
            sa.desc(func.coalesce(col(Proposal.presented_at), col(Proposal.created_at))),
            sa.desc(col(Proposal.id)),
        ).limit(limit)
    ).all()
    if not rows:
        return [], 0
    total = int(rows[0][3])  # the window count sees every match, not the page
    ids = [p.id for p, _pa, _m, _t in rows]
    counts = dict(
        session.exec(
            select(Vote.proposal_id, func.count())
            .where(col(Vote.proposal_id).in_(ids))
            .group_by(col(Vote.proposal_id))
        ).all()
    )
    return [Entry(p, pa, m, int(counts.get(p.id or 0, 0))) for p, pa, m, _t in rows], total


def claim_card(*, session: Session, proposal_id: int) -> bool:
    """Take the duty of posting a proposal's delayed card; True for exactly one
    caller (an atomic update, so a handler and the retry loop never both post)."""
    result = session.execute(
        sa.update(Proposal)
        .where(col(Proposal.id) == proposal_id, col(Proposal.card_pending).is_(True))
        .values(card_pending=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def pending_cards(*, session: Session, paper_id: int) -> list[tuple[int, Group]]:
    """(proposal id, group) of the paper's proposals still waiting for a card."""
    rows = session.exec(
        select(Proposal.id, Group)
        .join(Group, col(Group.id) == Proposal.group_id)
        .where(
            Proposal.paper_id == paper_id,
            col(Proposal.card_pending).is_(True),
            Proposal.status != ProposalStatus.WITHDRAWN,
        )
    ).all()
    return [(int(pid), g) for pid, g in rows if pid is not None]
