"""No configured secret ever reaches the logs.

One full run at DEBUG on every logger (ours and slack_bolt, slack_sdk,
discord, openai, httpx, httpcore, aiohttp, urllib3, asyncio …), through the
handler ``readgroup --verbose`` installs (bot.cli.setup_logging): Slack over
signed HTTP and over Socket Mode (including a badly signed request), Discord
over its gateway and REST API, and a digest drafted with the LLM. Every
secret has a distinctive value; none may appear anywhere in the log text.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest
from pydantic import SecretStr

from adapters.discord.client import ReadgroupClient
from adapters.slack.app import build_slack_app
from adapters.slack.client import make_web_client
from adapters.slack.serve import EVENTS_PATH, start_http, start_socket_mode
from bot import cli
from bot.app import Bot
from bot.chat.events import Command
from bot.digest import summaries
from bot.infra.clock import ManualClock
from bot.infra.llm import LlmClient
from bot.infra.settings import Settings
from tests.adapters.slack.conftest import command_body, sign
from tests.digest import conftest as digest_fixtures
from tests.digest.conftest import ORGANIZER, PLACE, WEEK, at, seed
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.openai_fake import OpenAIFake
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_socket import SocketModeServer

fake_llm = digest_fixtures.fake_llm
sessions_patch = digest_fixtures.sessions_patch

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-SECRETBOT-q7Zt4wKp",
    "SLACK_SIGNING_SECRET": "SECRETSIGN0a9b8c7d6e5f4a3b2c1d",
    "SLACK_APP_TOKEN": "xapp-1-SECRETAPP-r5Yx2mVn",
    "DISCORD_TOKEN": "SECRETDISCORD.Gx7Q2k.h9Lw3NvB8sTzR4pYc",
    "OPENAI_API_KEY": "sk-proj-SECRETOPENAI-m3Kd8sLq",
}
THIRD_PARTY = (
    "slack_bolt",
    "slack_sdk",
    "discord",
    "openai",
    "httpx",
    "httpcore",
    "aiohttp",
    "urllib3",
    "websockets",
    "asyncio",
    "arxiv",
    "apscheduler",
)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The production log set-up at --verbose, writing into a buffer."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {name: logging.getLogger(name).level for name in THIRD_PARTY}
    cli.setup_logging(verbose=True)
    buffer = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    pytest_handlers = [h for h in saved_root[0] if h not in root.handlers]
    root.handlers.extend(pytest_handlers)  # keep pytest's own capture working
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield buffer
    root.handlers[:], _ = saved_root
    root.setLevel(saved_root[1])
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(team_id="T111", admins={"UADMIN"})
    SocketModeServer(fake)
    async with fake:
        yield fake


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    fake = await FakeDiscord(token=SECRETS["DISCORD_TOKEN"]).start()
    yield fake
    await fake.close()
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
def secret_settings(
    settings: Settings, fake_slack: FakeSlack, fake_discord: FakeDiscord, fake_llm: OpenAIFake
) -> Settings:
    return settings.model_copy(
        update={
            "slack_api_url": fake_slack.url,
            "slack_bot_token": SecretStr(SECRETS["SLACK_BOT_TOKEN"]),
            "slack_signing_secret": SecretStr(SECRETS["SLACK_SIGNING_SECRET"]),
            "slack_app_token": SecretStr(SECRETS["SLACK_APP_TOKEN"]),
            "discord_token": SecretStr(SECRETS["DISCORD_TOKEN"]),
            "discord_api_url": fake_discord.api_url,
            "discord_gateway_url": fake_discord.gateway_url,
            "discord_guild_id": str(fake_discord.guild_id),
            "openai_api_key": SecretStr(SECRETS["OPENAI_API_KEY"]),
            "openai_base_url": fake_llm.url,
        }
    )


async def _slack_http(bot: Bot, settings: Settings, fake: FakeSlack) -> None:
    secret = SECRETS["SLACK_SIGNING_SECRET"]
    adapter = build_slack_app(bot, make_web_client(settings), signing_secret=secret)
    runner, port = await start_http(adapter, host="127.0.0.1", port=0)
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        async with aiohttp.ClientSession() as http:
            fake.fail("chat.postMessage", "invalid_auth")  # an error path logs too
            for text in ("propose 1605.08386 for the log test", "queue", "help"):
                name, _, rest = text.partition(" ")
                body = command_body(name, rest, response_url=fake.response_url(name))
                async with http.post(
                    url, data=body, headers={**form, **sign(body, secret=secret)}
                ) as r:
                    assert r.status == 200
            body = command_body("queue", "", response_url=fake.response_url("bad"))
            bad = sign(body, secret="not-the-secret")
            async with http.post(url, data=body, headers={**form, **bad}) as r:
                assert r.status == 401
            await fake.wait_for(lambda calls: len(calls) >= 3)
            await bot.drain(5.0)
    finally:
        await runner.cleanup()


async def _slack_socket(bot: Bot, settings: Settings, fake: FakeSlack) -> None:
    adapter = build_slack_app(bot, make_web_client(settings), signing_secret=None)
    handler = start_socket_mode(adapter, SECRETS["SLACK_APP_TOKEN"])
    await handler.connect_async()
    await fake.socket.connected()
    form = dict(parse_qsl(command_body("queue", "", response_url=fake.response_url("sock"))))
    envelope = await fake.socket.send("slash_commands", form)
    await fake.socket.ack(envelope)
    await bot.drain(5.0)
    await handler.close_async()


async def _discord(bot: Bot, fake: FakeDiscord, tmp: Path) -> None:
    client = ReadgroupClient(
        bot, sync_state=tmp / "discord-commands.json", guild_ready_timeout=0.05
    )
    messenger = bot.messenger
    bot.messenger = client.messenger
    task = asyncio.create_task(client.start(SECRETS["DISCORD_TOKEN"]))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        payload = fake.slash("queue", {})
        after = len(fake.requests)
        await fake.dispatch("INTERACTION_CREATE", payload)
        await fake.wait_for(lambda r: r.path.endswith("/callback"), after=after)
        await bot.drain(5.0)
    finally:
        await client.close()
        await asyncio.wait({task}, timeout=5)
        bot.messenger = messenger


async def _digest(
    bot: Bot,
    settings: Settings,
    fake_llm: OpenAIFake,
    sessions: list,  # type: ignore[type-arg]
) -> None:
    assert settings.openai_base_url and settings.openai_api_key
    client = LlmClient(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key.get_secret_value(),
        model="test-model",
        timeout=5.0,
    )
    summaries.set_llm(bot, client)
    clock = bot.clock
    bot.clock = ManualClock(at(WEEK))
    sessions.extend(seed(bot, sessions=2).sessions)
    fake_llm.fail(500, count=1)  # a retried error on the way

    async def ignore(_reply: object) -> None:
        return None

    [reply] = await bot.handle(Command("digest", WEEK.label, ORGANIZER, PLACE), ignore)
    assert "LLM call" in json.dumps(str(reply))
    await client.aclose()
    bot.clock = clock


async def test_a_full_run_logs_no_configured_secret(
    bot: Bot,
    secret_settings: Settings,
    fake_slack: FakeSlack,
    fake_discord: FakeDiscord,
    fake_llm: OpenAIFake,
    sessions_patch: list,  # type: ignore[type-arg]
    captured: io.StringIO,
    tmp_path: Path,
) -> None:
    bot.settings = secret_settings
    await _slack_http(bot, secret_settings, fake_slack)
    await _slack_socket(bot, secret_settings, fake_slack)
    await _discord(bot, fake_discord, tmp_path)
    await _digest(bot, secret_settings, fake_llm, sessions_patch)

    text = captured.getvalue()
    # The run really was logged at DEBUG by the libraries that see the secrets.
    for logger in ("slack_bolt", "slack_sdk", "discord", "openai", "httpx"):
        assert f" {logger}" in text, f"nothing logged by {logger}; the check proves little"
    assert len(fake_llm.requests) >= 2 and fake_llm.requests[0]["_auth"].endswith(
        SECRETS["OPENAI_API_KEY"]
    ), "the key was not even used"
    assert "invalid_auth" in text and "500" in text, "the error paths were not exercised"
    leaked = {name: value for name, value in SECRETS.items() if value in text}
    assert not leaked, f"secrets in the log: {sorted(leaked)}"
