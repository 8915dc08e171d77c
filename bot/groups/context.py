"""Small helpers shared by handler modules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.chat.events import Actor, Place
from bot.groups.members import ensure_group, ensure_member, is_organizer
from bot.infra.settings import Settings
from storage.groups.tables import Group, Member


@dataclass(frozen=True)
class Who:
    group: Group
    member: Member
    organizer: bool


def resolve(
    *, session: Session, actor: Actor, place: Place, settings: Settings, now: datetime
) -> Who:
    """The group of the place and the member of the actor, created on first use."""
    group = ensure_group(session=session, place=place, now=now)
    member = ensure_member(session=session, actor=actor, workspace=place.workspace, now=now)
    organizer = is_organizer(
        actor=actor, group=group, configured=settings.organizers, workspace=place.workspace
    )
    return Who(group, member, organizer)


_SLACK_WRAPPED = re.compile(r"^\s*<([^<>]*)>")


def split_first(text: str) -> tuple[str, str]:
    """First argument and the rest; a Slack ``<url|label>`` counts as one argument."""
    text = text.strip()
    m = _SLACK_WRAPPED.match(text)
    if m:
        return m.group(0).strip(), text[m.end() :].strip()
    head, _, rest = text.partition(" ")
    return head, rest.strip()


def shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Row ids are 32-bit integers on PostgreSQL (``serial``).
_MAX_ROW_ID = 2**31 - 1


def row_id(value: str) -> int | None:
    """The row id a button carries, or None if the value cannot be one.

    Button values come back from the platform and can be anything (an old
    message, a hand-made payload): only ASCII digits in the database's
    integer range are ids, so ``"²"`` or ``"99999999999"`` gets the
    "broken button" answer instead of a failed query."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= _MAX_ROW_ID else None
