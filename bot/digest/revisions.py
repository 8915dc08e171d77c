"""A weekly post's drafts and their revisions as stored: a new draft (revision
1), the newest revision, a new revision (the old ones stay), discarding, and
a week's published post. Publishing itself is :mod:`bot.digest.publishing`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.digest.summaries import RunStats
from storage.digest import queries
from storage.digest.tables import DigestDraft, DigestRevision, DraftStatus
from storage.groups.tables import Group


@dataclass(frozen=True)
class DraftView:
    """A draft with its newest revision, for the organizer's private preview."""

    draft: DigestDraft
    revision: DigestRevision
    group: Group


def new_draft(
    *,
    session: Session,
    group_id: int,
    week: str,
    actor_id: str,
    title: str,
    body: str,
    stats: RunStats,
    now: datetime,
) -> DraftView:
    draft = DigestDraft(
        group_id=group_id,
        week=week,
        created_by=actor_id,
        created_at=now,
        revision=1,
        run_id=stats.run_id,
        llm_calls=stats.calls,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        summaries_reused=stats.reused,
        quotes_dropped=stats.drops.quotes_dropped,
        sentences_dropped=stats.drops.sentences_dropped,
    )
    session.add(draft)
    session.flush()
    assert draft.id is not None
    rev = DigestRevision(
        draft_id=draft.id,
        number=1,
        source="generated",
        author=actor_id,
        title=title,
        body=body,
        created_at=now,
    )
    session.add(rev)
    session.flush()
    group = session.get(Group, group_id)
    assert group is not None
    return DraftView(draft, rev, group)


def load_view(*, session: Session, draft_id: int) -> DraftView | None:
    draft = session.get(DigestDraft, draft_id)
    if draft is None:
        return None
    rev = queries.newest_revision(session, draft_id=draft_id)
    group = session.get(Group, draft.group_id)
    assert rev is not None and group is not None
    return DraftView(draft, rev, group)


class DraftClosed(Exception):
    """The draft was published or discarded; it cannot change any more."""


def add_revision(
    *,
    session: Session,
    draft_id: int,
    title: str,
    body: str,
    source: str,
    author: str,
    now: datetime,
    stats: RunStats | None = None,
) -> DraftView:
    """Keep a new revision (the old ones stay); only while the draft is open.
    The draft row is locked first, so two saves at once number their
    revisions one after the other instead of one failing on the same number."""
    draft = session.get(DigestDraft, draft_id, with_for_update=True)
    if draft is None or draft.status != DraftStatus.DRAFT:
        raise DraftClosed(draft.status if draft else "missing")
    for _attempt in range(5):
        number = queries.last_revision_number(session, draft_id=draft_id) + 1
        rev = DigestRevision(
            draft_id=draft_id,
            number=number,
            source=source,
            author=author,
            title=title,
            body=body,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(rev)
            break
        except IntegrityError:  # SQLite has no row lock: the other save took the number
            continue
    else:  # pragma: no cover
        raise RuntimeError(f"could not number a new revision of draft {draft_id}")
    draft.revision = number
    if stats is not None:
        draft.run_id = stats.run_id
        draft.llm_calls += stats.calls
        draft.prompt_tokens += stats.prompt_tokens
        draft.completion_tokens += stats.completion_tokens
        draft.summaries_reused = stats.reused
        draft.quotes_dropped = stats.drops.quotes_dropped
        draft.sentences_dropped = stats.drops.sentences_dropped
    session.add(draft)
    session.flush()
    group = session.get(Group, draft.group_id)
    assert group is not None
    return DraftView(draft, rev, group)


def discard(*, session: Session, draft_id: int) -> bool:
    """Discard the draft if it is still open; False if it was not."""
    return queries.discard_open_draft(session, draft_id=draft_id)


def published_of_week(*, session: Session, group_id: int, week: str) -> DraftView | None:
    """The week's published post, else its newest open draft."""
    for statuses in ((DraftStatus.PUBLISHED,), (DraftStatus.DRAFT, DraftStatus.PUBLISHING)):
        draft = queries.newest_draft_of_week(
            session, group_id=group_id, week=week, statuses=statuses
        )
        if draft is not None and draft.id is not None:
            return load_view(session=session, draft_id=draft.id)
    return None
