"""Tables of the rotation, schedule, reminders and discussion area.

Everything scheduled is derived from these rows (sessions, settings,
deliveries), so the scheduler can be rebuilt from the database after any
restart and a second replica sees the same work.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.columns import Table, empty_list
from storage.columns import json_column as _json
from storage.columns import ts as _ts

#: Channel reminders before a session, in minutes (24 h and 1 h).
DEFAULT_REMINDER_MINUTES = (24 * 60, 60)


class SessionStatus:
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    DONE = "done"


class GroupSettings(Table, table=True):
    """A group's meeting rule and reminder settings; one row per group."""

    __tablename__ = "group_settings"

    group_id: int = Field(foreign_key="groups.id", primary_key=True)
    #: 0 = Monday … 6 = Sunday; None until an organizer configures the meeting.
    meeting_weekday: int | None = None
    meeting_time: str = Field(default="", max_length=5)  # "HH:MM", local time
    timezone: str = Field(default="", max_length=64)  # IANA name
    duration_minutes: int = 60
    reminder_minutes: list[int] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_MINUTES),
        sa_column=_json(list(DEFAULT_REMINDER_MINUTES)),
    )
    nudge_days: int = 3
    pick_deadline_hours: int = 48
    takeaways_after_minutes: int = 60
    #: Where reminders go; empty = the group's own channel.
    announce_channel: str = Field(default="", max_length=64)
    skip_dates: list[str] = Field(
        default_factory=empty_list, sa_column=_json([])
    )  # ISO local dates
    updated_at: datetime = Field(sa_column=_ts())


class RotationMember(Table, table=True):
    """A member's place in a group's presenter roster."""

    __tablename__ = "rotation_members"
    __table_args__ = (sa.UniqueConstraint("group_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    position: int = 0
    active: bool = True
    joined_at: datetime = Field(sa_column=_ts())
    left_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Away(Table, table=True):
    """Dates (inclusive, in the group's time zone) a member cannot present."""

    __tablename__ = "aways"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    first_day: date
    last_day: date
    created_at: datetime = Field(sa_column=_ts())


class MeetingSession(Table, table=True):
    """One occurrence of the group's meeting, materialised from the rule."""

    __tablename__ = "meeting_sessions"
    __table_args__ = (
        sa.UniqueConstraint("group_id", "starts_at"),
        sa.Index("ix_meeting_sessions_thread", "thread_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    starts_at: datetime = Field(sa_column=_ts(index=True))  # UTC
    ends_at: datetime = Field(sa_column=_ts())
    status: str = Field(default=SessionStatus.SCHEDULED, max_length=16)
    presenter_member_id: int | None = Field(default=None, foreign_key="members.id")
    #: The presenter is fixed (swapped, paper chosen, or already nudged): the
    #: fairness pass leaves it alone.
    pinned: bool = False
    #: Members who passed on this session with ``/rotation skip``.
    passed_member_ids: list[int] = Field(default_factory=empty_list, sa_column=_json([]))
    proposal_id: int | None = Field(default=None, foreign_key="proposals.id")
    #: "presenter", "organizer" or "deadline": who chose the paper.
    paper_chosen_by: str = Field(default="", max_length=16)
    card_message_id: str | None = Field(default=None, max_length=64)
    thread_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_ts())


class Delivery(Table, table=True):
    """A claim on one scheduled message; the unique key makes it exactly once.

    ``status``: claimed (being sent), sent, retry (the platform refused; try
    again at ``next_attempt_at``), skipped (missed while down; logged),
    nothing (nothing left to say), failed (gave up), lost (the sender died
    between claim and send twice: see ``bot.schedule.claims``).
    ``lease_expiries`` counts the claims of this key that ran out because
    their sender died; the first is retried, a second one is lost.
    """

    __tablename__ = "deliveries"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    session_id: int | None = Field(default=None, foreign_key="meeting_sessions.id", index=True)
    status: str = Field(default="claimed", max_length=16)
    attempts: int = 0
    claimed_at: datetime = Field(sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    next_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    lease_expiries: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    error: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))


class DiscussionMessage(Table, table=True):
    """A message in a session's thread; a bulb reaction marks it a takeaway."""

    __tablename__ = "discussion_messages"
    __table_args__ = (sa.UniqueConstraint("session_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="meeting_sessions.id", index=True)
    message_id: str = Field(max_length=64, index=True)  # the platform's message id
    author_user_id: str = Field(max_length=64)
    author_name: str = Field(default="", max_length=200)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    sent_at: datetime = Field(sa_column=_ts())
    takeaway: bool = False
    takeaway_by: str = Field(default="", max_length=64)
