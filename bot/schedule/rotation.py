"""The presenter rotation: roster, aways, and the fair assignment of presenters.

Fair = the next session goes to the available roster member who presented
least recently (never presented counts as oldest), ties by roster order.
Assignments of sessions nobody fixed are recomputed from the database after
every change, so the plan never drifts from the rows; a session becomes fixed
(``pinned``) once it is swapped, its paper is chosen or its presenter nudged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.infra.clock import as_utc
from bot.schedule.meetings import (
    ScheduleError,
    get_settings,
    local_date,
    rule_of,
    upcoming,
    zone,
)
from storage.groups.tables import Member
from storage.papers.tables import Proposal, ProposalStatus
from storage.schedule import rotation_queries as q
from storage.schedule.tables import Away, MeetingSession, RotationMember


@dataclass(frozen=True)
class RosterEntry:
    slot: RotationMember
    member: Member


def roster(*, session: Session, group_id: int) -> list[RosterEntry]:
    """Active roster members in roster order."""
    return [RosterEntry(r, m) for r, m in q.active_roster(session, group_id=group_id)]


def _slot(session: Session, group_id: int, member_id: int) -> RotationMember | None:
    return q.roster_slot(session, group_id=group_id, member_id=member_id)


def join(*, session: Session, group_id: int, member: Member, now: datetime) -> bool:
    """Put a member at the end of the roster; False if already on it."""
    assert member.id is not None
    slot = _slot(session, group_id, member.id)
    if slot is not None and slot.active:
        return False
    last = q.last_roster_position(session, group_id=group_id)
    position = (last or 0) + 1
    if slot is None:
        try:
            with session.begin_nested():
                session.add(
                    RotationMember(
                        group_id=group_id, member_id=member.id, position=position, joined_at=now
                    )
                )
            return True
        except IntegrityError:  # the same join, at the same moment, on another replica
            slot = _slot(session, group_id, member.id)
            assert slot is not None
            if slot.active:
                return False
    # Rejoining: only one of two concurrent rejoins flips the slot back on.
    flipped = q.reactivate_slot(session, slot_id=slot.id, position=position, now=now)
    session.expire(slot)
    return flipped


def leave(*, session: Session, group_id: int, member: Member, now: datetime) -> bool:
    """Take a member off the roster; their upcoming sessions are reassigned."""
    assert member.id is not None
    slot = _slot(session, group_id, member.id)
    if slot is None or not slot.active:
        return False
    left = q.deactivate_slot(session, slot_id=slot.id, now=now)
    session.expire(slot)
    return left


def add_away(
    *, session: Session, group_id: int, member: Member, first: date, last: date, now: datetime
) -> Away:
    assert member.id is not None
    if last < first:
        raise ScheduleError(
            f"The away period ends ({last}) before it starts ({first}). "
            "Give the first day, then the last, e.g. `/away 2026-12-01 2026-12-14`."
        )
    away = Away(
        group_id=group_id, member_id=member.id, first_day=first, last_day=last, created_at=now
    )
    session.add(away)
    session.flush()
    return away


def aways_of(*, session: Session, group_id: int, member_id: int, today: date) -> list[Away]:
    return q.aways_until_after(session, group_id=group_id, member_id=member_id, today=today)


def is_away(*, session: Session, group_id: int, member_id: int, day: date) -> bool:
    return q.away_on(session, group_id=group_id, member_id=member_id, day=day)


def clear_aways(*, session: Session, group_id: int, member_id: int, today: date) -> int:
    rows = aways_of(session=session, group_id=group_id, member_id=member_id, today=today)
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def plan(*, session: Session, group_id: int, now: datetime) -> list[MeetingSession]:
    """Assign presenters to upcoming sessions nobody fixed; returns them.

    A pinned session whose presenter left or is away is unpinned and
    reassigned (its paper stays with the session).
    """
    cfg = get_settings(session=session, group_id=group_id, now=now)
    rule = rule_of(cfg)
    tz = rule.tz if rule else zone("UTC")
    people = roster(session=session, group_id=group_id)
    active = {e.member.id for e in people}
    order: dict[int, int] = {
        e.member.id: i for i, e in enumerate(people) if e.member.id is not None
    }
    aways: dict[int, list[tuple[date, date]]] = {}
    for a in q.group_aways(session, group_id=group_id):
        aways.setdefault(a.member_id, []).append((a.first_day, a.last_day))

    def available(member_id: int | None, day: date) -> bool:
        if member_id is None or member_id not in active:
            return False
        return not any(f <= day <= t for f, t in aways.get(member_id, ()))

    last: dict[int, datetime] = {}
    for member_id, when in q.last_presented(session, group_id=group_id, now=now):
        if member_id is not None and when is not None:
            last[member_id] = as_utc(when)

    future = upcoming(session=session, group_id=group_id, now=now)
    fixed: dict[int, list[datetime]] = {}
    for s in future:
        day = local_date(s.starts_at, tz)
        if s.pinned and not available(s.presenter_member_id, day):
            s.pinned = False
            session.add(s)
        if s.pinned and s.presenter_member_id is not None:
            fixed.setdefault(s.presenter_member_id, []).append(as_utc(s.starts_at))

    for s in future:
        starts = as_utc(s.starts_at)
        if s.pinned and s.presenter_member_id is not None:
            last[s.presenter_member_id] = starts
            continue
        day = local_date(starts, tz)
        passed = set(s.passed_member_ids or [])
        candidates = [m for m in order if available(m, day) and m not in passed]
        if not candidates:
            # Everyone passed or is away: passing is a preference, so fall back
            # to those who passed rather than leave the session empty.
            candidates = [m for m in order if available(m, day)]

        def score(member_id: int, starts: datetime = starts) -> tuple[int, datetime, int]:
            seen = [t for t in fixed.get(member_id, ()) if t > starts]
            recent = max([*([last[member_id]] if member_id in last else []), *seen], default=None)
            if recent is None:
                return (0, starts, order[member_id])
            return (1, recent, order[member_id])

        chosen = min(candidates, key=score) if candidates else None
        if s.presenter_member_id != chosen:
            s.presenter_member_id = chosen
            session.add(s)
        if chosen is not None:
            last[chosen] = starts
    session.flush()
    return future


def next_session_of(
    *, session: Session, group_id: int, member_id: int, now: datetime
) -> MeetingSession | None:
    for s in upcoming(session=session, group_id=group_id, now=now):
        if s.presenter_member_id == member_id:
            return s
    return None


def swap(
    *, session: Session, group_id: int, a: Member, b: Member, now: datetime
) -> tuple[MeetingSession, MeetingSession]:
    """Swap the next upcoming sessions of two members (with their papers)."""
    assert a.id is not None and b.id is not None
    if a.id == b.id:
        raise ScheduleError("Name two different people: `/rotation swap @alice @bob`.")
    sa_ = next_session_of(session=session, group_id=group_id, member_id=a.id, now=now)
    sb = next_session_of(session=session, group_id=group_id, member_id=b.id, now=now)
    for who, s in ((a, sa_), (b, sb)):
        if s is None:
            raise ScheduleError(
                f"{who.name or who.user_id} has no upcoming session to swap. "
                "`/schedule` shows who presents when."
            )
    assert sa_ is not None and sb is not None
    cfg = get_settings(session=session, group_id=group_id, now=now)
    tz = rule.tz if (rule := rule_of(cfg)) else zone("UTC")
    for who, meeting in ((a, sb), (b, sa_)):
        day = local_date(meeting.starts_at, tz)
        if is_away(session=session, group_id=group_id, member_id=who.id or 0, day=day):
            raise ScheduleError(
                f"{who.name or who.user_id} is away on {day}, so they can't take that "
                "session. Swap with someone else, or change the away dates with `/away`."
            )
    sa_.presenter_member_id, sb.presenter_member_id = b.id, a.id
    sa_.proposal_id, sb.proposal_id = sb.proposal_id, sa_.proposal_id
    sa_.paper_chosen_by, sb.paper_chosen_by = sb.paper_chosen_by, sa_.paper_chosen_by
    sa_.pinned = sb.pinned = True
    session.add(sa_)
    session.add(sb)
    session.flush()
    return sa_, sb


def skip_next(*, session: Session, group_id: int, now: datetime) -> tuple[MeetingSession, int]:
    """The next session's presenter passes (moves back); returns the session
    and who passed. A paper they chose goes back to the queue."""
    for s in upcoming(session=session, group_id=group_id, now=now):
        if s.presenter_member_id is None:
            continue
        passed = s.presenter_member_id
        s.passed_member_ids = [*(s.passed_member_ids or []), passed]
        s.pinned = False
        if s.proposal_id is not None:
            proposal = session.get(Proposal, s.proposal_id)
            if proposal is not None and proposal.status == ProposalStatus.SCHEDULED:
                proposal.status = ProposalStatus.OPEN
                proposal.status_changed_at = now
                session.add(proposal)
            s.proposal_id, s.paper_chosen_by = None, ""
        session.add(s)
        session.flush()
        return s, passed
    raise ScheduleError(
        "There is no upcoming session with a presenter to skip. `/schedule` shows the plan."
    )


def presentation_counts(*, session: Session, group_id: int, now: datetime) -> dict[int, int]:
    """How many sessions each member presented (sessions that have started)."""
    return q.presented_counts(session, group_id=group_id, now=now)
