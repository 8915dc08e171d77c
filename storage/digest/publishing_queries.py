"""Queries of publishing a weekly post exactly once: the conditional updates
that claim a draft, hold and release its lease and mark it published, and
the parts recorded as posted (see ``bot.digest.publishing``).

Each update is conditional on the state the caller saw, and returns whether
it changed the row: that is how two presses (or two replicas) never both
hold a claim."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.digest.tables import DigestDraft, DigestPostPart, DraftStatus


def _changed_one(result: object) -> bool:
    return result.rowcount == 1  # type: ignore[attr-defined]  # a DML result is a CursorResult


def claim_open_draft(
    session: Session,
    *,
    draft_id: int,
    revision: int,
    actor_id: str,
    now: datetime,
    token: str,
    until: datetime,
) -> bool:
    """Claim an open draft whose newest revision is ``revision`` for
    publishing. Raises IntegrityError when another draft of the week is
    published or publishing (the unique index); the caller runs it in a
    savepoint."""
    result = session.execute(
        sa.update(DigestDraft)
        .where(
            col(DigestDraft.id) == draft_id,
            col(DigestDraft.status) == DraftStatus.DRAFT,
            col(DigestDraft.revision) == revision,
        )
        .values(
            status=DraftStatus.PUBLISHING,
            approved_by=actor_id,
            approved_at=now,
            publishing_revision=revision,
            publishing_token=token,
            publishing_until=until,
        )
    )
    return _changed_one(result)


def take_over_publishing(
    session: Session,
    *,
    draft_id: int,
    token_was: str | None,
    token: str,
    until: datetime,
) -> bool:
    """Take a publishing draft over from exactly the token the caller saw
    (None: a claim left without one), so only one taker wins."""
    token_col = col(DigestDraft.publishing_token)
    result = session.execute(
        sa.update(DigestDraft)
        .where(
            col(DigestDraft.id) == draft_id,
            col(DigestDraft.status) == DraftStatus.PUBLISHING,
            token_col.is_(None) if token_was is None else token_col == token_was,
        )
        .values(publishing_token=token, publishing_until=until)
    )
    return _changed_one(result)


def set_lease(session: Session, *, draft_id: int, token: str, until: datetime) -> bool:
    """Move the lease's end; False if ``token`` no longer holds the claim."""
    result = session.execute(
        sa.update(DigestDraft)
        .where(
            col(DigestDraft.id) == draft_id,
            col(DigestDraft.status) == DraftStatus.PUBLISHING,
            col(DigestDraft.publishing_token) == token,
        )
        .values(publishing_until=until)
    )
    return _changed_one(result)


def mark_published(
    session: Session,
    *,
    draft_id: int,
    now: datetime,
    channel: str,
    message_id: str | None,
) -> bool:
    result = session.execute(
        sa.update(DigestDraft)
        .where(col(DigestDraft.id) == draft_id, col(DigestDraft.status) == DraftStatus.PUBLISHING)
        .values(
            status=DraftStatus.PUBLISHED,
            published_at=now,
            published_channel=channel,
            published_message=message_id,
            publishing_token=None,
            publishing_until=None,
        )
    )
    return _changed_one(result)


def release_claim(session: Session, *, draft_id: int, token: str) -> bool:
    """The claim of ``token`` ends and the draft is an open draft again."""
    result = session.execute(
        sa.update(DigestDraft)
        .where(
            col(DigestDraft.id) == draft_id,
            col(DigestDraft.status) == DraftStatus.PUBLISHING,
            col(DigestDraft.publishing_token) == token,
        )
        .values(
            status=DraftStatus.DRAFT,
            approved_by=None,
            approved_at=None,
            publishing_revision=None,
            publishing_token=None,
            publishing_until=None,
        )
    )
    return _changed_one(result)


def posted_part_numbers(session: Session, *, draft_id: int) -> frozenset[int]:
    rows = session.exec(
        select(DigestPostPart.number).where(DigestPostPart.draft_id == draft_id)
    ).all()
    return frozenset(int(n) for n in rows)


def posted_parts(session: Session, *, draft_id: int) -> list[DigestPostPart]:
    """The parts recorded as posted, in order."""
    return list(
        session.exec(
            select(DigestPostPart)
            .where(DigestPostPart.draft_id == draft_id)
            .order_by(col(DigestPostPart.number))
        ).all()
    )


def publishing_drafts(session: Session) -> list[DigestDraft]:
    """Every draft claimed for publishing (lease live or lapsed)."""
    return list(
        session.exec(
            select(DigestDraft).where(col(DigestDraft.status) == DraftStatus.PUBLISHING)
        ).all()
    )
