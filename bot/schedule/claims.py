"""Claims on scheduled messages: taken under a unique key before sending,
held under a lease, released on a clean stop.

A claim is the duty of sending one message. It ends in one of three ways:

* the sender records how it went (:func:`finish`): sent, nothing to say, or
  a refusal by the platform (retried with back-off);
* the sender is stopped cleanly in the middle (the console's input ends, a
  server shuts down): it gives the delivery a bounded moment to finish and
  otherwise hands the claim back (:func:`release`), so the next run sends it;
* the sender dies (killed, power cut): the claim's lease runs out after
  :data:`CLAIM_LEASE` and the message is retried once (:func:`expire_leases`),
  as long as it still makes sense (the usual staleness rules of the pass
  apply). A claim that expires a second time is marked ``lost`` and logged,
  not tried again: twice cut off mid-send points at the message itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.infra.clock import as_utc
from storage.schedule import delivery_queries as q
from storage.schedule.tables import Delivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: A claim not recorded as finished after this was cut off (its sender died).
#: Far longer than any send takes, so a live sender's claim is never taken.
CLAIM_LEASE = timedelta(minutes=10)
#: How many times an expired claim is tried again before it counts as lost.
LEASE_RETRIES = 1


class _Due(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def session_id(self) -> int: ...


def claim(*, session: Session, due: _Due, now: datetime, status: str = "claimed") -> bool:
    """Take the duty of sending ``due``; True for exactly one caller ever
    (or, for a retry, for one caller per attempt)."""
    existing = q.delivery_by_key(session, key=due.key)
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    Delivery(
                        key=due.key,
                        session_id=due.session_id,
                        status=status,
                        claimed_at=now,
                        attempts=1,
                    )
                )
                session.flush()
        except IntegrityError:
            return False
        return True
    if existing.status != "retry":
        return False
    return q.reclaim_retry(session, key=due.key, status=status, now=now)


def finish(
    *, session: Session, key: str, now: datetime, error: str = "", status: str = "sent"
) -> None:
    """Record how a claimed delivery ended: sent, nothing (nothing to say any
    more), or an error (retried with backoff, up to ``MAX_ATTEMPTS``)."""
    row = q.the_delivery(session, key=key)
    if not error:
        row.status, row.sent_at, row.error = status, now, ""
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.error = "failed", error
        log.error("giving up on %s after %d attempts: %s", key, row.attempts, error)
    else:
        row.status, row.error = "retry", error
        row.next_attempt_at = now + timedelta(minutes=min(2 ** (row.attempts - 1), 30))
    session.add(row)


def release(*, session: Session, key: str, now: datetime) -> bool:
    """Hand back a claim whose sender is stopping before it could send: the
    next run (this process restarted, or another replica) sends it. The
    attempt does not count against ``MAX_ATTEMPTS``."""
    return q.hand_back_claim(
        session, key=key, now=now, error="released: the bot stopped before sending it"
    )


def expire_leases(*, session: Session, now: datetime) -> tuple[list[str], list[str]]:
    """Claims whose lease ran out (their sender died between claiming and
    recording): the first expiry makes them due again now, a later one marks
    them ``lost``. Returns (retried keys, lost keys)."""
    rows = q.claims_before(session, claimed_before=now - CLAIM_LEASE)
    retried: list[str] = []
    lost: list[str] = []
    for row in rows:
        if row.lease_expiries < LEASE_RETRIES:
            row.status, row.next_attempt_at = "retry", now
            row.error = "the sender stopped between claiming and sending; retrying once"
            retried.append(row.key)
        else:
            row.status = "lost"
            row.error = "the sender stopped between claiming and sending, twice"
            lost.append(row.key)
        row.lease_expiries += 1
        session.add(row)
    return retried, lost


def lease_ends(*, session: Session, now: datetime) -> datetime | None:
    """When the earliest outstanding claim's lease runs out (a wake-up)."""
    oldest = q.oldest_claim(session)
    if oldest is None:
        return None
    return as_utc(oldest) + CLAIM_LEASE + timedelta(seconds=1)
