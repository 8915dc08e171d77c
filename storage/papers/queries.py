"""Queries over papers, proposals, votes and reasons.

Small functions over a session, each running in the caller's transaction;
``bot.papers`` builds its answers from them. The statements that settle races
(ON CONFLICT DO NOTHING, DELETE … RETURNING, the card lease) are single
statements here so that concurrent callers (another replica) cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import load_only
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

from storage.groups.tables import Group, Member
from storage.insert_once import insert_once
from storage.leases import take_lease
from storage.papers import pg_search, search
from storage.papers.tables import (
    ACTIVE_STATUSES,
    Paper,
    PaperStatus,
    Proposal,
    ProposalCount,
    ProposalReason,
    ProposalStatus,
    Vote,
)
from storage.schedule.tables import MeetingSession

# -- papers --------------------------------------------------------------------


def fill_papers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write each row's columns into the paper whose ``id`` it names: one
    statement run for all of them (an arXiv answer fills up to a hundred)."""
    if rows:
        session.execute(sa.update(Paper), rows)


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
    added = insert_once(
        session,
        Vote,
        unique=["proposal_id", "member_id"],
        returning=col(Vote.id),
        proposal_id=proposal_id,
        member_id=member_id,
        created_at=now,
    )
    return added is not None


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


def _only(*attrs: Any) -> _AbstractLoad:
    return load_only(*attrs)


#: What a listing line shows (``bot.papers.cards.list_line``); the other
#: columns (abstracts, reasons) stay unread and load on access, in a session.
_LISTED = (
    _only(
        Proposal.id,
        Proposal.group_id,
        Proposal.paper_id,
        Proposal.member_id,
        Proposal.status,
        Proposal.votes,
        Proposal.created_at,
        Proposal.presented_at,
    ),
    _only(Paper.id, Paper.arxiv_id, Paper.status, Paper.title, Paper.authors),
    _only(Member.id, Member.user_id, Member.name),
)


def _listing() -> Select[Proposal, Paper, Member]:
    return (
        select(Proposal, Paper, Member)
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .join(Member, col(Member.id) == Proposal.member_id)
        .options(*_LISTED)
    )


def count_proposals(session: Session, *, group_id: int, statuses: Sequence[str]) -> int:
    """The group's proposals in these statuses, from the counts the triggers
    keep (``proposal_counts``): a few rows, not the group's index entries."""
    return int(
        session.exec(
            select(func.coalesce(func.sum(ProposalCount.n), 0)).where(
                col(ProposalCount.group_id) == group_id, col(ProposalCount.status).in_(statuses)
            )
        ).one()
    )


def ranked_open_proposals(
    session: Session, *, group_id: int, limit: int
) -> Sequence[tuple[Proposal, Paper, Member]]:
    """Open proposals ranked by votes, then age (older first): the first
    ``limit`` entries of ``ix_proposals_queue``, with only the listed columns."""
    return session.exec(
        _listing()
        .where(col(Proposal.group_id) == group_id, col(Proposal.status) == ProposalStatus.OPEN)
        .order_by(col(Proposal.votes).desc(), col(Proposal.created_at), col(Proposal.id))
        .limit(limit)
    ).all()


_SHOWN = (ProposalStatus.PRESENTED, ProposalStatus.SCHEDULED, ProposalStatus.OPEN)


def latest_proposals(
    session: Session, *, group_id: int, limit: int
) -> list[tuple[Proposal, Paper, Member]]:
    """/history without words: the group's papers not withdrawn, presented
    first, then newest first; ``limit`` rows, with only the listed columns.

    One short read of ``ix_proposals_history`` per status, merged here: a
    single query ordered across statuses would sort the whole group."""
    got: dict[str, list[tuple[Proposal, Paper, Member]]] = {}
    for status in _SHOWN:
        got[status] = list(
            session.exec(
                _listing()
                .where(col(Proposal.group_id) == group_id, col(Proposal.status) == status)
                .order_by(
                    sa.desc(col(Proposal.presented_at)),
                    sa.desc(col(Proposal.created_at)),
                    sa.desc(col(Proposal.id)),
                )
                .limit(limit)
            ).all()
        )

    def latest(row: tuple[Proposal, Paper, Member]) -> tuple[datetime, int]:
        p = row[0]
        return p.presented_at or p.created_at, p.id or 0  # one database: all naive or all aware

    rest = sorted(
        got[ProposalStatus.SCHEDULED] + got[ProposalStatus.OPEN], key=latest, reverse=True
    )
    return (sorted(got[ProposalStatus.PRESENTED], key=latest, reverse=True) + rest)[:limit]


def _newest() -> tuple[Any, ...]:
    """The tie-break among equally relevant papers: the latest first."""
    return (
        sa.desc(func.coalesce(col(Proposal.presented_at), col(Proposal.created_at))),
        sa.desc(col(Proposal.id)),
    )


#: /history ranks, by relevance, the newest this many matches (by paper),
#: and counts matches up to one more than this (more shows as "1,000+"), so
#: a word found in most of a large group's papers costs what a rarer one does.
HISTORY_POOL = 1000
#: On SQLite, a group with at most this many papers is searched paper by
#: paper (each looked up in the FTS index by id); a larger one from the FTS
#: index's matches, newest first, joined to the group (see :func:`_sqlite_pool`).
SQLITE_SMALL_GROUP = 300


def search_proposals(
    session: Session, *, group_id: int, tokens: list[str], limit: int
) -> tuple[list[tuple[Proposal, Paper, Member]], int]:
    """The group's proposals not withdrawn whose paper has a word starting
    with each token (see :mod:`storage.papers.search`), most relevant first
    (then the newest), and how many match, counted up to ``HISTORY_POOL + 1``."""
    if session.get_bind().dialect.name == "postgresql":
        pool = _pg_pool(session, group_id, tokens)
    else:
        pool = _sqlite_pool(session, group_id, tokens)
    if not pool:
        return [], 0
    found = min(len(pool), HISTORY_POOL + 1)  # HISTORY_POOL + 1: "more than HISTORY_POOL"
    # the latest first, and among them the best score (bm25: lowest; ts_rank:
    # negated below); Python's sort is stable
    pool.sort(key=lambda r: (r[2], r[0]), reverse=True)
    pool = pool[:HISTORY_POOL]
    pool.sort(key=lambda r: r[1])
    ids = [pid for pid, _score, _at in pool[:limit]]
    rows = session.exec(_listing().where(col(Proposal.id).in_(ids))).all()
    order = {pid: n for n, pid in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r[0].id or 0]), found


def _pg_pool(session: Session, group_id: int, tokens: list[str]) -> list[tuple[int, float, Any]]:
    """(proposal id, -ts_rank, time) of the newest matches (by paper), from the
    proposals' copy of the search vector (see :mod:`storage.papers.pg_search`)."""
    shown = ", ".join(f"'{s.value}'" for s in _SHOWN)
    return pg_search.newest_matches(
        session,
        group_id=group_id,
        tokens=tokens,
        size=HISTORY_POOL + 1,
        group_size=count_proposals(session, group_id=group_id, statuses=_SHOWN),
        shown=shown,
    )


def _sqlite_pool(
    session: Session, group_id: int, tokens: list[str]
) -> list[tuple[int, float, Any]]:
    """(proposal id, bm25, time) of the newest matches.

    SQLite keeps no statistics here, so the plan is chosen by the group's
    size: a small group's papers are
    read and matched here, the tokens cut as FTS5 cuts them, and scored by
    :func:`storage.papers.search.matching_bm25`; a large group's are read from
    the index's matches, newest paper first, until the pool is full, and
    scored by FTS5's bm25 (only the rows kept: it is in the select list of the
    join, next to the FTS cursor)."""
    shown = ", ".join(f"'{s.value}'" for s in _SHOWN)
    where = f"p.group_id = :group AND p.status IN ({shown})"
    args = {"group": group_id, "match": search.fts5_query(tokens), "pool": HISTORY_POOL + 1}
    size = session.execute(
        sa.text(f"SELECT count(*) FROM (SELECT 1 FROM proposals p WHERE {where} LIMIT :most)"),
        {**args, "most": SQLITE_SMALL_GROUP + 1},
    ).scalar_one()
    fts, score = search.FTS_TABLE, search.SQLITE_BM25
    at = "coalesce(p.presented_at, p.created_at)"
    if size <= SQLITE_SMALL_GROUP:
        # Not FTS5 here: testing each paper against it re-runs the whole
        # query each time, and a prefix ("the*") merges every matching term's
        # list for all papers (0.4 s a paper at a million); reading a few
        # hundred papers and matching them here costs a few milliseconds.
        sql = f"""
            SELECT p.id, pa.title, pa.authors, pa.abstract, pa.arxiv_id, {at}
            FROM proposals p JOIN papers pa ON pa.id = p.paper_id WHERE {where}"""
        rows = session.execute(sa.text(sql), args).all()
        docs = [tuple(r[1:5]) for r in rows]
        return [(int(rows[i][0]), sc, rows[i][5]) for i, sc in search.matching_bm25(docs, tokens)]
    sql = f"""
        SELECT p.id, {score}, {at} FROM {fts}
        CROSS JOIN proposals p ON p.paper_id = {fts}.rowid
        WHERE {fts} MATCH :match AND {where}
        ORDER BY {fts}.rowid DESC LIMIT :pool"""
    rows = session.execute(sa.text(sql), args).all()
    return [(int(pid), float(s), at_) for pid, s, at_ in rows]


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
