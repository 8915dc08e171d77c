"""The database tables: the one place the schema is described.

Every change here needs an Alembic migration in ``storage/migrations/versions``
(``tests/storage/test_migrations.py`` fails when the two drift apart).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from storage.columns import Table, empty_list, partial_unique_index
from storage.columns import ts as _ts


class ProposalStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    PRESENTED = "presented"
    WITHDRAWN = "withdrawn"


#: Statuses under which a paper counts as "already in this group".
ACTIVE_STATUSES = (ProposalStatus.OPEN, ProposalStatus.SCHEDULED, ProposalStatus.PRESENTED)


class PaperStatus(StrEnum):
    PENDING = "pending"  # saved, metadata not fetched yet (arXiv slow or down)
    READY = "ready"


class Paper(Table, table=True):
    """arXiv metadata, shared by every group; keyed by the id without version."""

    __tablename__ = "papers"

    id: int | None = Field(default=None, primary_key=True)
    arxiv_id: str = Field(max_length=64, unique=True)
    version: int | None = None
    status: str = Field(default=PaperStatus.PENDING, max_length=16, index=True)
    title: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    authors: list[str] = Field(
        default_factory=empty_list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    abstract: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    categories: list[str] = Field(
        default_factory=empty_list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    primary_category: str = Field(default="", max_length=64)
    published: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    comment: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    journal_ref: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    doi: str = Field(default="", max_length=200)
    links: list[str] = Field(
        default_factory=empty_list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    fetch_attempts: int = 0
    next_fetch_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    fetched_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())


class Proposal(Table, table=True):
    """A member's proposal of a paper to a group."""

    __tablename__ = "proposals"
    __table_args__ = (
        # A paper is in a group at most once unless withdrawn: the database
        # enforces the dedupe even when two members propose at the same instant.
        partial_unique_index(
            "uq_proposals_group_paper_active", "group_id", "paper_id", where="status != 'withdrawn'"
        ),
        sa.Index("ix_proposals_group_status", "group_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    paper_id: int = Field(foreign_key="papers.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    why: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    status: str = Field(default=ProposalStatus.OPEN, max_length=16)
    #: How many rows of ``votes`` name this proposal, kept by triggers on
    #: ``votes`` (migration 0006_search) so /queue ranks from an index.
    votes: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    #: The card still has to be posted (not yet, or arXiv was down).
    card_pending: bool = False
    #: Whoever posts the card holds it until then (see storage.leases); a
    #: poster that died lets it run out and the retry pass posts the card.
    card_claimed_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    status_changed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    presented_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# /queue: a group's open proposals in rank order (votes, then age), read from
# the index ten at a time instead of sorting the whole group.
sa.Index(
    "ix_proposals_queue",
    Proposal.group_id,  # type: ignore[arg-type]
    Proposal.status,
    sa.desc(Proposal.votes),  # type: ignore[call-overload]
    Proposal.created_at,  # type: ignore[arg-type]
    Proposal.id,  # type: ignore[arg-type]
)
# /history without words: per status, the latest first (presented ones by when
# they were presented, the others by when they were proposed).
sa.Index(
    "ix_proposals_history",
    Proposal.group_id,  # type: ignore[arg-type]
    Proposal.status,
    Proposal.presented_at,  # type: ignore[arg-type]
    Proposal.created_at,  # type: ignore[arg-type]
    Proposal.id,  # type: ignore[arg-type]
)


class ProposalCount(Table, table=True):
    """How many of a group's proposals are in each status: what /queue and
    /history show as their totals, read here instead of counted (100,000
    index entries take 10-50 ms to count on PostgreSQL). Kept by triggers on
    ``proposals`` (migration 0008_proposal_counts; a SQLite
    ``batch_alter_table("proposals")`` drops them and must make them again)."""

    __tablename__ = "proposal_counts"

    group_id: int = Field(primary_key=True)
    status: str = Field(primary_key=True, max_length=16)
    n: int = Field(default=0)


class Vote(Table, table=True):
    """One member's upvote of one proposal."""

    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    created_at: datetime = Field(sa_column=_ts())


class ProposalReason(Table, table=True):
    """Why another member also proposed a paper already in the queue.

    The first proposer's reason is ``Proposal.why``; everyone who proposes the
    same paper later (a duplicate proposal counts as their vote) keeps theirs
    here, one row each, independent of the vote so un-voting loses nothing."""

    __tablename__ = "proposal_reasons"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    why: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    created_at: datetime = Field(sa_column=_ts())
