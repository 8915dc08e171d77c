"""PostgreSQL restarted while the bot is working: it reconnects, and no command
is lost or doubled."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.app import Bot, build_bot
from bot.chat.events import Actor, Command, Place
from bot.infra.arxiv_client import ArxivClient
from bot.infra.settings import Settings
from storage.engine import make_engine, upgrade
from storage.papers.tables import Proposal, Vote
from tests.conftest import IN_CI
from tests.fakes.arxiv_server import FakeArxiv

#: It restarts the server every PostgreSQL test uses: `make test` runs it alone,
#: after the parallel part.
pytestmark = pytest.mark.serial

PLACE = Place("slack", "T1", "C1")
IDS = ["1605.08386", "1707.08567", "2104.12255", "hep-ex/0406020", "quant-ph/0201082"]


def _cluster() -> tuple[str, str] | None:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    return (versions[-1], "main") if versions else None


def restart_postgres() -> None:
    cluster = _cluster()
    assert cluster is not None
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def restartable() -> None:
    if _cluster() is None or os.geteuid() != 0:
        message = "restarting PostgreSQL needs the local cluster (pg_ctlcluster) and root"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


async def test_commands_survive_a_postgres_restart(
    restartable: None, pg_schema_url: str, fake_arxiv: FakeArxiv
) -> None:
    settings = Settings(DATABASE_URL=pg_schema_url, ARXIV_API_URL=fake_arxiv.url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(pg_schema_url)
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
        restarting = asyncio.create_task(asyncio.to_thread(restart_postgres))
        users = [f"U{i}" for i in range(1, 11)]
        await asyncio.gather(
            *(_later(0.1 * i, propose(u, IDS[i % len(IDS)])) for i, u in enumerate(users))
        )
        await restarting
        await propose("U99", IDS[1])
        with Session(engine) as s:
            proposals = s.exec(select(func.count()).select_from(Proposal)).one()
            votes = s.exec(select(func.count()).select_from(Vote)).one()
        assert proposals == len(IDS)  # every paper once
        assert votes == 1 + len(users) + 1  # every user's proposal or vote counted once
    finally:
        await bot.aclose()
        engine.dispose()


async def _later(delay: float, coro) -> None:  # type: ignore[no-untyped-def]
    await asyncio.sleep(delay)
    await coro


async def _ignore(_reply: object) -> None:
    return None
