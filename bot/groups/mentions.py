"""People named in command text, in every platform's syntax.

Slack sends ``<@U123>`` or ``<@U123|name>``, Discord ``<@123>`` or
``<@!123>``; the console (and anyone typing by hand) writes ``@name`` or a
plain name. One parser here so every command reads them the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.chat.events import Actor
from bot.chat.markup import esc, mention
from bot.groups.members import ensure_member
from storage.groups import queries as q
from storage.groups.tables import Member

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


def find_member(*, session: Session, user_id: str, platform: str, workspace: str) -> Member | None:
    """The member with this platform id, if the bot has seen them (never creates)."""
    return q.member_by_user_id(session, platform=platform, workspace=workspace, user_id=user_id)


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
        known = q.member_by_user_id(
            session, platform=platform, workspace=workspace, user_id=ref.user_id
        )
        if known is not None:
            return known
        actor = Actor(platform, ref.user_id, ref.name)
        return ensure_member(session=session, actor=actor, workspace=workspace, now=now)
    found = q.members_named(
        session, platform=platform, workspace=workspace, name=ref.name, user_id=ref.user_id
    )
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


_WHERE = {"slack": "this workspace", "discord": "this server"}


def unknown_person(*, session: Session, text: str, platform: str, workspace: str) -> str | None:
    """Why the first person named in ``text`` whom the bot has never seen
    can't be acted on (markup), or None if it knows them all.

    For ``/away @someone``: away dates only steer the rotation, which holds
    only people the bot knows, and a typo on the console (where a typed name
    is the id) must not create a member. Plain names elsewhere are left to
    :func:`resolve_member`, which refuses unknown ones itself."""
    for ref in parse_mentions(text):
        if not (ref.exact or platform == "console"):
            continue
        known = find_member(
            session=session, user_id=ref.user_id, platform=platform, workspace=workspace
        )
        if known is not None:
            continue
        add = (
            f"`/rotation add @{esc(ref.user_id)}`"
            if platform == "console"
            else "`/rotation add` and an @-mention of them"
        )
        return (
            f"I don't know {mention(ref.user_id)} yet: they need to use a command in "
            f"{_WHERE.get(platform, 'this group')} first, or an organizer adds them with "
            f"{add}. Then mark them away."
        )
    return None
