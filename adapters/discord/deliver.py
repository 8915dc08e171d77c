"""Answering one interaction: the initial response, then follow-ups.

Discord wants an initial response within 3 seconds and then allows follow-ups
for 15 minutes through the interaction's webhook. The rules kept here:

* A command is deferred at once (type 5, "thinking"), ephemeral when the
  command usually answers privately (:data:`PRIVATE_COMMANDS`), public
  otherwise. The first reply then edits that deferred message when its
  privacy matches; when it does not, a public deferral is deleted and the
  private reply goes out as an ephemeral follow-up (an edit cannot change
  privacy), and an ephemeral deferral becomes a one-line "posted" note while
  the public reply goes out as a normal follow-up.
* A button press or form submission is answered directly when the core is
  quick (update the message, open a modal, or reply); otherwise it is
  deferred (type 6) and answered by editing the original message or by
  follow-ups.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.utils import MISSING

from adapters.discord.components import FormModal, files_for, view_for
from adapters.discord.render import DiscordMessage, render_one, render_reply
from bot.chat.replies import Reply, Text

log = logging.getLogger(__name__)

#: Commands whose answer is normally private: deferred ephemerally.
PRIVATE_COMMANDS = frozenset({"help", "withdraw", "history", "away", "digest"})
POSTED_NOTE = "Posted in the channel."


def _edit_view(m: DiscordMessage) -> discord.ui.View | None:
    """The view for an edit: None removes buttons the message had."""
    return view_for(m)


def _send_view(m: DiscordMessage) -> discord.ui.View:
    """The view for a new message (MISSING: no components at all)."""
    view = view_for(m)
    return view if view is not None else MISSING


def _files(m: DiscordMessage) -> list[discord.File]:
    """The message's attachments (MISSING: none, and an edit keeps what it had)."""
    return files_for(m) if m.files else MISSING


class Responder:
    """Sends a handler's replies for one interaction, in order."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.deferred_ephemeral = False
        #: True once the deferred "thinking" message has been used up.
        self.original_used = False
        self.is_component = interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        )
        self._lock = asyncio.Lock()

    @property
    def responded(self) -> bool:
        return self.interaction.response.is_done()

    async def defer(self, *, ephemeral: bool) -> None:
        if self.responded:
            return
        self.deferred_ephemeral = ephemeral
        if self.is_component:
            await self.interaction.response.defer()  # type 6: update the message later
            self.original_used = True  # @original is the button's message, not ours
        else:
            await self.interaction.response.defer(ephemeral=ephemeral, thinking=True)

    async def send(self, reply: Reply) -> None:
        async with self._lock:
            try:
                await self._send(reply)
            except discord.HTTPException:
                log.exception("Discord refused a reply to interaction %s", self.interaction.id)

    async def send_all(self, replies: list[Reply]) -> None:
        for reply in replies:
            await self.send(reply)

    async def _send(self, reply: Reply) -> None:
        response = self.interaction.response
        if reply.form is not None:
            if not self.responded:
                await response.send_modal(FormModal(reply.form))
                return
            # A modal can only be the first answer; say how to get it.
            reply = Reply(
                blocks=reply.blocks or (Text("Press the button again to open the form."),),
                private=True,
            )
        if reply.replace and self.is_component:
            # Exactly the button's message is edited; nothing is added after
            # it, so a card never grows when it is voted on.
            messages = [render_one(reply)]
        else:
            messages = render_reply(reply)
        first, rest = messages[0], messages[1:]
        if reply.replace and self.is_component:
            if not self.responded:
                await response.edit_message(
                    content=first.content or None,
                    embeds=first.embeds,
                    attachments=_files(first),
                    view=_edit_view(first),
                    allowed_mentions=first.allowed_mentions,
                )
                # @original is now the button's message (a card): later replies
                # are follow-ups, never an edit or deletion of it.
                self.original_used = True
            else:
                await self._edit_original(first)
        elif not self.responded:
            await response.send_message(
                first.content or None,
                embeds=first.embeds,
                files=_files(first),
                view=_send_view(first),
                ephemeral=reply.private,
                allowed_mentions=first.allowed_mentions,
            )
        elif not self.original_used:
            self.original_used = True
            if reply.private == self.deferred_ephemeral:
                await self._edit_original(first)
            elif reply.private:
                await self.interaction.delete_original_response()
                await self._followup(first, private=True)
            else:
                await self.interaction.edit_original_response(
                    content=POSTED_NOTE, allowed_mentions=discord.AllowedMentions.none()
                )
                await self._followup(first, private=False)
        else:
            await self._followup(first, private=reply.private)
        for m in rest:
            await self._followup(m, private=reply.private)

    async def _edit_original(self, m: DiscordMessage) -> None:
        await self.interaction.edit_original_response(
            content=m.content or None,
            embeds=m.embeds,
            attachments=_files(m),
            view=_edit_view(m),
            allowed_mentions=m.allowed_mentions,
        )

    async def _followup(self, m: DiscordMessage, *, private: bool) -> None:
        await self.interaction.followup.send(
            m.content or MISSING,
            embeds=m.embeds,
            files=_files(m),
            view=_send_view(m),
            ephemeral=private,
            allowed_mentions=m.allowed_mentions,
            wait=True,
        )
