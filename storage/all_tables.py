"""Imports every table module so the metadata (and Alembic) sees them all."""

from storage import (
    digest_tables,  # noqa: F401
    inbox_tables,  # noqa: F401
    schedule_tables,  # noqa: F401
    tables,  # noqa: F401
)
