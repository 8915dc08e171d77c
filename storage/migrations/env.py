"""Alembic environment: the engine comes from ``storage.engine.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.all_tables  # noqa: F401  (registers every table on the metadata)
from storage.papers.search import include_object

config = context.config
target_metadata = SQLModel.metadata


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from bot.infra.settings import Settings
        from storage.engine import make_engine

        engine = make_engine(Settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
