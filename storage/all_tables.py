"""Imports every table module so the metadata (and Alembic) sees them all."""

from storage import tables  # noqa: F401
from storage import schedule_tables  # noqa: F401
from storage import digest_tables  # noqa: F401
