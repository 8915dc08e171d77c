"""What the schedule commands share: running a step in the actor's group,
and small readings of the group's settings and of the people a command names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.chat.events import Action, Command
from bot.chat.markup import mention
from bot.groups.context import Who, resolve
from bot.groups.mentions import parse_mentions, resolve_member
from bot.infra.clock import as_utc
from bot.infra.runtime import Ctx
from bot.schedule import meetings as sched
from storage.groups.tables import Member
from storage.schedule.tables import GroupSettings

NO_MEETING = (
    "This group has no meeting time yet. An organizer sets it with "
    f"`{sched.MEETING_EXAMPLE}` (weekday, local time, IANA time zone)."
)


async def in_group(ctx: Ctx, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Run ``fn(session=, who=, now=, **kwargs)`` in one transaction with the
    actor's group and member resolved."""
    bot, ev = ctx.bot, ctx.event
    assert isinstance(ev, Command | Action)
    now = bot.clock.now()

    def work(*, session: Session) -> Any:
        who = resolve(
            session=session, actor=ev.actor, place=ev.place, settings=bot.settings, now=now
        )
        return fn(session=session, who=who, now=now, **kwargs)

    return await bot.db(work)


def group_id_of(who: Who) -> int:
    assert who.group.id is not None
    return who.group.id


def name_or_nobody(member: Member | None) -> str:
    if member is None:
        return "_nobody available_"
    return mention(member.user_id)


def zone_of(cfg: GroupSettings) -> ZoneInfo:
    return sched.zone(cfg.timezone or "UTC")


def today_in(cfg: GroupSettings, now: datetime) -> date:
    return as_utc(now).astimezone(zone_of(cfg)).date()


def people_named(session: Session, who: Who, text: str, now: datetime) -> list[Member]:
    return [
        resolve_member(
            session=session,
            ref=ref,
            platform=who.group.platform,
            workspace=who.group.workspace,
            now=now,
        )
        for ref in parse_mentions(text)
    ]


def names_only_self(who: Who, text: str) -> bool:
    """Whether every person ``text`` names is the actor, decided before any
    member row is created (a refused request must change nothing)."""
    me = who.member
    own = {me.user_id.lower(), me.name.lower()} - {""}
    return all(
        ref.user_id == me.user_id or (not ref.exact and ref.name.lower() in own)
        for ref in parse_mentions(text)
    )
