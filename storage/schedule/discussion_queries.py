"""Queries on the messages of sessions' discussion threads."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.groups.tables import Group
from storage.schedule.tables import DiscussionMessage, MeetingSession


def has_message(session: Session, *, meeting_id: int, message_id: str) -> bool:
    """Whether the session's thread message is stored already."""
    return (
        session.exec(
            select(DiscussionMessage.id).where(
                DiscussionMessage.session_id == meeting_id,
                DiscussionMessage.message_id == message_id,
            )
        ).first()
        is not None
    )


def message_in_workspace(
    session: Session, *, platform: str, workspace: str, message_id: str
) -> DiscussionMessage | None:
    """A stored thread message of a session of a group in the workspace."""
    return session.exec(
        select(DiscussionMessage)
        .join(MeetingSession, col(MeetingSession.id) == DiscussionMessage.session_id)
        .join(Group, col(Group.id) == MeetingSession.group_id)
        .where(
            DiscussionMessage.message_id == message_id,
            Group.platform == platform,
            Group.workspace == workspace,
        )
    ).first()


def thread_messages(session: Session, *, meeting_id: int) -> list[DiscussionMessage]:
    """The session's stored thread messages, oldest first."""
    return list(
        session.exec(
            select(DiscussionMessage)
            .where(DiscussionMessage.session_id == meeting_id)
            .order_by(col(DiscussionMessage.sent_at), col(DiscussionMessage.id))
        ).all()
    )
