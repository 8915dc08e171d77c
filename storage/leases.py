"""Leases: a row's duty (send this card, handle this request) taken by one
worker for a while, with one conditional UPDATE.

Whoever's UPDATE matches holds the lease until ``until``; a worker that dies
holding it simply lets it run out, and the next pass (another replica, or
this process restarted) takes the duty over. Unlike a claim that is final
(``deliveries``), a lease is right where doing the duty twice is harmless or
guarded, and never doing it is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session


def lease_free(until: Any, now: datetime) -> sa.ColumnElement[bool]:
    """The lease column is unset or has run out."""
    return sa.or_(until.is_(None), until <= now)


def take_lease(
    session: Session,
    table: Any,
    row_id: int,
    *,
    until: Any,
    now: datetime,
    lease: timedelta,
    where: tuple[sa.ColumnElement[bool], ...] = (),
    values: dict[str, Any] | None = None,
) -> bool:
    """Hold row ``row_id`` of ``table`` until ``now + lease`` if its lease
    (column ``until``) is free and ``where`` holds; True for exactly one caller
    at a time."""
    result = session.execute(
        sa.update(table)
        .where(table.id == row_id, lease_free(until, now), *where)
        .values({until.key: now + lease, **(values or {})})
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
