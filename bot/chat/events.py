"""Platform-neutral inbound events.

Adapters translate each platform payload into one of these; the core never reads
``raw`` (it is kept only so logs can show what arrived).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who did something: a platform user, with what the adapter knows of them."""

    platform: str
    user_id: str
    name: str = ""
    #: Workspace admin/owner (Slack) or Manage Server (Discord); the console user.
    is_admin: bool = False
    #: The workspace (Slack team, Discord guild) ``is_admin`` holds in; empty:
    #: the workspace of the event's place.
    workspace: str = ""

    @property
    def display(self) -> str:
        return self.name or self.user_id


@dataclass(frozen=True)
class Place:
    """Where it happened: a channel in a workspace/guild, maybe inside a thread."""

    platform: str
    workspace: str
    channel: str
    thread: str | None = None
    #: The message the event is attached to (a button's message, a reacted message).
    message: str | None = None
    #: A direct message with the bot, not a group's channel.
    direct: bool = False


@dataclass(frozen=True)
class Command:
    """A slash command: ``/name text``."""

    name: str
    text: str
    actor: Actor
    place: Place
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Action:
    """A button press or modal submission; ``value`` carries the entity id."""

    kind: str
    value: str
    actor: Actor
    place: Place
    #: Free-form input (e.g. the text of an edit modal).
    fields: tuple[tuple[str, str], ...] = ()
    raw: Any = field(default=None, compare=False, repr=False)

    def field(self, name: str, default: str = "") -> str:
        return dict(self.fields).get(name, default)


@dataclass(frozen=True)
class ThreadMessage:
    """A message posted inside a thread the bot may be tracking."""

    text: str
    actor: Actor
    place: Place  # place.thread is the thread root, place.message this message
    sent_at: datetime | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Reaction:
    """An emoji reaction added to (or removed from) a message."""

    emoji: str
    added: bool
    actor: Actor
    place: Place  # place.message is the reacted message, place.thread its thread if known
    raw: Any = field(default=None, compare=False, repr=False)


Event = Command | Action | ThreadMessage | Reaction
