"""PostgreSQL restarted while the bot is working: it reconnects, and no command
is lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, func, select

from bot.app import Bot, build_bot
from bot.chat.events import Actor, Command, Place
from bot.infra.arxiv_client import ArxivClient
from bot.infra.settings import Settings
from storage.engine import make_engine, upgrade
from storage.papers.tables import Proposal, Vote
from tests.conftest import IN_CI
from tests.fakes.arxiv_server import FakeArxiv
from tests.own_postgres import OwnPostgres, own_postgres, unavailable

PLACE = Place("slack", "T1", "C1")
IDS = ["1605.08386", "1707.08567", "2104.12255", "hep-ex/0406020", "quant-ph/0201082"]


@pytest.fixture
def server() -> Iterator[OwnPostgres]:
    """A server of this test's own, so restarting it breaks no other test."""
    why = unavailable()
    if why:
        message = f"restarting PostgreSQL needs a server of the test's own: {why}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with own_postgres() as pg:
        yield pg


async def test_commands_survive_a_postgres_restart(
    server: OwnPostgres, fake_arxiv: FakeArxiv
) -> None:
    settings = Settings(DATABASE_URL=server.url, ARXIV_API_URL=fake_arxiv.url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(server.url)
    upgrade(engine)
    bot: Bot = build_bot(
        settings,
        engine=engine,
        migrate=False,
        arxiv=ArxivClient(api_url=fake_arxiv.url, min_interval=0.05, backoff=0.05),
    )

    async def propose(user: str, ref: str) -> None:
        replies = await bot.handle(
            Command("propose", ref, Actor("slack", user, user), PLACE), _ignore
        )
        assert replies, f"{user} {ref}: no reply"
        assert "went wrong" not in str(replies), f"{user} {ref}: {replies}"

    try:
        await propose("U0", IDS[0])  # pool warmed up, connections open
        started = _server_started(engine)
        restarting = asyncio.create_task(asyncio.to_thread(server.restart))
        users = [f"U{i}" for i in range(1, 11)]
        await asyncio.gather(
            *(_later(0.1 * i, propose(u, IDS[i % len(IDS)])) for i, u in enumerate(users))
        )
        await restarting
        await propose("U99", IDS[1])
        assert _server_started(engine) > started, "the server was not restarted"
        with Session(engine) as s:
            proposals = s.exec(select(func.count()).select_from(Proposal)).one()
            votes = s.exec(select(func.count()).select_from(Vote)).one()
        assert proposals == len(IDS)  # every paper once
        assert votes == 1 + len(users) + 1  # every user's proposal or vote counted once
    finally:
        await bot.aclose()
        engine.dispose()


def _server_started(engine: Engine) -> datetime:
    with engine.connect() as c:
        return c.execute(text("SELECT pg_postmaster_start_time()")).scalar_one()


async def _later(delay: float, coro) -> None:  # type: ignore[no-untyped-def]
    await asyncio.sleep(delay)
    await coro


async def _ignore(_reply: object) -> None:
    return None
