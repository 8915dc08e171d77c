"""The one INSERT … ON CONFLICT DO NOTHING RETURNING: a new row gives its id,
the same key again gives None, on both databases; the statement is built
once per table and database (the inbox write a Slack acknowledgment waits on
is one of these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage import insert_once as module
from storage.engine import session_scope
from storage.infra.inbox_tables import InboxItem
from storage.insert_once import insert_once

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def _add(session: Session, key: str, body: dict[str, object]) -> int | None:
    return insert_once(
        session,
        InboxItem,
        unique=["key"],
        returning=col(InboxItem.id),
        key=key,
        source="slack",
        kind="command",
        payload={"body": body},
        status="pending",
        attempts=1,
        received_at=NOW,
        claimed_until=NOW + timedelta(minutes=5),
        effect={},
    )


def test_a_new_row_gives_its_id_and_the_same_key_again_gives_none(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        first = _add(s, "slack:req:a", {"text": "2401.00001 ünïcode"})
        other = _add(s, "slack:req:b", {"text": "2401.00002"})
    with session_scope(engine) as s:
        again = _add(s, "slack:req:a", {"text": "something else"})
    assert first is not None and other is not None and first != other
    assert again is None
    with Session(engine) as s:
        rows = s.exec(select(InboxItem).order_by(col(InboxItem.id))).all()
    assert [(r.id, r.key) for r in rows] == [(first, "slack:req:a"), (other, "slack:req:b")]
    stored = rows[0]
    assert stored.payload == {"body": {"text": "2401.00001 ünïcode"}}  # the first, kept
    assert (stored.status, stored.attempts, stored.effect) == ("pending", 1, {})
    assert stored.received_at.replace(tzinfo=UTC) == NOW
    assert stored.claimed_until is not None
    assert stored.claimed_until.replace(tzinfo=UTC) == NOW + timedelta(minutes=5)


def test_the_statement_is_built_once_per_table_and_database(engine: sa.Engine) -> None:
    module._statement.cache_clear()
    for i in range(3):
        with session_scope(engine) as s:
            assert _add(s, f"slack:req:{i}", {}) is not None
    info = module._statement.cache_info()
    assert (info.misses, info.hits) == (1, 2)
