"""Imports every table module so the metadata (and Alembic) sees them all."""

from storage.digest import tables as digest_tables  # noqa: F401
from storage.groups import tables as groups_tables  # noqa: F401
from storage.infra import inbox_tables  # noqa: F401
from storage.papers import tables as papers_tables  # noqa: F401
from storage.schedule import tables as schedule_tables  # noqa: F401
