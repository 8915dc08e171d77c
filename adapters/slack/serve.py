"""`readgroup serve slack --http|--socket`: run the bot connected to Slack.

HTTP mode serves ``POST /slack/events`` (slash commands, interactivity and
the Events API all at one Request URL, as the manifest sets up) and
``GET /healthz``. Socket Mode needs no public URL: Slack pushes everything
over a websocket opened with the app-level token.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from adapters.network import unreachable
from adapters.slack import inbound_schema, inbox
from adapters.slack.app import SlackAdapter, build_slack_app
from adapters.slack.client import make_web_client
from adapters.slack.inbox import start_inbox_loop
from adapters.slack.verify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Rejection,
    check_signature,
    make_verifier,
    read_body,
)
from bot.app import Bot, Settings, SettingsError, build_bot

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

log = logging.getLogger(__name__)

#: How long a thread may hold the GIL while another waits (Python's default: 5 ms).
GIL_SWITCH_SECONDS = 0.0005
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

_WHERE_BOT_TOKEN = (
    "SLACK_BOT_TOKEN is the Bot User OAuth Token (xoxb-…) on your app's "
    "'OAuth & Permissions' page at https://api.slack.com/apps after installing the app."
)
_WHERE_SIGNING = (
    "SLACK_SIGNING_SECRET is under 'Basic Information' > 'App Credentials' at "
    "https://api.slack.com/apps."
)
_WHERE_APP_TOKEN = (
    "SLACK_APP_TOKEN is an app-level token (xapp-…) with the connections:write scope: "
    "'Basic Information' > 'App-Level Tokens' > 'Generate Token and Scopes' at "
    "https://api.slack.com/apps (and turn Socket Mode on under 'Socket Mode')."
)


def _refuse(rejection: Rejection, request: web.Request) -> web.Response:
    log.warning(
        "refused a request to %s from %s: %s (%d)",
        EVENTS_PATH,
        request.remote or "?",
        rejection.reason,
        rejection.status,
    )
    return web.Response(status=rejection.status, text=rejection.reason)


def make_http_app(adapter: SlackAdapter) -> web.Application:
    """The aiohttp application for HTTP mode.

    Before Bolt sees a request: its signature is checked on the raw bytes
    (401), then its body is read and checked against the payload models
    (400). Either refusal is one log line, never a traceback.
    """
    if not adapter.signing_secret:
        raise ValueError("HTTP mode needs the adapter built with a signing secret")
    verifier = make_verifier(adapter.signing_secret)

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        refused = check_signature(body=raw, headers=request.headers, verifier=verifier)
        if refused is not None:
            return _refuse(refused, request)
        read = read_body(raw, request.content_type)
        if isinstance(read, Rejection):
            return _refuse(read, request)
        why = inbound_schema.problem(read.body)
        if why is not None:
            return _refuse(Rejection(400, why), request)
        if await inbox.take_command(
            adapter,
            read.body,
            timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
            signature=request.headers.get(SIGNATURE_HEADER, ""),
        ):
            return web.Response(status=200, text="")  # what Bolt's ack() sends
        bolt_request = AsyncBoltRequest(
            body=read.text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        if bolt_request.body != read.body:
            # Bolt misread a command whose text contains "payload" (see read_body).
            bolt_request.body = read.body
            bolt_request.context = build_async_context(AsyncBoltContext({}), read.body)
        return await to_aiohttp_response(await adapter.app.async_dispatch(bolt_request))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get(HEALTH_PATH, healthz)
    return web_app


async def start_http(adapter: SlackAdapter, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (``await runner.cleanup()`` to stop)
    and the port actually bound (pass 0 for an ephemeral one)."""
    runner = web.AppRunner(make_http_app(adapter), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    # aiohttp exposes the bound port (needed for port 0) only on its server.
    sockets = getattr(site._server, "sockets", None) or ()
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)


def start_socket_mode(adapter: SlackAdapter, app_token: str) -> AsyncSocketModeHandler:
    """A Socket Mode handler using the adapter's Web API client (so
    ``apps.connections.open`` goes to SLACK_API_URL too)."""
    # Imported here: an HTTP-mode bot does not load the Socket Mode client.
    from adapters.slack.socket_mode import CommandsFirstHandler

    return CommandsFirstHandler(adapter, app_token)


def _check_settings(settings: Settings, *, socket: bool) -> None:
    settings.require("SLACK_BOT_TOKEN", where=_WHERE_BOT_TOKEN)
    if socket:
        settings.require("SLACK_APP_TOKEN", where=_WHERE_APP_TOKEN)
    else:
        settings.require("SLACK_SIGNING_SECRET", where=_WHERE_SIGNING)


async def _verify_token(adapter: SlackAdapter) -> None:
    """Fail at start-up, not at the first command, when the token is wrong."""
    try:
        await adapter.client.auth_test()
    except SlackApiError as exc:
        raise SettingsError(
            f"Slack rejected SLACK_BOT_TOKEN ({exc.response.get('error')}). {_WHERE_BOT_TOKEN}"
        ) from exc


def settle_heap() -> None:
    """Take what is built by now (the modules, the app, the bot) out of the
    garbage collector's way, once, before serving.

    A full collection walks every object alive; in this process one took
    240 ms on the development machine, the event loop stopped meanwhile, and
    every acknowledgment in flight waited for it (the load benchmark's slowest
    ack). ``gc.freeze`` moves the objects alive now to a permanent generation
    that collections skip; what the requests make is collected as before."""
    gc.collect()
    gc.freeze()


async def run_slack(
    settings: Settings,
    *,
    socket: bool,
    port: int,
    host: str = "0.0.0.0",
    bot: Bot | None = None,
    stop: asyncio.Event | None = None,
    settle: bool = False,
) -> None:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set, for tests).
    ``settle``: :func:`settle_heap` before serving (the real process; a test
    process would keep its objects forever)."""
    client = make_web_client(settings)
    bot = bot or build_bot(settings)
    secret = settings.slack_signing_secret
    adapter = build_slack_app(
        bot,
        client,
        signing_secret=None if socket else (secret.get_secret_value() if secret else ""),
    )
    await _verify_token(adapter)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    bot.start()
    start_inbox_loop(adapter)  # finishes what a killed process had accepted
    if settle:
        settle_heap()
    try:
        if socket:
            assert settings.slack_app_token is not None
            handler = start_socket_mode(adapter, settings.slack_app_token.get_secret_value())
            await handler.connect_async()
            log.warning("connected to Slack in Socket Mode")
            await stop.wait()
            await handler.close_async()
        else:
            runner, bound = await start_http(adapter, host=host, port=port)
            log.warning(
                "serving Slack on port %d (POST %s, GET %s)", bound, EVENTS_PATH, HEALTH_PATH
            )
            await stop.wait()
            await runner.cleanup()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await bot.drain(5.0)
        await bot.aclose()


def serve_slack(settings: Settings, *, socket: bool, port: int) -> int:
    """Entry point of ``readgroup serve slack``; returns the exit status.
    Missing or rejected credentials raise SettingsError (the CLI prints it)."""
    _check_settings(settings, socket=socket)
    # The event loop answers Slack while database threads run Python (the
    # inbox write, card queries); by default a thread holding the GIL keeps
    # it up to 5 ms before the loop may run, several times per request.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    try:
        asyncio.run(run_slack(settings, socket=socket, port=port, settle=True))
    except aiohttp.ClientConnectorError as exc:
        raise unreachable(
            "Slack", exc, setting="SLACK_API_URL", url=settings.slack_api_url
        ) from None
    return 0
