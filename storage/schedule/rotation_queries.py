"""Queries on the presenter roster, the aways, and who presented when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from storage.groups.tables import Member
from storage.schedule.tables import Away, MeetingSession, RotationMember, SessionStatus


def active_roster(session: Session, *, group_id: int) -> list[tuple[RotationMember, Member]]:
    """Active roster slots with their members, in roster order."""
    rows = session.exec(
        select(RotationMember, Member)
        .join(Member, col(Member.id) == RotationMember.member_id)
        .where(RotationMember.group_id == group_id, col(RotationMember.active).is_(True))
        .order_by(col(RotationMember.position), col(RotationMember.id))
    ).all()
    return [(r, m) for r, m in rows]


def roster_slot(session: Session, *, group_id: int, member_id: int) -> RotationMember | None:
    """The member's slot in the group's roster (active or not)."""
    return session.exec(
        select(RotationMember).where(
            RotationMember.group_id == group_id, RotationMember.member_id == member_id
        )
    ).first()


def last_roster_position(session: Session, *, group_id: int) -> int | None:
    """The highest roster position used in the group (None if nobody ever joined)."""
    return session.exec(
        select(func.max(RotationMember.position)).where(RotationMember.group_id == group_id)
    ).one()


def reactivate_slot(session: Session, *, slot_id: int | None, position: int, now: datetime) -> bool:
    """Turn an inactive slot back on at ``position``; False if it was already
    active (a concurrent rejoin won)."""
    flipped = session.execute(
        update(RotationMember)
        .where(col(RotationMember.id) == slot_id, col(RotationMember.active).is_(False))
        .values(active=True, position=position, joined_at=now, left_at=None)
    )
    return bool(flipped.rowcount)  # type: ignore[attr-defined]


def deactivate_slot(session: Session, *, slot_id: int | None, now: datetime) -> bool:
    """Turn an active slot off; False if it was already off (a concurrent leave won)."""
    left = session.execute(
        update(RotationMember)
        .where(col(RotationMember.id) == slot_id, col(RotationMember.active).is_(True))
        .values(active=False, left_at=now)
    )
    return bool(left.rowcount)  # type: ignore[attr-defined]


def aways_until_after(
    session: Session, *, group_id: int, member_id: int, today: date
) -> list[Away]:
    """The member's away periods that have not ended before ``today``, by first day."""
    return list(
        session.exec(
            select(Away)
            .where(Away.group_id == group_id, Away.member_id == member_id, Away.last_day >= today)
            .order_by(col(Away.first_day))
        ).all()
    )


def away_on(session: Session, *, group_id: int, member_id: int, day: date) -> bool:
    """Whether the member is away on ``day``."""
    return (
        session.exec(
            select(Away.id).where(
                Away.group_id == group_id,
                Away.member_id == member_id,
                Away.first_day <= day,
                Away.last_day >= day,
            )
        ).first()
        is not None
    )


def group_aways(session: Session, *, group_id: int) -> list[Away]:
    """Every away period of the group's members."""
    return list(session.exec(select(Away).where(Away.group_id == group_id)).all())


def last_presented(
    session: Session, *, group_id: int, now: datetime
) -> list[tuple[int | None, datetime | None]]:
    """(member id, start of the latest session they presented) for every
    member who presented a session of the group that has started."""
    rows = session.exec(
        select(MeetingSession.presenter_member_id, func.max(MeetingSession.starts_at))
        .where(
            MeetingSession.group_id == group_id,
            MeetingSession.status != SessionStatus.CANCELLED,
            col(MeetingSession.starts_at) <= now,
            col(MeetingSession.presenter_member_id).is_not(None),
        )
        .group_by(col(MeetingSession.presenter_member_id))
    ).all()
    return [(m, w) for m, w in rows]


def presented_counts(session: Session, *, group_id: int, now: datetime) -> dict[int, int]:
    """How many sessions of the group that have started each member presented."""
    rows = session.exec(
        select(MeetingSession.presenter_member_id, func.count())
        .where(
            MeetingSession.group_id == group_id,
            MeetingSession.status != SessionStatus.CANCELLED,
            col(MeetingSession.starts_at) <= now,
            col(MeetingSession.presenter_member_id).is_not(None),
        )
        .group_by(col(MeetingSession.presenter_member_id))
    ).all()
    return {int(m): int(n) for m, n in rows if m is not None}
