"""Scheduled messages: what is due, claimed exactly once, and sent.

Everything here is a function of (database, now): :func:`run_due` keeps the
groups' sessions and rotation up to date, works out which reminders are due
from the rows, claims each one in ``deliveries`` under a unique key *before*
sending it (an INSERT that fails on conflict), sends it, and records the
outcome. A restart or a second replica therefore never sends twice. The
APScheduler part (:mod:`bot.schedule.scheduler`) only decides when to call it.

Rules for reminders whose time has passed (the bot was down, or the
session came into being late, e.g. the meeting was set 19 minutes before it
starts): a reminder before a session is sent once, late, if the session has
not started, otherwise it is skipped (recorded as ``skipped`` and logged); of
several due at once for the same session and audience only the latest-due is
sent, worded with the time really left ("in 19 minutes"), and the others are
skipped as superseded; messages that name the presenter wait for the session
to have one. The pick deadline keeps assigning until the session starts. See
:mod:`bot.schedule.catch_up` for the details and :mod:`bot.schedule.claims`
for what happens to a claim whose sender stops or dies. A takeaways prompt is
sent late up to a day after it was due.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.chat.messenger import DeliveryError
from bot.infra.clock import as_utc
from bot.papers import proposals as proposals_svc
from bot.schedule import catch_up, presenter_messages, rotation, session_card
from bot.schedule import meetings as schedule
from bot.schedule import reminder_messages as messages
from bot.schedule.claims import MAX_ATTEMPTS, claim, expire_leases, finish, lease_ends, release
from bot.schedule.presenter_messages import PRESENT_PICK, paper_line, when_text
from bot.schedule.reminder_messages import Outbound
from storage.groups.tables import Group, Member
from storage.schedule import meeting_queries
from storage.schedule.delivery_queries import deliveries_by_keys
from storage.schedule.tables import Delivery, GroupSettings, MeetingSession, SessionStatus

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

#: How long a takeaways prompt may still go out after it was due.
TAKEAWAYS_GRACE = timedelta(days=1)
#: On a clean stop, how long a delivery already under way may take to finish
#: before its claim is handed back (see :func:`run_due`).
STOP_GRACE_SECONDS = 10.0
__all__ = ["MAX_ATTEMPTS", "PRESENT_PICK", "claim", "finish", "release", "when_text"]


@dataclass(frozen=True)
class Due:
    """One scheduled message a session implies."""

    key: str
    kind: str  # nudge | deadline | assigned | card | channel | takeaways
    session_id: int
    group_id: int
    due_at: datetime
    #: After this, the message is pointless: skip it instead of sending.
    stale_at: datetime
    offset_minutes: int = 0
    #: When it was first due, if ``due_at`` was moved on (a retry).
    first_due: datetime | None = None

    @property
    def planned_at(self) -> datetime:
        return self.first_due or self.due_at


@dataclass(frozen=True)
class Sent:
    key: str
    kind: str
    session_id: int
    late: bool


def offset_label(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def implied(meeting: MeetingSession, cfg: GroupSettings) -> list[Due]:
    """Every message a session implies, whether or not it is due yet."""
    assert meeting.id is not None
    starts = as_utc(meeting.starts_at)
    sid, gid = meeting.id, meeting.group_id
    out: list[Due] = []
    presenter = meeting.presenter_member_id
    deadline = catch_up.deadline_of(starts, cfg.pick_deadline_hours)
    if meeting.status == SessionStatus.SCHEDULED:
        if presenter is not None:
            out.append(
                Due(
                    f"session:{sid}:nudge:{meeting.presenter_member_id}",
                    "nudge",
                    sid,
                    gid,
                    starts - timedelta(days=cfg.nudge_days),
                    starts,
                )
            )
        # The presenter's messages about the paper wait for a presenter.
        if meeting.proposal_id is None and presenter is not None:
            out.append(Due(f"session:{sid}:deadline", "deadline", sid, gid, deadline, starts))
        if meeting.paper_chosen_by == "deadline" and presenter is not None:
            # assigned at or after the deadline (auto_pick): tell the presenter
            out.append(
                Due(
                    f"session:{sid}:assigned:{meeting.proposal_id}",
                    "assigned",
                    sid,
                    gid,
                    deadline + timedelta(seconds=1),
                    starts,
                )
            )
        if meeting.paper_chosen_by == "deadline" and meeting.proposal_id is not None:
            # the deadline's paper gets its card and thread as a /present would
            out.append(
                Due(
                    f"session:{sid}:card:{meeting.proposal_id}",
                    "card",
                    sid,
                    gid,
                    deadline + timedelta(seconds=1),
                    starts,
                )
            )
        hold = starts - catch_up.HOLD_FOR_PRESENTER
        for minutes in sorted(set(cfg.reminder_minutes or []), reverse=True):
            at = starts - timedelta(minutes=minutes)
            if presenter is None:
                at = max(at, hold)  # give the rotation a moment to name someone
            out.append(
                Due(
                    f"session:{sid}:channel-{offset_label(minutes)}",
                    "channel",
                    sid,
                    gid,
                    at,
                    starts,
                    minutes,
                )
            )
    if meeting.status != SessionStatus.CANCELLED:
        at = starts + timedelta(minutes=cfg.takeaways_after_minutes)
        out.append(Due(f"session:{sid}:takeaways", "takeaways", sid, gid, at, at + TAKEAWAYS_GRACE))
    return out


def _sessions_in_play(session: Session, group_id: int, now: datetime) -> list[MeetingSession]:
    return meeting_queries.live_sessions_since(
        session, group_id=group_id, since=now - TAKEAWAYS_GRACE - timedelta(days=1)
    )


def pending(*, session: Session, now: datetime) -> list[Due]:
    """Messages of every configured group not yet claimed (or waiting for a
    retry), due or not, soonest first."""
    items: list[Due] = []
    for group, cfg in schedule.configured_groups(session=session):
        assert group.id is not None
        for meeting in _sessions_in_play(session, group.id, now):
            items.extend(implied(meeting, cfg))
    if not items:
        return []
    keys = [d.key for d in items]
    taken: dict[str, Delivery] = deliveries_by_keys(session, keys=keys)
    legacy = catch_up.told_before(
        session=session,
        session_ids={d.session_id for d in items if d.kind == "assigned" and d.key not in taken},
    )
    out: list[Due] = []
    for d in items:
        if d.kind == "assigned" and d.session_id in legacy:
            continue
        claim = taken.get(d.key)
        if claim is None:
            out.append(d)
        elif claim.status == "retry" and claim.next_attempt_at is not None:
            out.append(
                Due(
                    d.key,
                    d.kind,
                    d.session_id,
                    d.group_id,
                    max(d.due_at, as_utc(claim.next_attempt_at)),
                    d.stale_at,
                    d.offset_minutes,
                    d.due_at,
                )
            )
    return sorted(out, key=lambda d: d.due_at)


def next_wakeup(*, session: Session, now: datetime) -> datetime | None:
    """When :func:`run_due` next has something to do (a message, a session
    ending), or None."""
    return _wakeup(session, now, pending(session=session, now=now))


def _wakeup(session: Session, now: datetime, items: list[Due]) -> datetime | None:
    """:func:`next_wakeup`, given what is pending."""
    times = [d.due_at for d in items if d.due_at > now]
    ends = meeting_queries.next_session_end(session, after=now)
    if ends is not None:
        times.append(as_utc(ends))
    lease = lease_ends(session=session, now=now)
    if lease is not None:
        times.append(max(lease, now))
    return min(times) if times else None


def maintain(*, session: Session, now: datetime) -> None:
    """Finish ended sessions, materialise the horizon, replan presenters."""
    for group, _cfg in schedule.configured_groups(session=session):
        assert group.id is not None
        schedule.lock_settings(session=session, group_id=group.id, now=now)
        schedule.finish_started(session=session, group_id=group.id, now=now)
        schedule.materialise(session=session, group_id=group.id, now=now)
        rotation.plan(session=session, group_id=group.id, now=now)
        catch_up.auto_pick(session=session, group_id=group.id, now=now)


def refresh_group(*, session: Session, group_id: int, now: datetime) -> None:
    """After a change to one group: sessions and presenters follow at once."""
    schedule.lock_settings(session=session, group_id=group_id, now=now)
    schedule.finish_started(session=session, group_id=group_id, now=now)
    schedule.materialise(session=session, group_id=group_id, now=now)
    rotation.plan(session=session, group_id=group_id, now=now)


# --- what each message says (builders in reminder_messages) -------------------


def _presenter(session: Session, meeting: MeetingSession) -> Member | None:
    if meeting.presenter_member_id is None:
        return None
    return session.get(Member, meeting.presenter_member_id)


def compose(*, session: Session, due: Due, now: datetime) -> Outbound | None:
    """Build the message for a claimed delivery (and apply what it implies:
    a message to the presenter fixes the presenter)."""
    meeting = session.get(MeetingSession, due.session_id)
    group = session.get(Group, due.group_id)
    cfg = session.get(GroupSettings, due.group_id)
    if meeting is None or group is None or cfg is None:
        return None
    if due.kind in ("nudge", "deadline", "assigned"):
        out = _to_presenter(session, due, meeting, group, cfg, now)
        if out is not None:
            meeting.pinned = True  # told: the fairness pass leaves this presenter alone
            session.add(meeting)
        return out
    if due.kind == "card":
        return _deadline_card(session, due, meeting)
    if due.kind == "channel":
        return _channel_reminder(session, due, meeting, group, cfg, now)
    if due.kind == "takeaways":
        what = paper_line(session, meeting) if meeting.proposal_id else "today's session"
        return messages.takeaways_prompt(group=group, cfg=cfg, thread=meeting.thread_id, what=what)
    return None


def _to_presenter(
    session: Session,
    due: Due,
    meeting: MeetingSession,
    group: Group,
    cfg: GroupSettings,
    now: datetime,
) -> Outbound | None:
    presenter = _presenter(session, meeting)
    if presenter is None:
        return None
    reply = presenter_messages.compose(
        session=session, kind=due.kind, meeting=meeting, cfg=cfg, due_at=due.due_at, now=now
    )
    return messages.to_presenter(group, presenter, reply) if reply is not None else None


def _deadline_card(session: Session, due: Due, meeting: MeetingSession) -> Outbound | None:
    # the deadline's pick (see session_card); a thread opened meanwhile
    # (a /present, a channel reminder) or another paper: nothing to post
    if meeting.thread_id is not None or meeting.paper_chosen_by != "deadline":
        return None
    card = session_card.card_for(session=session, session_id=due.session_id)
    return messages.card_post(*card) if card is not None else None


def _channel_reminder(
    session: Session,
    due: Due,
    meeting: MeetingSession,
    group: Group,
    cfg: GroupSettings,
    now: datetime,
) -> Outbound:
    entry = (
        proposals_svc.entry(session=session, proposal_id=meeting.proposal_id)
        if meeting.proposal_id is not None
        else None
    )
    return messages.channel_reminder(
        group=group,
        cfg=cfg,
        starts_at=meeting.starts_at,
        when=when_text(meeting, cfg),
        soon=catch_up.soon_text(as_utc(meeting.starts_at) - now, due.offset_minutes),
        presenter=_presenter(session, meeting),
        paper=paper_line(session, meeting),
        entry=entry,
        has_thread=meeting.thread_id is not None,
    )


def record_thread(
    *, session: Session, session_id: int, message_id: str | None, thread_id: str | None
) -> None:
    meeting = session.get(MeetingSession, session_id)
    if meeting is None:
        return
    if message_id and not meeting.card_message_id:
        meeting.card_message_id = message_id
    if thread_id and not meeting.thread_id:
        meeting.thread_id = thread_id
    session.add(meeting)


# --- the loop body ----------------------------------------------------------


@dataclass(frozen=True)
class _Start:
    """What a pass found in its first transaction."""

    retried: list[str]
    lost: list[str]
    pending: list[Due]
    #: Nothing due, retried or lost: the pass changes nothing, and ``wakeup``
    #: (read in the same transaction, when asked) is the next pass's time.
    quiet: bool
    wakeup: datetime | None


def _prepare(*, session: Session, now: datetime, wakeup: bool = False) -> _Start:
    """The start of a pass, in one transaction: :func:`maintain`, claims
    whose lease ran out made due again (or lost), then what is pending (and
    with ``wakeup``, for a pass with nothing to do, when the next one has)."""
    maintain(session=session, now=now)
    retried, lost = expire_leases(session=session, now=now)
    items = pending(session=session, now=now)  # autoflush: sees the above
    quiet = not retried and not lost and all(d.due_at > now for d in items)
    woken = _wakeup(session, now, items) if quiet and wakeup else None
    return _Start(retried, lost, items, quiet, woken)


@dataclass(frozen=True)
class Pass:
    sent: list[Sent]
    #: When the next pass has something to do (None: nothing scheduled).
    wakeup: datetime | None


async def run_pass(bot: Runtime) -> Pass:
    """:func:`run_due`, then when the next pass is due. A pass with nothing to
    do takes that time from its first transaction, not a second read of
    what every group has pending."""
    now = bot.clock.now()
    start = await bot.db(_prepare, now=now, wakeup=True)
    sent = await _run(bot, start, now)
    if start.quiet:
        return Pass(sent, start.wakeup)
    return Pass(sent, await bot.db(next_wakeup, now=bot.clock.now()))


async def run_due(bot: Runtime) -> list[Sent]:
    """Do everything due at ``bot.infra.clock.now()``; returns what this call sent.

    Each delivery (claim, compose, send, record) runs as its own task that a
    cancelled pass does not cut in half: on a clean stop it gets
    ``STOP_GRACE_SECONDS`` to finish, and a delivery still not done then
    hands its claim back (:func:`bot.schedule.claims.release`) instead of
    leaving it claimed forever.
    """
    now = bot.clock.now()
    return await _run(bot, await bot.db(_prepare, now=now), now)


async def _run(bot: Runtime, start: _Start, now: datetime) -> list[Sent]:
    retried, lost, everything = start.retried, start.lost, start.pending
    for key in retried:
        log.warning("%s was claimed by a sender that stopped before sending; retrying once", key)
    for key in lost:
        log.error("%s was cut off mid-send twice; not resending", key)
    due = [d for d in everything if d.due_at <= now]
    live: list[Due] = []
    for item in due:
        if now < item.stale_at:
            live.append(item)
        elif await bot.db(claim, due=item, now=now, status="skipped"):
            log.warning(
                "skipped %s: due %s, but the bot was not running then and its session has started",
                item.key,
                item.due_at.isoformat(),
            )
    send, superseded = catch_up.supersede(live)
    for item, by in superseded:
        if await bot.db(claim, due=item, now=now, status="skipped"):
            log.info("skipped %s: superseded by %s, due at the same time", item.key, by.key)
    sent: list[Sent] = []
    for item in send:
        task = asyncio.ensure_future(_deliver(bot, item, now))
        try:
            done = await asyncio.shield(task)
        except asyncio.CancelledError:
            # A clean stop in the middle of this delivery: let it finish (bounded);
            # a delivery that is still not done releases its claim when cancelled.
            finished, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
            if not finished:
                task.cancel()
                await asyncio.wait({task})
            raise
        if done is not None:
            sent.append(done)
    return sent


async def _deliver(bot: Runtime, item: Due, now: datetime) -> Sent | None:
    """Claim, compose, send and record one message."""
    if not await bot.db(claim, due=item, now=now):
        return None  # another replica (or an earlier run) has it
    posted: list[bool] = []
    try:
        out = await bot.db(compose, due=item, now=now)
        if out is not None and out.reply is not None:
            await _send(bot, item, out, posted)
    except asyncio.CancelledError:
        # Synchronous on purpose: a second cancellation must not stop it halfway.
        if posted:  # it is out (only opening its thread was cut off): never twice
            bot.db_sync(finish, key=item.key, now=now)
        else:
            bot.db_sync(release, key=item.key, now=now)
            log.warning("stopped before %s was sent; released its claim", item.key)
        raise
    except DeliveryError as exc:
        log.warning("could not deliver %s (%s); will retry", item.key, exc)
        await bot.db(finish, key=item.key, now=now, error=str(exc) or "delivery refused")
        return None
    except Exception as exc:
        log.exception("failed to prepare or send %s", item.key)
        await bot.db(finish, key=item.key, now=now, error=f"{type(exc).__name__}: {exc}")
        return None
    if out is None or out.reply is None:
        await bot.db(finish, key=item.key, now=now, status="nothing")
        return None
    await bot.db(finish, key=item.key, now=now)
    return Sent(item.key, item.kind, item.session_id, now > item.planned_at)


async def _send(bot: Runtime, item: Due, out: Outbound, posted: list[bool]) -> None:
    """Send ``out``; appends to ``posted`` once the platform has the message."""
    assert out.reply is not None
    if out.direct_to is not None:
        platform, workspace, user_id = out.direct_to
        await bot.messenger.direct(platform, workspace, user_id, out.reply)
        posted.append(True)
        return
    assert out.place is not None
    message_id = await bot.messenger.post(out.place, out.reply)
    posted.append(True)
    if out.open_thread and message_id:
        try:
            thread_id = await bot.messenger.open_thread(out.place, message_id, out.open_thread)
        except DeliveryError as exc:
            # The card is out: never post it again. Replies to it still form
            # its thread on Slack (thread = message ts); log for Discord.
            log.warning("posted the card for %s but could not open its thread: %s", item.key, exc)
            thread_id = None
        await bot.db(
            record_thread,
            session_id=item.session_id,
            message_id=message_id,
            thread_id=thread_id or message_id,
        )
