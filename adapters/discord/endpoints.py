"""Where discord.py talks: DISCORD_API_URL and DISCORD_GATEWAY_URL.

discord.py 2.x has no constructor argument for either address; both are class
attributes that every request and connection reads:

* ``discord.http.Route.BASE`` is the prefix of every REST route, including the
  interaction callbacks and webhook follow-ups (``discord.webhook`` builds its
  routes with the same ``Route`` class). It is also what
  ``discord.http._set_api_version`` rewrites, so setting it is the library's
  own supported mechanism.
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` is the URL a plain
  :class:`discord.Client` connects to (it does not ask ``GET /gateway/bot``;
  only ``AutoShardedClient`` does) and falls back to when a session is
  invalidated. After READY, resumes use READY's ``resume_gateway_url``, which
  the real gateway (and our test fake) fills in.

Both are process-wide, which is fine: one process serves one Discord bot.
:func:`use_endpoints` sets them and returns the previous values so tests can
restore them.

When DISCORD_GATEWAY_URL is not set at all, the client asks the API it talks
to (``GET /gateway/bot``, discord.py's ``HTTPClient.get_bot_gateway``) for the
gateway, in ``setup_hook`` before connecting (:func:`use_gateway_from_api`); so
a proxy or a fake needs only DISCORD_API_URL. An explicit DISCORD_GATEWAY_URL
always wins.
"""

from __future__ import annotations

import logging

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

log = logging.getLogger(__name__)


def use_endpoints(api_url: str, gateway_url: str) -> tuple[str, str]:
    """Point discord.py at ``api_url`` (e.g. ``https://discord.com/api/v10``)
    and ``gateway_url`` (e.g. ``wss://gateway.discord.gg/``); returns the
    previous pair."""
    previous = (Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY))
    Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return previous


async def use_gateway_from_api(http: HTTPClient) -> str:
    """Connect to the gateway the API names; keep the current one (and say
    so) if the API cannot answer. Returns the URL in use."""
    try:
        _shards, url, _limits = await http.get_bot_gateway()
    except discord.GatewayNotFound:
        log.warning("GET /gateway/bot failed; connecting to %s", DiscordWebSocket.DEFAULT_GATEWAY)
        return str(DiscordWebSocket.DEFAULT_GATEWAY)
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
    return url
