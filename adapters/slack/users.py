"""Who a Slack user is: display name and whether they are a workspace admin
or owner (one of the ways to be an organizer), from ``users.info``, cached."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.events import Action, Actor, Command, Event, Reaction, ThreadMessage

log = logging.getLogger(__name__)

#: Admin rights change rarely; a few minutes of staleness saves a call per command.
CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class UserInfo:
    name: str
    is_admin: bool
    #: The user's own team, where ``is_admin`` holds.
    team_id: str = ""


class UserDirectory:
    """``users.info`` with a TTL cache. A failed look-up counts as "not an
    admin" (the safe side) and is not cached, so the next command asks again.
    Commands of one user arriving together (each acknowledged at once, so
    their handlers overlap) share one look-up rather than each asking."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = CACHE_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self._now = now
        self._cache: dict[str, tuple[float, UserInfo]] = {}
        self._asking: dict[str, asyncio.Future[UserInfo | None]] = {}

    async def lookup(self, user_id: str) -> UserInfo | None:
        hit = self._cache.get(user_id)
        if hit is not None and self._now() - hit[0] < self.ttl:
            return hit[1]
        asking = self._asking.get(user_id)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(user_id))
            self._asking[user_id] = asking
            asking.add_done_callback(lambda _f: self._asking.pop(user_id, None))
        return await asyncio.shield(asking)

    async def _ask(self, user_id: str) -> UserInfo | None:
        try:
            resp = await self.client.users_info(user=user_id)
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning("users.info for %s failed (%s); treating as a non-admin", user_id, exc)
            return None
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        info = UserInfo(
            name=str(
                profile.get("display_name") or user.get("real_name") or user.get("name") or ""
            ),
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
            team_id=str(user.get("team_id") or ""),
        )
        self._cache[user_id] = (self._now(), info)
        return info

    async def enrich(self, event: Event) -> Event:
        """The event with its actor's admin flag and display name filled in."""
        if not isinstance(event, Command | Action | ThreadMessage | Reaction):
            return event
        info = await self.lookup(event.actor.user_id)
        if info is None:
            return event
        # The profile's display name beats the legacy ``user_name`` of commands.
        actor: Actor = dataclasses.replace(
            event.actor,
            is_admin=info.is_admin,
            name=info.name or event.actor.name,
            workspace=info.team_id or event.actor.workspace,
        )
        return dataclasses.replace(event, actor=actor)
