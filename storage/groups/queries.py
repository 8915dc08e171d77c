"""Queries over groups and members (and the group's announcement channel)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.groups.tables import Group, Member
from storage.schedule.tables import GroupSettings


def group_at(session: Session, *, platform: str, workspace: str, channel: str) -> Group | None:
    """The group of a channel, if anyone used the bot there."""
    return session.exec(
        select(Group).where(
            Group.platform == platform,
            Group.workspace == workspace,
            Group.channel == channel,
        )
    ).first()


def member_by_user_id(
    session: Session, *, platform: str, workspace: str, user_id: str
) -> Member | None:
    return session.exec(
        select(Member).where(
            Member.platform == platform,
            Member.workspace == workspace,
            Member.user_id == user_id,
        )
    ).first()


def members_named(
    session: Session, *, platform: str, workspace: str, name: str, user_id: str
) -> Sequence[Member]:
    """Members of a workspace whose display name is ``name`` (case-insensitive)
    or whose id is ``user_id``."""
    return session.exec(
        select(Member).where(
            Member.platform == platform,
            Member.workspace == workspace,
            (func.lower(Member.name) == name.lower()) | (Member.user_id == user_id),
        )
    ).all()


def announce_channel(session: Session, group_id: int) -> str:
    """The channel a group's session cards and posts go to ("" if unset)."""
    cfg = session.get(GroupSettings, group_id)
    return cfg.announce_channel if cfg is not None else ""


def all_groups(session: Session) -> list[Group]:
    """Every group, oldest first (the CLI lists them for ``--group``)."""
    return list(session.exec(select(Group).order_by(col(Group.id))).all())


def workspace_members(session: Session, *, platform: str, workspace: str) -> list[Member]:
    """Every member the bot knows in one workspace (team or guild)."""
    return list(
        session.exec(
            select(Member).where(Member.platform == platform, Member.workspace == workspace)
        ).all()
    )
