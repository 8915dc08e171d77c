"""Sending rendered replies through the Slack Web API.

:class:`SlackMessenger` is the core's :class:`bot.chat.messenger.Messenger` for
Slack (late cards, reminders, published posts) and also the low-level sender
that interactive replies use. Every refusal from Slack (``ratelimited`` after
the client's own Retry-After retries, ``channel_not_found``, ``invalid_auth``,
…) is logged with Slack's error code and raised as
:class:`~bot.chat.messenger.DeliveryError`, so the caller keeps the work and
retries later instead of crashing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import file_comment, render, render_one
from bot.chat.events import Place
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Reply

log = logging.getLogger(__name__)

#: Slack message metadata type of the bot's tagged messages (paper cards).
METADATA_TYPE = "readgroup_message"


def slack_error(exc: BaseException) -> str:
    """Slack's error code (``channel_not_found``) or a short description."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return f"{type(exc).__name__}: {exc}"


class SlackMessenger:
    """Posts with ``chat.postMessage``; DMs via ``conversations.open``; a
    thread on Slack is just the root message's ts, so ``open_thread`` needs
    no API call."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def _call(self, what: str, coro: Any) -> Any:
        try:
            return await coro
        except (
            SlackApiError,
            SlackRequestError,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as exc:
            code = slack_error(exc)
            log.error("Slack refused %s: %s", what, code)
            raise DeliveryError(f"Slack refused {what}: {code}") from exc

    async def post(self, place: Place, reply: Reply) -> str | None:
        """Post every part of the reply; returns the first part's ts. A tagged
        reply carries its tag in the message metadata, so :meth:`find_posted`
        can tell later whether it went out."""
        first: str | None = None
        for n, message in enumerate(render(reply)):
            extra: dict[str, Any] = {}
            if reply.tag and n == 0:
                extra["metadata"] = {
                    "event_type": METADATA_TYPE,
                    "event_payload": {"tag": reply.tag},
                }
            resp = await self._call(
                f"chat.postMessage to {place.channel}",
                self.client.chat_postMessage(
                    channel=place.channel,
                    thread_ts=place.thread,
                    unfurl_links=False,
                    **message,
                    **extra,
                ),
            )
            first = first or resp.get("ts")
        return first

    async def find_posted(self, place: Place, tag: str, since: datetime) -> str | None:
        """The ts of a message tagged ``tag`` the bot posted in the channel
        since ``since`` (from its metadata), or None. Raises DeliveryError
        when Slack cannot tell."""
        cursor: str | None = None
        while True:
            resp = await self._call(
                f"conversations.history of {place.channel}",
                self.client.conversations_history(
                    channel=place.channel,
                    oldest=f"{since.timestamp() - 1:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                ),
            )
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == METADATA_TYPE and payload.get("tag") == tag:
                    return str(message.get("ts"))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not resp.get("has_more") or not cursor:
                return None

    async def dm_channel(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with a user."""
        resp = await self._call(
            f"conversations.open with {user_id}", self.client.conversations_open(users=user_id)
        )
        channel = (resp.get("channel") or {}).get("id")
        if not channel:
            raise DeliveryError(f"Slack opened no DM channel with {user_id}")
        return str(channel)

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        channel = await self.dm_channel(user_id)
        if reply.files:
            await self.upload(channel, reply)
            return None
        return await self.post(Place(platform, workspace, channel), reply)

    async def upload(self, channel: str, reply: Reply, *, thread: str | None = None) -> None:
        """Share the reply's files in a channel (files upload v2: get an upload
        URL, send the bytes, complete), with the reply's text as the comment."""
        await self._call(
            f"files upload to {channel}",
            self.client.files_upload_v2(
                file_uploads=[
                    {"content": f.content, "filename": f.name, "title": f.name} for f in reply.files
                ],
                channel=channel,
                thread_ts=thread,
                initial_comment=file_comment(reply),
            ),
        )

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        return message_id

    async def update(self, channel: str, ts: str, reply: Reply) -> str:
        """Replace exactly one message the bot posted, never adding others (a
        card updated on every vote must not grow); see `render_one`."""
        await self._call(
            f"chat.update of {ts}",
            self.client.chat_update(channel=channel, ts=ts, **render_one(reply)),
        )
        return ts

    async def ephemeral(
        self, channel: str, user_id: str, reply: Reply, *, thread: str | None = None
    ) -> None:
        """Only ``user_id`` sees it, in the channel where they acted."""
        for message in render(reply):
            await self._call(
                f"chat.postEphemeral to {user_id} in {channel}",
                self.client.chat_postEphemeral(
                    channel=channel, user=user_id, thread_ts=thread, **message
                ),
            )
