"""The group's sessions as an iCalendar file (``readgroup export ics``,
``/schedule ics``).

One VEVENT per session with a stable UID (so calendar apps update events in
place when the presenter or paper changes), DTSTART/DTEND in the group's
time zone (TZID), the presenter and paper in the summary and the arXiv link
in the description. Cancelled sessions are exported as CANCELLED so a
subscribed calendar drops them.

``icalendar`` is imported when a calendar is exported, not with this module:
every process loads the schedule commands, few export (0.25 s at start-up).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.groups.listing import group_list
from bot.infra.clock import as_utc
from bot.papers import proposals as proposals_svc
from bot.papers.cards import abs_url, title_of
from bot.schedule.meetings import get_settings, zone
from storage.groups.tables import Group, Member
from storage.schedule.meeting_queries import configured_groups_by_id, sessions_of_group
from storage.schedule.tables import MeetingSession, SessionStatus

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//readgroup//reading group schedule//EN"


def _first_configured_group(session: Session) -> Group | None:
    """The only group with a meeting rule; with several, which one is not
    guessed: ``LookupError`` lists them for ``--group``."""
    groups = configured_groups_by_id(session)
    if len(groups) > 1:
        raise LookupError(
            f"There are {len(groups)} reading groups with a meeting time; say which one "
            f"to export with --group:\n{group_list(groups)}"
        )
    return groups[0] if groups else None


def export_ics(*, session: Session, group_id: int | None = None) -> bytes:
    """The calendar of one group (default: the only one with a meeting rule).

    Raises ``LookupError`` with a message that says what to do when there is
    no such group or no meeting configured.
    """
    group = session.get(Group, group_id) if group_id is not None else None
    if group_id is None:
        group = _first_configured_group(session)
    if group is None or group.id is None:
        raise LookupError(
            "No group with a meeting time yet. An organizer sets one with "
            '`/readgroup config meeting "Thu 16:00 Europe/Berlin"`.'
        )
    cfg = get_settings(session=session, group_id=group.id, now=group.created_at)
    tz = zone(cfg.timezone or "UTC")
    name = group.name or f"Reading group ({group.platform} #{group.channel})"
    from icalendar import Calendar  # loaded only to export (see the module note)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz.key)
    meetings = sessions_of_group(session, group_id=group.id)
    for meeting in meetings:
        cal.add_component(_event(session, group, meeting, tz, name))
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(session: Session, group: Group, meeting: MeetingSession, tz: tzinfo, name: str) -> Event:
    presenter = (
        session.get(Member, meeting.presenter_member_id)
        if meeting.presenter_member_id is not None
        else None
    )
    entry = (
        proposals_svc.entry(session=session, proposal_id=meeting.proposal_id)
        if meeting.proposal_id is not None
        else None
    )
    who = (presenter.name or presenter.user_id) if presenter else "presenter to be decided"
    what = title_of(entry.paper) if entry else "paper to be chosen"
    from icalendar import Event

    event = Event()
    event.add("uid", f"session-{meeting.id}-group-{group.id}@readgroup")
    event.add("dtstamp", as_utc(meeting.created_at))
    event.add("dtstart", as_utc(meeting.starts_at).astimezone(tz))
    event.add("dtend", as_utc(meeting.ends_at).astimezone(tz))
    event.add("summary", f"{name}: {who} presents {what}")
    lines = [f"Presenter: {who}", f"Paper: {what}"]
    if entry is not None:
        lines.append(abs_url(entry.paper))
        event.add("url", abs_url(entry.paper))
    event.add("description", "\n".join(lines))
    status = {
        SessionStatus.CANCELLED: "CANCELLED",
        SessionStatus.DONE: "CONFIRMED",
    }.get(meeting.status, "CONFIRMED")
    event.add("status", status)
    return event


def export_text(*, session: Session, group_id: int | None = None) -> str:
    return export_ics(session=session, group_id=group_id).decode("utf-8")


__all__ = ["export_ics", "export_text"]
