"""Members as choices to pick from (Discord's autocomplete)."""

from __future__ import annotations

from sqlmodel import Session

from bot.chat.events import Place
from storage.groups.queries import workspace_members


def known_members(*, session: Session, place: Place) -> list[tuple[str, str]]:
    """(user id, display name) of every member the bot knows in the place's
    workspace."""
    rows = workspace_members(session, platform=place.platform, workspace=place.workspace)
    return [(m.user_id, m.name) for m in rows]
