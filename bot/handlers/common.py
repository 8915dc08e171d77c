"""Small helpers shared by handler modules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from bot.events import Actor, Place
from bot.services.groups import ensure_group, ensure_member, is_organizer
from bot.settings import Settings
from storage.tables import Group, Member


@dataclass(frozen=True)
class Who:
    group: Group
    member: Member
    organizer: bool


def resolve(*, session: Session, actor: Actor, place: Place, settings: Settings, now) -> Who:  # type: ignore[no-untyped-def]
    """The group of the place and the member of the actor, created on first use."""
    group = ensure_group(session=session, place=place, now=now)
    member = ensure_member(session=session, actor=actor, workspace=place.workspace, now=now)
    return Who(
        group, member, is_organizer(actor=actor, group=group, configured=settings.organizers)
    )


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
