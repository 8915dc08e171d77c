"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.world_snapshot import WorldSnapshots


@pytest.fixture(scope="session")
def world_snapshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorldSnapshots]:
    """The worlds this process built, copied for each test that starts from
    one (see tests.world_snapshot); their PostgreSQL schemas dropped at the end."""
    with ExitStack() as stack:
        yield WorldSnapshots(tmp_path_factory.mktemp("worlds"), stack)
