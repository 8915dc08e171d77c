"""``DiscordMessenger``: the core's way to post unasked (cards after an arXiv
outage, reminders, published digests) through the connected client."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import aiohttp
import discord
from discord.utils import MISSING

from adapters.discord.components import files_for, view_for
from adapters.discord.render import DiscordMessage, render_reply
from bot.chat.events import Place
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Reply

if TYPE_CHECKING:
    from discord.abc import Messageable

log = logging.getLogger(__name__)

#: Discord error code: "A thread has already been created for this message".
THREAD_ALREADY_EXISTS = 160004
THREAD_NAME_MAX = 100
ONE_WEEK_MINUTES: Literal[10080] = 10080


#: What "Discord did not take it" looks like: a refusal, or no connection.
_FAILURES = (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError)


def _why(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"{exc.status} {exc.text}"
    return f"{type(exc).__name__}: {exc}"


async def send_all(channel: Messageable, messages: list[DiscordMessage]) -> list[int]:
    """Send rendered messages in order; returns their ids."""
    ids: list[int] = []
    for m in messages:
        view = view_for(m)
        sent = await channel.send(
            m.content or None,
            embeds=m.embeds,
            files=files_for(m) if m.files else MISSING,
            allowed_mentions=m.allowed_mentions,
            view=view if view is not None else MISSING,
        )
        ids.append(sent.id)
    return ids


class DiscordMessenger:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id))

    async def post(self, place: Place, reply: Reply) -> str | None:
        target = place.thread or place.channel
        try:
            ids = await send_all(self._channel(target), render_reply(reply))
        except _FAILURES as exc:
            raise DeliveryError(
                f"Discord refused a message to channel {target}: {_why(exc)}"
            ) from exc
        return str(ids[0]) if ids else None

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        try:
            dm = await self.client.create_dm(discord.Object(int(user_id)))
            ids = await send_all(dm, render_reply(reply))
        except _FAILURES as exc:
            raise DeliveryError(
                f"Discord refused a direct message to user {user_id}: {_why(exc)}"
            ) from exc
        return str(ids[0]) if ids else None

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        """Start a thread on a message. A thread started from a message has the
        message's id, so "already exists" still answers with the right id."""
        # The HTTP call directly: PartialMessage.create_thread insists on a
        # cached guild, which a message id from the database does not carry.
        try:
            data = await self.client.http.start_thread_with_message(
                int(place.channel),
                int(message_id),
                name=name[:THREAD_NAME_MAX] or "discussion",
                auto_archive_duration=ONE_WEEK_MINUTES,
                rate_limit_per_user=None,
            )
        except _FAILURES as exc:
            if isinstance(exc, discord.HTTPException) and exc.code == THREAD_ALREADY_EXISTS:
                return message_id
            raise DeliveryError(
                f"Discord refused to open a thread on message {message_id}: {_why(exc)}"
            ) from exc
        return str(data["id"])
