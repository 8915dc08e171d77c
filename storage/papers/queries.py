"""Queries over papers, proposals, votes and reasons.

Small functions over a session, each running in the caller's transaction;
``bot.papers`` builds its answers from them. The statements that settle races
(ON CONFLICT DO NOTHING, DELETE … RETURNING, the card lease) are single
statements here so that concurrent callers (another replica) cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import Subquery
from sqlmodel import Session, col, func, select

from storage.groups.tables import Group, Member
from storage.leases import take_lease
from storage.papers.tables import (
    ACTIVE_STATUSES,
    Paper,
    PaperStatus,
    Proposal,
    ProposalReason,
    ProposalStatus,
    Vote,
)
from storage.schedule.tables import MeetingSession

# -- papers --------------------------------------------------------------------


def paper_by_arxiv_id(session: Session, arxiv_id: str) -> Paper | None:
    return session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).first()


def due_pending_papers(session: Session, *, now: datetime, limit: int) -> list[Paper]:
    """Papers still waiting for arXiv whose next try is due, soonest first."""
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


def next_pending_time(session: Session) -> datetime | None:
    return session.exec(
        select(func.min(Paper.next_fetch_at)).where(Paper.status == PaperStatus.PENDING)
    ).one()


# -- proposals -----------------------------------------------------------------


def active_proposal(session: Session, *, group_id: int, paper_id: int) -> Proposal | None:
    return session.exec(
        select(Proposal).where(
            Proposal.group_id == group_id,
            Proposal.paper_id == paper_id,
            col(Proposal.status).in_(ACTIVE_STATUSES),
        )
    ).first()


def proposals_of_paper(session: Session, paper_id: int) -> Sequence[Proposal]:
    return session.exec(select(Proposal).where(Proposal.paper_id == paper_id)).all()


def meetings_of_proposal(session: Session, proposal_id: int | None) -> Sequence[MeetingSession]:
    """The sessions that have this proposal as their paper."""
    return session.exec(
        select(MeetingSession).where(MeetingSession.proposal_id == proposal_id)
    ).all()


def delete_votes_and_reasons(session: Session, proposal_id: int | None) -> None:
    session.execute(sa.delete(Vote).where(col(Vote.proposal_id) == proposal_id))
    session.execute(sa.delete(ProposalReason).where(col(ProposalReason.proposal_id) == proposal_id))


# -- votes ---------------------------------------------------------------------


def vote_count(session: Session, proposal_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id)
    ).one()


def insert_vote(session: Session, *, proposal_id: int, member_id: int, now: datetime) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if this statement added the vote.

    One statement, so a concurrent insert of the same vote (another replica)
    makes this one a no-op instead of an error or a second row."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Vote)
        .values(proposal_id=proposal_id, member_id=member_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["proposal_id", "member_id"])
        .returning(col(Vote.id))
    )
    return session.execute(stmt).first() is not None


def delete_vote(session: Session, *, proposal_id: int, member_id: int) -> bool:
    """DELETE … RETURNING: True if this statement removed the member's vote."""
    gone = session.execute(
        sa.delete(Vote)
        .where(col(Vote.proposal_id) == proposal_id, col(Vote.member_id) == member_id)
        .returning(col(Vote.id))
    ).first()
    return gone is not None


def vote_counts_of(session: Session, proposal_ids: list[int | None]) -> dict[int, int]:
    """Votes per proposal, for these proposals only."""
    rows = session.exec(
        select(Vote.proposal_id, func.count())
        .where(col(Vote.proposal_id).in_(proposal_ids))
        .group_by(col(Vote.proposal_id))
    ).all()
    return {int(pid): int(n) for pid, n in rows}


# -- reasons -------------------------------------------------------------------


def member_reason(
    session: Session, *, proposal_id: int | None, member_id: int
) -> ProposalReason | None:
    return session.exec(
        select(ProposalReason).where(
            ProposalReason.proposal_id == proposal_id, ProposalReason.member_id == member_id
        )
    ).first()


def reasons_with_members(
    session: Session, proposal_id: int
) -> Sequence[tuple[ProposalReason, Member]]:
    """The non-empty reasons given for a proposal and who gave them, oldest first."""
    return session.exec(
        select(ProposalReason, Member)
        .join(Member, col(Member.id) == ProposalReason.member_id)
        .where(ProposalReason.proposal_id == proposal_id, ProposalReason.why != "")
        .order_by(col(ProposalReason.created_at), col(ProposalReason.id))
    ).all()


# -- listings ------------------------------------------------------------------


def _vote_counts(group_id: int) -> Subquery:
    """Votes per proposal, counted only within one group so the cost follows
    the group's size, not the whole table's."""
    return (
        select(Vote.proposal_id, func.count().label("votes"))
        .join(Proposal, col(Proposal.id) == Vote.proposal_id)
        .where(Proposal.group_id == group_id)
        .group_by(col(Vote.proposal_id))
        .subquery()
    )


def ranked_open_proposals(
    session: Session, *, group_id: int, limit: int
) -> Sequence[tuple[Proposal, Paper, Member, int, int]]:
    """Open proposals ranked by votes, then age (older first), as (proposal,
    paper, proposer, votes, total) rows; ``total`` counts every open proposal."""
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
    rows: Sequence[tuple[Proposal, Paper, Member, int, int]] = session.exec(
        base.order_by(vote_count.desc(), col(Proposal.created_at), col(Proposal.id)).limit(limit)
    ).all()
    return rows


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def history_page(
    session: Session, *, group_id: int, words: list[str], limit: int
) -> Sequence[tuple[Proposal, Paper, Member, int]]:
    """The group's proposals that are not withdrawn (presented first, newest
    first) whose title, authors, abstract or id contain every word
    (case-insensitive), as (proposal, paper, proposer, total) rows; ``total``
    counts every match, not the page."""
    query = (
        select(Proposal, Paper, Member, func.count().over().label("total"))
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
    rows: Sequence[tuple[Proposal, Paper, Member, int]] = session.exec(
        query.order_by(
            presented_first,
            sa.desc(func.coalesce(col(Proposal.presented_at), col(Proposal.created_at))),
            sa.desc(col(Proposal.id)),
        ).limit(limit)
    ).all()
    return rows


# -- the card lease ------------------------------------------------------------


def _card_owed() -> tuple[sa.ColumnElement[bool], ...]:
    return (
        col(Proposal.card_pending).is_(True),
        col(Proposal.status) != ProposalStatus.WITHDRAWN,
    )


def take_card_lease(
    session: Session, *, proposal_id: int, now: datetime, lease: timedelta, first: bool
) -> bool:
    """Hold a proposal's owed card for ``lease`` (one conditional UPDATE, see
    :mod:`storage.leases`); ``first``: only if nobody ever held it."""
    where = _card_owed()
    if first:
        where += (col(Proposal.card_claimed_until).is_(None),)
    return take_lease(
        session,
        Proposal,
        proposal_id,
        until=col(Proposal.card_claimed_until),
        now=now,
        lease=lease,
        where=where,
    )


def mark_card_posted(session: Session, proposal_id: int) -> None:
    session.execute(
        sa.update(Proposal)
        .where(col(Proposal.id) == proposal_id)
        .values(card_pending=False, card_claimed_until=None)
    )


def free_card_lease(session: Session, *, proposal_id: int, now: datetime) -> None:
    session.execute(
        sa.update(Proposal)
        .where(col(Proposal.id) == proposal_id, col(Proposal.card_pending).is_(True))
        .values(card_claimed_until=now)
    )


def owed_card_rows(
    session: Session,
    *,
    now: datetime,
    grace: timedelta,
    paper_id: int | None,
    limit: int,
) -> Sequence[tuple[int | None, Group, datetime, datetime | None]]:
    """(proposal id, group, created_at, card_claimed_until) of the cards owed
    whose paper is ready and whose lease is free: never taken and older than
    ``grace``, or run out."""
    query = (
        select(Proposal.id, Group, Proposal.created_at, Proposal.card_claimed_until)
        .join(Group, col(Group.id) == Proposal.group_id)
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .where(
            *_card_owed(),
            Paper.status == PaperStatus.READY,
            sa.or_(
                sa.and_(
                    col(Proposal.card_claimed_until).is_(None),
                    col(Proposal.created_at) <= now - grace,
                ),
                col(Proposal.card_claimed_until) <= now,
            ),
        )
        .order_by(col(Proposal.id))
        .limit(limit)
    )
    if paper_id is not None:
        query = query.where(Proposal.paper_id == paper_id)
    return session.exec(query).all()
