"""The permission and cross-group tests start from a copy of a world built
once per process (tests.world_snapshot). Here a copy is checked against a
world built afresh: the same rows in every table, the same sequences, the
same value, clock and messenger, so those tests see what a build would give."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.app import Bot, build_bot
from bot.chat.messenger import NullMessenger
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.infra.settings import Settings
from tests.conftest import migrated_engine, migrated_pg_schema
from tests.digest import conftest as digest_fixtures
from tests.digest.conftest import WEEK, at
from tests.reliability import test_cross_group, test_security_permissions
from tests.schedule.conftest import Recorder
from tests.world_snapshot import WorldSnapshots

sessions_patch = digest_fixtures.sessions_patch  # the digest's week, for the permissions world


@asynccontextmanager
async def _another_bot(
    bot: Bot, settings: Settings, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Bot]:
    """A bot like the ``bot`` fixture's, on another empty database of the same kind."""
    place = (
        nullcontext(f"sqlite:///{tmp_path / f'other-{id(object())}.db'}")
        if bot.engine.dialect.name == "sqlite"
        else migrated_pg_schema()
    )
    with place as url:
        engine = migrated_engine(url, tmp_path_factory)
        client = ArxivClient(api_url=settings.arxiv_api_url, min_interval=0.05, backoff=0.05)
        other = build_bot(
            settings, engine=engine, arxiv=client, messenger=NullMessenger(), migrate=False
        )
        other.clock = ManualClock(at(WEEK))
        other.messenger = Recorder()
        try:
            yield other
        finally:
            await other.aclose()
            engine.dispose()


def _state(bot: Bot) -> dict[str, Any]:
    """Every row (a draft's random run_id aside), the sequences, and what the
    world keeps in memory."""
    rows = test_security_permissions.dump(bot)
    rows["digest_drafts"] = sorted(
        ((*r[:7], "<run id>", *r[8:]) for r in rows["digest_drafts"]), key=repr
    )
    sequences: object = None
    if bot.engine.dialect.name == "postgresql":
        with bot.engine.connect() as conn:
            sequences = conn.execute(
                sa.text(
                    "select sequencename, last_value from pg_sequences"
                    " where schemaname = current_schema() order by 1"
                )
            ).all()
    return {
        "rows": rows,
        "sequences": sequences,
        "clock": bot.clock.now(),
        "messenger": repr(bot.messenger),
    }


@pytest.mark.parametrize("name", ["permissions", "cross-group"])
async def test_a_copied_world_is_the_one_a_build_gives(
    bot: Bot,
    settings: Settings,
    world_snapshots: WorldSnapshots,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
) -> None:
    build: Callable[[Bot], Awaitable[object]]
    if name == "permissions":
        # The digest's week is patched (one list for every bot here): each
        # build starts it empty, as the world fixture does.
        sessions: list[Any] = request.getfixturevalue("sessions_patch")

        async def build(b: Bot) -> object:
            sessions.clear()
            return await test_security_permissions._build(b, sessions)
    else:

        async def build(b: Bot) -> object:
            return await test_cross_group._groups(b)

    bot.clock = ManualClock(at(WEEK))
    bot.messenger = Recorder()
    built = await build(bot)  # afresh, not through the snapshots
    expected = _state(bot)

    async with AsyncExitStack() as stack:
        target = await stack.enter_async_context(
            _another_bot(bot, settings, tmp_path, tmp_path_factory)
        )
        made: list[Bot] = []

        async def build_target() -> object:
            made.append(target)
            return await build(target)

        copied = await world_snapshots.world(name, target, build_target)
        if made:  # this process had no saved world yet: that one was built, and saved
            target = await stack.enter_async_context(
                _another_bot(bot, settings, tmp_path, tmp_path_factory)
            )
            copied = await world_snapshots.world(name, target, _saved_already)
        assert copied == built
        assert _state(target) == expected


async def _saved_already() -> object:
    raise AssertionError("the world was saved: this database gets a copy")
