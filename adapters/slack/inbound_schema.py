"""What a Slack payload must look like before a translator reads it.

Slack's payloads are checked here against pydantic models of the fields the
adapter uses, so a payload without a user, team or channel (or with a list
where an object belongs) is turned away at the edge: 400 over HTTP
(:func:`problem`), or ignored with one log line (:func:`parse`, used by
:mod:`adapters.slack.inbound` for Socket Mode and as a second guard). It
never reaches the core, where it used to raise or create a group with an
empty workspace and post to channel ``""``.

Ids must have Slack's shape (upper-case letters and digits, starting with a
letter, at most 32 characters: real ones are about 11); message timestamps
are ``seconds.micros``. Free text has NUL characters removed (PostgreSQL
cannot store them; no person types one). Fields the adapter does not read
are allowed and left alone: Slack adds fields all the time.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

log = logging.getLogger(__name__)

ID_PATTERN = r"^[A-Z][A-Z0-9]{1,31}$"
TS_PATTERN = r"^[0-9]{1,12}\.[0-9]{1,9}$"


def strip_nul(text: str) -> str:
    return text.replace("\x00", "")


SlackId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Ts = Annotated[str, StringConstraints(pattern=TS_PATTERN)]
Text = Annotated[str, AfterValidator(strip_nul)]
Name = Annotated[str, StringConstraints(max_length=255), AfterValidator(strip_nul)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


# ------------------------------------------------------------- commands
class SlashCommand(_Model):
    """A slash command's form fields."""

    command: Annotated[str, StringConstraints(pattern=r"^/[^\s/]{1,32}$")]
    text: Text = ""
    user_id: SlackId
    user_name: Name = ""
    team_id: SlackId
    channel_id: SlackId


# ------------------------------------------------------------- interactivity
class User(_Model):
    id: SlackId
    name: Name = ""
    username: Name = ""
    team_id: SlackId | None = None


class Team(_Model):
    id: SlackId


class Channel(_Model):
    id: SlackId


class Container(_Model):
    channel_id: SlackId | None = None
    message_ts: Ts | None = None
    is_ephemeral: bool = False


class Message(_Model):
    ts: Ts | None = None
    thread_ts: Ts | None = None


class ButtonAction(_Model):
    action_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: Text | None = None


class BlockActions(_Model):
    """A button press (``block_actions``) in a message in a channel."""

    type: Literal["block_actions"]
    user: User
    team: Team | None = None
    channel: Channel | None = None
    container: Container = Container()
    message: Message | None = None
    actions: list[ButtonAction] = Field(min_length=1)

    @model_validator(mode="after")
    def _where(self) -> BlockActions:
        if self.team_id is None:
            raise ValueError("no team (team.id or user.team_id)")
        if self.channel_id is None:
            raise ValueError("no channel (channel.id or container.channel_id)")
        return self

    @property
    def team_id(self) -> str | None:
        return self.team.id if self.team else self.user.team_id

    @property
    def channel_id(self) -> str | None:
        return self.channel.id if self.channel else self.container.channel_id


class Option(_Model):
    value: Text = ""


class Element(_Model):
    value: Text | None = None
    selected_option: Option | None = None


class State(_Model):
    values: dict[str, dict[str, Element]] = {}


class View(_Model):
    callback_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    private_metadata: str = ""
    state: State = State()


class ViewSubmission(_Model):
    """A modal submitted (``view_submission``)."""

    type: Literal["view_submission"]
    user: User
    team: Team | None = None
    view: View

    @model_validator(mode="after")
    def _where(self) -> ViewSubmission:
        if self.team_id is None:
            raise ValueError("no team (team.id or user.team_id)")
        return self

    @property
    def team_id(self) -> str | None:
        return self.team.id if self.team else self.user.team_id


class FormMetadata(_Model):
    """What our own modals carry in ``private_metadata`` (see render_modal)."""

    channel: SlackId
    value: Text = ""
    thread: Ts | Literal[""] | None = None
    message: Ts | Literal[""] | None = None


# ------------------------------------------------------------- events
class EventInner(_Model):
    type: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class EventCallback(_Model):
    """An Events API delivery: the envelope only (its event is checked by the
    translator for that event type)."""

    type: Literal["event_callback"]
    team_id: SlackId | None = None
    event_id: str | None = None
    event: EventInner


class UrlVerification(_Model):
    type: Literal["url_verification"]
    challenge: str


class ThreadReply(_Model):
    """A human's message in a thread (``message`` event)."""

    channel: SlackId
    user: SlackId
    ts: Ts
    thread_ts: Ts
    text: Text = ""
    team: SlackId | None = None


class ReactedItem(_Model):
    type: Literal["message"]
    channel: SlackId
    ts: Ts


class ReactionEvent(_Model):
    user: SlackId
    reaction: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    item: ReactedItem
    team: SlackId | None = None


# ------------------------------------------------------------- entry points
M = TypeVar("M", bound=_Model)

#: Interactive ``type`` -> its model; other types (view_closed, shortcuts, …)
#: are left to Bolt, which acknowledges what no listener takes.
_BY_TYPE: dict[str, type[_Model]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "event_callback": EventCallback,
    "url_verification": UrlVerification,
}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{where}: {err['msg']}"


def model_for(body: dict[str, Any]) -> type[_Model] | None:
    if "command" in body:
        return SlashCommand
    kind = body.get("type")
    return _BY_TYPE.get(kind) if isinstance(kind, str) else None


def problem(body: dict[str, Any]) -> str | None:
    """Why a signed body cannot be handled (a short reason for a 400), or None."""
    model = model_for(body)
    if model is None:
        if body.get("ssl_check") == "1":  # Slack checking our certificate: Bolt answers
            return None
        if "command" not in body and not isinstance(body.get("type"), str):
            return "neither a slash command nor a payload with a type"
        return None
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return f"{_what(model)}: {_first_error(exc)}"
    return None


def _what(model: type[_Model]) -> str:
    return "slash command" if model is SlashCommand else model.__name__


def parse(model: type[M], data: Any, *, what: str) -> M | None:
    """``data`` as ``model``, or None after one log line saying why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        log.warning("ignoring a malformed Slack %s (%s)", what, _first_error(exc))
        return None
