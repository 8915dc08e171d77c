"""The seam between the schedule area and the digest area.

The digest asks what happened in a week through this one function; the
schedule area implements it over its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session


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
    """Sessions of a group with start <= starts_at < end, oldest first.

    Returns [] until the schedule area fills this in.
    """
    return []
