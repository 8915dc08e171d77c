"""Queries on a group's settings and its materialised sessions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.groups.tables import Group
from storage.schedule.tables import (
    Delivery,
    DiscussionMessage,
    GroupSettings,
    MeetingSession,
    SessionStatus,
)


def settings_for_update(session: Session, *, group_id: int) -> GroupSettings:
    """The group's settings row, locked for this transaction (FOR UPDATE on
    PostgreSQL); the row must exist."""
    return session.exec(
        select(GroupSettings).where(GroupSettings.group_id == group_id).with_for_update()
    ).one()


def sessions_after(session: Session, *, group_id: int, after: datetime) -> list[MeetingSession]:
    """Every session of the group (any status) starting after ``after``."""
    return list(
        session.exec(
            select(MeetingSession).where(
                MeetingSession.group_id == group_id, col(MeetingSession.starts_at) > after
            )
        ).all()
    )


def session_has_history(session: Session, *, meeting_id: int | None) -> bool:
    """Whether a session has thread messages or deliveries (a record to keep)."""
    return (
        session.exec(
            select(DiscussionMessage.id).where(DiscussionMessage.session_id == meeting_id)
        ).first()
        is not None
        or session.exec(select(Delivery.id).where(Delivery.session_id == meeting_id)).first()
        is not None
    )


def upcoming_sessions(
    session: Session, *, group_id: int, after: datetime, limit: int | None = None
) -> list[MeetingSession]:
    """Scheduled sessions starting after ``after``, soonest first."""
    query = (
        select(MeetingSession)
        .where(
            MeetingSession.group_id == group_id,
            MeetingSession.status == SessionStatus.SCHEDULED,
            col(MeetingSession.starts_at) > after,
        )
        .order_by(col(MeetingSession.starts_at))
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def first_session_starting_in(
    session: Session, *, group_id: int, start: datetime, end: datetime
) -> MeetingSession | None:
    """A session of the group (any status) with start <= starts_at < end."""
    return session.exec(
        select(MeetingSession).where(
            MeetingSession.group_id == group_id,
            col(MeetingSession.starts_at) >= start,
            col(MeetingSession.starts_at) < end,
        )
    ).first()


def ended_sessions(session: Session, *, group_id: int, now: datetime) -> list[MeetingSession]:
    """Scheduled sessions of the group whose end has passed."""
    return list(
        session.exec(
            select(MeetingSession).where(
                MeetingSession.group_id == group_id,
                MeetingSession.status == SessionStatus.SCHEDULED,
                col(MeetingSession.ends_at) <= now,
            )
        ).all()
    )


def configured_groups(session: Session) -> list[tuple[Group, GroupSettings]]:
    """Groups with a meeting rule, with their settings."""
    rows = session.exec(
        select(Group, GroupSettings)
        .join(GroupSettings, col(GroupSettings.group_id) == Group.id)
        .where(col(GroupSettings.meeting_weekday).is_not(None))
    ).all()
    return [(g, s) for g, s in rows]


def configured_groups_by_id(session: Session) -> list[Group]:
    """Groups with a meeting rule, in id order."""
    return list(
        session.exec(
            select(Group)
            .join(GroupSettings, col(GroupSettings.group_id) == Group.id)
            .where(col(GroupSettings.meeting_weekday).is_not(None))
            .order_by(col(Group.id))
        ).all()
    )


def live_sessions_since(
    session: Session, *, group_id: int, since: datetime
) -> list[MeetingSession]:
    """Sessions of the group not cancelled that start after ``since``, oldest first."""
    return list(
        session.exec(
            select(MeetingSession)
            .where(
                MeetingSession.group_id == group_id,
                MeetingSession.status != SessionStatus.CANCELLED,
                col(MeetingSession.starts_at) > since,
            )
            .order_by(col(MeetingSession.starts_at))
        ).all()
    )


def live_sessions_between(
    session: Session, *, group_id: int, start: datetime, end: datetime
) -> list[MeetingSession]:
    """Sessions of the group not cancelled with start <= starts_at < end, oldest first."""
    return list(
        session.exec(
            select(MeetingSession)
            .where(
                MeetingSession.group_id == group_id,
                MeetingSession.status != SessionStatus.CANCELLED,
                col(MeetingSession.starts_at) >= start,
                col(MeetingSession.starts_at) < end,
            )
            .order_by(col(MeetingSession.starts_at))
        ).all()
    )


def next_session_end(session: Session, *, after: datetime) -> datetime | None:
    """The earliest end, after ``after``, of any scheduled session (all groups)."""
    return session.exec(
        select(sa.func.min(MeetingSession.ends_at)).where(
            MeetingSession.status == SessionStatus.SCHEDULED,
            col(MeetingSession.ends_at) > after,
        )
    ).one()


def last_started_session(
    session: Session, *, group_id: int, now: datetime
) -> MeetingSession | None:
    """The latest session of the group not cancelled that has started."""
    return session.exec(
        select(MeetingSession)
        .where(
            MeetingSession.group_id == group_id,
            MeetingSession.status != SessionStatus.CANCELLED,
            col(MeetingSession.starts_at) <= now,
        )
        .order_by(col(MeetingSession.starts_at).desc())
    ).first()


def first_session_with_thread(session: Session, *, group_id: int) -> MeetingSession | None:
    """The earliest session of the group not cancelled that has a thread."""
    return session.exec(
        select(MeetingSession)
        .where(
            MeetingSession.group_id == group_id,
            MeetingSession.status != SessionStatus.CANCELLED,
            col(MeetingSession.thread_id).is_not(None),
        )
        .order_by(col(MeetingSession.starts_at))
    ).first()


def scheduled_session_of_proposal(session: Session, *, proposal_id: int) -> MeetingSession | None:
    """The soonest scheduled session that has this proposal as its paper."""
    return session.exec(
        select(MeetingSession)
        .where(
            MeetingSession.proposal_id == proposal_id,
            MeetingSession.status == SessionStatus.SCHEDULED,
        )
        .order_by(col(MeetingSession.starts_at))
    ).first()


def sessions_of_group(session: Session, *, group_id: int) -> list[MeetingSession]:
    """Every session of the group (any status), oldest first."""
    return list(
        session.exec(
            select(MeetingSession)
            .where(MeetingSession.group_id == group_id)
            .order_by(col(MeetingSession.starts_at))
        ).all()
    )


def session_for_thread(
    session: Session, *, platform: str, workspace: str, thread_id: str
) -> MeetingSession | None:
    """The latest session whose discussion thread is ``thread_id`` in the workspace."""
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


def cancelled_sessions_between(
    session: Session, *, group_id: int, start: datetime, end: datetime
) -> list[datetime]:
    """Start times of the group's cancelled sessions with start <= starts_at < end."""
    return list(
        session.exec(
            select(MeetingSession.starts_at)
            .where(
                MeetingSession.group_id == group_id,
                MeetingSession.status == SessionStatus.CANCELLED,
                col(MeetingSession.starts_at) >= start,
                col(MeetingSession.starts_at) < end,
            )
            .order_by(col(MeetingSession.starts_at))
        ).all()
    )
