"""Accepted requests, kept until handled: the core-neutral half of the inbox.

An adapter stores each command or button press with :func:`accept` *before*
it acknowledges it, hands it to the core with the row's id, and calls
:func:`done` once the answer is out. :func:`due` finds what a dead process
left (its lease ran out) so the next pass finishes it.

Handling a request again after a crash must not do it twice: a handler that
changes data calls :func:`first_effect` in the same transaction as the
change. The first run marks the row applied (committed or rolled back with
the change); a later run sees the mark and the :func:`effect` it recorded,
and only answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from storage.infra import inbox as q
from storage.infra.inbox_tables import InboxItem

#: Done rows are kept this long so a retry or a replay still finds them
#: (Slack refuses requests signed more than 5 minutes ago).
KEEP_DONE = timedelta(days=1)


@dataclass(frozen=True)
class Accepted:
    id: int
    #: False: the same request was accepted before (a retry or a replay).
    new: bool


def accept(
    *,
    session: Session,
    key: str,
    source: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    lease: timedelta,
) -> Accepted:
    """Store a request under its unique ``key``, held by the caller for
    ``lease``; or find the earlier copy of it."""
    new_id = q.insert_item(
        session,
        key=key,
        source=source,
        kind=kind,
        payload=payload,
        now=now,
        claimed_until=now + lease,
    )
    if new_id is None:
        return Accepted(q.item_id_by_key(session, key), False)
    return Accepted(new_id, True)


def claim(*, session: Session, item_id: int, now: datetime, lease: timedelta) -> bool:
    """Take over a pending request whose holder's lease ran out."""
    return q.take_item_lease(session, item_id=item_id, now=now, lease=lease)


def due(*, session: Session, source: str, now: datetime, limit: int = 50) -> list[InboxItem]:
    """Pending requests of ``source`` nobody holds, oldest first."""
    return q.unheld_pending_items(session, source=source, now=now, limit=limit)


def done(*, session: Session, item_id: int, now: datetime) -> None:
    q.mark_done(session, item_id=item_id, now=now)


def forget_old(*, session: Session, now: datetime) -> int:
    """Drop done rows past :data:`KEEP_DONE`; returns how many."""
    return q.delete_done_before(session, now - KEEP_DONE)


def first_effect(*, session: Session, item_id: int | None, now: datetime) -> bool:
    """True if this is the first run of the request to change data (and marks
    it, in the caller's transaction); False on a run after a crash, when the
    change is already committed. Without an inbox row (console, tests): True."""
    if item_id is None:
        return True
    return q.mark_applied(session, item_id=item_id, now=now)


def record_effect(*, session: Session, item_id: int | None, effect: dict[str, Any]) -> None:
    """What the first run did, for a later run to answer from."""
    if item_id is not None:
        q.set_effect(session, item_id=item_id, effect=effect)


def effect(*, session: Session, item_id: int | None) -> dict[str, Any]:
    if item_id is None:
        return {}
    return q.effect_of(session, item_id)
