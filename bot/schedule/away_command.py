"""``/away``: dates a member cannot present (show, add, clear), for
oneself or, for organizers, for someone else."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.chat.dates import DateError, parse_period
from bot.chat.events import Command
from bot.chat.markup import esc, mention
from bot.chat.plural import plural
from bot.chat.replies import Reply, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who, split_first
from bot.groups.mentions import UnknownPerson, unknown_person
from bot.infra.runtime import Ctx
from bot.schedule import meetings as sched
from bot.schedule import rotation
from bot.schedule.command_context import (
    group_id_of,
    in_group,
    names_only_self,
    people_named,
    today_in,
)
from bot.schedule.reminders import refresh_group
from bot.schedule.scheduler import changed


def register(router: Router) -> None:
    router.command(
        "away",
        summary="Mark yourself away so the rotation passes you over (or `clear`).",
        example="/away 2026-12-01 2026-12-14",
        options=(Option("dates", "FROM TO, or words like next week, tomorrow"),),
    )(away)


async def away(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    reply = await in_group(ctx, _away, text=cmd.text)
    changed(ctx.bot)
    return reply


def _away(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    gid = group_id_of(who)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    today = today_in(cfg, now)
    target = who.member
    first_word, rest = split_first(text)
    if first_word.startswith(("<@", "@")):
        if not who.organizer and not names_only_self(who, first_word):
            return error("Only organizers mark other people away; `/away FROM TO` marks you.")
        stranger = unknown_person(
            session=session,
            text=first_word,
            platform=who.group.platform,
            workspace=who.group.workspace,
        )
        if stranger is not None:
            return error(stranger)
        try:
            people = people_named(session, who, first_word, now)
        except UnknownPerson as exc:
            return error(esc(str(exc)))
        target, text = people[0], rest
    assert target.id is not None
    if not text.strip():
        aways = rotation.aways_of(session=session, group_id=gid, member_id=target.id, today=today)
        if not aways:
            return say(f"No away dates. Add some with {sched.PERIOD_EXAMPLE}.", private=True)
        return say(
            "Away: "
            + ", ".join(f"{a.first_day} to {a.last_day}" for a in aways)
            + ". `/away clear` removes them.",
            private=True,
        )
    if text.strip().lower() in {"clear", "none", "back"}:
        n = rotation.clear_aways(session=session, group_id=gid, member_id=target.id, today=today)
        refresh_group(session=session, group_id=gid, now=now)
        return say(f"Cleared {plural(n, 'away period')}.", private=True)
    try:
        first, last = parse_period(text, today=today, examples=sched.PERIOD_EXAMPLE)
    except DateError as exc:
        return error(str(exc))
    if last < today:
        return error(f"That period ({first} to {last}) is over. Give dates from today on.")
    rotation.add_away(session=session, group_id=gid, member=target, first=first, last=last, now=now)
    refresh_group(session=session, group_id=gid, now=now)
    return say(
        f"{mention(target.user_id)} is away {first} to {last}; the rotation passes over "
        "those dates. `/schedule` shows the plan.",
        private=True,
    )
