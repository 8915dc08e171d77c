"""Column helpers every table module uses."""

from __future__ import annotations

import sqlalchemy as sa


def ts(nullable: bool = False, index: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


def json_column(default: object) -> sa.Column:
    """A JSON column that is never NULL."""
    return sa.Column(sa.JSON, nullable=False, default=default)
