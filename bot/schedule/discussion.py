"""A session's discussion: messages in its thread, and the takeaways among them.

Threads are matched by (platform, workspace, thread id), not by channel:
on Discord a thread is a channel of its own, and reminders may go to an
announcement channel other than the group's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.schedule import discussion_queries as q
from storage.schedule import meeting_queries
from storage.schedule.tables import DiscussionMessage, MeetingSession

#: The reaction that marks a takeaway, in the neutral form the adapters send
#: (the emoji character; Slack's ``bulb`` is translated by its adapter).
TAKEAWAY_EMOJI = "💡"


def is_takeaway_emoji(emoji: str) -> bool:
    return emoji == TAKEAWAY_EMOJI


def session_for_thread(
    *, session: Session, platform: str, workspace: str, thread_id: str
) -> MeetingSession | None:
    return meeting_queries.session_for_thread(
        session, platform=platform, workspace=workspace, thread_id=thread_id
    )


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
    if q.has_message(session, meeting_id=meeting_id, message_id=message_id):
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
    row = q.message_in_workspace(
        session, platform=platform, workspace=workspace, message_id=message_id
    )
    if row is None:
        return None
    row.takeaway = on
    row.takeaway_by = by if on else ""
    session.add(row)
    return row


def messages(*, session: Session, meeting_id: int) -> list[DiscussionMessage]:
    return q.thread_messages(session, meeting_id=meeting_id)


def takeaways(*, session: Session, meeting_id: int) -> list[DiscussionMessage]:
    return [m for m in messages(session=session, meeting_id=meeting_id) if m.takeaway]
