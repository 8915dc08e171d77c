"""Autocomplete sources named by ``Option.autocomplete``.

Each is a plain function over a session (run with ``bot.db``, off the event
loop) returning (label, value) pairs within Discord's limits (at most 25, a
label at most 100 characters); the choices themselves come from the core.
"""

from __future__ import annotations

from sqlmodel import Session

from adapters.discord.inbound import member_choices
from bot.app import known_members, open_proposal_choices
from bot.chat.events import Place

MAX_CHOICES = 25
LABEL_MAX = 100


def open_proposals(*, session: Session, place: Place, typed: str) -> list[tuple[str, str]]:
    """Open proposals of the place's group: title -> arXiv id."""
    out: list[tuple[str, str]] = []
    for title, arxiv_id in open_proposal_choices(session=session, place=place, typed=typed):
        label = f"{title} ({arxiv_id})"
        if len(label) > LABEL_MAX:
            label = f"{title[: LABEL_MAX - len(arxiv_id) - 4]}… ({arxiv_id})"
        out.append((label, arxiv_id))
    return out[:MAX_CHOICES]


def members(*, session: Session, place: Place, typed: str) -> list[tuple[str, str]]:
    """Members the bot knows in this guild: display name -> mention."""
    return member_choices(known_members(session=session, place=place), typed)


SOURCES = {"open_proposals": open_proposals, "members": members}
