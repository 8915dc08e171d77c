"""What to send when several reminders of a session are due at once, how to
word a reminder that goes out late, and the pick deadline that keeps trying.

Reminders are due at fixed offsets before a session, but a session can come
into being (the meeting is set or moved) or the bot can come back (a restart)
after some of those offsets have passed. The rule, per session and audience
(the channel; the presenter):

* Of the reminders due in one pass, only the latest-due is sent; the earlier
  ones are recorded as ``skipped`` ("superseded") and never sent. So setting
  the meeting 19 minutes before it starts posts one channel reminder, not the
  day-before and the hour-before ones together.
* A reminder is worded from the time actually left, not from its offset: the
  hour-before reminder sent 19 minutes before says "in 19 minutes".
* A message that names the presenter waits for the session to have one: the
  rotation is planned on every pass (and after every change to it), a
  presenter's direct message waits until there is a presenter, and a channel
  reminder of a session nobody presents yet is held until someone is assigned
  or until :data:`HOLD_FOR_PRESENTER` before the start (then it says nobody
  presents yet and how to volunteer).
* The pick deadline is not a single shot: from the deadline until the session
  starts, every pass assigns the top-voted open proposal to a session that has
  no paper (:func:`auto_pick`), so a proposal arriving after the deadline is
  assigned on the next pass and the presenter is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlmodel import Session

from bot.infra.clock import as_utc
from bot.papers import proposals as proposals_svc
from bot.schedule import meetings as schedule
from storage.schedule.delivery_queries import sent_deadline_messages

#: A channel reminder of a session with no presenter waits at most until this
#: long before the start, for someone to join the rotation.
HOLD_FOR_PRESENTER = timedelta(minutes=10)
#: Who a reminder is for: reminders to the same audience supersede each other.
#: The deadline pick's card is superseded by a channel reminder due with it
#: (the reminder posts the card and opens the thread itself).
AUDIENCE = {
    "nudge": "presenter",
    "deadline": "presenter",
    "assigned": "presenter",
    "card": "channel",
}


class _Item(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def session_id(self) -> int: ...

    @property
    def planned_at(self) -> datetime: ...


T = TypeVar("T", bound=_Item)


def _slot(item: _Item) -> tuple[int, str]:
    return item.session_id, AUDIENCE.get(item.kind, item.kind)


def supersede(due: Iterable[T]) -> tuple[list[T], list[tuple[T, T]]]:
    """Split what is due now into what to send (the latest-due one per session
    and audience, soonest first) and (superseded, superseded_by) pairs."""
    latest: dict[tuple[int, str], T] = {}
    order: list[T] = list(due)
    for item in order:
        slot = _slot(item)
        best = latest.get(slot)
        if best is None or item.planned_at >= best.planned_at:
            latest[slot] = item
    keep = {id(v) for v in latest.values()}
    send = [d for d in order if id(d) in keep]
    dropped = [
        (d, latest[(d.session_id, AUDIENCE.get(d.kind, d.kind))])
        for d in order
        if id(d) not in keep
    ]
    return send, dropped


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def soon_text(left: timedelta, offset_minutes: int) -> str:
    """How a channel reminder says when the session is: its own offset when it
    goes out on time (within a minute), else the time really left."""
    minutes = round(left.total_seconds() / 60)
    if abs(minutes - offset_minutes) <= 1:
        minutes = offset_minutes
    if minutes <= 1:
        return "starting now"
    if minutes < 60:
        return f"in {_plural(minutes, 'minute')}"
    if minutes == 24 * 60:
        return "tomorrow"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        if rest == 0:
            return f"in {_plural(hours, 'hour')}"
        return f"in {hours} h {rest} min"
    days, rest = divmod(minutes, 24 * 60)
    hours = round(rest / 60)
    if hours == 0:
        return f"in {_plural(days, 'day')}"
    return f"in {_plural(days, 'day')} and {_plural(hours, 'hour')}"


def deadline_of(starts: datetime, pick_deadline_hours: int) -> datetime:
    return as_utc(starts) - timedelta(hours=pick_deadline_hours)


def auto_pick(*, session: Session, group_id: int, now: datetime) -> list[int]:
    """Past the pick deadline, give each session without a paper the top-voted
    open proposal (soonest session first); returns the sessions assigned.

    Runs on every scheduler pass, so an empty queue at the deadline is not
    the end of it: the first proposal made before the session starts is
    assigned then.
    """
    cfg = schedule.get_settings(session=session, group_id=group_id, now=now)
    assigned: list[int] = []
    for meeting in schedule.upcoming(session=session, group_id=group_id, now=now):
        if meeting.proposal_id is not None:
            continue
        if now < deadline_of(meeting.starts_at, cfg.pick_deadline_hours):
            break  # sessions are soonest first: the rest are before their deadline
        top, _ = proposals_svc.queue(session=session, group_id=group_id, limit=1)
        if not top:
            break
        schedule.assign_paper(
            session=session, meeting=meeting, proposal=top[0].proposal, by="deadline", now=now
        )
        session.flush()
        assert meeting.id is not None
        assigned.append(meeting.id)
    return assigned


def told_before(*, session: Session, session_ids: Iterable[int]) -> set[int]:
    """Sessions whose deadline pick was already told to the presenter by the
    deadline message itself (as the bot did before the pick kept trying: it
    assigned and told in one go), so no separate "assigned" notice is due.

    The deadline message now only ever says the queue was empty, and an
    assignment comes in a later pass; one sent at the very moment the paper
    was assigned is the old combined message.
    """
    ids = list(session_ids)
    if not ids:
        return set()
    rows = sent_deadline_messages(session, session_ids=ids)
    return {
        int(sid)
        for sid, sent_at, changed in rows
        if sid is not None
        and sent_at is not None
        and changed is not None
        and as_utc(sent_at) >= as_utc(changed)
    }
