"""The meeting rule, group settings and materialised sessions.

Times are computed per occurrence in the group's IANA time zone (zoneinfo)
and stored in UTC, so a Thursday 16:00 Europe/Berlin meeting is 15:00 UTC in
winter and 14:00 UTC in summer, and every reminder follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.chat.dates import DAY_NAMES, WEEKDAYS, DateError
from bot.chat.dates import parse_period as parse_dates
from bot.infra.clock import as_utc
from storage.groups.tables import Group
from storage.papers.tables import Proposal, ProposalStatus
from storage.schedule import meeting_queries as q
from storage.schedule.tables import GroupSettings, MeetingSession, SessionStatus

#: How far ahead sessions exist as rows (so /schedule, swaps and reminders see them).
HORIZON_WEEKS = 8
MEETING_EXAMPLE = '/readgroup config meeting "Thu 16:00 Europe/Berlin"'


class ScheduleError(ValueError):
    """Bad input for a schedule setting; the message says what to do."""


@dataclass(frozen=True)
class MeetingRule:
    weekday: int
    at: time
    tz: ZoneInfo

    def describe(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.at:%H:%M} {self.tz.key}"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"`{name}` is not a time zone I know. Use an IANA name such as "
            "`Europe/Berlin`, `America/New_York` or `UTC`."
        ) from exc


_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def parse_time(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise ScheduleError(f"`{text}` is not a time. Write it like `16:00` or `4pm`.")
    hour, minute, ampm = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"`{text}`: with am/pm the hour is 1–12, e.g. `4pm`.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"`{text}` is not a time of day. Write it like `16:00`.")
    return time(hour, minute)


def parse_meeting(text: str) -> MeetingRule:
    """``Thu 16:00 Europe/Berlin`` (weekday, local time, IANA zone)."""
    parts = text.strip().strip("\"'“”").split()
    if len(parts) != 3:
        raise ScheduleError(
            f"The meeting is a weekday, a time and a time zone, for example `{MEETING_EXAMPLE}`."
        )
    day_text, time_text, tz_text = parts
    weekday = WEEKDAYS.get(day_text.lower().rstrip(","))
    if weekday is None:
        raise ScheduleError(
            f"`{day_text}` is not a weekday. Use Mon, Tue, Wed, Thu, Fri, Sat or Sun, "
            f"for example `{MEETING_EXAMPLE}`."
        )
    return MeetingRule(weekday, parse_time(time_text), zone(tz_text))


def get_settings(*, session: Session, group_id: int, now: datetime) -> GroupSettings:
    """The group's settings row, created with defaults on first use."""
    row = session.get(GroupSettings, group_id)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = GroupSettings(group_id=group_id, updated_at=now)
            session.add(row)
    except IntegrityError:  # created concurrently
        row = session.get(GroupSettings, group_id)
    assert row is not None
    return row


def group_zone(*, session: Session, group_id: int) -> ZoneInfo:
    """The time zone of the group's meeting (UTC until one is configured): the
    digest cuts weeks, months and quarters at midnight there."""
    cfg = session.get(GroupSettings, group_id)
    return zone(cfg.timezone) if cfg is not None and cfg.timezone else zone("UTC")


def lock_settings(*, session: Session, group_id: int, now: datetime) -> GroupSettings:
    """The settings row, locked for this transaction on PostgreSQL so two
    replicas maintaining the same group take turns (SQLite has one writer)."""
    get_settings(session=session, group_id=group_id, now=now)
    session.flush()
    return q.settings_for_update(session, group_id=group_id)


def rule_of(cfg: GroupSettings) -> MeetingRule | None:
    if cfg.meeting_weekday is None or not cfg.meeting_time or not cfg.timezone:
        return None
    return MeetingRule(cfg.meeting_weekday, parse_time(cfg.meeting_time), zone(cfg.timezone))


def occurrences(rule: MeetingRule, start: datetime, end: datetime) -> list[datetime]:
    """UTC start times of the rule in [start, end), each computed in local time
    for its own date (so DST is right on both sides of a change)."""
    local_day = as_utc(start).astimezone(rule.tz).date() - timedelta(days=1)
    local_day += timedelta(days=(rule.weekday - local_day.weekday()) % 7)
    out: list[datetime] = []
    while True:
        local = datetime.combine(local_day, rule.at, tzinfo=rule.tz)
        # A time that does not exist that day (spring forward) is moved on by
        # the gap; fold=0 picks the first of a repeated hour.
        when = local.astimezone(UTC)
        if when >= end:
            return out
        if when >= start:
            out.append(when)
        local_day += timedelta(days=7)


def local_date(when: datetime, tz: ZoneInfo) -> date:
    return as_utc(when).astimezone(tz).date()


def materialise(*, session: Session, group_id: int, now: datetime) -> list[MeetingSession]:
    """Make sure the next ``HORIZON_WEEKS`` of sessions exist (idempotent).

    Future sessions that no longer match the rule (it changed) are removed,
    and their papers go back to the queue; skip dates become cancelled
    sessions so the rotation passes over them.
    """
    cfg = get_settings(session=session, group_id=group_id, now=now)
    rule = rule_of(cfg)
    future = q.sessions_after(session, group_id=group_id, after=now)
    if rule is None:
        for s in future:
            _drop(session, s)
        return []
    horizon = now + timedelta(weeks=HORIZON_WEEKS)
    wanted = occurrences(rule, now, horizon)
    # A session is dropped only if the rule no longer produces it, never for
    # lying past this caller's horizon (a replica whose clock is a little
    # behind must not delete what another one just made).
    last = max([horizon, *(as_utc(s.starts_at) + timedelta(seconds=1) for s in future)])
    valid = set(occurrences(rule, now, last))
    for s in future:
        if as_utc(s.starts_at) not in valid:
            _drop(session, s)
    have = {as_utc(s.starts_at): s for s in future if as_utc(s.starts_at) in valid}
    skips = set(cfg.skip_dates or [])
    created: list[MeetingSession] = []
    for when in wanted:
        skipped = local_date(when, rule.tz).isoformat() in skips
        existing = have.get(when)
        if existing is not None:
            if skipped and existing.status == SessionStatus.SCHEDULED:
                cancel(session=session, meeting=existing, now=now)
            ends = when + timedelta(minutes=cfg.duration_minutes)
            if as_utc(existing.ends_at) != ends:
                existing.ends_at = ends
                session.add(existing)
            continue
        try:
            with session.begin_nested():
                row = MeetingSession(
                    group_id=group_id,
                    starts_at=when,
                    ends_at=when + timedelta(minutes=cfg.duration_minutes),
                    status=SessionStatus.CANCELLED if skipped else SessionStatus.SCHEDULED,
                    created_at=now,
                )
                session.add(row)
            created.append(row)
        except IntegrityError:  # another replica made it at the same moment
            continue
    return created


def _drop(session: Session, meeting: MeetingSession) -> None:
    _release_paper(session, meeting, now=None)
    if q.session_has_history(session, meeting_id=meeting.id):
        meeting.status = SessionStatus.CANCELLED  # keep its record; it is history now
        meeting.presenter_member_id = None
        session.add(meeting)
        return
    session.delete(meeting)


def _release_paper(session: Session, meeting: MeetingSession, now: datetime | None) -> None:
    if meeting.proposal_id is None:
        return
    proposal = session.get(Proposal, meeting.proposal_id)
    if proposal is not None and proposal.status == ProposalStatus.SCHEDULED:
        proposal.status = ProposalStatus.OPEN
        proposal.status_changed_at = now or proposal.status_changed_at
        session.add(proposal)
    meeting.proposal_id = None
    meeting.paper_chosen_by = ""
    session.add(meeting)


def cancel(*, session: Session, meeting: MeetingSession, now: datetime) -> None:
    """Cancel a session (a holiday); its paper goes back to the queue."""
    _release_paper(session, meeting, now)
    meeting.status = SessionStatus.CANCELLED
    meeting.presenter_member_id = None
    meeting.pinned = False
    session.add(meeting)


def upcoming(
    *, session: Session, group_id: int, now: datetime, limit: int | None = None
) -> list[MeetingSession]:
    """Scheduled sessions that have not started, soonest first."""
    return q.upcoming_sessions(session, group_id=group_id, after=now, limit=limit)


def session_on(
    *, session: Session, group_id: int, day: date, tz: ZoneInfo
) -> MeetingSession | None:
    """The group's session on a local date, if any (any status)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return q.first_session_starting_in(session, group_id=group_id, start=start, end=end)


def assign_paper(
    *, session: Session, meeting: MeetingSession, proposal: Proposal, by: str, now: datetime
) -> None:
    """Put a paper on a session: the proposal becomes scheduled, a previous
    choice goes back to the queue, and the presenter is fixed."""
    if meeting.proposal_id == proposal.id:
        return
    _release_paper(session, meeting, now)
    proposal.status = ProposalStatus.SCHEDULED
    proposal.status_changed_at = now
    session.add(proposal)
    meeting.proposal_id = proposal.id
    meeting.paper_chosen_by = by
    meeting.pinned = True
    session.add(meeting)


def finish_started(*, session: Session, group_id: int, now: datetime) -> list[MeetingSession]:
    """Sessions that have ended become done; their papers become presented."""
    ended = q.ended_sessions(session, group_id=group_id, now=now)
    for meeting in ended:
        meeting.status = SessionStatus.DONE
        session.add(meeting)
        if meeting.proposal_id is not None:
            proposal = session.get(Proposal, meeting.proposal_id)
            if proposal is not None and proposal.status != ProposalStatus.PRESENTED:
                proposal.status = ProposalStatus.PRESENTED
                proposal.presented_at = meeting.starts_at
                proposal.status_changed_at = now
                session.add(proposal)
    return ended


def configured_groups(*, session: Session) -> list[tuple[Group, GroupSettings]]:
    return q.configured_groups(session)


PERIOD_EXAMPLE = "`/away 2026-12-01 2026-12-14`, `/away next week` or `/away tomorrow`"


def parse_period(text: str, *, today: date) -> tuple[date, date]:
    """``FROM TO`` for ``/away`` (see :func:`bot.chat.dates.parse_period`)."""
    try:
        return parse_dates(text, today=today, examples=PERIOD_EXAMPLE)
    except DateError as exc:
        raise ScheduleError(str(exc)) from None


def parse_duration(text: str, *, unit: str = "m") -> int:
    """``24h``, ``90m``, ``3d`` or a bare number in ``unit``; returns minutes."""
    m = re.fullmatch(r"\s*(\d{1,5})\s*(d|h|m|min|days?|hours?|minutes?)?\s*", text.lower())
    if not m:
        raise ScheduleError(f"`{text}` is not a duration. Write it like `24h`, `90m` or `3d`.")
    value, suffix = int(m.group(1)), (m.group(2) or unit)[0]
    return value * {"d": 24 * 60, "h": 60, "m": 1}[suffix]
