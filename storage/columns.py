"""Column helpers every table module uses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.main import SQLModelConfig


class Table(SQLModel):
    """The base of every table model. Their pydantic validators are built at
    the first validation, not at import: a row is never validated through
    them (SQLModel constructs table models without it), and building them
    was a fifth of the ~40 ms the console spent defining its tables."""

    model_config = SQLModelConfig(defer_build=True)


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


# -- partial unique indexes --------------------------------------------------
# SQLAlchemy checks an index's ``postgresql_where`` by importing its whole
# PostgreSQL dialect (~16 ms, about 4% of the console's start-up) even in a
# process that only ever opens SQLite. So the PostgreSQL predicate is added
# when this process makes its first PostgreSQL engine (storage.engine), which
# imports that dialect anyway; an index declared after that gets it at once.
# The schema itself comes from the migrations, which name both predicates.
_PARTIAL: list[tuple[sa.Index, str]] = []
_on_postgresql = False


def partial_unique_index(name: str, *columns: str, where: str) -> sa.Index:
    """A unique index over the rows that match ``where`` (SQL), on both databases."""
    index = sa.Index(name, *columns, unique=True, sqlite_where=sa.text(where))
    _PARTIAL.append((index, where))
    if _on_postgresql:
        _add_predicate(index, where)
    return index


def add_postgresql_predicates() -> None:
    """Give every partial index its PostgreSQL predicate (see above)."""
    global _on_postgresql
    _on_postgresql = True
    for index, where in _PARTIAL:
        _add_predicate(index, where)


def _add_predicate(index: sa.Index, where: str) -> None:
    index.dialect_kwargs["postgresql_where"] = sa.text(where)
