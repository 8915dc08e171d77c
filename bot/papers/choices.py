"""Open proposals as choices to pick from (Discord's autocomplete): the
adapter trims them to its platform's limits."""

from __future__ import annotations

from sqlmodel import Session

from bot.chat.events import Place
from bot.papers import proposals
from bot.papers.cards import title_of
from storage.groups.queries import group_at

#: The most open proposals looked through.
LOOKED_THROUGH = 100


def open_proposal_choices(*, session: Session, place: Place, typed: str) -> list[tuple[str, str]]:
    """(title, arXiv id) of the open proposals of the place's group, best
    first, whose title or id contains ``typed`` (any case)."""
    group = group_at(
        session, platform=place.platform, workspace=place.workspace, channel=place.channel
    )
    if group is None or group.id is None:
        return []
    entries, _ = proposals.queue(session=session, group_id=group.id, limit=LOOKED_THROUGH)
    typed = typed.strip().lower()
    out: list[tuple[str, str]] = []
    for e in entries:
        title = title_of(e.paper)
        if typed and typed not in title.lower() and typed not in e.paper.arxiv_id:
            continue
        out.append((title, e.paper.arxiv_id))
    return out
