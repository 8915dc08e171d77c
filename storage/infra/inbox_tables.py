"""The inbox: every command or button press a platform handed us, stored
before we acknowledge it, until it has been handled and answered.

A chat platform that got its acknowledgment does not send again, so what is
acknowledged must survive the process. ``key`` is the platform's identity of
the delivery (for Slack the signed request, the event id or the Socket Mode
envelope): a retry or a replay of the same request finds the row and changes
nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from storage.columns import Table, empty_dict
from storage.papers.tables import _ts


class InboxItem(Table, table=True):
    """One accepted request. ``status``: pending (not handled and answered
    yet) or done. ``applied_at``/``effect``: the request's change to the data
    is committed (in the same transaction as the change), so handling it again
    after a crash answers instead of doing it twice."""

    __tablename__ = "inbox"
    __table_args__ = (sa.Index("ix_inbox_source_status", "source", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    source: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(
        default_factory=empty_dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    received_at: datetime = Field(sa_column=_ts())
    #: Whoever handles it holds it until then; after that anyone may take it.
    claimed_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    applied_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    effect: dict[str, Any] = Field(
        default_factory=empty_dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
