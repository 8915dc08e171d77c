"""Queries over the inbox (see :mod:`storage.infra.inbox_tables`).

Each is one statement in the caller's transaction; the lease and the applied
mark are conditional UPDATEs, so exactly one caller (process or replica) wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.infra.inbox_tables import InboxItem
from storage.insert_once import insert_once
from storage.leases import lease_free, take_lease


def insert_item(
    session: Session,
    *,
    key: str,
    source: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    claimed_until: datetime,
) -> int | None:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id: the new row's id,
    or None when a request is already stored under ``key``. One statement
    (no savepoint, no ORM flush): it is what an acknowledgment waits on."""
    found = insert_once(
        session,
        InboxItem,
        unique=["key"],
        returning=col(InboxItem.id),
        key=key,
        source=source,
        kind=kind,
        payload=payload,
        status="pending",
        attempts=1,
        received_at=now,
        claimed_until=claimed_until,
        effect={},
    )
    return int(found) if found is not None else None


def item_id_by_key(session: Session, key: str) -> int:
    """The id of the request stored under ``key`` (it must exist)."""
    found = session.exec(select(InboxItem.id).where(InboxItem.key == key)).one()
    assert found is not None
    return found


def take_item_lease(session: Session, *, item_id: int, now: datetime, lease: timedelta) -> bool:
    """Hold a pending request for ``lease`` if its lease is free, counting the
    attempt; True for exactly one caller at a time."""
    return take_lease(
        session,
        InboxItem,
        item_id,
        until=col(InboxItem.claimed_until),
        now=now,
        lease=lease,
        where=(col(InboxItem.status) == "pending",),
        values={"attempts": InboxItem.attempts + 1},
    )


def unheld_pending_items(
    session: Session, *, source: str, now: datetime, limit: int
) -> list[InboxItem]:
    """Pending requests of ``source`` nobody holds, oldest first."""
    return list(
        session.exec(
            select(InboxItem)
            .where(
                InboxItem.source == source,
                InboxItem.status == "pending",
                lease_free(col(InboxItem.claimed_until), now),
            )
            .order_by(col(InboxItem.id))
            .limit(limit)
        ).all()
    )


def mark_done(session: Session, *, item_id: int, now: datetime) -> None:
    session.execute(
        sa.update(InboxItem)
        .where(col(InboxItem.id) == item_id)
        .values(status="done", done_at=now, claimed_until=None)
    )


def delete_done_before(session: Session, before: datetime) -> int:
    """Drop the done rows finished before ``before``; returns how many."""
    result = session.execute(
        sa.delete(InboxItem).where(col(InboxItem.status) == "done", col(InboxItem.done_at) < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_applied(session: Session, *, item_id: int, now: datetime) -> bool:
    """Set ``applied_at`` unless already set; True if this statement set it."""
    result = session.execute(
        sa.update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.applied_at).is_(None))
        .values(applied_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_effect(session: Session, *, item_id: int, effect: dict[str, Any]) -> None:
    session.execute(sa.update(InboxItem).where(col(InboxItem.id) == item_id).values(effect=effect))


def effect_of(session: Session, item_id: int) -> dict[str, Any]:
    found = session.exec(select(InboxItem.effect).where(InboxItem.id == item_id)).first()
    return dict(found or {})
