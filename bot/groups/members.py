"""Groups and members, created on first use, and who counts as an organizer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.chat.events import Actor, Place
from storage.groups import queries as q
from storage.groups.tables import Group, Member


def ensure_group(*, session: Session, place: Place, now: datetime) -> Group:
    """The group for a channel, created the first time anyone uses the bot there."""
    where = {"platform": place.platform, "workspace": place.workspace, "channel": place.channel}
    group = q.group_at(session, **where)
    if group is not None:
        return group
    try:
        with session.begin_nested():
            group = Group(
                platform=place.platform,
                workspace=place.workspace,
                channel=place.channel,
                created_at=now,
            )
            session.add(group)
    except IntegrityError:  # created concurrently by another request or replica
        group = q.group_at(session, **where)
        assert group is not None
    return group


def ensure_member(*, session: Session, actor: Actor, workspace: str, now: datetime) -> Member:
    """The member row for a user; keeps their display name fresh."""
    who = {"platform": actor.platform, "workspace": workspace, "user_id": actor.user_id}
    member = q.member_by_user_id(session, **who)
    if member is None:
        try:
            with session.begin_nested():
                member = Member(
                    platform=actor.platform,
                    workspace=workspace,
                    user_id=actor.user_id,
                    name=actor.name,
                    created_at=now,
                )
                session.add(member)
        except IntegrityError:
            member = q.member_by_user_id(session, **who)
            assert member is not None
    elif actor.name and member.name != actor.name:
        member.name = actor.name
        session.add(member)
    return member


def is_organizer(
    *, actor: Actor, group: Group | None, configured: frozenset[str], workspace: str
) -> bool:
    """Organizer = named in READGROUP_ORGANIZERS, in the group's list, or an
    admin as the platform reports it. Admin rights count only for groups of
    the actor's own workspace (``actor.workspace``, else ``workspace``: the
    Slack team / Discord guild of the event), so an admin of one team
    organizes nothing in another."""
    if actor.user_id in configured:
        return True
    if group is None:
        return False
    admin_of = actor.workspace or workspace
    if actor.is_admin and group.platform == actor.platform and group.workspace == admin_of:
        return True
    return actor.user_id in (group.organizers or [])
