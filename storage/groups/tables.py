"""Groups and members: who and where.

Every change here needs an Alembic migration in ``storage/migrations/versions``
(``tests/storage/test_migrations.py`` fails when the two drift apart).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from storage.columns import Table, empty_list
from storage.columns import ts as _ts


class Group(Table, table=True):
    """A reading group: one channel on one platform, created on first use."""

    __tablename__ = "groups"
    __table_args__ = (sa.UniqueConstraint("platform", "workspace", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    channel: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    #: One sentence on who the group is (the quarterly digest opens with it).
    about: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    organizers: list[str] = Field(
        default_factory=empty_list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    created_at: datetime = Field(sa_column=_ts())


class Member(Table, table=True):
    """A platform user as seen in one workspace/guild."""

    __tablename__ = "members"
    __table_args__ = (sa.UniqueConstraint("platform", "workspace", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_column=_ts())
