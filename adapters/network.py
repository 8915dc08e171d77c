"""One clear line when a chat platform cannot be reached at start-up.

Behind a firewall or without network, aiohttp raises ClientConnectorError
(ClientConnectorDNSError for a name that does not resolve) from deep inside
the platform library; a traceback of that says nothing about what to check.
"""

from __future__ import annotations

import aiohttp

from bot.app import SettingsError


def unreachable(
    service: str, exc: aiohttp.ClientConnectorError, *, setting: str, url: str
) -> SettingsError:
    """The error to stop start-up with: which host, why, and what to check."""
    where = f"{exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        why = f"the host name {exc.host} does not resolve"
    elif isinstance(exc.os_error, ConnectionRefusedError):
        why = f"the connection to {where} was refused"
    else:
        why = f"no connection to {where} ({exc.os_error.strerror or type(exc.os_error).__name__})"
    return SettingsError(
        f"can't reach {service}: {why}. Check the network connection and any proxy or "
        f"firewall, and {setting} (now {url})."
    )
