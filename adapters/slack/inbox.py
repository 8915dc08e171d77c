"""Slack requests stored in the inbox before they are acknowledged.

Slack does not resend a request it got a 200 for, so the 200 must wait until
the request is in the database (the core's inbox, reached through
``bot.app``): a process killed after the acknowledgment leaves the row, and
the next pass (this process restarted, or another replica once the lease ran
out) handles it and answers through the request's ``response_url`` (valid
for 30 minutes) or where it came from.

The row's key is Slack's identity of the delivery: the event id for the
Events API (a retry has the same one), otherwise the signed request itself
(timestamp and signature: a retry or a replay of the very same request has
both) or, over Socket Mode where nothing is signed, the interaction's
trigger_id. A request found under its key again is acknowledged and does
nothing, so a replayed signed upvote cannot undo a vote.

This runs after the signature is verified; nothing unverified is stored. A
slash command takes the short way (:func:`take_command`, called by
:mod:`adapters.slack.serve` straight after its own checks, over HTTP and
Socket Mode); everything else is stored by a Bolt middleware (:func:`install`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack import inbound
from adapters.slack.deliver import Origin
from bot.app import (
    expect_lookups,
    inbox_accept,
    inbox_claim,
    inbox_done,
    inbox_due,
    inbox_forget_old,
)
from bot.chat.events import Event

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter

log = logging.getLogger(__name__)

SOURCE = "slack"
#: A request that killed or failed its handler this often is given up (logged).
MAX_ATTEMPTS = 5
POLL_SECONDS = 5.0


def kind_of(body: dict[str, Any]) -> str:
    """command | action | view | event | "" (nothing the core handles)."""
    if body.get("command"):
        return "command"
    match body.get("type"):
        case "block_actions":
            return "action"
        case "view_submission":
            return "view"
        case "event_callback":
            return "event"
    return ""


def rebuild(
    kind: str, body: dict[str, Any], bot_user_id: str | None
) -> tuple[Event, Origin] | None:
    """The core event and reply handles of a stored (or just received) request."""
    if kind == "command":
        command = inbound.command(body)
        return (command, Origin.of_command(body)) if command is not None else None
    if kind == "action":
        action = inbound.block_action(body)
        return (action, Origin.of_action(body, action.place)) if action is not None else None
    if kind == "view":
        submitted = inbound.view_submission(body)
        if submitted is None:
            return None
        return submitted, Origin.of_place(
            submitted.actor.user_id,
            submitted.place,
            ephemeral_source=inbound.form_metadata(body).get("ephemeral") == "1",
        )
    if kind == "event":
        event = inbound.event(body, bot_user_id=bot_user_id)
        if event is None:
            return None
        return event, Origin.of_place(event.actor.user_id, event.place)
    return None


def _header(request: AsyncBoltRequest, name: str) -> str:
    values = request.headers.get(name) or []
    return str(values[0]) if values else ""


def request_key(kind: str, body: dict[str, Any], request: AsyncBoltRequest) -> str | None:
    return key_of(
        kind,
        body,
        timestamp=_header(request, "x-slack-request-timestamp"),
        signature=_header(request, "x-slack-signature"),
    )


def key_of(kind: str, body: dict[str, Any], *, timestamp: str, signature: str) -> str | None:
    """The inbox key of a request (see the module's docstring); ``timestamp``
    and ``signature`` are its Slack signature headers ("" over Socket Mode)."""
    if kind == "event":
        event_id = body.get("event_id")
        return f"slack:event:{event_id}" if event_id else None
    if timestamp and signature:
        return "slack:req:" + hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
    trigger = body.get("trigger_id")
    return f"slack:trigger:{trigger}" if trigger else None


async def _store(
    a: SlackAdapter, kind: str, key: str, body: dict[str, Any], bot_user_id: str | None
) -> int | None:
    """Store the request before its acknowledgment; its inbox id, or None
    if it was stored before (a retry or a replay: acknowledge it, do nothing)."""
    bot = a.bot
    accepted = await bot.db_urgent(
        inbox_accept,
        key=key,
        source=SOURCE,
        kind=kind,
        payload={"body": body, "bot_user_id": bot_user_id},
        now=bot.clock.now(),
        lease=bot.lease,
    )
    if not accepted.new:
        a.stats.duplicates += 1
        log.info("ignoring a repeated %s (already accepted as inbox %d)", kind, accepted.id)
        return None
    a.inflight.add(accepted.id)
    return accepted.id


async def take_command(
    a: SlackAdapter, body: dict[str, Any], *, timestamp: str = "", signature: str = ""
) -> bool:
    """A slash command the short way: stored, its handler started, and True
    for the caller to acknowledge it (200, empty, as Bolt's ``ack()``). The
    caller has checked the signature (HTTP) and the payload's fields; Bolt's
    dispatch (its middleware chain and listener runner) adds nothing a
    command needs, only time before the ack. False: not a command this takes
    (Bolt gets it, as before). ``timestamp`` and ``signature``: as for
    :func:`key_of`."""
    if kind_of(body) != "command":
        return False
    key = key_of("command", body, timestamp=timestamp, signature=signature)
    if key is None:
        return False
    work = rebuild("command", body, None)
    if work is None:
        return False
    request_id = await _store(a, "command", key, body, None)
    if request_id is not None:
        event, origin = work
        # Before the acknowledgment: an arXiv request about to start waits
        # for this command's papers (see bot.papers.propose_command).
        expect_lookups(a.bot, event, request_id)
        a.start(event, origin, "command:", request_id=request_id)
    return True


def install(a: SlackAdapter) -> None:
    """A middleware (after Bolt's signature check) storing each request the
    core will handle before the listener acknowledges it."""

    @a.app.middleware
    async def keep_in_inbox(
        body: dict[str, Any],
        request: AsyncBoltRequest,
        context: dict[str, Any],
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        kind = kind_of(body)
        bot_user_id = context.get("bot_user_id")
        key = request_key(kind, body, request) if kind else None
        if key is None or rebuild(kind, body, bot_user_id) is None:
            return await next()
        request_id = await _store(a, kind, key, body, bot_user_id)
        if request_id is None:
            return BoltResponse(status=200, body="")
        context["inbox_id"] = request_id
        return await next()


async def finish_pending(a: SlackAdapter) -> int:
    """Handle every stored request nobody holds (its handler died); returns
    how many were started."""
    bot = a.bot
    started = 0
    for row in await bot.db(inbox_due, source=SOURCE, now=bot.clock.now()):
        assert row.id is not None
        if row.id in a.inflight:
            continue
        if not await bot.db(inbox_claim, item_id=row.id, now=bot.clock.now(), lease=bot.lease):
            continue  # another replica took it
        work = rebuild(row.kind, row.payload.get("body") or {}, row.payload.get("bot_user_id"))
        if work is None or row.attempts > MAX_ATTEMPTS:
            if work is not None:
                log.error(
                    "giving up on Slack %s %d after %d attempts", row.kind, row.id, row.attempts
                )
            await bot.db(inbox_done, item_id=row.id, now=bot.clock.now())
            continue
        log.warning("handling Slack %s %d again (attempt %d)", row.kind, row.id, row.attempts + 1)
        event, origin = work
        a.inflight.add(row.id)
        a.start(event, origin, f"inbox:{row.kind}", request_id=row.id)
        started += 1
    return started


async def _loop(a: SlackAdapter) -> None:
    pause = min(POLL_SECONDS, a.bot.settings.lease_seconds)
    while True:
        try:
            await finish_pending(a)
            await a.bot.db(inbox_forget_old, now=a.bot.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("inbox pass failed; trying again shortly")
        await asyncio.sleep(pause)


def start_inbox_loop(a: SlackAdapter) -> None:
    """At start and then every few seconds: finish what a dead process left."""
    a.bot.spawn(_loop(a), name="loop:slack-inbox")
