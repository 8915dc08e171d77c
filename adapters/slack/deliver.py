"""Where the replies to one interaction go.

The rules, and why:

* **Public** replies are posted with ``chat.postMessage`` so they are the
  bot's own messages with a ``ts``: a card can then be updated in place
  (``chat.update`` when someone votes) and can hold a discussion thread. A
  ``response_url`` post with ``in_channel`` returns no ts and cannot be edited
  by the bot later, so it is only the fallback when the bot is not in the
  channel (``not_in_channel``/``channel_not_found``).
* **Private** replies (errors, answers only the actor should see) go through
  the interaction's ``response_url`` as ``ephemeral``; events and modal
  submissions have none, so ``chat.postEphemeral`` is used there.
* **replace**: ``chat.update`` of the message the button was on; a button on
  an ephemeral message (which ``chat.update`` cannot reach) uses
  ``response_url`` with ``replace_original``. Where neither works (a modal
  opened from an ephemeral message, an expired response_url) the new version
  is shown to the user ephemerally rather than lost.
* **files** (a calendar export): uploaded with files upload v2, never pasted;
  a private reply's files go to the user's direct messages (a file in a
  channel is public) with an ephemeral pointer where they asked. If Slack
  refuses the upload (no ``files:write`` scope), the content comes as text.
* **form**: ``views.open`` with the trigger_id of the action that asked for
  it; where it came from travels in the modal's ``private_metadata``.

Nothing here raises: a refused delivery is logged (the core keeps the data).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.messenger import SlackMessenger
from adapters.slack.render import render, render_modal, render_one
from bot.chat.events import Place
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Reply, Text, error, say

log = logging.getLogger(__name__)

#: chat.postMessage errors after which a response_url in_channel post still works.
_NOT_A_MEMBER = ("not_in_channel", "channel_not_found")


def as_code(content: bytes) -> str:
    """File bytes as the inside of a neutral-markup code span."""
    text = content.decode("utf-8", "replace").replace("\r\n", "\n")
    return text.replace("\\", "\\\\").replace("`", "\\`")


@dataclass(frozen=True)
class Origin:
    """The interaction being answered: who, where, and Slack's reply handles."""

    user: str
    channel: str
    thread: str | None = None
    #: ts of the message a button was on (or the reacted/thread message).
    message: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    #: The button sat on an ephemeral message (only response_url can edit it).
    ephemeral_source: bool = False

    @classmethod
    def of_command(cls, body: dict[str, Any]) -> Origin:
        return cls(
            user=str(body.get("user_id", "")),
            channel=str(body.get("channel_id", "")),
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        )

    @classmethod
    def of_action(cls, body: dict[str, Any], place: Place) -> Origin:
        container = body.get("container") or {}
        return cls(
            user=str((body.get("user") or {}).get("id", "")),
            channel=place.channel,
            thread=place.thread,
            message=place.message,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
            ephemeral_source=bool(container.get("is_ephemeral")),
        )

    @classmethod
    def of_place(cls, user: str, place: Place, *, ephemeral_source: bool = False) -> Origin:
        return cls(
            user=user,
            channel=place.channel,
            thread=place.thread,
            message=place.message,
            ephemeral_source=ephemeral_source,
        )


class Responder:
    """Sends the replies of one interaction (also the core's ``respond``)."""

    def __init__(self, messenger: SlackMessenger, origin: Origin) -> None:
        self.messenger = messenger
        self.client = messenger.client
        self.origin = origin

    async def __call__(self, reply: Reply) -> None:
        try:
            await self._send(reply)
        except DeliveryError:
            pass  # logged by the messenger
        except Exception:
            log.exception("could not deliver a reply to %s", self.origin.user)

    async def _send(self, reply: Reply) -> None:
        o = self.origin
        if reply.form is not None:
            await self._open_form(reply)
        elif reply.files:
            await self._with_files(reply)
        elif reply.replace and o.message:
            await self._replace(reply)
        elif reply.private:
            await self._private(reply)
        else:
            await self._public(reply)

    async def _webhook(self, body: dict[str, Any]) -> bool:
        """POST to the response_url; True if Slack took it."""
        assert self.origin.response_url
        hook = AsyncWebhookClient(
            self.origin.response_url,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            ],
        )
        resp = await hook.send_dict(body)
        if resp.status_code != 200:
            log.error("response_url refused a reply: %s %s", resp.status_code, resp.body)
            return False
        return True

    async def _private(self, reply: Reply) -> None:
        o = self.origin
        if o.response_url:
            sent = True
            for message in render(reply):
                sent = sent and await self._webhook(
                    {"response_type": "ephemeral", "replace_original": False, **message}
                )
            if sent or not o.channel:
                return
            # A response_url lasts 30 minutes and 5 uses (a button on an old card).
            await self.messenger.ephemeral(o.channel, o.user, reply, thread=o.thread)
        elif o.channel:
            await self.messenger.ephemeral(o.channel, o.user, reply, thread=o.thread)
        else:
            await self.messenger.direct("slack", "", o.user, reply)

    async def _public(self, reply: Reply) -> None:
        o = self.origin
        thread = (o.thread or o.message) if reply.in_thread else o.thread
        place = Place("slack", "", o.channel, thread=thread)
        try:
            await self.messenger.post(place, reply)
        except DeliveryError as exc:
            code = str(exc).rsplit(": ", 1)[-1]
            if not (o.response_url and code in _NOT_A_MEMBER):
                raise
            # The bot is not in this channel: answer through the command itself.
            for message in render(reply):
                await self._webhook({"response_type": "in_channel", **message})

    async def _replace(self, reply: Reply) -> None:
        o = self.origin
        assert o.message
        if not o.ephemeral_source and o.channel:
            try:
                await self.messenger.update(o.channel, o.message, reply)
                return
            except DeliveryError:
                pass  # logged; try the other ways below
        if o.response_url and await self._webhook({"replace_original": True, **render_one(reply)}):
            return
        # The original can't be edited (an ephemeral message seen from a modal,
        # or an expired response_url): show the new version to the user instead.
        await self._private(reply)

    async def _with_files(self, reply: Reply) -> None:
        """Files are uploaded, never pasted. A file shared in a channel is seen
        by everyone there, so a private reply's file goes to the user's direct
        messages with the bot, and the channel gets an ephemeral pointer."""
        o = self.origin
        names = ", ".join(f"`{f.name}`" for f in reply.files)
        try:
            if reply.private:
                await self.messenger.upload(await self.messenger.dm_channel(o.user), reply)
            else:
                thread = (o.thread or o.message) if reply.in_thread else o.thread
                await self.messenger.upload(o.channel, reply, thread=thread)
        except DeliveryError as exc:
            # Nothing is lost: the file's text comes as a message instead.
            why = str(exc).rsplit(": ", 1)[-1]
            pasted = [
                Text(f"I couldn't attach {names} (Slack said `{why}`); here is its content:"),
                *(Text(f"`{as_code(f.content)}`") for f in reply.files),
            ]
            fallback = Reply(blocks=(*reply.blocks, *pasted), private=reply.private, long_form=True)
            if reply.private:
                await self._private(fallback)
            else:
                await self._public(fallback)
            return
        if reply.private:
            await self._private(
                say(f"I sent you {names} in a direct message (readgroup, under Apps).")
            )

    async def _open_form(self, reply: Reply) -> None:
        o = self.origin
        form = reply.form
        assert form is not None
        if not o.trigger_id:
            await self._private(error("That form can only open from a button. Press it again."))
            return
        metadata = {"value": form.value, "channel": o.channel}
        if o.ephemeral_source:
            metadata["ephemeral"] = "1"
        if o.thread:
            metadata["thread"] = o.thread
        if o.message:
            metadata["message"] = o.message
        try:
            await self.client.views_open(
                trigger_id=o.trigger_id, view=render_modal(form, metadata=metadata)
            )
        except Exception as exc:
            log.error("views.open failed: %s", exc)
            await self._private(
                error("I couldn't open the form (Slack allows 3 seconds). Press the button again.")
            )
