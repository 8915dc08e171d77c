"""``/rotation``: the presenter roster (list, join, leave, add, remove),
swapping two presenters' next sessions, and passing on the next turn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.chat.events import Command
from bot.chat.markup import bold, esc, mention
from bot.chat.plural import plural
from bot.chat.replies import Context, Header, Reply, Text, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who, split_first
from bot.groups.mentions import UnknownPerson
from bot.infra.runtime import Ctx
from bot.papers import proposals as proposals_svc
from bot.papers.cards import title_of
from bot.schedule import meetings as sched
from bot.schedule import rotation
from bot.schedule.command_context import (
    group_id_of,
    in_group,
    name_or_nobody,
    names_only_self,
    people_named,
    today_in,
)
from bot.schedule.reminders import refresh_group, when_text
from bot.schedule.scheduler import changed
from storage.groups.tables import Member
from storage.papers.tables import ProposalStatus


def register(router: Router) -> None:
    router.command(
        "rotation",
        summary="The presenter rotation: join, leave, add/remove @user, swap @a @b, skip.",
        example="/rotation swap @alice @bob",
        options=(
            Option(
                "action",
                "join, leave, add, remove, swap or skip",
                choices=("join", "leave", "add", "remove", "swap", "skip"),
            ),
            Option("people", "who, e.g. @alice (swap takes two)", autocomplete="members"),
        ),
    )(rotation_cmd)


async def rotation_cmd(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    sub, rest = split_first(cmd.text)
    sub = sub.lower()
    handlers: dict[str, Callable[..., Reply]] = {
        "": _list_rotation,
        "list": _list_rotation,
        "join": _join,
        "leave": _leave,
        "add": _add,
        "remove": _remove,
        "swap": _swap,
        "skip": _skip_turn,
    }
    fn = handlers.get(sub)
    if fn is None:
        return error(
            f"`/rotation {esc(sub)}` is not something I know. Use `/rotation` to see it, or "
            "`join`, `leave`, `add @user`, `remove @user`, `swap @a @b`, `skip`."
        )
    reply = await in_group(ctx, fn, text=rest)
    changed(ctx.bot)
    return reply


def _list_rotation(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    gid = group_id_of(who)
    refresh_group(session=session, group_id=gid, now=now)
    people = rotation.roster(session=session, group_id=gid)
    if not people:
        return say(
            "Nobody is in the rotation yet. Join with `/rotation join`; organizers add "
            "others with `/rotation add @user`."
        )
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    counts = rotation.presentation_counts(session=session, group_id=gid, now=now)
    today = today_in(cfg, now)
    lines = []
    for i, e in enumerate(people, start=1):
        assert e.member.id is not None
        nxt = rotation.next_session_of(
            session=session, group_id=gid, member_id=e.member.id, now=now
        )
        aways = rotation.aways_of(session=session, group_id=gid, member_id=e.member.id, today=today)
        bits = [f"presented {counts.get(e.member.id, 0)}×"]
        if nxt is not None:
            bits.append(f"next {esc(when_text(nxt, cfg))}")
        if aways:
            bits.append("away " + ", ".join(f"{a.first_day}–{a.last_day}" for a in aways))
        lines.append(f"{i}. {mention(e.member.user_id)} · " + " · ".join(bits))
    blocks = (
        Header(f"Rotation: {plural(len(people), 'member')}"),
        Text("\n".join(lines)),
        Context(
            "Next presenter: whoever presented least recently among those available; "
            "ties by this order."
        ),
    )
    return Reply(blocks=blocks)


def _join(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if text.strip():
        return error("To add someone else use `/rotation add @user` (organizers).")
    added = rotation.join(session=session, group_id=group_id_of(who), member=who.member, now=now)
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    if not added:
        return say("You're already in the rotation. `/rotation` shows it.", private=True)
    return say(f"{mention(who.member.user_id)} joined the presenter rotation.")


def _leave(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    removed = rotation.leave(session=session, group_id=group_id_of(who), member=who.member, now=now)
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    if not removed:
        return say("You're not in the rotation. `/rotation join` adds you.", private=True)
    return say(
        f"{mention(who.member.user_id)} left the rotation; their upcoming sessions go to "
        "the next in turn."
    )


def _add(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer and not names_only_self(who, text):
        return error("Only organizers add other people. Ask them to run `/rotation join`.")
    try:
        people = people_named(session, who, text, now)
    except UnknownPerson as exc:
        return error(esc(str(exc)))
    if not people:
        return error("Who? `/rotation add @alice` (you can name several).")
    added = [
        p
        for p in people
        if rotation.join(session=session, group_id=group_id_of(who), member=p, now=now)
    ]
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    if not added:
        return say("They're already in the rotation.", private=True)
    return say("Added to the rotation: " + ", ".join(mention(p.user_id) for p in added) + ".")


def _remove(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer and not names_only_self(who, text):
        return error("Only organizers remove other people; `/rotation leave` removes yourself.")
    try:
        people = people_named(session, who, text, now)
    except UnknownPerson as exc:
        return error(esc(str(exc)))
    if not people:
        return error("Who? `/rotation remove @alice`.")
    removed = [
        p
        for p in people
        if rotation.leave(session=session, group_id=group_id_of(who), member=p, now=now)
    ]
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    if not removed:
        return say("They're not in the rotation.", private=True)
    return say(
        "Removed from the rotation: "
        + ", ".join(mention(p.user_id) for p in removed)
        + ". Their upcoming sessions go to the next in turn."
    )


def _swap(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer:
        return error("Only organizers swap presenters. Ask one to run `/rotation swap @a @b`.")
    try:
        people = people_named(session, who, text, now)
    except UnknownPerson as exc:
        return error(esc(str(exc)))
    if len(people) != 2:
        return error("Name exactly two people: `/rotation swap @alice @bob`.")
    gid = group_id_of(who)
    refresh_group(session=session, group_id=gid, now=now)
    try:
        s1, s2 = rotation.swap(session=session, group_id=gid, a=people[0], b=people[1], now=now)
    except sched.ScheduleError as exc:
        return error(esc(str(exc)))
    refresh_group(session=session, group_id=gid, now=now)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    return say(
        f"Swapped: {mention(people[1].user_id)} now presents {esc(when_text(s1, cfg))} and "
        f"{mention(people[0].user_id)} presents {esc(when_text(s2, cfg))}."
    )


def _skip_turn(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    gid = group_id_of(who)
    refresh_group(session=session, group_id=gid, now=now)
    nxt = next(
        (
            s
            for s in sched.upcoming(session=session, group_id=gid, now=now)
            if s.presenter_member_id is not None
        ),
        None,
    )
    if nxt is None:
        return error("There is no upcoming session with a presenter. `/schedule` shows the plan.")
    if nxt.presenter_member_id != who.member.id and not who.organizer:
        return error("Only the next presenter or an organizer can skip the next turn.")
    chosen = (
        proposals_svc.entry(session=session, proposal_id=nxt.proposal_id)
        if nxt.proposal_id is not None
        else None
    )
    meeting, passed = rotation.skip_next(session=session, group_id=gid, now=now)
    refresh_group(session=session, group_id=gid, now=now)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    passed_member = session.get(Member, passed)
    new = session.get(Member, meeting.presenter_member_id) if meeting.presenter_member_id else None
    paper = ""
    if chosen is not None and chosen.proposal.status == ProposalStatus.OPEN:  # released
        paper = (
            f" The paper they chose, {bold(esc(title_of(chosen.paper)))}, goes back to "
            "the queue; `/present` picks one for the session."
        )
    return say(
        f"{name_or_nobody(passed_member)} moves back; {esc(when_text(meeting, cfg))} is now "
        f"presented by {name_or_nobody(new)}.{paper}"
    )
