"""The router: registration, dispatch and failure containment."""

from __future__ import annotations

import pytest

from bot.chat.events import Action, Actor, Command, Place, Reaction, ThreadMessage
from bot.chat.replies import Reply, say, to_plain
from bot.chat.router import Ctx, Router

A = Actor("console", "u1")
P = Place("console", "local", "general")


async def _respond(reply: Reply) -> None:  # pragma: no cover - not used
    pass


async def test_commands_dispatch_case_insensitively_and_strip_slash() -> None:
    router = Router()

    @router.command("ping", summary="s", example="/ping")
    async def ping(ctx: Ctx) -> Reply:
        assert isinstance(ctx.event, Command)
        return say(f"pong {ctx.event.text}")

    [r] = await router.handle(None, Command("/PING", "x", A, P), _respond)  # type: ignore[arg-type]
    assert to_plain(r) == "pong x"


def test_duplicate_registration_is_refused() -> None:
    router = Router()

    async def h(ctx: Ctx) -> None:
        return None

    router.command("a", summary="s", example="/a")(h)
    with pytest.raises(ValueError, match="twice"):
        router.command("a", summary="s", example="/a")(h)


async def test_a_failing_handler_becomes_a_private_apology(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = Router()

    @router.command("boom", summary="s", example="/boom")
    async def boom(ctx: Ctx) -> Reply:
        raise RuntimeError("secret internals")

    [r] = await router.handle(None, Command("boom", "", A, P), _respond)  # type: ignore[arg-type]
    assert r.private and "secret internals" not in to_plain(r) and "try again" in to_plain(r)
    assert any("boom" in rec.getMessage() for rec in caplog.records)


async def test_unknown_action_and_passive_events() -> None:
    router = Router()
    seen: list[object] = []

    @router.thread_message
    async def on_msg(ctx: Ctx) -> None:
        seen.append(ctx.event)

    @router.reaction
    async def on_reaction(ctx: Ctx) -> None:
        seen.append(ctx.event)

    [r] = await router.handle(None, Action("gone", "1", A, P), _respond)  # type: ignore[arg-type]
    assert r.private
    assert await router.handle(None, ThreadMessage("hi", A, P), _respond) == []  # type: ignore[arg-type]
    assert await router.handle(None, Reaction("bulb", True, A, P), _respond) == []  # type: ignore[arg-type]
    assert len(seen) == 2
