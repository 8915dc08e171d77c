"""``readgroup serve discord``: connect the bot to Discord's gateway."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from adapters.discord.client import ReadgroupClient
from adapters.network import unreachable
from bot.app import Bot, Settings, SettingsError, build_bot

log = logging.getLogger(__name__)

TOKEN_HELP = (
    "Get it at https://discord.com/developers/applications: pick (or create) your "
    "application, open Bot, press Reset Token and copy it. See the README's Discord section."
)


async def run_client(bot: Bot, token: str) -> None:
    """Run until the connection ends for good (or the task is cancelled)."""
    client = ReadgroupClient(bot, start_background=True)
    bot.messenger = client.messenger
    try:
        async with client:
            await client.start(token)
    finally:
        await bot.aclose()


def serve_discord(settings: Settings) -> int:
    settings.require("DISCORD_TOKEN", where=TOKEN_HELP)
    assert settings.discord_token is not None
    bot = build_bot(settings)
    try:
        asyncio.run(run_client(bot, settings.discord_token.get_secret_value()))
    except aiohttp.ClientConnectorError as exc:
        raise unreachable(
            "Discord", exc, setting="DISCORD_API_URL", url=settings.discord_api_url
        ) from None
    except discord.LoginFailure as exc:
        raise SettingsError(
            f"Discord refused DISCORD_TOKEN ({exc}). Copy a fresh token: {TOKEN_HELP}"
        ) from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise SettingsError(
            "Discord refused the Message Content intent. In the Developer Portal, open your "
            "application → Bot → Privileged Gateway Intents and switch on MESSAGE CONTENT "
            "INTENT, then start again."
        ) from exc
    return 0
