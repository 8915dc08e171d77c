"""The seam between the schedule area and the digest area.

The digest asks what happened in a week through this one function; the
schedule area implements it over its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.infra.clock import as_utc
from bot.schedule.discussion import messages
from storage.groups.tables import Member
from storage.papers.tables import Proposal
from storage.schedule import meeting_queries as q


@dataclass(frozen=True)
class SessionInfo:
    """A reading-group session as the digest needs it."""

    session_id: int
    starts_at: datetime  # UTC
    paper_id: int | None
    proposal_id: int | None
    presenter_member_id: int | None
    presenter_name: str
    takeaways: tuple[str, ...]  # texts marked as takeaways in the session's thread
    discussion: tuple[str, ...]  # other thread messages, oldest first


def sessions_between(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> list[SessionInfo]:
    """Sessions of a group with start <= starts_at < end, oldest first
    (cancelled ones left out)."""
    rows = q.live_sessions_between(session, group_id=group_id, start=start, end=end)
    out: list[SessionInfo] = []
    for row in rows:
        assert row.id is not None
        presenter = (
            session.get(Member, row.presenter_member_id)
            if row.presenter_member_id is not None
            else None
        )
        proposal = session.get(Proposal, row.proposal_id) if row.proposal_id is not None else None
        thread = messages(session=session, meeting_id=row.id)
        out.append(
            SessionInfo(
                session_id=row.id,
                starts_at=as_utc(row.starts_at),
                paper_id=proposal.paper_id if proposal is not None else None,
                proposal_id=row.proposal_id,
                presenter_member_id=row.presenter_member_id,
                presenter_name=(presenter.name or presenter.user_id) if presenter else "",
                takeaways=tuple(m.text for m in thread if m.takeaway),
                discussion=tuple(m.text for m in thread if not m.takeaway),
            )
        )
    return out


def cancelled_between(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> list[datetime]:
    """When the group's sessions in [start, end) that were cancelled would have started (UTC)."""
    rows = q.cancelled_sessions_between(session, group_id=group_id, start=start, end=end)
    return [as_utc(t) for t in rows]
