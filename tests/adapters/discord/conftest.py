"""Fixtures for the Discord adapter: the loopback fake Discord, settings that
point discord.py at it, and a running ``ReadgroupClient`` on the test's bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.client import ReadgroupClient
from bot.app import Bot
from bot.infra.settings import Settings
from tests.adapters.discord.helpers import check_all
from tests.fakes.discord_fake import FakeDiscord

TOKEN = "fake-bot-token"
StartClient = Callable[[], Awaitable[ReadgroupClient]]


@pytest.fixture(autouse=True)
def restore_endpoints() -> Iterator[None]:
    """The client points discord.py's class-level URLs at the fake; put the
    real ones back so no other test inherits them."""
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """The fake; afterwards every request the test caused is checked against
    Discord's OpenAPI spec and for allowed_mentions, whatever the test asserted."""
    fake = await FakeDiscord().start()
    yield fake
    await fake.close()
    check_all(fake)


@pytest.fixture
def settings(database_url: str, fake_arxiv: object, fake_discord: FakeDiscord) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        ARXIV_API_URL=fake_arxiv.url,  # type: ignore[attr-defined]
        READGROUP_ORGANIZERS="",
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_URL=fake_discord.api_url,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        DISCORD_GUILD_ID=str(fake_discord.guild_id),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def start_client(bot: Bot, tmp_path: Path) -> AsyncIterator[StartClient]:
    """Starts clients (logged in and READY) on the bot; closes them all after."""
    running: list[tuple[ReadgroupClient, asyncio.Task[None]]] = []

    async def start() -> ReadgroupClient:
        # guild_ready_timeout: discord.py waits this long for more GUILD_CREATEs
        # after READY; the fake sends its only guild at once.
        client = ReadgroupClient(
            bot, sync_state=tmp_path / "discord-commands.json", guild_ready_timeout=0.05
        )
        bot.messenger = client.messenger
        task = asyncio.create_task(client.start(TOKEN))
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when="FIRST_COMPLETED")
        if ready not in done:
            ready.cancel()
            if task.done():
                task.result()  # raise what stopped the client
            raise AssertionError("the client did not become ready within 10 s")
        running.append((client, task))
        return client

    yield start
    for client, task in running:
        await stop_client(client, task)


async def stop_client(client: ReadgroupClient, task: asyncio.Task[None] | None = None) -> None:
    await client.close()
    if task is not None:
        await asyncio.wait({task}, timeout=5)


@pytest.fixture
async def client(start_client: StartClient) -> ReadgroupClient:
    return await start_client()
