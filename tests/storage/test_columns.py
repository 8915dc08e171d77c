"""Table models are cheap to build: no field's default factory is a builtin
(``list``, ``dict``), whose signature pydantic parses from text on every
model built (a Paper took over 1 ms, inside the proposal's transaction)."""

from __future__ import annotations

import inspect

from sqlmodel import SQLModel

import storage.all_tables  # noqa: F401  (every table registered)


def _table_models() -> list[type[SQLModel]]:
    found: list[type[SQLModel]] = []
    pending = list(SQLModel.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "__table__", None) is not None and cls.__module__.startswith("storage."):
            found.append(cls)
    return found


def test_no_table_field_has_a_builtin_default_factory() -> None:
    models = _table_models()
    assert len(models) > 10
    builtin = [
        f"{model.__name__}.{name}"
        for model in models
        for name, info in model.model_fields.items()
        if info.default_factory is not None
        and (inspect.isbuiltin(info.default_factory) or isinstance(info.default_factory, type))
    ]
    assert builtin == []
