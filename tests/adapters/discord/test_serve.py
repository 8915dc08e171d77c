"""Start-up: command sync policy, the token check, the CLI message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.cli import main
from adapters.discord.serve import serve_discord
from bot.app import Bot
from bot.infra.settings import Settings, SettingsError
from tests.adapters.discord.conftest import StartClient, stop_client
from tests.adapters.discord.helpers import check_all
from tests.fakes.discord_fake import FakeDiscord


async def test_global_commands_sync_only_when_the_command_set_changes(
    start_client: StartClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    bot.settings = bot.settings.model_copy(update={"discord_guild_id": None})
    route = rf"/applications/{fake_discord.app_id}/commands"

    first = await start_client()
    assert first.sync_result == "global"
    assert len(fake_discord.find("PUT", route)) == 1
    await stop_client(first)

    second = await start_client()
    assert second.sync_result == "unchanged"
    assert len(fake_discord.find("PUT", route)) == 1
    await stop_client(second)

    async def noop(ctx: object) -> None:
        return None

    bot.router.command("ping", summary="Check the bot answers.", example="/ping")(noop)
    third = await start_client()
    assert third.sync_result == "global"
    puts = fake_discord.find("PUT", route)
    assert len(puts) == 2 and "ping" in [c["name"] for c in puts[-1].body]
    assert not fake_discord.find("PUT", r"/applications/\d+/guilds/\d+/commands")
    check_all(fake_discord)


async def test_without_a_gateway_url_the_gateway_comes_from_get_gateway_bot(
    start_client: StartClient, fake_discord: FakeDiscord, bot: Bot, settings: Settings
) -> None:
    bot.settings = Settings(
        DATABASE_URL=settings.database_url,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_URL=fake_discord.api_url,
        DISCORD_GUILD_ID=str(fake_discord.guild_id),
        _env_file=None,  # type: ignore[call-arg]
    )
    client = await start_client()
    assert client.is_ready()
    assert fake_discord.find("GET", "/gateway/bot")
    assert fake_discord.identifies  # connected to the URL the fake's API named
    check_all(fake_discord)


def test_serve_without_a_token_says_where_to_get_one() -> None:
    with pytest.raises(SettingsError) as info:
        serve_discord(Settings(_env_file=None))  # type: ignore[call-arg]
    message = str(info.value)
    assert "DISCORD_TOKEN" in message and "discord.com/developers/applications" in message


def test_cli_serve_discord_without_a_token_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["serve", "discord"]) == 2
    assert "DISCORD_TOKEN" in capsys.readouterr().err


async def test_a_refused_token_stops_start_up_with_a_clear_message(
    settings: Settings, fake_discord: FakeDiscord
) -> None:
    wrong = settings.model_copy(update={"discord_token": SecretStr("not-the-token")})
    with pytest.raises(SettingsError, match="Discord refused DISCORD_TOKEN"):
        await asyncio.wait_for(asyncio.to_thread(serve_discord, wrong), 20)
    assert fake_discord.find("GET", "/users/@me")
