"""A session's discussion: messages in its thread, and the takeaways among them.

Threads are matched by (platform, workspace, thread id), not by channel:
on Discord a thread is a channel of its own, and reminders may go to an
announcement channel other than the group's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.groups.tables import Group
from storage.schedule.tables import DiscussionMessage, MeetingSession

#: Reaction names (Slack sends names, Discord the character) that mark a takeaway.
TAKEAWAY_EMOJI = frozenset({"bulb", ":bulb:", "💡", "light_bulb"})


def is_takeaway_emoji(emoji: str) -> bool:
    return emoji.strip().lower() in TAKEAWAY_EMOJI or emoji.strip(":").lower() == "bulb"


def session_for_thread(
    *, session: Session, platform: str, workspace: str, thread_id: str
) -> MeetingSession | None:
    return session.exec(
        select(MeetingSession)
        .join(Group, col(Group.id) == MeetingSession.group_id)
        .where(
            MeetingSession.thread_id == thread_id,
            Group.platform == platform,
            Group.workspace == workspace,
        )
        .order_by(col(MeetingSession.starts_at).desc())
    ).first()


def store_message(
    *,
    session: Session,
    meeting_id: int,
    message_id: str,
    author_user_id: str,
    author_name: str,
    text: str,
    sent_at: datetime,
) -> bool:
    """Keep a thread message; False if it was already stored (a redelivery)."""
    exists = session.exec(
        select(DiscussionMessage.id).where(
            DiscussionMessage.session_id == meeting_id, DiscussionMessage.message_id == message_id
        )
    ).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                DiscussionMessage(
                    session_id=meeting_id,
                    message_id=message_id,
                    author_user_id=author_user_id,
                    author_name=author_name,
                    text=text,
                    sent_at=sent_at,
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def mark_takeaway(
    *, session: Session, platform: str, workspace: str, message_id: str, on: bool, by: str
) -> DiscussionMessage | None:
    """A bulb added (``on``) or removed on a stored thread message."""
    row = session.exec(
        select(DiscussionMessage)
        .join(MeetingSession, col(MeetingSession.id) == DiscussionMessage.session_id)
        .join(Group, col(Group.id) == MeetingSession.group_id)
        .where(
            DiscussionMessage.message_id == message_id,
            Group.platform == platform,
            Group.workspace == workspace,
        )
    ).first()
    if row is None:
        return None
    row.takeaway = on
    row.takeaway_by = by if on else ""
    session.add(row)
    return row


def messages(*, session: Session, meeting_id: int) -> list[DiscussionMessage]:
    return list(
        session.exec(
            select(DiscussionMessage)
            .where(DiscussionMessage.session_id == meeting_id)
            .order_by(col(DiscussionMessage.sent_at), col(DiscussionMessage.id))
        ).all()
    )


def takeaways(*, session: Session, meeting_id: int) -> list[DiscussionMessage]:
    return [m for m in messages(session=session, meeting_id=meeting_id) if m.takeaway]
