"""The Slack adapter: a slack-bolt ``AsyncApp`` wired to the core.

Every listener acknowledges first (within Slack's 3-second deadline, before
any arXiv, LLM or database work), then hands the translated event to
``bot.handle`` in a background task; replies follow through
:class:`~adapters.slack.deliver.Responder`. The same app serves HTTP
(:mod:`adapters.slack.serve`) and Socket Mode.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import inbound, inbound_schema, inbox
from adapters.slack.dedupe import RecentIds
from adapters.slack.deliver import Origin, Responder
from adapters.slack.home import home_view
from adapters.slack.messenger import SlackMessenger, slack_error
from adapters.slack.users import UserDirectory
from bot.app import Bot, confirm_cards, home_for
from bot.chat.events import Event

log = logging.getLogger(__name__)


class _NoTokenNotice(logging.Filter):
    """Bolt takes SLACK_BOT_TOKEN from the environment even when it is given
    a client, then warns at every start that the token "will be unused": the
    client it is given is ours, made with that very token, so the line told
    the operator nothing they could act on. It is not shown."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_APP_LOG = logging.getLogger(f"slack_bolt.{AsyncApp.__name__}")
_BOLT_APP_LOG.addFilter(_NoTokenNotice())

_ANY = re.compile(r".*", re.S)


@dataclass
class SlackStats:
    """Counters tests and operators can read (no effect on behaviour)."""

    handled: int = 0
    duplicates: int = 0


@dataclass
class SlackAdapter:
    """The Bolt app plus what its listeners share."""

    bot: Bot
    app: AsyncApp
    client: AsyncWebClient
    messenger: SlackMessenger
    users: UserDirectory
    seen: RecentIds = field(default_factory=RecentIds)
    #: HTTP mode's signing secret (None in Socket Mode); see adapters.slack.verify.
    signing_secret: str | None = None
    stats: SlackStats = field(default_factory=SlackStats)
    #: Inbox rows this process is handling right now (see adapters.slack.inbox).
    inflight: set[int] = field(default_factory=set)

    async def run(self, event: Event, origin: Origin, request_id: int | None = None) -> None:
        """Background half of every interaction: enrich, handle, deliver, and
        mark the stored request done (it stays pending if this dies)."""
        try:
            # In a slot: a burst of handlers waking together (an arXiv batch)
            # takes turns, and the loop stays free for acknowledgments.
            async with self.bot.slots.held():
                event = await self.users.enrich(event)
                respond = Responder(self.messenger, origin)
                self.stats.handled += 1
                replies = await self.bot.handle(event, respond, request_id=request_id)
                for reply in replies:
                    await respond(reply)
                if request_id is not None:
                    # The cards out and the request done: one transaction.
                    await confirm_cards(self.bot, replies, request_id=request_id)
        finally:
            if request_id is not None:
                self.inflight.discard(request_id)

    def start(
        self, event: Event | None, origin: Origin, what: str, request_id: int | None = None
    ) -> None:
        if event is not None:
            self.bot.spawn(self.run(event, origin, request_id), name=f"slack:{what}")


def build_slack_app(
    bot: Bot,
    client: AsyncWebClient,
    *,
    signing_secret: str | None,
    seen: RecentIds | None = None,
) -> SlackAdapter:
    """The Bolt app for ``bot``. ``signing_secret`` None means Socket Mode
    (requests arrive over the authenticated websocket, not signed HTTP)."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        process_before_response=True,
    )
    messenger = SlackMessenger(client)
    adapter = SlackAdapter(
        bot=bot,
        app=app,
        client=client,
        messenger=messenger,
        users=UserDirectory(client),
        seen=seen or RecentIds(),
        signing_secret=signing_secret,
    )
    bot.messenger = messenger
    _register(adapter)
    return adapter


def _register(a: SlackAdapter) -> None:
    app = a.app

    @app.middleware
    async def drop_malformed(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        """A payload without the fields we need is acknowledged and dropped
        with one log line (Socket Mode; over HTTP serve.py refused it with
        400 already), so no listener reads it and Slack does not retry it."""
        why = inbound_schema.problem(body)
        if why is not None:
            log.warning("ignoring a malformed Slack payload (%s)", why)
            return BoltResponse(status=200, body="")
        return await next()

    @app.middleware
    async def drop_redeliveries(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        """A retried Events API delivery (``X-Slack-Retry-Num``, or the same
        ``event_id`` again) is acknowledged and otherwise ignored."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not a.seen.first_time(str(event_id)):
            a.stats.duplicates += 1
            log.info("ignoring a repeated delivery of %s", event_id)
            return BoltResponse(status=200, body="")
        return await next()

    inbox.install(a)  # the request is stored before any listener acknowledges it

    def begin(kind: str, body: dict[str, Any], context: dict[str, Any]) -> None:
        work = inbox.rebuild(kind, body, context.get("bot_user_id"))
        if work is not None:
            event, origin = work
            what = f"{kind}:{getattr(event, 'kind', '')}" if kind != "event" else kind
            a.start(event, origin, what, request_id=context.get("inbox_id"))

    @app.command(_ANY)
    async def on_command(
        ack: Callable[..., Awaitable[None]], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()
        begin("command", body, context)

    @app.action(_ANY)
    async def on_action(
        ack: Callable[..., Awaitable[None]], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()
        begin("action", body, context)

    @app.view(_ANY)
    async def on_submit(
        ack: Callable[..., Awaitable[None]], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()  # closes the modal; the result is posted where the form came from
        begin("view", body, context)

    async def on_event(body: dict[str, Any], context: dict[str, Any]) -> None:
        begin("event", body, context)

    for kind in inbound.EVENT_TRANSLATORS:
        app.event(kind)(on_event)

    @app.event("app_home_opened")
    async def on_home(body: dict[str, Any]) -> None:
        ev = body.get("event") or {}
        if ev.get("tab", "home") != "home" or not ev.get("user"):
            return
        a.bot.spawn(
            publish_home(a, workspace=str(body.get("team_id", "")), user_id=str(ev["user"])),
            name="slack:home",
        )

    app.event(_ANY)(_ignore)  # last: only events no listener above took


async def _ignore(body: dict[str, Any]) -> None:
    """Events the core has no use for (channel renames, pins, …) are still
    acknowledged with 200: Slack counts other answers as failures, retries
    them and eventually turns the subscription off."""


async def publish_home(a: SlackAdapter, *, workspace: str, user_id: str) -> None:
    """Build the viewer's App Home from the database and publish it."""
    blocks = await home_for(a.bot, platform="slack", workspace=workspace, user_id=user_id)
    try:
        await a.client.views_publish(user_id=user_id, view=home_view(blocks))
    except Exception as exc:
        log.error("views.publish for %s failed: %s", user_id, slack_error(exc))
