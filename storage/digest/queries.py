"""Queries of the digest: what a week, month or quarter gathers from the
papers' tables, the drafts and their revisions, and the summary cache.

Small functions over a session, named for what they return; the digest's
service code (``bot/digest/``) calls them and owns the unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.digest.tables import (
    DigestDraft,
    DigestPostPart,
    DigestRevision,
    DraftStatus,
    LlmAnswer,
    PaperSummary,
)
from storage.groups.tables import Member
from storage.papers.tables import Paper, Proposal, ProposalStatus, Vote

# -- what a period gathers -------------------------------------------------------


def proposals_between(
    session: Session, *, group_id: int, start: datetime, end: datetime
) -> list[tuple[Proposal, Paper, Member, int]]:
    """Proposals made in [start, end) and not withdrawn, with their paper,
    proposer and number of votes: most voted first, then oldest first."""
    votes = (
        select(Vote.proposal_id, func.count().label("n")).group_by(col(Vote.proposal_id)).subquery()
    )
    n = func.coalesce(votes.c.n, 0)
    rows = session.exec(
        select(Proposal, Paper, Member, n)
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .join(Member, col(Member.id) == Proposal.member_id)
        .outerjoin(votes, votes.c.proposal_id == Proposal.id)
        .where(
            Proposal.group_id == group_id,
            Proposal.status != ProposalStatus.WITHDRAWN,
            col(Proposal.created_at) >= start,
            col(Proposal.created_at) < end,
        )
        .order_by(n.desc(), col(Proposal.created_at), col(Proposal.id))
    ).all()
    return [(proposal, paper, member, int(votes_n)) for proposal, paper, member, votes_n in rows]


def presented_between(
    session: Session, *, group_id: int, start: datetime, end: datetime
) -> list[tuple[Proposal, Paper]]:
    """Proposals marked presented in [start, end), with their paper, oldest first."""
    rows = session.exec(
        select(Proposal, Paper)
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .where(
            Proposal.group_id == group_id,
            Proposal.status == ProposalStatus.PRESENTED,
            col(Proposal.presented_at) >= start,
            col(Proposal.presented_at) < end,
        )
        .order_by(col(Proposal.presented_at))
    ).all()
    return [(proposal, paper) for proposal, paper in rows]


# -- drafts and revisions ----------------------------------------------------------


def newest_revision(session: Session, *, draft_id: int) -> DigestRevision | None:
    return session.exec(
        select(DigestRevision)
        .where(DigestRevision.draft_id == draft_id)
        .order_by(col(DigestRevision.number).desc())
    ).first()


def revision_of(session: Session, *, draft_id: int, number: int) -> DigestRevision | None:
    return session.exec(
        select(DigestRevision).where(
            DigestRevision.draft_id == draft_id, DigestRevision.number == number
        )
    ).first()


def last_revision_number(session: Session, *, draft_id: int) -> int:
    """The highest revision number of a draft (0 without revisions)."""
    newest = session.exec(
        select(func.max(DigestRevision.number)).where(DigestRevision.draft_id == draft_id)
    ).one()
    return int(newest or 0)


def discard_open_draft(session: Session, *, draft_id: int) -> bool:
    """Mark the draft discarded if it is still open; False if it was not."""
    result = session.execute(
        sa.update(DigestDraft)
        .where(col(DigestDraft.id) == draft_id, col(DigestDraft.status) == DraftStatus.DRAFT)
        .values(status=DraftStatus.DISCARDED)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # a DML result is a CursorResult


def newest_draft_of_week(
    session: Session, *, group_id: int, week: str, statuses: Iterable[str]
) -> DigestDraft | None:
    """The group's newest draft of a week in one of ``statuses``."""
    return session.exec(
        select(DigestDraft)
        .where(
            DigestDraft.group_id == group_id,
            DigestDraft.week == week,
            col(DigestDraft.status).in_(tuple(statuses)),
        )
        .order_by(col(DigestDraft.id).desc())
    ).first()


def part_counts(session: Session, *, draft_id: int) -> tuple[int, int]:
    """(parts recorded as posted, parts the post has) of a draft's publication;
    (0, 0) before any part was recorded."""
    posted, total = session.exec(
        select(func.count(), func.max(DigestPostPart.of)).where(DigestPostPart.draft_id == draft_id)
    ).one()
    return int(posted or 0), int(total or 0)


# -- the summary cache ---------------------------------------------------------------


def summaries_by_key(session: Session, *, keys: Sequence[str]) -> dict[str, PaperSummary]:
    """Cached summaries by cache key (only the keys that have one)."""
    if not keys:
        return {}
    rows = session.exec(select(PaperSummary).where(col(PaperSummary.cache_key).in_(keys))).all()
    return {r.cache_key: r for r in rows}


def summary_of_key(session: Session, *, key: str) -> PaperSummary | None:
    return session.exec(select(PaperSummary).where(PaperSummary.cache_key == key)).first()


# -- the cache of period answers ---------------------------------------------------


def cached_answer(session: Session, *, key: str) -> str | None:
    """The stored answer under ``key`` (see ``LlmAnswer``), or None."""
    return session.exec(select(LlmAnswer.answer).where(LlmAnswer.cache_key == key)).first()


def store_answer(
    session: Session, *, key: str, purpose: str, model: str, answer: str, now: datetime
) -> None:
    """Keep an answer; a second run that asked at the same time keeps the first."""
    try:
        with session.begin_nested():
            session.add(
                LlmAnswer(
                    cache_key=key, purpose=purpose, model=model, answer=answer, created_at=now
                )
            )
    except IntegrityError:
        pass
