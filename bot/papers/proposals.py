"""Proposals, votes, the queue, withdrawal and history.

Plain functions over a session, keyword-only, so tests call them without any
adapter. Each runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.groups.context import row_id
from bot.infra.arxiv_client import PaperMeta
from bot.infra.clock import as_utc
from storage.groups.tables import Group, Member
from storage.papers import queries as q
from storage.papers.search import tokens as search_tokens
from storage.papers.tables import (
    Paper,
    PaperStatus,
    Proposal,
    ProposalReason,
    ProposalStatus,
)

#: How long a card poster holds the card (see storage.leases).
CARD_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class ProposeResult:
    proposal: Proposal
    paper: Paper
    proposer: Member
    duplicate: bool
    #: For a duplicate: whether this call added the newcomer's vote.
    vote_added: bool
    votes: int
    #: For a duplicate with a reason: "kept" (new), "replaced" (an earlier
    #: reason of theirs), "same" (already stored), or "" (no reason given).
    reason: str = ""


@dataclass(frozen=True)
class Reason:
    """One member's reason for a paper."""

    name: str
    why: str


@dataclass(frozen=True)
class Entry:
    """A proposal with what a listing shows about it."""

    proposal: Proposal
    paper: Paper
    proposer: Member
    votes: int
    #: Reasons of the members who proposed it after the first (oldest first);
    #: loaded by `entry` only, empty in listings.
    reasons: tuple[Reason, ...] = ()


def _add_vote(session: Session, proposal_id: int, member_id: int, now: datetime) -> bool:
    """Add a vote unless the member already voted; True if one was added."""
    return q.insert_vote(session, proposal_id=proposal_id, member_id=member_id, now=now)


def get_or_create_paper(*, session: Session, arxiv_id: str, now: datetime) -> Paper:
    paper = q.paper_by_arxiv_id(session, arxiv_id)
    if paper is not None:
        return paper
    try:
        with session.begin_nested():
            paper = Paper(arxiv_id=arxiv_id, created_at=now, next_fetch_at=now)
            session.add(paper)
    except IntegrityError:
        paper = q.paper_by_arxiv_id(session, arxiv_id)
        assert paper is not None
    return paper


def active_proposal(*, session: Session, group_id: int, paper_id: int) -> Proposal | None:
    return q.active_proposal(session, group_id=group_id, paper_id=paper_id)


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
            kept = _keep_reason(session, existing, member.id, why.strip(), now)
            proposer = session.get(Member, existing.member_id)
            assert proposer is not None
            return ProposeResult(
                existing, paper, proposer, True, added, q.vote_count(session, existing.id), kept
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
                    card_pending=True,  # the card is owed until it is posted
                )
                session.add(proposal)
                session.flush()
        except IntegrityError:
            continue  # proposed by someone else at the same instant: now a duplicate
        assert proposal.id is not None
        _add_vote(session, proposal.id, member.id, now)
        return ProposeResult(proposal, paper, member, False, False, 1)
    raise RuntimeError("proposal neither inserted nor found")  # pragma: no cover


def _keep_reason(
    session: Session, proposal: Proposal, member_id: int, why: str, now: datetime
) -> str:
    """Store the reason a member gave when proposing a paper already proposed."""
    if not why:
        return ""
    if proposal.member_id == member_id:
        if proposal.why == why:
            return "same"
        outcome = "replaced" if proposal.why else "kept"
        proposal.why = why
        session.add(proposal)
        return outcome
    row = q.member_reason(session, proposal_id=proposal.id, member_id=member_id)
    if row is not None:
        if row.why == why:
            return "same"
        row.why, row.created_at = why, now
        session.add(row)
        return "replaced"
    assert proposal.id is not None
    try:
        with session.begin_nested():
            session.add(
                ProposalReason(
                    proposal_id=proposal.id, member_id=member_id, why=why, created_at=now
                )
            )
    except IntegrityError:  # the same member at the same instant: theirs is stored
        return "same"
    return "kept"


def reasons(*, session: Session, proposal_id: int) -> tuple[Reason, ...]:
    """The later proposers' reasons, oldest first."""
    rows = q.reasons_with_members(session, proposal_id)
    return tuple(Reason(m.name or m.user_id, r.why) for r, m in rows)


def _filled(meta: PaperMeta, now: datetime) -> dict[str, Any]:
    return {
        "version": meta.version,
        "title": meta.title,
        "authors": list(meta.authors),
        "abstract": meta.abstract,
        "categories": list(meta.categories),
        "primary_category": meta.primary_category,
        "published": meta.published,
        "updated": meta.updated,
        "comment": meta.comment,
        "journal_ref": meta.journal_ref,
        "doi": meta.doi,
        "links": list(meta.links),
        "status": PaperStatus.READY,
        "fetched_at": now,
        "next_fetch_at": None,
    }


def apply_metadata_many(
    *, session: Session, filled: list[tuple[int, PaperMeta]], now: datetime
) -> None:
    """:func:`apply_metadata` for the papers of one arXiv answer, in one statement."""
    q.fill_papers(session, [{"id": pid, **_filled(meta, now)} for pid, meta in filled])


def apply_metadata(*, session: Session, paper_id: int, meta: PaperMeta, now: datetime) -> Paper:
    """Fill a paper in from arXiv (or refresh it with a newer version)."""
    paper = session.get(Paper, paper_id)
    assert paper is not None
    for name, value in _filled(meta, now).items():
        setattr(paper, name, value)
    session.add(paper)
    return paper


def forget_paper(*, session: Session, paper_id: int) -> list[tuple[Proposal, Member]]:
    """arXiv does not have this id: drop the paper and its proposals (nothing to
    keep), returning who proposed it so they can be told. A session that had
    it as its paper (chosen while arXiv was down) goes back to having none."""
    proposals = q.proposals_of_paper(session, paper_id)
    told: list[tuple[Proposal, Member]] = []
    for p in proposals:
        member = session.get(Member, p.member_id)
        if member is not None:
            told.append((p, member))
        for meeting in q.meetings_of_proposal(session, p.id):
            meeting.proposal_id = None
            meeting.paper_chosen_by = ""
            session.add(meeting)
        q.delete_votes_and_reasons(session, p.id)
        session.flush()
        session.delete(p)
    session.flush()
    paper = session.get(Paper, paper_id)
    if paper is not None:
        session.delete(paper)
    return told


def schedule_refetch(
    *, session: Session, paper_id: int, now: datetime, first_delay: float = 10.0
) -> datetime:
    """arXiv is down: try again later, backing off up to 15 minutes."""
    paper = session.get(Paper, paper_id)
    assert paper is not None
    paper.fetch_attempts += 1
    delay = min(15 * 60, first_delay * 2 ** min(paper.fetch_attempts - 1, 7))
    paper.next_fetch_at = now + timedelta(seconds=delay)
    session.add(paper)
    assert paper.next_fetch_at is not None
    return paper.next_fetch_at


def due_pending_papers(*, session: Session, now: datetime, limit: int = 100) -> list[Paper]:
    return q.due_pending_papers(session, now=now, limit=limit)


def next_pending_time(*, session: Session) -> datetime | None:
    return q.next_pending_time(session)


def entry(*, session: Session, proposal_id: int) -> Entry | None:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        return None
    paper = session.get(Paper, proposal.paper_id)
    proposer = session.get(Member, proposal.member_id)
    assert paper is not None and proposer is not None
    assert proposal.id is not None
    return Entry(
        proposal,
        paper,
        proposer,
        q.vote_count(session, proposal.id),
        reasons(session=session, proposal_id=proposal.id),
    )


def toggle_vote(*, session: Session, proposal_id: int, member: Member, now: datetime) -> bool:
    """Vote, or take the vote back. Returns whether the member now votes for it.

    Each press flips the vote exactly once, even when the same member's
    presses race on two replicas: the flip is a conditional statement in the
    database (DELETE … RETURNING, else INSERT … ON CONFLICT DO NOTHING), not a
    read followed by a write. An INSERT that finds a row another press has
    just added means that press flipped it on, so this one flips it off; as
    every successful statement flips the state and only one statement per
    press succeeds, N presses end with N mod 2 votes.
    """
    assert member.id is not None
    for _attempt in range(20):
        if q.delete_vote(session, proposal_id=proposal_id, member_id=member.id):
            return False
        if q.insert_vote(session, proposal_id=proposal_id, member_id=member.id, now=now):
            return True
    raise RuntimeError("vote neither removed nor added")  # pragma: no cover


def queue(*, session: Session, group_id: int, limit: int = 10) -> tuple[list[Entry], int]:
    """Open proposals ranked by votes, then age (older first). Also the total.

    Entries carry only the columns a listing shows (see
    ``storage.papers.queries``); others load on access inside the session."""
    rows = q.ranked_open_proposals(session, group_id=group_id, limit=limit)
    if not rows:
        return [], 0
    total = q.count_proposals(session, group_id=group_id, statuses=(ProposalStatus.OPEN,))
    return [Entry(p, pa, m, p.votes) for p, pa, m in rows], total


def find_in_group(*, session: Session, group_id: int, arxiv_id: str) -> Entry | None:
    """The group's active proposal of a paper, if any."""
    paper = q.paper_by_arxiv_id(session, arxiv_id)
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


def history(
    *, session: Session, group_id: int, words: list[str], limit: int = 10
) -> tuple[list[Entry], int]:
    """The group's papers that are not withdrawn. Without words: presented
    first, newest first. With words: those with a word starting with each of
    them in the title, authors, abstract or arXiv id (any case), most relevant
    first (see ``storage.papers.search``), among the newest
    ``storage.papers.queries.HISTORY_POOL`` matches. Also how many there are:
    for a search, counted up to ``HISTORY_POOL + 1``."""
    if not words:
        rows = q.latest_proposals(session, group_id=group_id, limit=limit)
        if not rows:
            return [], 0
        total = q.count_proposals(
            session,
            group_id=group_id,
            statuses=(ProposalStatus.PRESENTED, ProposalStatus.SCHEDULED, ProposalStatus.OPEN),
        )
    else:
        toks = search_tokens(words)
        if not toks:  # only punctuation: no word to look for
            return [], 0
        rows, total = q.search_proposals(session, group_id=group_id, tokens=toks, limit=limit)
    return [Entry(p, pa, m, p.votes) for p, pa, m in rows], total


def claim_card(
    *,
    session: Session,
    proposal_id: int,
    now: datetime,
    lease: timedelta = CARD_LEASE,
    first: bool = False,
) -> bool:
    """Take the duty of posting a proposal's card for ``lease``; True for
    exactly one caller at a time (the handler, the retry pass or a replica).
    ``first``: only if nobody ever held it (a card held before may be out
    already; only the retry pass, which can check, takes those).
    Call :func:`card_posted` once it is out, :func:`release_card` if it failed."""
    return q.take_card_lease(session, proposal_id=proposal_id, now=now, lease=lease, first=first)


def card_posted(*, session: Session, proposal_id: int) -> None:
    q.mark_card_posted(session, proposal_id)


def release_card(*, session: Session, proposal_id: int, now: datetime) -> None:
    """Give the card back now (posting failed, or the handler stops waiting)."""
    q.free_card_lease(session, proposal_id=proposal_id, now=now)


@dataclass(frozen=True)
class OwedCard:
    proposal_id: int
    group: Group
    created_at: datetime
    #: Someone held the card before (and died, or gave it back): it may be out.
    in_doubt: bool


def owed_cards(
    *,
    session: Session,
    now: datetime,
    grace: timedelta = CARD_LEASE,
    paper_id: int | None = None,
    limit: int = 100,
) -> list[OwedCard]:
    """Cards owed whose paper is ready and whose lease is free: never taken
    and older than ``grace`` (the /propose handler is still on it until then),
    or run out (its poster died or gave it back)."""
    rows = q.owed_card_rows(session, now=now, grace=grace, paper_id=paper_id, limit=limit)
    return [
        OwedCard(int(pid), g, as_utc(created), claimed is not None)
        for pid, g, created, claimed in rows
        if pid is not None
    ]


def proposal_owner(session: Session, value: str) -> int | None:
    """The group a button naming a proposal belongs to (the router's place
    check, see :mod:`bot.groups.places`)."""
    pid = row_id(value)
    proposal = session.get(Proposal, pid) if pid is not None else None
    return proposal.group_id if proposal is not None else None
