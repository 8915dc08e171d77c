"""Who and where, read for the views the adapters show (autocomplete, the
App Home, the console's thread): a group by its channel, a member by their
user id, everyone the bot knows in a workspace."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.groups.tables import Group, Member


def group_at(*, session: Session, platform: str, workspace: str, channel: str) -> Group | None:
    """The group of one channel, if it has one."""
    return session.exec(
        select(Group).where(
            Group.platform == platform,
            Group.workspace == workspace,
            Group.channel == channel,
        )
    ).first()


def member_by_user(
    *, session: Session, platform: str, workspace: str, user_id: str
) -> Member | None:
    return session.exec(
        select(Member).where(
            Member.platform == platform, Member.workspace == workspace, Member.user_id == user_id
        )
    ).first()


def workspace_members(*, session: Session, platform: str, workspace: str) -> list[Member]:
    """Every member the bot knows in one workspace (team or guild)."""
    return list(
        session.exec(
            select(Member).where(Member.platform == platform, Member.workspace == workspace)
        ).all()
    )
