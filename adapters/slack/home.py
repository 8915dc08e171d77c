"""The App Home tab: each of the viewer's groups (in their own team, where
they proposed, voted, joined the rotation or organize) with its next
sessions, the top of its queue, and the viewer's own next turn to present.

The schedule lives in another area; it is reached through the
``bot.schedule.week_sessions`` seam and only if that import works, so the
home tab still shows the queue while the schedule area is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from adapters.slack.render import render_block
from bot.chat.markup import bold, esc
from bot.chat.replies import Block, Context, Divider, Header, Text
from bot.infra.clock import as_utc
from bot.papers import proposals as svc
from bot.papers.cards import list_line
from storage.groups.tables import Group, Member
from storage.papers.tables import Paper, Proposal, Vote

HOME_BLOCKS_MAX = 100
GROUPS_SHOWN = 5
QUEUE_SHOWN = 5
SESSIONS_SHOWN = 3
LOOK_AHEAD = timedelta(days=42)


@dataclass
class GroupHome:
    channel: str
    #: (starts_at UTC, presenter name, paper title or "")
    sessions: list[tuple[datetime, str, str]] | None  # None: no schedule area
    queue: list[svc.Entry]
    queue_total: int
    my_turn: datetime | None = None


@dataclass
class HomeData:
    groups: list[GroupHome] = field(default_factory=list)


def _my_group_ids(session: Session, me: Member) -> set[int]:
    """The groups the viewer takes part in: proposed or voted there, is (or
    was) in its rotation, presents there, or is one of its listed organizers."""
    from storage.schedule.tables import MeetingSession, RotationMember

    queries = [
        select(Proposal.group_id).where(Proposal.member_id == me.id),
        select(Proposal.group_id)
        .join(Vote, col(Vote.proposal_id) == Proposal.id)
        .where(Vote.member_id == me.id),
        select(RotationMember.group_id).where(RotationMember.member_id == me.id),
        select(MeetingSession.group_id).where(MeetingSession.presenter_member_id == me.id),
    ]
    ids: set[int] = set()
    for query in queries:
        ids.update(session.exec(query.distinct()).all())
    listed = session.exec(
        select(Group).where(Group.platform == me.platform, Group.workspace == me.workspace)
    ).all()
    ids.update(g.id for g in listed if g.id is not None and me.user_id in (g.organizers or []))
    return ids


def load_home(*, session: Session, workspace: str, user_id: str, now: datetime) -> HomeData:
    """Everything the tab shows, read in one transaction: only the groups of
    the viewer's own team that they take part in (never other channels' queues)."""
    me = session.exec(
        select(Member).where(
            Member.platform == "slack", Member.workspace == workspace, Member.user_id == user_id
        )
    ).first()
    data = HomeData()
    if me is None:
        return data
    groups = session.exec(
        select(Group)
        .where(
            Group.platform == "slack",
            Group.workspace == workspace,
            col(Group.id).in_(_my_group_ids(session, me)),
        )
        .order_by(Group.id)  # type: ignore[arg-type]
        .limit(GROUPS_SHOWN)
    ).all()
    for group in groups:
        assert group.id is not None
        entries, total = svc.queue(session=session, group_id=group.id, limit=QUEUE_SHOWN)
        home = GroupHome(group.channel, None, entries, total)
        try:
            from bot.schedule.week_sessions import sessions_between
        except ImportError:
            sessions_between = None  # type: ignore[assignment]
        if sessions_between is not None:
            upcoming = sessions_between(
                session=session, group_id=group.id, start=now, end=now + LOOK_AHEAD
            )
            home.sessions = []
            for s in upcoming:
                paper = session.get(Paper, s.paper_id) if s.paper_id else None
                title = (paper.title or f"arXiv:{paper.arxiv_id}") if paper else ""
                if len(home.sessions) < SESSIONS_SHOWN:
                    home.sessions.append((as_utc(s.starts_at), s.presenter_name, title))
                if me is not None and s.presenter_member_id == me.id and home.my_turn is None:
                    home.my_turn = as_utc(s.starts_at)
        data.groups.append(home)
    return data


def _when(t: datetime) -> str:
    return t.strftime("%a %d %b %Y, %H:%M UTC")


def home_blocks(data: HomeData) -> list[Block]:
    """The tab as neutral blocks (rendered like any reply)."""
    blocks: list[Block] = [Header("Reading group")]
    if not data.groups:
        blocks.append(
            Text(
                "You're not in a reading group yet. In a channel, propose a paper with "
                "`/propose <arXiv link or id> [why]`, vote for one, or `/rotation join`, and "
                "that channel's group shows here. `/help` lists every command."
            )
        )
        return blocks
    for g in data.groups:
        blocks.append(Divider())
        blocks.append(Text(bold(f"#{esc(g.channel)}")))
        if g.sessions is not None:
            if g.my_turn is not None:
                blocks.append(Text(f"Your next turn to present: {bold(_when(g.my_turn))}"))
            if g.sessions:
                lines = [
                    f"• {esc(_when(t))} — {esc(who) or 'presenter to be decided'}"
                    + (f": {esc(title)}" if title else "")
                    for t, who, title in g.sessions
                ]
                blocks.append(Text(bold("Next sessions") + "\n" + "\n".join(lines)))
            else:
                blocks.append(Context("No sessions scheduled yet."))
        if g.queue:
            blocks.append(Text(bold("Top of the queue")))
            blocks.extend(Text(list_line(rank, e)) for rank, e in enumerate(g.queue, start=1))
            if g.queue_total > len(g.queue):
                blocks.append(Context(f"…and {g.queue_total - len(g.queue)} more: `/queue`."))
        else:
            blocks.append(Context("The queue is empty: `/propose <arXiv link or id>`."))
    return blocks


def home_view(data: HomeData) -> dict[str, Any]:
    """The ``views.publish`` view (at most 100 blocks)."""
    rendered: list[dict[str, Any]] = []
    for block in home_blocks(data):
        rendered.extend(render_block(block))
    return {"type": "home", "blocks": rendered[:HOME_BLOCKS_MAX]}
