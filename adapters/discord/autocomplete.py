"""Autocomplete sources named by ``Option.autocomplete``.

Each is a plain function over a session (run with ``bot.db``, off the event
loop) returning (label, value) pairs; Discord shows at most 25.
"""

from __future__ import annotations

from sqlmodel import Session, select

from adapters.discord.inbound import PLATFORM, member_choices
from bot.chat.events import Place
from bot.papers import proposals as svc
from bot.papers.cards import title_of
from storage.groups.tables import Group, Member

MAX_CHOICES = 25
LABEL_MAX = 100


def open_proposals(*, session: Session, place: Place, typed: str) -> list[tuple[str, str]]:
    """Open proposals of the place's group: title -> arXiv id."""
    group = session.exec(
        select(Group).where(
            Group.platform == place.platform,
            Group.workspace == place.workspace,
            Group.channel == place.channel,
        )
    ).first()
    if group is None or group.id is None:
        return []
    entries, _ = svc.queue(session=session, group_id=group.id, limit=100)
    typed = typed.strip().lower()
    out: list[tuple[str, str]] = []
    for e in entries:
        title = title_of(e.paper)
        if typed and typed not in title.lower() and typed not in e.paper.arxiv_id:
            continue
        label = f"{title} ({e.paper.arxiv_id})"
        if len(label) > LABEL_MAX:
            label = f"{title[: LABEL_MAX - len(e.paper.arxiv_id) - 4]}… ({e.paper.arxiv_id})"
        out.append((label, e.paper.arxiv_id))
    return out[:MAX_CHOICES]


def members(*, session: Session, place: Place, typed: str) -> list[tuple[str, str]]:
    """Members the bot knows in this guild: display name -> mention."""
    rows = session.exec(
        select(Member).where(Member.platform == PLATFORM, Member.workspace == place.workspace)
    ).all()
    return member_choices([(m.user_id, m.name) for m in rows], typed)


SOURCES = {"open_proposals": open_proposals, "members": members}
