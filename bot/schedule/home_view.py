"""A member's home (Slack's App Home tab): each of the viewer's groups (in
their own team, where they proposed, voted, joined the rotation or organize)
with its next sessions, the top of its queue, and the viewer's own next turn
to present, as neutral blocks the adapter renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.chat.markup import bold, esc
from bot.chat.replies import Block, Context, Divider, Header, Text
from bot.infra.clock import as_utc
from bot.papers import proposals
from bot.papers.cards import list_line, title_of
from bot.schedule.week_sessions import sessions_between
from storage.groups.queries import member_by_user_id
from storage.papers.tables import Paper
from storage.schedule.home_queries import group_ids_taking_part, groups_in

GROUPS_SHOWN = 5
QUEUE_SHOWN = 5
SESSIONS_SHOWN = 3
LOOK_AHEAD = timedelta(days=42)


@dataclass
class GroupHome:
    channel: str
    #: (starts_at UTC, presenter name, paper title or "")
    sessions: list[tuple[datetime, str, str]] | None  # None: no schedule shown
    queue: list[proposals.Entry]
    queue_total: int
    my_turn: datetime | None = None


@dataclass
class HomeData:
    groups: list[GroupHome] = field(default_factory=list)


def load_home(
    *, session: Session, platform: str, workspace: str, user_id: str, now: datetime
) -> HomeData:
    """Everything the home shows, read in one transaction: only the groups of
    the viewer's own team that they take part in (never other channels' queues)."""
    me = member_by_user_id(session, platform=platform, workspace=workspace, user_id=user_id)
    data = HomeData()
    if me is None:
        return data
    groups = groups_in(
        session=session,
        platform=platform,
        workspace=workspace,
        ids=group_ids_taking_part(session=session, member=me),
        limit=GROUPS_SHOWN,
    )
    for group in groups:
        assert group.id is not None
        entries, total = proposals.queue(session=session, group_id=group.id, limit=QUEUE_SHOWN)
        shown: list[tuple[datetime, str, str]] = []
        home = GroupHome(group.channel, shown, entries, total)
        upcoming = sessions_between(
            session=session, group_id=group.id, start=now, end=now + LOOK_AHEAD
        )
        for s in upcoming:
            paper = session.get(Paper, s.paper_id) if s.paper_id else None
            title = title_of(paper) if paper else ""
            if len(shown) < SESSIONS_SHOWN:
                shown.append((as_utc(s.starts_at), s.presenter_name, title))
            if s.presenter_member_id == me.id and home.my_turn is None:
                home.my_turn = as_utc(s.starts_at)
        data.groups.append(home)
    return data


def _when(t: datetime) -> str:
    return f"{t:%a} {t.day} {t:%b %Y, %H:%M} UTC"  # no leading zero


def home_blocks(data: HomeData) -> list[Block]:
    """The home as neutral blocks (rendered like any reply)."""
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
