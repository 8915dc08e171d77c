"""Queries on ``deliveries``: the claims on scheduled messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.papers.tables import Proposal
from storage.schedule.tables import Delivery, MeetingSession


def delivery_by_key(session: Session, *, key: str) -> Delivery | None:
    return session.exec(select(Delivery).where(Delivery.key == key)).first()


def the_delivery(session: Session, *, key: str) -> Delivery:
    """The delivery of ``key``; it must exist."""
    return session.exec(select(Delivery).where(Delivery.key == key)).one()


def reclaim_retry(session: Session, *, key: str, status: str, now: datetime) -> bool:
    """Claim a delivery waiting for a retry; True for exactly one caller."""
    result = session.execute(
        sa.update(Delivery)
        .where(col(Delivery.key) == key, col(Delivery.status) == "retry")
        .values(status=status, claimed_at=now, attempts=Delivery.attempts + 1)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def hand_back_claim(session: Session, *, key: str, now: datetime, error: str) -> bool:
    """A claimed delivery becomes due again now (a retry that does not count
    as an attempt); False if it was not claimed."""
    result = session.execute(
        sa.update(Delivery)
        .where(col(Delivery.key) == key, col(Delivery.status) == "claimed")
        .values(
            status="retry",
            next_attempt_at=now,
            attempts=sa.case((col(Delivery.attempts) > 0, Delivery.attempts - 1), else_=0),
            error=error,
        )
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def claims_before(session: Session, *, claimed_before: datetime) -> list[Delivery]:
    """Deliveries still claimed that were claimed before ``claimed_before``."""
    return list(
        session.exec(
            select(Delivery).where(
                Delivery.status == "claimed", col(Delivery.claimed_at) < claimed_before
            )
        ).all()
    )


def oldest_claim(session: Session) -> datetime | None:
    """When the oldest outstanding claim was taken."""
    return session.exec(
        select(sa.func.min(Delivery.claimed_at)).where(Delivery.status == "claimed")
    ).one()


def deliveries_by_keys(session: Session, *, keys: Sequence[str]) -> dict[str, Delivery]:
    return {
        d.key: d for d in session.exec(select(Delivery).where(col(Delivery.key).in_(keys))).all()
    }


def sent_deadline_messages(
    session: Session, *, session_ids: Sequence[int]
) -> list[tuple[int | None, datetime | None, datetime | None]]:
    """(session id, when its deadline message was sent, when its paper's
    status last changed) for the sessions' sent deadline messages."""
    rows = session.exec(
        select(MeetingSession.id, Delivery.sent_at, Proposal.status_changed_at)
        .join(Delivery, col(Delivery.session_id) == MeetingSession.id)
        .join(Proposal, col(Proposal.id) == MeetingSession.proposal_id)
        .where(
            col(MeetingSession.id).in_(session_ids),
            col(Delivery.key).in_([f"session:{i}:deadline" for i in session_ids]),
            Delivery.status == "sent",
        )
    ).all()
    return [(s, a, c) for s, a, c in rows]
