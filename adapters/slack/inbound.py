"""Slack payloads as core events: one pure function per payload kind.

Each translator takes the request body exactly as Slack sent it (Bolt's
``body``) and returns a neutral event, or ``None`` when the payload is not for
the core (the bot's own messages, edits, joins, top-level chatter) or is
malformed: fields are read through the models of
:mod:`adapters.slack.inbound_schema`, which log one line and give up on a
payload without valid ids. Who is an admin is not in any payload;
:mod:`adapters.slack.users` fills that in after the acknowledgment.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.slack import inbound_schema as schema
from adapters.slack.render import kind_of
from bot.chat.events import Action, Actor, Command, Event, Place, Reaction, ThreadMessage

log = logging.getLogger(__name__)

PLATFORM = "slack"
Body = dict[str, Any]

#: Message subtypes that are people talking in a thread; every other subtype
#: (bot_message, message_changed, channel_join, …) is not discussion.
_HUMAN_SUBTYPES = {None, "", "thread_broadcast", "file_share", "me_message"}


def slack_time(ts: str | None) -> datetime | None:
    """A Slack ``ts`` ("1595926230.009600") as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else None
    except ValueError:
        return None


_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_BARE_LINK = re.compile(r"<(https?://[^>]+)>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")


def plain_from_slack(text: str) -> str:
    """Slack message text as plain text: links as ``label (url)``, mentions as
    ``@id``, entities decoded. The core escapes it again wherever it shows it."""
    text = _LINK.sub(lambda m: m[2] if m[2] == m[1] else f"{m[2]} ({m[1]})", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = _USER.sub(r"@\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m[2] or m[1]}", text)
    return html.unescape(text)


def neutral_command_text(text: str) -> str:
    """Command text with Slack's channel mentions (``<#C123|name>``, ``<#C123>``)
    in the core's neutral form ``#C123``; user mentions stay ``<@U123>``, the
    core's own mention form."""
    return _CHANNEL.sub(lambda m: f"#{m[1]}", text)


#: Slack emoji names as the characters the core compares reactions with
#: (Discord and the console send the character itself).
_EMOJI = {
    "bulb": "💡",
    "light_bulb": "💡",
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "heart": "❤",
    "heart_eyes": "😍",
    "tada": "🎉",
    "eyes": "👀",
    "white_check_mark": "✅",
}


def neutral_emoji(name: str) -> str:
    """A Slack reaction name (``bulb``, ``:bulb:``, ``+1::skin-tone-2``) in the
    core's neutral form: the emoji character when it is one the core may know,
    else the name as a ``:shortcode:``."""
    base = name.strip().strip(":").split("::", 1)[0].lower()
    return _EMOJI.get(base, f":{base}:")


# ------------------------------------------------------------- commands
def command(body: Body) -> Command | None:
    """A slash command (form fields); None (logged) if it is malformed."""
    cmd = schema.parse(schema.SlashCommand, body, what="slash command")
    if cmd is None:
        return None
    return Command(
        name=cmd.command.lstrip("/").lower(),
        text=neutral_command_text(cmd.text),
        actor=Actor(PLATFORM, cmd.user_id, cmd.user_name),
        place=Place(PLATFORM, cmd.team_id, cmd.channel_id),
        raw=body,
    )


# ------------------------------------------------------------- interactivity
def _user(user: schema.User) -> Actor:
    return Actor(PLATFORM, user.id, user.name or user.username)


def _is_direct(channel: str) -> bool:
    """A direct message with the bot (Slack's DM conversation ids start with D)."""
    return channel.startswith("D")


def block_action(body: Body) -> Action | None:
    """A button press: the first action of a ``block_actions`` payload."""
    payload = schema.parse(schema.BlockActions, body, what="button press")
    if payload is None:
        return None
    assert payload.team_id is not None and payload.channel_id is not None
    act = payload.actions[0]
    value = act.value or ""
    message = payload.message or schema.Message()
    ts = payload.container.message_ts or message.ts
    return Action(
        kind=kind_of(act.action_id, value),
        value=value,
        actor=_user(payload.user),
        place=Place(
            PLATFORM,
            payload.team_id,
            payload.channel_id,
            thread=message.thread_ts,
            message=ts,
            direct=_is_direct(payload.channel_id),
        ),
        raw=body,
    )


def form_metadata(body: Body) -> dict[str, str]:
    """What :func:`adapters.slack.render.render_modal` stored in the modal.
    A modal opened by something else keeps its metadata as the value."""
    view = body.get("view")
    raw = (view.get("private_metadata") if isinstance(view, dict) else "") or ""
    try:
        meta = json.loads(raw)
    except ValueError:
        return {"value": str(raw)}
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {"value": raw}


def view_submission(body: Body) -> Action | None:
    """A modal submitted: an Action whose fields are the inputs, in order;
    None (logged) if it is malformed or names no channel to answer in."""
    payload = schema.parse(schema.ViewSubmission, body, what="form submission")
    if payload is None:
        return None
    meta = schema.parse(schema.FormMetadata, form_metadata(body), what="form's metadata")
    if meta is None:
        return None
    assert payload.team_id is not None
    fields: list[tuple[str, str]] = []
    for block_values in payload.view.state.values.values():
        for action_id, element in block_values.items():
            value = element.value
            if value is None:
                value = element.selected_option.value if element.selected_option else ""
            fields.append((schema.strip_nul(str(action_id)), value))
    return Action(
        kind=payload.view.callback_id,
        value=meta.value,
        actor=_user(payload.user),
        place=Place(
            PLATFORM,
            payload.team_id,
            meta.channel,
            thread=meta.thread or None,
            message=meta.message or None,
            direct=_is_direct(meta.channel),
        ),
        fields=tuple(fields),
        raw=body,
    )


# ------------------------------------------------------------- events
def _inner(body: Body) -> dict[str, Any]:
    ev = body.get("event")
    return ev if isinstance(ev, dict) else {}


def _thread_message(body: Body, bot_user_id: str | None) -> ThreadMessage | None:
    ev = _inner(body)
    thread, ts = ev.get("thread_ts"), ev.get("ts")
    if not thread or thread == ts:
        return None  # top-level message, or the thread's root itself
    if ev.get("bot_id") or ev.get("subtype") not in _HUMAN_SUBTYPES:
        return None
    user = ev.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return None
    msg = schema.parse(schema.ThreadReply, ev, what="thread message")
    team = _team_of_event(body, msg.team if msg else None)
    if msg is None or team is None:
        return None
    return ThreadMessage(
        text=plain_from_slack(msg.text),
        actor=Actor(PLATFORM, msg.user),
        place=Place(PLATFORM, team, msg.channel, msg.thread_ts, msg.ts),
        sent_at=slack_time(msg.ts),
        raw=body,
    )


def _team_of_event(body: Body, team: str | None) -> str | None:
    """The event's workspace (envelope ``team_id``, else the event's
    ``team``), or None (logged) when neither is a team id."""
    found = body.get("team_id") or team
    if isinstance(found, str) and re.fullmatch(schema.ID_PATTERN, found):
        return found
    log.warning("ignoring a Slack event with no valid team id")
    return None


def _reaction(body: Body, bot_user_id: str | None, *, added: bool) -> Reaction | None:
    ev = _inner(body)
    item = ev.get("item")
    user = ev.get("user")
    if not isinstance(item, dict) or item.get("type") != "message" or not user:
        return None
    if user == bot_user_id:
        return None
    r = schema.parse(schema.ReactionEvent, ev, what="reaction")
    team = _team_of_event(body, r.team if r else None)
    if r is None or team is None:
        return None
    return Reaction(
        emoji=neutral_emoji(r.reaction),
        added=added,
        actor=Actor(PLATFORM, r.user),
        place=Place(PLATFORM, team, r.item.channel, message=r.item.ts),
        raw=body,
    )


EventTranslator = Callable[[Body, "str | None"], "Event | None"]

#: Events API ``event.type`` -> translator (the dispatch table).
EVENT_TRANSLATORS: dict[str, EventTranslator] = {
    "message": _thread_message,
    "reaction_added": lambda b, me: _reaction(b, me, added=True),
    "reaction_removed": lambda b, me: _reaction(b, me, added=False),
}


def event(body: Body, *, bot_user_id: str | None) -> Event | None:
    """An Events API callback as a core event, or ``None`` if it is not one."""
    kind = _inner(body).get("type", "")
    translate = EVENT_TRANSLATORS.get(kind) if isinstance(kind, str) else None
    return translate(body, bot_user_id) if translate else None
