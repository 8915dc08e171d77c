"""People named in command text, in every platform's syntax.

Slack sends ``<@U123>`` or ``<@U123|name>``, Discord ``<@123>`` or
``<@!123>``; the console (and anyone typing by hand) writes ``@name`` or a
plain name. One parser here so every command reads them the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.events import Actor
from bot.services.groups import ensure_member
from storage.tables import Member

_TOKEN = re.compile(r"<[^<>]*>|\S+")
_PLATFORM_MENTION = re.compile(r"<@!?([A-Za-z0-9_.\-]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class MentionRef:
    """A person as written in a command: a platform user id when the platform
    gave one (``exact``), else the name typed."""

    user_id: str
    name: str
    exact: bool


class UnknownPerson(ValueError):
    """A plain name that matches nobody; the message says how to name them."""


def parse_mentions(text: str) -> list[MentionRef]:
    """Every person in ``text``, in order (duplicates kept)."""
    out: list[MentionRef] = []
    for token in _TOKEN.findall(text):
        m = _PLATFORM_MENTION.fullmatch(token)
        if m:
            out.append(MentionRef(m.group(1), (m.group(2) or "").strip(), True))
            continue
        name = token.strip(",;").removeprefix("@")
        if name:
            out.append(MentionRef(name, name, False))
    return out


def resolve_member(
    *, session: Session, ref: MentionRef, platform: str, workspace: str, now: datetime
) -> Member:
    """The member row for a mention, created if the platform gave an id.

    A plain name is looked up among known members (by name or id); on the
    console, where names are the ids, an unknown name becomes a new member.
    """
    if ref.exact:
        actor = Actor(platform, ref.user_id, ref.name)
        return ensure_member(session=session, actor=actor, workspace=workspace, now=now)
    if platform == "console":
        # A typed name is the id here; it must not overwrite a display name.
        known = session.exec(
            select(Member).where(
                Member.platform == platform,
                Member.workspace == workspace,
                Member.user_id == ref.user_id,
            )
        ).first()
        if known is not None:
            return known
        actor = Actor(platform, ref.user_id, ref.name)
        return ensure_member(session=session, actor=actor, workspace=workspace, now=now)
    found = session.exec(
        select(Member).where(
            Member.platform == platform,
            Member.workspace == workspace,
            (func.lower(Member.name) == ref.name.lower()) | (Member.user_id == ref.user_id),
        )
    ).all()
    if len(found) == 1:
        return found[0]
    if not found:
        raise UnknownPerson(
            f"I don't know anyone called “{ref.name}” here yet. Mention them with @ "
            "(pick them from the list your chat app offers) so I get their account."
        )
    raise UnknownPerson(
        f"Several people are called “{ref.name}”. Mention the one you mean with @ "
        "(pick them from the list your chat app offers)."
    )
