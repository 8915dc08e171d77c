"""Buttons act only where they belong.

A button (or a form) carries the id of what it acts on: a proposal, a draft.
The router asks the action's *owner* lookup which group that entity belongs
to and checks, before any handler runs, that the button was pressed in that
group's workspace and in its channel or its announcement channel (where its
session cards go); a button from another channel, team or guild gets a
private refusal and changes nothing. Only actions registered with
``direct=True`` (the presenter nudge, which is a direct message) may also be
pressed in a direct message, on the same platform; their handlers still check
who may use them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.chat.events import Action, Place
from bot.chat.router import WRONG_PLACE, Owner
from storage.groups import queries as q
from storage.groups.tables import Group

__all__ = [
    "WRONG_PLACE",
    "Owner",
    "allowed_here",
    "announcement_place",
    "announcement_place_of",
    "check_place",
]


def announcement_place(group: Group, announce_channel: str, thread: str | None = None) -> Place:
    """Where a group's announcements (session cards, reminders, posts) go: its
    announcement channel if one is set, else its own channel."""
    return Place(group.platform, group.workspace, announce_channel or group.channel, thread)


def announcement_place_of(session: Session, group: Group) -> Place:
    """:func:`announcement_place`, reading the group's setting."""
    assert group.id is not None
    return announcement_place(group, q.announce_channel(session, group.id))


def channels_of(*, session: Session, group: Group) -> set[str]:
    """Where a group's buttons are shown: its channel and its announcement
    channel (session cards and posts go there)."""
    assert group.id is not None
    return {group.channel, q.announce_channel(session, group.id)} - {""}


def allowed_here(*, session: Session, place: Place, value: str, owner: Owner, direct: bool) -> bool:
    """Whether a button naming ``value`` may act when pressed at ``place``."""
    group_id = owner(session, value)
    group = session.get(Group, group_id) if group_id is not None else None
    if group is None:
        return True  # names nothing: the handler answers "no longer exists"
    if group.platform != place.platform:
        return False
    if place.direct:
        return direct
    return group.workspace == place.workspace and place.channel in channels_of(
        session=session, group=group
    )


async def check_place(bot: Any, action: Action, owner: Owner, direct: bool) -> bool:
    """The router's place check (wired in :func:`bot.app.build_router`)."""
    allowed: bool = await bot.db(
        allowed_here, place=action.place, value=action.value, owner=owner, direct=direct
    )
    return allowed
