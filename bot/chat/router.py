"""The command router: handlers register here with decorators.

The router is built by :func:`bot.app.build_router` and passed to
whoever needs it; there is no global instance.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.chat.events import Action, Command, Event, Reaction, ThreadMessage
from bot.chat.markup import esc
from bot.chat.replies import Reply, error

log = logging.getLogger(__name__)

Respond = Callable[[Reply], Awaitable[None]]
HandlerResult = Reply | list[Reply] | None
#: The services handlers are given (``bot.infra.runtime.Runtime``); the
#: router only passes them on.
S = TypeVar("S")
#: Which group the entity a button's value names belongs to (a lookup run in
#: a database session; see ``bot.groups.places``).
Owner = Callable[[Any, str], "int | None"]
#: Whether a button may act where it was pressed: (services, action, owner,
#: direct allowed) -> allowed. Wired by the composition root.
PlaceCheck = Callable[[Any, Action, Owner, bool], Awaitable[bool]]
WRONG_PLACE = (
    "That button belongs to another channel's reading group, so I changed nothing. "
    "Use it in that group's channel, or run the command here for this channel's group."
)


@dataclass
class Ctx(Generic[S]):
    """What a handler gets: the services, the event, and a way to send
    further replies (a follow-up after slow work)."""

    bot: S
    event: Event
    respond: Respond
    #: The adapter's stored copy of this request (``bot.infra.inbox``), if
    #: any: handlers that change data guard the change with it, so handling
    #: the request again after a crash does not do it twice.
    request_id: int | None = None


Handler = Callable[[Ctx[Any]], Awaitable[HandlerResult]]


@dataclass(frozen=True)
class Option:
    """A command argument, typed for platforms that show forms (Discord)."""

    name: str
    description: str
    required: bool = False
    #: Discord autocomplete source: "open_proposals", "members", or "".
    autocomplete: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    example: str
    handler: Handler
    options: tuple[Option, ...] = ()
    organizer_only: bool = False


@dataclass
class Router:
    #: Checks a button's place before its handler runs (None: no check).
    place_check: PlaceCheck | None = None
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    #: Action kind -> which group the entity its value names belongs to
    #: (checked against the place before the handler runs; see bot.groups.places).
    owners: dict[str, Owner] = field(default_factory=dict)
    #: Action kinds that may also be pressed in a direct message (the nudge).
    direct_actions: set[str] = field(default_factory=set)
    thread_handlers: list[Handler] = field(default_factory=list)
    reaction_handlers: list[Handler] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        summary: str,
        example: str,
        options: tuple[Option, ...] = (),
        organizer_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = CommandSpec(name, summary, example, fn, options, organizer_only)
            return fn

        return register

    def action(
        self, kind: str, *, owner: Owner | None = None, direct: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register a button/form handler. ``owner`` names the group of the
        entity the value carries; a press outside that group's channel (or a
        direct message, unless ``direct``) is refused before the handler runs."""

        def register(fn: Handler) -> Handler:
            if kind in self.actions:
                raise ValueError(f"action {kind} registered twice")
            self.actions[kind] = fn
            if owner is not None:
                self.owners[kind] = owner
            if direct:
                self.direct_actions.add(kind)
            return fn

        return register

    def thread_message(self, fn: Handler) -> Handler:
        self.thread_handlers.append(fn)
        return fn

    def reaction(self, fn: Handler) -> Handler:
        self.reaction_handlers.append(fn)
        return fn

    async def handle(
        self, bot: Any, event: Event, respond: Respond, *, request_id: int | None = None
    ) -> list[Reply]:
        """Run the handler(s) for an event. Never raises: a failure becomes a
        private apology and a logged traceback."""
        ctx: Ctx[Any] = Ctx(bot=bot, event=event, respond=respond, request_id=request_id)
        handlers: list[Handler]
        match event:
            case Command(name=name):
                spec = self.commands.get(name.lstrip("/").lower())
                if spec is None:
                    return [
                        error(
                            f"I don't know the command `/{esc(name.lstrip('/'))}`. "
                            "Type `/help` to see every command with an example."
                        )
                    ]
                handlers = [spec.handler]
            case Action(kind=kind):
                found = self.actions.get(kind)
                if found is None:
                    log.warning("no handler for action %r", kind)
                    return [error("That button is no longer supported. Run the command again.")]
                refusal = await self._check_place(bot, event)
                if refusal is not None:
                    return [refusal]
                handlers = [found]
            case ThreadMessage():
                handlers = self.thread_handlers
            case Reaction():
                handlers = self.reaction_handlers
        replies: list[Reply] = []
        for handler in handlers:
            try:
                result = await handler(ctx)
            except Exception:
                log.exception("handler %s failed on %s", handler.__name__, _describe(event))
                if isinstance(event, Command | Action):
                    replies.append(_apology())
                continue
            if isinstance(result, Reply):
                replies.append(result)
            elif result:
                replies.extend(result)
        return replies

    async def _check_place(self, bot: Any, action: Action) -> Reply | None:
        """A private refusal if the button belongs to another place's group."""
        owner = self.owners.get(action.kind)
        if owner is None or self.place_check is None:
            return None
        try:
            ok = await self.place_check(bot, action, owner, action.kind in self.direct_actions)
        except Exception:
            log.exception("place check failed on %s", _describe(action))
            return _apology()
        if ok:
            return None
        log.info("refused %s from another place: %s", action.kind, _describe(action))
        return error(WRONG_PLACE)


def _apology() -> Reply:
    return error(
        "Something went wrong on our side while handling that. "
        "Anything already saved is kept; please try again in a minute, "
        "and tell an organizer if it keeps happening."
    )


def _describe(event: Any) -> str:
    name = type(event).__name__
    actor = getattr(event, "actor", None)
    return f"{name} by {getattr(actor, 'user_id', '?')}"
