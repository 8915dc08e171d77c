"""``ReadgroupClient``: discord.py's client wired to the core.

Inbound events are translated (``inbound``), handled by ``bot.handle`` in a
task, and answered through a ``Responder`` (interactions) or the messenger
(thread messages, reactions). Nothing here blocks the loop: database work goes
through ``bot.db`` (a thread), network through discord.py's aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import discord

from adapters.discord import autocomplete, inbound
from adapters.discord.commands import default_sync_state, sync_commands
from adapters.discord.components import ActionButton, modal_data, modal_fields
from adapters.discord.deliver import PRIVATE_COMMANDS, Responder
from adapters.discord.endpoints import use_endpoints, use_gateway_from_api
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.render import parse_custom_id
from bot.app import Bot
from bot.chat.events import Action, Event, Place
from bot.chat.replies import Reply

log = logging.getLogger(__name__)

#: How long a button press may take before we defer instead of answering
#: directly (Discord's limit is 3 s; keep a margin for the network).
DIRECT_ANSWER_SECONDS = 2.0


def intents() -> discord.Intents:
    """Default intents plus message content (to read thread messages; a
    privileged intent to switch on in the Developer Portal). Guild members is
    not needed: interactions carry the member and their permissions."""
    i = discord.Intents.default()
    i.message_content = True
    return i


class ReadgroupClient(discord.Client):
    def __init__(
        self,
        bot: Bot,
        *,
        sync_state: Path | None = None,
        start_background: bool = False,
        **options: Any,
    ) -> None:
        settings = bot.settings
        use_endpoints(settings.discord_api_url, settings.discord_gateway_url)
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            chunk_guilds_at_startup=False,
            **options,
        )
        self.bot = bot
        self.guild_id = settings.discord_guild_id
        self.sync_state = sync_state or default_sync_state()
        self.messenger = DiscordMessenger(self)
        self.sync_result = ""
        self.start_background = start_background
        #: No DISCORD_GATEWAY_URL given: ask the API (GET /gateway/bot).
        self.ask_gateway = "discord_gateway_url" not in settings.model_fields_set
        #: channel id -> lookup of its parent id (threads) or None (plain channels).
        self._parents: dict[int, asyncio.Future[int | None]] = {}

    # ------------------------------------------------------------ start-up
    async def setup_hook(self) -> None:
        """Runs after login, before the gateway: make old buttons live again,
        publish the command set, then (when serving) start the bot's background
        loops, only now that Discord accepted the token."""
        self.add_dynamic_items(ActionButton)
        if self.ask_gateway:
            await use_gateway_from_api(self.http)
        self.sync_result = await sync_commands(
            self,
            self.bot.router.commands,
            guild_id=self.guild_id,
            sync_state=self.sync_state,
        )
        if self.start_background:
            self.bot.start()

    # ------------------------------------------------------------ interactions
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        match interaction.type:
            case discord.InteractionType.application_command:
                await self._command(interaction)
            case discord.InteractionType.autocomplete:
                await self._autocomplete(interaction)
            case discord.InteractionType.modal_submit:
                data = modal_data(interaction.data)
                parsed = parse_custom_id(data.custom_id) if data else None
                if data and parsed:
                    await self.handle_action(interaction, *parsed, modal_fields(data))
            case _:
                pass  # buttons arrive through ActionButton.callback

    async def _command(self, interaction: discord.Interaction) -> None:
        # Translating is pure and quick; a malformed command is ignored (logged).
        event = inbound.command_from_interaction(interaction, self.bot.router.commands)
        if event is None:
            return
        responder = Responder(interaction)
        # Acknowledge first: everything else may be slow.
        await responder.defer(ephemeral=event.name in PRIVATE_COMMANDS)
        self.bot.spawn(self._run(event, responder), name=f"discord:/{event.name}")

    async def _run(self, event: Event, responder: Responder) -> None:
        replies = await self.bot.handle(event, responder.send)
        await responder.send_all(replies)

    async def handle_action(
        self,
        interaction: discord.Interaction,
        kind: str,
        value: str,
        fields: tuple[tuple[str, str], ...],
    ) -> None:
        """A button press or form submission: answer directly if the core is
        quick (so a form can open as a modal), else defer and follow up."""
        event = Action(
            kind=kind,
            value=value,
            actor=inbound.actor_from_interaction(interaction),
            place=inbound.place_from_interaction(interaction),
            fields=fields,
            raw=interaction.data,
        )
        responder = Responder(interaction)
        task = self.bot.spawn(self.bot.handle(event, responder.send), name=f"discord:{kind}")
        try:
            replies = await asyncio.wait_for(asyncio.shield(task), DIRECT_ANSWER_SECONDS)
        except TimeoutError:
            await responder.defer(ephemeral=False)
            replies = await task
        await responder.send_all(replies)

    async def _autocomplete(self, interaction: discord.Interaction) -> None:
        data = inbound.command_data(interaction)
        if data is None:
            return
        spec = self.bot.router.commands.get(data.name)
        option, typed = inbound.focused_option(data)
        options = spec.options if spec else ()
        source = next((o.autocomplete for o in options if o.name == option), "")
        choices: list[tuple[str, str]] = []
        fn = autocomplete.SOURCES.get(source)
        if fn is not None:
            try:
                choices = await self.bot.db(
                    fn, place=inbound.place_from_interaction(interaction), typed=typed
                )
            except Exception:
                log.exception("autocomplete %s failed", source)
        await interaction.response.autocomplete(
            [discord.app_commands.Choice(name=n, value=v) for n, v in choices]
        )

    # ------------------------------------------------------------ gateway events
    async def _parent_of(self, channel_id: int) -> int | None:
        """The parent channel if ``channel_id`` is a thread, else None. Cached;
        a channel the gateway cache does not know is asked for once, even when
        a message and a reaction arrive together."""
        lookup = self._parents.get(channel_id)
        if lookup is None:
            lookup = self._parents[channel_id] = asyncio.ensure_future(self._lookup(channel_id))
        try:
            return await asyncio.shield(lookup)
        except discord.HTTPException:
            self._parents.pop(channel_id, None)  # ask again next time
            log.warning("could not look up channel %s; treating it as a plain channel", channel_id)
            return None

    async def _lookup(self, channel_id: int) -> int | None:
        channel = self.get_channel(channel_id) or await self.fetch_channel(channel_id)
        return channel.parent_id if isinstance(channel, discord.Thread) else None

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None:
            return
        parent = await self._parent_of(message.channel.id)
        if parent is None:
            return  # only thread messages reach the core
        event = inbound.thread_message(message, parent_id=parent)
        self.bot.spawn(self._run_unprompted(event), name="discord:thread-message")

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload)

    async def _reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if self.user is not None and payload.user_id == self.user.id:
            return
        if payload.member is not None and payload.member.bot:
            return
        parent = await self._parent_of(payload.channel_id)
        event = inbound.reaction(payload, parent_id=parent)
        self.bot.spawn(self._run_unprompted(event), name="discord:reaction")

    async def _run_unprompted(self, event: Event) -> None:
        """Thread messages and reactions have no interaction to answer: public
        replies go to the thread (or channel), private ones by DM."""
        place: Place = event.place
        actor = event.actor

        async def respond(reply: Reply) -> None:
            try:
                if reply.private:
                    await self.messenger.direct(
                        inbound.PLATFORM, place.workspace, actor.user_id, reply
                    )
                else:
                    await self.messenger.post(place, reply)
            except Exception:
                log.exception("could not deliver a reply to %s", place)

        for reply in await self.bot.handle(event, respond):
            await respond(reply)
