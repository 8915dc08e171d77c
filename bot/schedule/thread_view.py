"""A session's discussion thread as a numbered list, for an adapter that has
no threads of its own (the console's ``/reply``, ``/thread``, ``/takeaway``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.chat.dates import DateError, parse_day
from bot.chat.events import Place
from bot.infra.clock import as_utc
from bot.papers import proposals
from bot.papers.cards import title_of
from bot.schedule import discussion, meetings
from bot.schedule.presenter_messages import when_text
from storage.groups.queries import group_at
from storage.schedule.tables import MeetingSession
from storage.schedule.thread_queries import latest_threaded_session

NO_THREAD = (
    "No session has a discussion thread yet. A session's thread opens when its paper is "
    "chosen (the presenter runs `/present <arXiv id>`), or with the channel reminder before "
    "the session. `/schedule` shows the sessions and their papers."
)


@dataclass(frozen=True)
class Line:
    message_id: str
    author: str
    text: str
    takeaway: bool


@dataclass(frozen=True)
class ThreadView:
    meeting_id: int
    thread_id: str
    title: str
    lines: tuple[Line, ...]

    def numbered(self, n: int) -> Line | None:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else None


def load_thread(
    *,
    session: Session,
    place: Place,
    now: datetime,
    meeting_id: int | None = None,
    day_text: str = "",
    examples: str,
) -> ThreadView | str:
    """The thread to work in, or what to tell the user when there is none:
    the session ``meeting_id`` (chosen earlier), the session on ``day_text``
    (``examples`` shows how to write one if it is not a date), or the latest
    session that has a thread."""
    group = group_at(
        session, platform=place.platform, workspace=place.workspace, channel=place.channel
    )
    if group is None or group.id is None:
        return NO_THREAD
    cfg = meetings.get_settings(session=session, group_id=group.id, now=now)
    meeting: MeetingSession | None
    if day_text:
        tz = meetings.zone(cfg.timezone or "UTC")
        try:
            day = parse_day(
                day_text,
                today=as_utc(now).astimezone(tz).date(),
                examples=examples,
                direction="past",
            )
        except DateError as exc:
            return str(exc)
        meeting = meetings.session_on(session=session, group_id=group.id, day=day, tz=tz)
        if meeting is None:
            return f"There is no session on {day}. `/schedule` lists the sessions."
        if not meeting.thread_id:
            return f"The session on {day} has no discussion thread. " + NO_THREAD.split(". ", 1)[1]
    elif meeting_id is not None:
        meeting = session.get(MeetingSession, meeting_id)
    else:
        meeting = latest_threaded_session(session=session, group_id=group.id)
    if meeting is None or meeting.id is None or not meeting.thread_id:
        return NO_THREAD
    title = when_text(meeting, cfg)
    if meeting.proposal_id is not None:
        e = proposals.entry(session=session, proposal_id=meeting.proposal_id)
        if e is not None:
            title += f" — {title_of(e.paper)}"
    lines = tuple(
        Line(m.message_id, m.author_name or m.author_user_id, m.text, m.takeaway)
        for m in discussion.messages(session=session, meeting_id=meeting.id)
    )
    return ThreadView(meeting.id, meeting.thread_id, title, lines)
