"""What the App Home reads: the groups a member takes part in."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.groups.tables import Group, Member
from storage.papers.tables import Proposal, Vote
from storage.schedule.tables import MeetingSession, RotationMember


def group_ids_taking_part(*, session: Session, member: Member) -> set[int]:
    """The groups the member takes part in: proposed or voted there, is (or
    was) in its rotation, presents there, or is one of its listed organizers."""
    queries = [
        select(Proposal.group_id).where(Proposal.member_id == member.id),
        select(Proposal.group_id)
        .join(Vote, col(Vote.proposal_id) == Proposal.id)
        .where(Vote.member_id == member.id),
        select(RotationMember.group_id).where(RotationMember.member_id == member.id),
        select(MeetingSession.group_id).where(MeetingSession.presenter_member_id == member.id),
    ]
    ids: set[int] = set()
    for query in queries:
        ids.update(session.exec(query.distinct()).all())
    listed = session.exec(
        select(Group).where(Group.platform == member.platform, Group.workspace == member.workspace)
    ).all()
    ids.update(g.id for g in listed if g.id is not None and member.user_id in (g.organizers or []))
    return ids


def groups_in(
    *, session: Session, platform: str, workspace: str, ids: set[int], limit: int
) -> list[Group]:
    """The first ``limit`` of those groups (oldest first) in one workspace."""
    return list(
        session.exec(
            select(Group)
            .where(
                Group.platform == platform,
                Group.workspace == workspace,
                col(Group.id).in_(ids),
            )
            .order_by(Group.id)  # type: ignore[arg-type]
            .limit(limit)
        ).all()
    )
