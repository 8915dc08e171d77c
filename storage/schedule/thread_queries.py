"""What the console's thread commands read."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.schedule.tables import MeetingSession, SessionStatus


def latest_threaded_session(*, session: Session, group_id: int) -> MeetingSession | None:
    """The group's latest session (not cancelled) that has a discussion thread."""
    return session.exec(
        select(MeetingSession)
        .where(
            MeetingSession.group_id == group_id,
            MeetingSession.status != SessionStatus.CANCELLED,
            col(MeetingSession.thread_id).is_not(None),
        )
        .order_by(col(MeetingSession.starts_at).desc())
    ).first()
