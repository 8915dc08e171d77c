"""Discord payloads to core events: small pure translations.

The actor's organizer bit is the Manage Server permission. For interactions we
read it from the permissions Discord sends with the member (exact, no cache
needed); for gateway messages from the member's cached roles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from adapters.discord import inbound_schema as schema
from bot.chat.events import Actor, Command, Place, Reaction, ThreadMessage
from bot.chat.router import CommandSpec

PLATFORM = "discord"
#: Workspace used for direct messages, which have no guild.
DM_WORKSPACE = "dm"


def actor_from_interaction(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    admin = interaction.guild_id is not None and interaction.permissions.manage_guild
    guild = str(interaction.guild_id) if interaction.guild_id else ""
    return Actor(PLATFORM, str(user.id), user.display_name, is_admin=bool(admin), workspace=guild)


def actor_from_user(user: discord.abc.User, *, guild_admin: bool | None = None) -> Actor:
    if guild_admin is None:
        guild_admin = isinstance(user, discord.Member) and user.guild_permissions.manage_guild
    guild = str(user.guild.id) if isinstance(user, discord.Member) else ""
    return Actor(
        PLATFORM, str(user.id), user.display_name, is_admin=bool(guild_admin), workspace=guild
    )


def place_for(
    guild_id: int | None,
    channel_id: int,
    *,
    parent_id: int | None = None,
    message_id: int | None = None,
) -> Place:
    """A channel, or a thread (``parent_id`` set): the group lives on the parent."""
    return Place(
        platform=PLATFORM,
        workspace=str(guild_id) if guild_id else DM_WORKSPACE,
        channel=str(parent_id or channel_id),
        thread=str(channel_id) if parent_id else None,
        message=str(message_id) if message_id else None,
        direct=not guild_id,
    )


def place_from_interaction(interaction: discord.Interaction) -> Place:
    channel = interaction.channel
    parent = channel.parent_id if isinstance(channel, discord.Thread) else None
    message = interaction.message.id if interaction.message is not None else None
    return place_for(
        interaction.guild_id, interaction.channel_id or 0, parent_id=parent, message_id=message
    )


def option_values(data: schema.CommandData) -> dict[str, str]:
    """Option name -> value as text, from an APPLICATION_COMMAND payload."""
    return {o.name: str(o.value) for o in data.options if o.value is not None}


_CHANNEL = re.compile(r"<#(\d+)>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")


def neutral_text(text: str) -> str:
    """Typed text with Discord's channel mentions (``<#123>``) in the core's
    neutral form ``#123``; user mentions stay ``<@123>``."""
    return _CHANNEL.sub(r"#\1", text)


def command_text(spec: CommandSpec | None, values: dict[str, str]) -> str:
    """Option values joined with spaces in the command's declared order, the
    way they would be typed after ``/name`` on Slack or the console; channel
    mentions in the neutral form (:func:`neutral_text`)."""
    order = [o.name for o in spec.options] if spec else []
    order += [n for n in values if n not in order]
    return neutral_text(" ".join(values[n].strip() for n in order if values.get(n, "").strip()))


def neutral_emoji(emoji: str) -> str:
    """A reaction in the core's neutral form: the character of a Unicode emoji
    (without the emoji variation selector), a custom one as ``:name:``."""
    custom = _CUSTOM_EMOJI.fullmatch(emoji)
    return f":{custom[1]}:" if custom else emoji.replace("\ufe0f", "")


def command_data(interaction: discord.Interaction) -> schema.CommandData | None:
    """The interaction's command data, checked; None (logged) if malformed."""
    return schema.parse(schema.CommandData, interaction.data or {}, what="command")


def command_from_interaction(
    interaction: discord.Interaction, commands: dict[str, CommandSpec]
) -> Command | None:
    data = command_data(interaction)
    if data is None:
        return None
    return Command(
        name=data.name,
        text=command_text(commands.get(data.name), option_values(data)),
        actor=actor_from_interaction(interaction),
        place=place_from_interaction(interaction),
        raw=interaction.data,
    )


def focused_option(data: schema.CommandData) -> tuple[str, str]:
    """(name, typed text) of the option being autocompleted."""
    for opt in data.options:
        if opt.focused:
            return opt.name, "" if opt.value is None else str(opt.value)
    return "", ""


def thread_message(message: discord.Message, *, parent_id: int) -> ThreadMessage:
    return ThreadMessage(
        text=schema.strip_nul(message.content),
        actor=actor_from_user(message.author),
        place=place_for(
            message.guild.id if message.guild else None,
            message.channel.id,
            parent_id=parent_id,
            message_id=message.id,
        ),
        sent_at=message.created_at,
        raw={"id": message.id, "channel_id": message.channel.id},
    )


def reaction(
    payload: discord.RawReactionActionEvent, *, parent_id: int | None, name: str = ""
) -> Reaction:
    member = payload.member
    if member is not None:
        actor = actor_from_user(member)
    else:
        actor = Actor(PLATFORM, str(payload.user_id), name)
    return Reaction(
        emoji=neutral_emoji(
            payload.emoji.name if payload.emoji.is_unicode_emoji() else str(payload.emoji)
        ),
        added=payload.event_type == "REACTION_ADD",
        actor=actor,
        place=place_for(
            payload.guild_id, payload.channel_id, parent_id=parent_id, message_id=payload.message_id
        ),
        raw={"message_id": payload.message_id, "channel_id": payload.channel_id},
    )


def member_choices(members: Sequence[tuple[str, str]], typed: str) -> list[tuple[str, str]]:
    """Autocomplete (label, value) for roster members matching what was typed."""
    typed = typed.lower().lstrip("@")
    out = [(name or uid, f"<@{uid}>") for uid, name in members if typed in (name or uid).lower()]
    return out[:25]
