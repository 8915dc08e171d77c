"""Which group a digest button belongs to, for the router's place check
(see :mod:`bot.groups.places`)."""

from __future__ import annotations

from sqlmodel import Session

from bot.digest.drafts import parse_value
from storage.digest.tables import DigestDraft


def draft_owner(session: Session, value: str) -> int | None:
    button = parse_value(value)  # "draft:revision" (or an old "draft")
    draft = session.get(DigestDraft, button.draft_id) if button is not None else None
    return draft.group_id if draft is not None else None
