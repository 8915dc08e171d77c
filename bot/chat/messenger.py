"""How the core sends messages nobody asked for right now (cards after an
arXiv outage, reminders, published posts). Each adapter implements it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.chat.events import Place
from bot.chat.replies import Reply

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The chat platform refused or could not take a message; retry later."""


class Messenger(Protocol):
    async def post(self, place: Place, reply: Reply) -> str | None:
        """Post to a channel (or to ``place.thread``). Returns the message id."""
        ...

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        """Send a direct message to a user. Returns the message id."""
        ...

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        """Make sure a thread exists on a message; returns its id."""
        ...


@runtime_checkable
class FindsPosted(Protocol):
    """A messenger that can tell whether a tagged reply went out (Slack reads
    it back from the message metadata), so a poster that died in doubt is
    not repeated."""

    async def find_posted(self, place: Place, tag: str, since: datetime) -> str | None:
        """The id of a message tagged ``tag`` posted to ``place`` since then."""
        ...


async def posted_before(messenger: object, place: Place, tag: str, since: datetime) -> str | None:
    """The id of the message tagged ``tag`` that a poster which died (or gave
    up) in doubt got out after all, or None. A platform that cannot tell
    answers None, so the caller posts it again (twice at worst, never lost)."""
    if not isinstance(messenger, FindsPosted):
        return None
    try:
        found = await messenger.find_posted(place, tag, since)
    except DeliveryError as exc:
        log.warning("could not check whether %s went out (%s); posting it", tag, exc)
        return None
    if found:
        log.info("%s was posted before a crash (%s)", tag, found)
    return found


class NullMessenger:
    """Drops outgoing messages (used where no platform is connected)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def post(self, place: Place, reply: Reply) -> str | None:
        self.sent.append((place.channel, reply))
        return None

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        self.sent.append((f"@{user_id}", reply))
        return None

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        return message_id
