"""Slack payloads as core events: one pure function per payload kind.

Each translator takes the request body exactly as Slack sent it (Bolt's
``body``) and returns a neutral event, or ``None`` when the payload is not for
the core (the bot's own messages, edits, joins, top-level chatter). Who is an
admin is not in any payload; :mod:`adapters.slack.users` fills that in after
the acknowledgment.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.slack.render import kind_of
from bot.events import Action, Actor, Command, Event, Place, Reaction, ThreadMessage

PLATFORM = "slack"
Body = dict[str, Any]

#: Message subtypes that are people talking in a thread; every other subtype
#: (bot_message, message_changed, channel_join, …) is not discussion.
_HUMAN_SUBTYPES = {None, "", "thread_broadcast", "file_share", "me_message"}


def _team(body: Body) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")


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


# ------------------------------------------------------------- commands
def command(body: Body) -> Command:
    """A slash command (form fields)."""
    team = str(body.get("team_id") or "")
    return Command(
        name=str(body.get("command", "")).lstrip("/").lower(),
        text=str(body.get("text") or ""),
        actor=Actor(PLATFORM, str(body.get("user_id", "")), str(body.get("user_name") or "")),
        place=Place(PLATFORM, team, str(body.get("channel_id") or "")),
        raw=body,
    )


# ------------------------------------------------------------- interactivity
def _user(body: Body) -> Actor:
    user = body.get("user") or {}
    name = user.get("name") or user.get("username") or ""
    return Actor(PLATFORM, str(user.get("id", "")), str(name))


def _is_direct(channel: str) -> bool:
    """A direct message with the bot (Slack's DM conversation ids start with D)."""
    return channel.startswith("D")


def block_action(body: Body) -> Action | None:
    """A button press: the first action of a ``block_actions`` payload."""
    actions = body.get("actions") or []
    if not actions:
        return None
    act = actions[0]
    value = str(act.get("value") or "")
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    message = body.get("message") or {}
    ts = container.get("message_ts") or message.get("ts")
    thread = message.get("thread_ts")
    return Action(
        kind=kind_of(str(act.get("action_id", "")), value),
        value=value,
        actor=_user(body),
        place=Place(
            PLATFORM,
            _team(body),
            str(channel),
            thread=thread,
            message=ts,
            direct=_is_direct(str(channel)),
        ),
        raw=body,
    )


def form_metadata(body: Body) -> dict[str, str]:
    """What :func:`adapters.slack.render.render_modal` stored in the modal.
    A modal opened by something else keeps its metadata as the value."""
    raw = (body.get("view") or {}).get("private_metadata") or ""
    try:
        meta = json.loads(raw)
    except ValueError:
        return {"value": raw}
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {"value": raw}


def view_submission(body: Body) -> Action:
    """A modal submitted: an Action whose fields are the inputs, in order."""
    view = body.get("view") or {}
    meta = form_metadata(body)
    fields: list[tuple[str, str]] = []
    for block_values in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, element in block_values.items():
            value = element.get("value")
            if value is None:
                value = (element.get("selected_option") or {}).get("value", "")
            fields.append((str(action_id), str(value or "")))
    return Action(
        kind=str(view.get("callback_id", "")),
        value=meta.get("value", ""),
        actor=_user(body),
        place=Place(
            PLATFORM,
            _team(body),
            meta.get("channel", ""),
            thread=meta.get("thread") or None,
            message=meta.get("message") or None,
            direct=_is_direct(meta.get("channel", "")),
        ),
        fields=tuple(fields),
        raw=body,
    )


# ------------------------------------------------------------- events
def _thread_message(body: Body, bot_user_id: str | None) -> ThreadMessage | None:
    ev = body.get("event") or {}
    thread, ts = ev.get("thread_ts"), ev.get("ts")
    if not thread or thread == ts:
        return None  # top-level message, or the thread's root itself
    if ev.get("bot_id") or ev.get("subtype") not in _HUMAN_SUBTYPES:
        return None
    user = ev.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return None
    return ThreadMessage(
        text=plain_from_slack(str(ev.get("text") or "")),
        actor=Actor(PLATFORM, str(user)),
        place=Place(PLATFORM, _team_of_event(body), str(ev.get("channel", "")), thread, ts),
        sent_at=slack_time(ts),
        raw=body,
    )


def _team_of_event(body: Body) -> str:
    ev = body.get("event") or {}
    return str(body.get("team_id") or ev.get("team") or "")


def _reaction(body: Body, bot_user_id: str | None, *, added: bool) -> Reaction | None:
    ev = body.get("event") or {}
    item = ev.get("item") or {}
    user = ev.get("user")
    if item.get("type") != "message" or not user or user == bot_user_id:
        return None
    return Reaction(
        emoji=str(ev.get("reaction", "")),
        added=added,
        actor=Actor(PLATFORM, str(user)),
        place=Place(
            PLATFORM, _team_of_event(body), str(item.get("channel", "")), message=item.get("ts")
        ),
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
    kind = (body.get("event") or {}).get("type", "")
    translate = EVENT_TRANSLATORS.get(kind)
    return translate(body, bot_user_id) if translate else None
