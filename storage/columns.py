"""Column helpers every table module uses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def ts(nullable: bool = False, index: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


def json_column(default: object) -> sa.Column:
    """A JSON column that is never NULL."""
    return sa.Column(sa.JSON, nullable=False, default=default)


# pydantic asks every default factory, each time a model is built, whether it
# takes the validated data (``inspect.signature``); for a builtin such as
# ``list`` that parses its text signature with the tokenizer, ~0.25 ms a
# field: a Paper (three list fields) took over 1 ms to construct, inside the
# proposal's transaction, holding SQLite's write lock that the next request's
# inbox write (and so its acknowledgment) waits on. A Python function is
# answered in microseconds.
def empty_list() -> list[Any]:
    """``default_factory=list``, cheap to build models with (see above)."""
    return []


def empty_dict() -> dict[str, Any]:
    """``default_factory=dict``, cheap to build models with (see above)."""
    return {}
