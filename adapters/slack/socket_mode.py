"""Socket Mode with slash commands taken the short way: stored in the inbox,
then acknowledged, before Bolt dispatches anything (as over HTTP, see
:func:`adapters.slack.serve.make_http_app`). Its own module so that an
HTTP-mode bot never loads the Socket Mode client."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack import inbound_schema, inbox
from adapters.slack.app import SlackAdapter


class CommandsFirstHandler(AsyncSocketModeHandler):
    """Bolt's handler, with slash commands taken the short way
    (:func:`adapters.slack.inbox.take_command`): stored, then acknowledged."""

    def __init__(self, adapter: SlackAdapter, app_token: str) -> None:
        super().__init__(adapter.app, app_token, web_client=adapter.client)
        self.adapter = adapter

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        body = req.payload
        if (
            req.type == "slash_commands"
            and isinstance(body, dict)
            and inbound_schema.problem(body) is None
            and await inbox.take_command(self.adapter, body)
        ):
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)
